/* Several TCP flows joined at once on their way to the device: a batch per
 * connection (packet/gro_coalesce), so that segments of flows that arrive
 * interleaved (our own FQ-CoDel at the sender takes turns between flows,
 * one packet each) still leave as one super-packet per flow and turn.
 *
 * Order: a connection's frames keep their order (a frame of a connection
 * that cannot join its batch goes out after that batch); frames of
 * different flows may overtake each other, as in the kernel's own GRO.
 *
 * Pure: frames go out through the caller's emit function. */
#ifndef FQTINC_GRO_TABLE_H
#define FQTINC_GRO_TABLE_H

#include "packet/gro_coalesce.h"

/* Enough for the flows that share a turn in practice; one more evicts the
 * batch held longest. Each is GRO_MAX_LEN bytes, touched only when used. */
#define GRO_TABLE_SLOTS 8

/* Writes out b (gro_finish, then the device write); the table resets b. */
typedef void (*gro_emit_t)(gro_batch_t *b, void *ctx);

typedef struct gro_table {
	gro_batch_t slot[GRO_TABLE_SLOTS];
	unsigned age[GRO_TABLE_SLOTS]; /* when a slot's batch began (a counter) */
	unsigned clock;
	gro_emit_t emit;
	void *ctx;
} gro_table_t;

void gro_table_init(gro_table_t *t, gro_emit_t emit, void *ctx);

/* True: the frame is held in a batch, to go out by gro_table_flush at the
 * latest. False: the caller writes the frame now, as it is; anything held
 * of its connection went out before. */
bool gro_table_offer(gro_table_t *t, const uint8_t *frame, size_t len, size_t l3);

/* Emits every batch held (end of a loop turn). */
void gro_table_flush(gro_table_t *t);

/* Batches held. */
unsigned gro_table_held(const gro_table_t *t);

#endif

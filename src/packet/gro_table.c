#include "util/compat.h"

#include "packet/gro_table.h"

void gro_table_init(gro_table_t *t, gro_emit_t emit, void *ctx) {
	for(int i = 0; i < GRO_TABLE_SLOTS; i++) {
		gro_reset(&t->slot[i]);
		t->age[i] = 0;
	}
	t->clock = 0;
	t->emit = emit;
	t->ctx = ctx;
}

static void emit_slot(gro_table_t *t, int i) {
	t->emit(&t->slot[i], t->ctx);
	gro_reset(&t->slot[i]);
}

static bool start_in(gro_table_t *t, int i, const uint8_t *frame, size_t len, size_t l3) {
	if(!gro_offer(&t->slot[i], frame, len, l3))
		return false;
	t->age[i] = t->clock++;
	return true;
}

/* The slot whose batch began longest ago (all slots hold one). */
static int oldest_slot(const gro_table_t *t) {
	int oldest = 0;
	for(int i = 1; i < GRO_TABLE_SLOTS; i++)
		/* unsigned difference: right across the counter's wrap */
		if(t->clock - t->age[i] > t->clock - t->age[oldest])
			oldest = i;
	return oldest;
}

bool gro_table_offer(gro_table_t *t, const uint8_t *frame, size_t len, size_t l3) {
	int free_slot = -1;
	bool maybe_held = false;
	for(int i = 0; i < GRO_TABLE_SLOTS; i++) {
		if(!t->slot[i].len) {
			if(free_slot < 0)
				free_slot = i;
			continue;
		}
		gro_conn_t c = gro_connection_of(&t->slot[i], frame, len, l3);
		if(c == GRO_CONN_UNKNOWN) {
			maybe_held = true;
		} else if(c == GRO_CONN_SAME) {
			if(gro_offer(&t->slot[i], frame, len, l3))
				return true;
			emit_slot(t, i); /* what came before goes first */
			return start_in(t, i, frame, len, l3);
		}
	}
	if(maybe_held) {
		/* it cannot join anything; whatever might be its connection goes first */
		gro_table_flush(t);
		return false;
	}
	if(free_slot < 0) {
		if(!gro_joinable(frame, len, l3))
			return false;
		free_slot = oldest_slot(t);
		emit_slot(t, free_slot);
	}
	return start_in(t, free_slot, frame, len, l3);
}

void gro_table_flush(gro_table_t *t) {
	for(int i = 0; i < GRO_TABLE_SLOTS; i++)
		if(t->slot[i].len)
			emit_slot(t, i);
}

unsigned gro_table_held(const gro_table_t *t) {
	unsigned n = 0;
	for(int i = 0; i < GRO_TABLE_SLOTS; i++)
		n += t->slot[i].len != 0;
	return n;
}

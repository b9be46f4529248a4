/* What the path to one node does to the outer ECN field and DSCP
 * (doc/protocol.md §10.4): the validation rounds, the continuous counting
 * and the verdict. Pure: no I/O, no timers; "now" is passed in, and the
 * caller sends what ecn_path_due() asks for and feeds replies back.
 *
 *   unknown --start--> testing --round or counts--> capable | bleached |
 *   black-holed | CE-erased | mangled --interval or new address--> testing
 *   any --stop (unreachable, no key)--> unknown
 *
 * Only "capable" allows RFC 6040 normal mode. */
#ifndef FQTINC_ECN_PATH_H
#define FQTINC_ECN_PATH_H

#include <stdint.h>

#include "util/compat.h"
#include "util/sockaddr.h"
#include "packet/ecn_probe_frame.h"

typedef enum ecn_path_state {
	ECN_PATH_UNKNOWN = 0,
	ECN_PATH_TESTING,
	ECN_PATH_CAPABLE,
	ECN_PATH_BLEACHED,    /* ECN-capable datagrams arrive as Not-ECT */
	ECN_PATH_BLACK_HOLED, /* ECN-capable datagrams vanish */
	ECN_PATH_CE_ERASED,   /* CE arrives as something else */
	ECN_PATH_MANGLED,     /* ECT(0) and ECT(1) are rewritten */
} ecn_path_state_t;

typedef enum dscp_path_state {
	DSCP_PATH_UNKNOWN = 0,
	DSCP_PATH_KEPT,
	DSCP_PATH_BLEACHED,
	DSCP_PATH_REMAPPED,
} dscp_path_state_t;

/* The outer TOS bytes of the requests of one round, by index. */
#define ECN_PATH_ROUND_PROBES 11
extern const uint8_t ecn_path_round_tos[ECN_PATH_ROUND_PROBES];

#define ECN_PATH_ROUND_TIMEOUT_NS (1000ULL * 1000 * 1000)
#define ECN_PATH_RETRY_NS (2000ULL * 1000 * 1000)
#define ECN_PATH_COUNT_EVERY_NS (2000ULL * 1000 * 1000)
/* Counting verdicts need this many ECN-capable datagrams in a window. */
#define ECN_PATH_COUNT_MIN_ECT 8
#define ECN_PATH_COUNT_MIN_CE 2

typedef enum ecn_path_action {
	ECN_PATH_SEND_NOTHING,
	ECN_PATH_SEND_ROUND, /* the ECN_PATH_ROUND_PROBES requests of round *round */
	ECN_PATH_SEND_COUNT, /* one count request, Not-ECT, round *round */
} ecn_path_action_t;

typedef struct ecn_path {
	bool watched;              /* the caller wants this path validated */
	ecn_path_state_t state;
	ecn_path_state_t verdict;  /* the last verdict, kept while testing again */
	dscp_path_state_t dscp;
	uint64_t interval_ns;      /* re-validation */
	sockaddr_u address;        /* the node's UDP address when testing began */

	/* validation rounds */
	uint64_t next_round_ns;
	bool round_open;
	uint16_t round;
	uint64_t round_deadline_ns;
	uint16_t answered;         /* bit i: request i was answered */
	uint8_t arrived[ECN_PATH_ROUND_PROBES];
	unsigned failed_rounds;    /* rounds in a row without any answer */

	/* continuous counting, by outer ECN codepoint; the caller counts */
	uint32_t tx[4];            /* datagrams sealed for the node */
	uint32_t rx[4];            /* datagrams from it, authenticated */
	uint64_t next_count_ns;
	bool count_open;
	uint16_t count_seq;
	uint32_t count_tx[4];      /* tx when the open count request left */
	bool have_base;
	uint32_t base_tx[4], base_rx[4]; /* at the last count reply */

	/* for the caller: set on every change, cleared by ecn_path_take_change */
	bool changed;
	bool verdict_changed;
} ecn_path_t;

const char *ecn_path_state_name(ecn_path_state_t s);
const char *dscp_path_state_name(dscp_path_state_t s);

/* Count a datagram by its outer TOS byte. */
static inline void ecn_path_count_tx(ecn_path_t *p, uint8_t tos) { p->tx[tos & 3]++; }
static inline void ecn_path_count_rx(ecn_path_t *p, uint8_t tos) { p->rx[tos & 3]++; }

/* The node became usable (reachable, key, address): begin testing now. */
void ecn_path_start(ecn_path_t *p, uint64_t now, uint64_t interval_ns, const sockaddr_u *address);
/* It is not any more: back to unknown. */
void ecn_path_stop(ecn_path_t *p);
/* Its UDP address is 'address' now; another one than before starts testing over. */
void ecn_path_address(ecn_path_t *p, uint64_t now, const sockaddr_u *address);
/* What to send now; *round is the round number to put into the requests. */
ecn_path_action_t ecn_path_due(ecn_path_t *p, uint64_t now, uint16_t *round);
/* When ecn_path_due() next has something to do (0: never, state unknown). */
uint64_t ecn_path_next_due(const ecn_path_t *p);
/* A reply from the node. */
void ecn_path_reply(ecn_path_t *p, uint64_t now, const ecn_probe_msg_t *m);
/* Only a capable path carries RFC 6040 normal mode. */
static inline bool ecn_path_capable(const ecn_path_t *p) { return p->state == ECN_PATH_CAPABLE; }
/* True once per change of state; *verdict_changed says whether the verdict
 * (not just testing) changed, which deserves a log line. */
bool ecn_path_take_change(ecn_path_t *p, bool *verdict_changed);

#endif

/* The meta-protocol of tinc 1.0 (protocol.md §3–§5.4): request numbers, the
 * dispatcher's helpers, field parsing, option-bit rules, nonces and the
 * past-request cache. The pure pieces (protocol_parse.c, past_request.c)
 * depend on nothing but libc, so they can be unit-tested in isolation. */
#ifndef FQTINC_PROTOCOL_H
#define FQTINC_PROTOCOL_H

#include <stdint.h>

#include "util/compat.h"
#include "meta/connection.h"

/* Request numbers on the wire (protocol.md §3.3). 18..23 are tinc 1.1's. */
typedef enum request {
	REQ_ID = 0,
	REQ_METAKEY = 1,
	REQ_CHALLENGE = 2,
	REQ_CHAL_REPLY = 3,
	REQ_ACK = 4,
	REQ_STATUS = 5,
	REQ_ERROR = 6,
	REQ_TERMREQ = 7,
	REQ_PING = 8,
	REQ_PONG = 9,
	REQ_ADD_SUBNET = 10,
	REQ_DEL_SUBNET = 11,
	REQ_ADD_EDGE = 12,
	REQ_DEL_EDGE = 13,
	REQ_KEY_CHANGED = 14,
	REQ_REQ_KEY = 15,
	REQ_ANS_KEY = 16,
	REQ_PACKET = 17,
	REQ_CONTROL = 18,
	REQ_REQ_PUBKEY = 19,
	REQ_ANS_PUBKEY = 20,
	REQ_SPTPS_PACKET = 21,
	REQ_UDP_INFO = 22,
	REQ_MTU_INFO = 23,
	REQ_LAST = 24,
} request_t;

#define PROTOCOL_MAJOR 17
#define PROTOCOL_MINOR 0
/* 1.0.36 always announces SHA-256 as its meta digest (protocol.md §4.2). */
#define META_DIGEST_NID 672
/* Longest string field a request may carry (protocol.md §3.2). */
#define MAX_FIELD_LEN 2048

/* Name of a request number for logs; "UNKNOWN" outside 0..23. */
const char *request_name(int request);

/* ---- requests in and out (protocol*.c) ---- */

struct edge;
struct node;
struct subnet;

/* Parse and dispatch one received line; false means "drop the connection". */
bool request_dispatch(connection_t *c, char *line);
bool send_id_request(connection_t *c);                 /* initiator: after connect() completes */
bool send_add_edge_request(connection_t *c, const struct edge *e);
bool send_del_edge_request(connection_t *c, const struct edge *e);
bool send_add_subnet_request(connection_t *c, const struct subnet *s);
bool send_del_subnet_request(connection_t *c, const struct subnet *s);
bool send_req_key_request(struct node *to);
bool send_ans_key_request(struct node *to);            /* new rx_key for 'to', sent to its nexthop */
void send_key_changed_request(void);
bool send_ping_request(connection_t *c);
/* Active connection lost: DEL_EDGE broadcast, graph, reconnect (protocol.md §3.9). */
void connection_shutdown(connection_t *c, bool report);

/* ---- splitting a line into fields (protocol_parse.c) ---- */

#define REQ_MAX_FIELDS 16

/* A private, NUL-separated copy of a request line. Fields are split on
 * whitespace runs like sscanf's %s; fields past REQ_MAX_FIELDS are ignored
 * (as sscanf ignores trailing input). */
typedef struct request_fields {
	char buf[META_INBUF_SIZE];
	int count;
	char *f[REQ_MAX_FIELDS];
} request_fields_t;

typedef enum split_result {
	SPLIT_OK = 0,
	SPLIT_TOO_LONG,      /* the line does not fit in META_INBUF_SIZE-1 bytes */
	SPLIT_FIELD_TOO_LONG /* a field is longer than MAX_FIELD_LEN */
} split_result_t;

split_result_t request_split(request_fields_t *rf, const char *line);

/* Whole-field decimal int (optional sign), no overflow. */
bool parse_int_field(const char *s, int *out);
/* Whole-field hexadecimal (either case, optional 0x), fits in 32 bits. */
bool parse_hex32_field(const char *s, uint32_t *out);
/* The request number: a non-negative decimal that fits in an int. */
bool parse_request_number(const char *s, int *out);
/* ID's version: "17" or "17.N"; major and minor (0 if absent). */
bool parse_version_field(const char *s, int *major, int *minor);
/* The decimal port of an ACK: atoi-like, 0 when not a port number. */
uint16_t parse_ack_port(const char *s);

/* ---- option bits (protocol.md §3.8) ---- */

/* Tri-state host-file setting: absent, no or yes. */
enum { OPT_UNSET = -1, OPT_NO = 0, OPT_YES = 1 };

/* Options for the ACK we send on a connection: 'own' is our own option word
 * (local_node->options), peer_* are IndirectData, TCPOnly and ClampMSS from
 * hosts/PEER. This is what the connection's options start as. */
uint32_t ack_options_ours(uint32_t own, int peer_indirect, int peer_tcponly, int peer_clampmss);
/* What actually goes on the wire in our ACK: fqtinc's capability bits are
 * announced here only, never OR-ed into our own edge (protocol.md §3.8). */
uint32_t ack_options_announce(uint32_t ours);
/* Options of our edge after the peer's ACK carried 'theirs': PMTU_DISCOVERY
 * only if both have it, every other bit OR-ed, then ClampMSS from hosts/PEER
 * forces CLAMP_MSS. */
uint32_t ack_options_merge(uint32_t ours, uint32_t theirs, int peer_clampmss);

/* ---- nonces (protocol.md §3.6) ---- */

/* A 31-bit value for the NONCE field of flooded requests. Seeded from the
 * kernel's random source, so two daemons started together do not share a
 * sequence, and never repeated within one daemon before 2^31 requests. */
uint32_t request_nonce(void);

typedef struct nonce_gen {
	uint32_t next, step;
	bool seeded;
} nonce_gen_t;
void nonce_gen_seed(nonce_gen_t *g, uint32_t start, uint32_t step);
uint32_t nonce_gen_next(nonce_gen_t *g);

/* ---- the past-request cache (past_request.c) ---- */

typedef struct past_cache past_cache_t;

/* cap: most lines remembered; the oldest are forgotten first beyond it. */
past_cache_t *past_cache_new(size_t cap);
void past_cache_free(past_cache_t *pc);
/* True if this exact line was seen (and not yet aged out); otherwise
 * remember it as first seen at 'now' and return false. */
bool past_cache_seen(past_cache_t *pc, const char *line, uint64_t now);
/* Forget lines first seen at or before now - max_age; returns how many. */
size_t past_cache_age(past_cache_t *pc, uint64_t now, uint64_t max_age);
size_t past_cache_count(const past_cache_t *pc);

#define PAST_REQUEST_CAP 100000

/* SipHash-2-4 (keyed, so peers cannot aim lines at one hash bucket). */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

/* The daemon's cache (protocol.c), using now_ns and PingInterval. */
bool request_seen_before(const char *line);
/* Create the cache (at start-up; request_seen_before creates it on first use too). */
void past_request_init(void);
/* Housekeeping: forget lines older than PingInterval. */
void past_request_age(void);
void past_request_exit(void);

/* ---- shared by the protocol handlers (protocol*.c) ---- */

/* We made the TCP connection (we speak first, protocol.md §4.5). */
static inline bool connection_is_initiator(const connection_t *c) {
	return c->outgoing != NULL || c->status.outgoing;
}

/* Handlers: c is the connection, rf the split line, line the original text
 * (for the past-request cache and verbatim forwarding). False = drop. */
typedef bool (*request_handler_t)(connection_t *c, request_fields_t *rf, const char *line);

bool handle_id_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_metakey_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_challenge_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_chal_reply_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_ack_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_termreq_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_ping_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_pong_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_add_subnet_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_del_subnet_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_add_edge_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_del_edge_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_key_changed_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_req_key_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_ans_key_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_packet_request(connection_t *c, request_fields_t *rf, const char *line);
bool handle_sptps_packet_request(connection_t *c, request_fields_t *rf, const char *line);

bool send_metakey_request(connection_t *c);
bool send_challenge_request(connection_t *c);
bool send_chal_reply_request(connection_t *c);
bool send_ack_request(connection_t *c);
bool send_pong_request(connection_t *c);

/* Counted for the contradiction-storm guard: an ADD_EDGE for an edge of ours
 * we do not have, a DEL_EDGE for one we do have. edge_storm_tick() reads and
 * resets them. */
extern int add_edge_contradictions;
extern int del_edge_contradictions;

/* The contradiction-storm guard. Two daemons that share a Name keep denying
 * each other's edges, so both kinds of contradiction pile up; tinc 1.0.36
 * then stops handling the network for a while, 10 s at first and twice as
 * long on each storm in a row. We cap the pause at 640 s (10 s doubled six
 * times): long enough that a duplicate barely disturbs the mesh, short
 * enough that the daemon is back within minutes once the duplicate is gone.
 * A calm window halves the pause again, down to 10 s. */
enum {
	EDGE_STORM_LIMIT = 100,     /* more than this many of each kind per window */
	EDGE_STORM_PAUSE_MIN = 10,  /* seconds */
	EDGE_STORM_PAUSE_MAX = 640, /* seconds */
};
typedef struct edge_storm_verdict {
	int pause_s;      /* stop handling the network this long now; 0 = no storm */
	int next_pause_s; /* the pause the next storm will get */
} edge_storm_verdict_t;
/* Pure: the counts of one window and the current pause length in, the
 * action and the next pause length out. */
edge_storm_verdict_t edge_storm_decide(int adds, int dels, int pause_s);
/* Once per window of window_s seconds: decides from the counters, logs a
 * storm, resets the counters; returns the seconds to pause (0 = none). */
int edge_storm_tick(int window_s);

/* "Got bad REQ from NAME (HOST)[: why]" at VERBOSITY_ERRORS; returns false. */
bool bad_request(const connection_t *c, int request, const char *why);

#endif

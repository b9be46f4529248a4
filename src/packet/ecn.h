/* ECN across the tunnel per RFC 6040, and the DSCP/ECN bytes of an inner
 * frame. Pure functions over values and frame bytes; the tables are
 * RFC 6040's: §4.1 (encapsulation) and §4.2 Figure 4 (decapsulation). */
#ifndef FQTINC_ECN_H
#define FQTINC_ECN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The two low bits of the IPv4 TOS byte / IPv6 traffic class (RFC 3168). */
enum ecn_codepoint {
	ECN_NOT_ECT = 0,
	ECN_ECT1 = 1,
	ECN_ECT0 = 2,
	ECN_CE = 3,
};

#define ECN_MASK 0x03

/* What the egress does with a decapsulated packet. */
typedef enum ecn_action {
	ECN_FORWARD,     /* the usual case */
	ECN_FORWARD_LOG, /* a combination RFC 6040 marks (!!!): forward, log (rate-limited) */
	ECN_DROP,        /* outer CE over inner Not-ECT: MUST drop; also a (!!!) case worth logging */
} ecn_action_t;

typedef struct ecn_decap_result {
	uint8_t ecn;         /* the ECN field the inner packet leaves with */
	ecn_action_t action;
	bool legit_unusual;  /* RFC 6040 (!): rare but legitimate (e.g. PCN); no alarm */
} ecn_decap_result_t;

/* RFC 6040 §4.1: the outer ECN for an inner one. Compatibility mode always
 * gives Not-ECT; normal mode copies, CE included. */
uint8_t ecn_encap(uint8_t inner_ecn, bool normal_mode);

/* RFC 6040 §4.2 Figure 4: combine the arriving inner and outer ECN fields. */
ecn_decap_result_t ecn_decap(uint8_t inner_ecn, uint8_t outer_ecn);

/* The TOS byte for the outer header: the inner DSCP when priority
 * inheritance is on (never its ECN bits), plus the ECN from ecn_encap(). */
uint8_t outer_tos(uint8_t inner_tos, bool priority_inheritance, bool normal_mode);

/* The whole TOS byte (IPv4) or traffic class (IPv6) of the packet in an
 * Ethernet frame, untagged or 802.1Q-tagged. False for anything else. */
bool ecn_frame_tos(const uint8_t *frame, size_t len, uint8_t *tos);

/* The same split into DSCP (6 bits) and ECN (2 bits). */
bool ecn_frame_read(const uint8_t *frame, size_t len, uint8_t *dscp, uint8_t *ecn);

/* Sets the ECN field of the inner packet, leaving the DSCP alone and
 * keeping an IPv4 header checksum valid. False if the frame is not IP. */
bool ecn_frame_set(uint8_t *frame, size_t len, uint8_t ecn);

/* Applies ecn_decap() to the frame for an outer header that carried
 * outer_tos_byte, writing the resulting inner ECN. A non-IP frame passes as
 * ECN_FORWARD unchanged. On ECN_DROP the frame is not modified. */
ecn_decap_result_t ecn_decap_frame(uint8_t *frame, size_t len, uint8_t outer_tos_byte);

/* For the AQM: marks an ECN-capable packet CE and returns true (also when
 * it already was CE); returns false for Not-ECT or non-IP, and the caller
 * drops instead. */
bool ecn_mark_ce(uint8_t *frame, size_t len);

#endif

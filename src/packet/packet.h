/* The VPN packet: an Ethernet frame plus what travels with it through the daemon. */
#ifndef FQTINC_PACKET_H
#define FQTINC_PACKET_H

#include <stdint.h>

#include "util/compat.h"

/* Largest frame: 1500 + 14 (Ethernet) + 4 (VLAN), as tinc 1.0. */
#define MTU 1518
/* Largest plaintext/ciphertext buffer: MTU + seqno + padding/MAC/compression slack. */
#define PACKET_BUF_MAX (MTU + 4 + 32 + 64 + 23 + 20)
/* Worst-case growth of incompressible data. */
#define COMPRESS_SLACK (MTU / 64 + 20)

#define ETH_HLEN 14
#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_VLAN 0x8100

/* Congestion signals the receive side asks for (frame_buf_t.congested). */
#define PACKET_SIGNAL_NONE 0
#define PACKET_SIGNAL_MARK_OR_DROP 1 /* CoDel: CE-mark, or drop a Not-ECT inner packet */
#define PACKET_SIGNAL_MARK_ONLY 2    /* CE threshold: CE-mark if the inner packet allows */

typedef struct frame_buf {
	uint16_t len;        /* bytes used in data[] */
	uint8_t outer_tos;   /* TOS/TCLASS of the outer header it arrived in */
	uint8_t outer_ttl;   /* TTL/hop limit of the outer header it arrived in */
	bool tcp;            /* arrived over the meta connection */
	uint8_t congested;   /* receive side wants a CE mark: PACKET_SIGNAL_* */
	uint64_t tstamp_ns;  /* when it entered the daemon (monotonic ns) */
	uint8_t data[PACKET_BUF_MAX];
} frame_buf_t;

static inline uint16_t packet_ethertype(const frame_buf_t *p) {
	return (uint16_t)(p->data[12] << 8 | p->data[13]);
}

#endif

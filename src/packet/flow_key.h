/* The flow key of an inner frame, for pinning each inner flow to one outer
 * UDP source port (datapath/port_spread.h) and to one queue of the FQ-CoDel
 * (aqm/fq_codel.h): the same flow always gets the
 * same key, so its packets leave through one socket and are never reordered
 * against each other; the keys of different flows spread evenly over the
 * 32 bits. Pure: no state, no I/O.
 *
 * IPv4 and IPv6: protocol, addresses and, for TCP, UDP, UDP-Lite, DCCP and
 * SCTP, the two ports; for ICMP and ICMPv6 echo request and reply, the
 * identifier. Fragments (IPv4 MF or offset, IPv6 fragment header) use the
 * address pair and protocol only, so a fragmented flow keeps one key.
 * Any other frame (ARP, non-IP in switch mode): the MAC pair and EtherType.
 * VLAN tags (up to two) are part of the key. The two directions of a flow
 * need not have the same key.
 *
 * The daemon's FQ-CoDel queues flows by the same key (aqm/fq_codel.h). */
#ifndef FQTINC_FLOW_KEY_H
#define FQTINC_FLOW_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

/* The key of an Ethernet frame of len bytes; salt makes it unpredictable
 * to anyone who does not know it. */
uint32_t flow_key(const uint8_t *frame, size_t len, uint64_t salt);

#endif

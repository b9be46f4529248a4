/* Option bits of a node's link, carried in ACK and ADD_EDGE:
 * the meta protocol sets them, the data path obeys them. */
#ifndef FQTINC_OPTIONS_H
#define FQTINC_OPTIONS_H

#define OPTION_INDIRECT       0x0001
#define OPTION_TCPONLY        0x0002
#define OPTION_PMTU_DISCOVERY 0x0004
#define OPTION_CLAMP_MSS      0x0008
/* fqtinc extension: "I decapsulate ECN per RFC 6040" (doc/protocol-ecn.md).
 * Announced only in the ACK we send, never OR-ed into our own edge. */
#define OPTION_ECN_RFC6040    0x0010
/* fqtinc extension: "I answer ECN path probes" (protocol.md §10.4).
 * Announced only in the ACK we send, never OR-ed into our own edge. */
#define OPTION_ECN_PATH_PROBES 0x0020
/* fqtinc extension: "my datagrams may come from several source ports;
 * take them all as mine, answer my own port" (protocol.md §10.3).
 * Announced only in the ACK we send, never OR-ed into our own edge. */
#define OPTION_UDP_PORTS       0x0040

#endif

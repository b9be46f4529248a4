/* Building ICMP and ICMPv6 error replies to an Ethernet frame (router mode,
 * protocol.md §6.5 "ICMP errors"). Pure: no sockets, no rate limit —
 * the caller limits the rate and decides where the reply goes. */
#ifndef FQTINC_ICMP_H
#define FQTINC_ICMP_H

#include <stddef.h>
#include <stdint.h>

/* ICMPv4 types and codes the router uses. */
#define ICMP4_DEST_UNREACH 3
#define ICMP4_NET_UNREACH 0
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_NET_UNKNOWN 6
#define ICMP4_NET_ANO 9
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_EXC_TTL 0

/* ICMPv6 types and codes the router uses. */
#define ICMP6_DST_UNREACH 1
#define ICMP6_DST_UNREACH_NOROUTE 0
#define ICMP6_DST_UNREACH_ADMIN 1
#define ICMP6_DST_UNREACH_ADDR 3
#define ICMP6_PACKET_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROB 4

/* Largest reply each function can produce: a 576-byte IP datagram plus the
 * Ethernet header. An out buffer this large never truncates the quote. */
#define ICMP4_ERROR_MAXLEN (14 + 576)
#define ICMP6_ERROR_MAXLEN (14 + 576)

/* Builds, in out, an Ethernet frame carrying an ICMPv4 error about the IPv4
 * frame (len bytes, untagged, ethertype 0x0800). mtu is the next-hop MTU for
 * type 3 code 4 and ignored otherwise. The IP source is src (4 bytes) when
 * given, else the original destination. out may be the same buffer as
 * frame. The quote of the original packet is shortened if out is small.
 *
 * Returns the reply length, or 0 when no reply may be sent: malformed or
 * short input, a non-initial fragment, an ICMP error about an ICMP error, a
 * broadcast/multicast destination, or a source that is not one host
 * (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7). */
size_t icmp4_error(uint8_t *out, size_t outsize, const uint8_t *frame, size_t len,
                   uint8_t type, uint8_t code, uint16_t mtu, const uint8_t *src);

/* The same for an IPv6 frame (ethertype 0x86DD). mtu goes into bytes 4-7 of
 * the ICMPv6 header for type 2 (packet too big) and type 4 (as the pointer);
 * src is 16 bytes. Returns 0 for malformed input, an ICMPv6 error message
 * (type < 128) as the original, a source that is unspecified or multicast,
 * or a multicast destination unless type 2 or type 4 code 2 (RFC 4443
 * §2.4 (e)). */
size_t icmp6_error(uint8_t *out, size_t outsize, const uint8_t *frame, size_t len,
                   uint8_t type, uint8_t code, uint32_t mtu, const uint8_t *src);

#endif

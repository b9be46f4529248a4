/* Router mode on a TAP device: the kernel asks for link-layer addresses
 * (ARP, IPv6 neighbour solicitation) and we answer for every address behind
 * the VPN with a made-up MAC (protocol.md §6.5 "ARP", "Neighbour solicitation").
 * The router parses the target, does the subnet lookup, and only then asks
 * for the reply. */
#ifndef FQTINC_NEIGHBOR_H
#define FQTINC_NEIGHBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the frames the builders produce. */
#define ARP_REPLY_LEN (14 + 28)
#define NDP_ADVERT_LEN (14 + 40 + 32)

/* True if frame is an Ethernet/IPv4 ARP request (htype 1, ptype 0x0800,
 * hlen 6, plen 4, op 1); the address asked for goes to target_ip. */
bool arp_request_target(const uint8_t *frame, size_t len, uint8_t target_ip[4]);

/* Builds the ARP reply to request into out: sent to the requester's MAC
 * from that MAC with its last octet flipped (XOR 0xff), claiming the target
 * IP for that fake MAC. out may be the request buffer. Returns
 * ARP_REPLY_LEN, or 0 if request is not a valid request or out is small. */
size_t arp_build_reply(uint8_t *out, size_t outsize, const uint8_t *request, size_t len);

/* True if frame is a valid neighbour solicitation: IPv6 with hop limit
 * 255, next header ICMPv6, type 135 code 0, correct checksum, well-formed
 * options, a unicast target (to target) and a specified source address.
 * Duplicate address detection (source ::) is not answered: replying would
 * make the kernel give up an address. */
bool ndp_solicitation_target(const uint8_t *frame, size_t len, uint8_t target[16]);

/* Builds the neighbour advertisement answering request into out: Solicited
 * and Override flags, the target link-layer address option holding the fake
 * MAC (requester's MAC, last octet XOR 0xff), IPv6 source = the target,
 * destination = the solicitation's source. out may be the request buffer.
 * Returns NDP_ADVERT_LEN, or 0 if request is not valid or out is small. */
size_t ndp_build_advertisement(uint8_t *out, size_t outsize, const uint8_t *request, size_t len);

#endif

/* TCP MSS clamping (protocol.md §6.5): lower the MSS option of TCP segments so
 * that full-sized segments fit the path MTU of the tunnel. */
#ifndef FQTINC_MSS_H
#define FQTINC_MSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mtu is the largest frame the path takes, Ethernet header included. For
 * TCP over IPv4 (any header length, first fragment only) or over IPv6 with
 * TCP as the first next header, in an untagged or 802.1Q-tagged frame, every
 * MSS option larger than mtu - (Ethernet + IP header) - 20 is lowered to
 * that value and the TCP checksum is patched. Returns true if the frame was
 * changed; malformed frames are left alone. */
bool clamp_mss(uint8_t *frame, size_t len, uint16_t mtu);

#endif

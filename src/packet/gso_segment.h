/* Cutting a super-packet that the kernel handed over with a virtio-net
 * header (tun/tap with segmentation offload) into wire-size packets, and
 * completing checksums the kernel left partial.
 *
 * Pure: no I/O. The caller reads the header and the frame, then pulls the
 * segments one at a time into buffers of its own, so the daemon's queues
 * still see one packet per segment. The header's layout and values are the
 * virtio-net ones (doc/protocol.md does not cover them: they never leave the
 * host). Every length and offset is checked against the frame before use. */
#ifndef FQTINC_GSO_SEGMENT_H
#define FQTINC_GSO_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

/* Size of the header in front of each frame (no mergeable-buffer count). */
#define VNET_HDR_LEN 10

/* flags */
#define VNET_F_NEEDS_CSUM 0x01 /* checksum from csum_start to the end, stored at csum_start + csum_offset */
#define VNET_F_DATA_VALID 0x02 /* checksum already verified */

/* gso_type */
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP 3 /* IPv4 UDP fragmentation offload: never enabled, rejected */
#define VNET_GSO_TCPV6 4
#define VNET_GSO_UDP_L4 5 /* UDP segmentation, IPv4 or IPv6 */
#define VNET_GSO_ECN 0x80 /* TCP with ECN: CWR only on the first segment */

typedef struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;     /* a hint only: the kernel may give the linear part's length */
	uint16_t gso_size;    /* payload bytes per segment */
	uint16_t csum_start;  /* from the start of the frame */
	uint16_t csum_offset; /* from csum_start */
} vnet_hdr_t;

/* The header is in the host's byte order (legacy virtio, which tun uses
 * unless told otherwise). */
void vnet_hdr_parse(vnet_hdr_t *h, const uint8_t raw[VNET_HDR_LEN]);
void vnet_hdr_build(uint8_t raw[VNET_HDR_LEN], const vnet_hdr_t *h);

typedef enum gso_status {
	GSO_OK,
	GSO_BAD_TYPE,      /* unknown gso_type, or UFO */
	GSO_BAD_CSUM,      /* csum_start/csum_offset outside the frame or not at the L4 header */
	GSO_BAD_L3,        /* no IP header of the family gso_type names, or an IPv4 fragment */
	GSO_BAD_L4,        /* transport header missing, truncated or of the wrong protocol */
	GSO_BAD_SIZE,      /* gso_size zero */
	GSO_TOO_BIG,       /* a segment would not fit the caller's buffer */
	GSO_STATUS_COUNT
} gso_status_t;

const char *gso_status_text(gso_status_t s);

/* Where the segments of one frame come from; filled by gso_begin. */
typedef struct gso_cursor {
	const uint8_t *frame;
	size_t len;
	size_t l3, l4, hdr; /* offsets of the IP header, the L4 header, the payload */
	size_t mss;         /* payload bytes per segment */
	size_t next;        /* offset of the next payload byte */
	uint32_t index;     /* segments produced so far */
	uint32_t count;     /* segments in all */
	bool segment;       /* false: the frame goes out whole, once */
	bool v6, tcp;
	uint16_t ipv4_id;
	uint32_t tcp_seq;
} gso_cursor_t;

/* Checks h against frame (len bytes, the IP header at offset l3: 0 for tun,
 * past the Ethernet header for tap) and sets c up to produce segments of at
 * most max_segment bytes. Without GSO, a partial checksum (NEEDS_CSUM) is
 * completed in place and the frame is the only "segment". The frame must
 * stay put and unchanged until the last gso_next. */
gso_status_t gso_begin(gso_cursor_t *c, const vnet_hdr_t *h, uint8_t *frame, size_t len, size_t l3, size_t max_segment);

/* Writes the next segment to out (room for max_segment bytes) and returns
 * its length; 0 once every segment has been produced. */
size_t gso_next(gso_cursor_t *c, uint8_t *out);

/* Completes a partial checksum in place: the one's-complement sum from
 * csum_start to the end (the field holds the pseudo-header sum) is stored at
 * csum_start + csum_offset. False if those offsets do not fit the frame. */
bool vnet_complete_checksum(const vnet_hdr_t *h, uint8_t *frame, size_t len);

#endif

/* The virtual network device: Linux tun (router mode, packet info header
 * turned into a 14-byte pseudo Ethernet header) or tap, or no device at all.
 * With Offload the kernel may hand over TCP/UDP super-packets; they are cut
 * into wire-size segments here (packet/gso_segment), and device_read still
 * returns one frame at a time. */
#ifndef FQTINC_DEVICE_H
#define FQTINC_DEVICE_H

#include "util/compat.h"
#include "packet/packet.h"

typedef enum device_type { DEVICE_TUN, DEVICE_TAP, DEVICE_DUMMY } device_type_t;

typedef struct device {
	int fd;                 /* -1 for dummy */
	device_type_t type;
	char *path;             /* Device, e.g. /dev/net/tun */
	char *iface;            /* actual interface name */
	uint8_t mac[6];         /* router mode on tap: MAC of the host side */
	unsigned offloads;      /* TUN_F_* the kernel accepted; nonzero: frames carry a vnet header */
	int offload_errno;      /* why the kernel refused them */
	uint64_t in_packets, in_bytes, out_packets, out_bytes; /* segments, not super-packets */
	uint64_t in_bad_frames; /* read but unusable (bad vnet header, truncated): dropped */
} device_t;

extern device_t device;

bool device_open(void);
void device_close(void);
/* Non-blocking read of one frame; false when nothing is left (or on error). */
/* A copy of every frame read from or written to the device goes to tap
 * (NULL: nowhere); `tinc pcap` subscribes through the control layer. */
void device_set_tap(void (*tap)(const uint8_t *frame, size_t len));
bool device_read(frame_buf_t *packet);
/* Segments of a super-packet already read wait to be handed out: the reader
 * must come back even if the descriptor is not readable. */
bool device_segments_pending(void);
bool device_write(frame_buf_t *packet);
/* With offloads, TCP segments written in one turn may be held to be joined
 * into one super-packet: this writes them out (once per loop turn). */
void device_flush_writes(void);

#endif

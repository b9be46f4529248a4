/* The virtual network device: Linux tun (router mode, packet info header
 * turned into a 14-byte pseudo Ethernet header) or tap, or no device at all. */
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
	uint64_t in_packets, in_bytes, out_packets, out_bytes;
} device_t;

extern device_t device;

bool device_open(void);
void device_close(void);
/* Non-blocking read of one frame; false when nothing is left (or on error). */
/* A copy of every frame read from or written to the device goes to tap
 * (NULL: nowhere); `tinc pcap` subscribes through the control layer. */
void device_set_tap(void (*tap)(const uint8_t *frame, size_t len));
bool device_read(frame_buf_t *packet);
bool device_write(frame_buf_t *packet);

#endif

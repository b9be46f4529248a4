#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "config/conf.h"
#include "io/device.h"
#include "packet/gro_table.h"
#include "packet/gso_segment.h"
#include "util/log.h"
#include "config/settings.h"
#include "util/xalloc.h"

/* Newer than some installed kernel headers; the values are the kernel's. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

device_t device = {.fd = -1};

/* Segments of the last super-packet read, not yet handed out. */
static gso_cursor_t pending;
/* Segments written this turn, joined per flow, not yet given to the kernel
 * (all zero is an empty table). */
static void write_joined(gro_batch_t *b, void *ctx);
static gro_table_t write_table = {.emit = write_joined};

/* In tun mode the kernel's 4-byte packet info header (flags, protocol) is read
 * into the last 4 bytes of a 14-byte pseudo Ethernet header whose MACs are
 * zero, so the protocol lands exactly where the ethertype belongs. */
#define PI_OFFSET (ETH_HLEN - 4)

static bool parse_device_type(device_type_t *type) {
	char *s = NULL;
	*type = settings.route_mode == MODE_ROUTER ? DEVICE_TUN : DEVICE_TAP;
	if(!conf_string(settings.config, "DeviceType", &s))
		return true;
	bool ok = true;
	if(!strcasecmp(s, "tun"))
		*type = DEVICE_TUN;
	else if(!strcasecmp(s, "tap"))
		*type = DEVICE_TAP;
	else if(!strcasecmp(s, "dummy"))
		*type = DEVICE_DUMMY;
	else {
		logger(VERBOSITY_ERRORS, LOG_ERR, "DeviceType %s is not supported by fqtinc (supported: tun, tap, dummy)", s);
		ok = false;
	}
	free(s);
	return ok;
}

static const char *device_kind(void) {
	return device.type == DEVICE_TUN ? "tun" : "tap";
}

/* Asks for checksum and TCP segmentation offload, UDP segmentation too where
 * the kernel has it. False (nothing enabled) if the kernel takes neither set. */
static bool enable_offloads(void) {
	const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	const unsigned wanted[] = {tcp | TUN_F_USO4 | TUN_F_USO6, tcp};
	for(size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
		if(ioctl(device.fd, TUNSETOFFLOAD, (unsigned long)wanted[i]) == 0) {
			device.offloads = wanted[i];
			return true;
		}
		device.offload_errno = errno;
	}
	device.offloads = 0;
	return false;
}

/* One line, in words of our own, saying what the kernel may hand us. */
static void log_offloads(void) {
	if(!settings.offload) {
		logger(VERBOSITY_ERRORS, LOG_INFO, "%s offloads off (Offload = no)", device.type == DEVICE_TUN ? "Tun" : "Tap");
		return;
	}
	if(!device.offloads) {
		logger(VERBOSITY_ERRORS, LOG_WARNING, "%s offloads off: the kernel refused them for %s: %s; frames are read one at a time",
		       device.type == DEVICE_TUN ? "Tun" : "Tap", device.iface, strerror(device.offload_errno));
		return;
	}
	static const struct { unsigned flag; const char *name; } names[] = {
		{TUN_F_CSUM, "checksum"}, {TUN_F_TSO4, "TSO4"}, {TUN_F_TSO6, "TSO6"},
		{TUN_F_TSO_ECN, "TSO-ECN"}, {TUN_F_USO4, "USO4"}, {TUN_F_USO6, "USO6"},
	};
	char list[128] = "";
	for(size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if(device.offloads & names[i].flag) {
			if(*list)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, names[i].name, sizeof(list) - strlen(list) - 1);
		}
	}
	logger(VERBOSITY_ERRORS, LOG_INFO, "%s offloads active on %s: %s", device.type == DEVICE_TUN ? "Tun" : "Tap", device.iface, list);
}

bool device_open(void) {
	if(!parse_device_type(&device.type))
		return false;
	free(device.path);
	device.path = NULL;
	if(!conf_string(settings.config, "Device", &device.path))
		device.path = xstrdup("/dev/net/tun");
	char *want_iface = NULL;
	if(!conf_string(settings.config, "Interface", &want_iface) && settings.netname)
		want_iface = xstrdup(settings.netname);

	if(device.type == DEVICE_DUMMY) {
		device.fd = -1;
		free(device.iface);
		device.iface = xstrdup("dummy");
		free(want_iface);
		logger(VERBOSITY_ERRORS, LOG_INFO, "Dummy device in use: frames for this host go nowhere");
		return true;
	}

	device.fd = open(device.path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if(device.fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Could not open %s: %s", device.path, strerror(errno));
		free(want_iface);
		return false;
	}

	struct ifreq ifr = {0};
	ifr.ifr_flags = device.type == DEVICE_TUN ? IFF_TUN : (IFF_TAP | IFF_NO_PI);
	bool one_queue = false;
	if(conf_bool(settings.config, "IffOneQueue", &one_queue) && one_queue)
		ifr.ifr_flags |= IFF_ONE_QUEUE;
	if(want_iface) {
		if(strlen(want_iface) >= IFNAMSIZ) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Interface name %s is longer than %d characters", want_iface, IFNAMSIZ - 1);
			free(want_iface);
			close(device.fd);
			device.fd = -1;
			return false;
		}
		strncpy(ifr.ifr_name, want_iface, IFNAMSIZ - 1);
	}
	free(want_iface);
	device.offloads = 0;
	bool attached = false;
	if(settings.offload) {
		struct ifreq with_hdr = ifr;
		with_hdr.ifr_flags |= IFF_VNET_HDR;
		if(ioctl(device.fd, TUNSETIFF, &with_hdr) == 0) {
			attached = true;
			ifr = with_hdr;
			if(!enable_offloads()) {
				/* The vnet header stays for the life of a descriptor: start over without it. */
				close(device.fd);
				attached = false;
				device.fd = open(device.path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
				if(device.fd < 0) {
					logger(VERBOSITY_ERRORS, LOG_ERR, "Could not open %s again: %s", device.path, strerror(errno));
					return false;
				}
				ifr.ifr_flags &= (short)~IFF_VNET_HDR;
			}
		}
	}
	if(!attached && ioctl(device.fd, TUNSETIFF, &ifr) < 0)
		goto setiff_failed;
	free(device.iface);
	device.iface = xstrdup(ifr.ifr_name);

	if(device.type == DEVICE_TAP) {
		/* Router mode on tap needs the host's MAC as destination of written frames. */
		struct ifreq hw = {0};
		strncpy(hw.ifr_name, device.iface, IFNAMSIZ - 1);
		if(ioctl(device.fd, SIOCGIFHWADDR, &hw) == 0)
			memcpy(device.mac, hw.ifr_hwaddr.sa_data, 6);
	}
	logger(VERBOSITY_ERRORS, LOG_INFO, "%s is a Linux %s device", device.iface, device_kind());
	log_offloads();
	return true;

setiff_failed:
	logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot create %s device %s: %s", device_kind(), ifr.ifr_name, strerror(errno));
	close(device.fd);
	device.fd = -1;
	return false;
}

void device_close(void) {
	if(device.fd >= 0) {
		device_flush_writes();
		close(device.fd);
	}
	device.fd = -1;
	device.offloads = 0;
	pending.count = pending.index = 0;
}

static void (*frame_tap)(const uint8_t *frame, size_t len);

void device_set_tap(void (*tap)(const uint8_t *frame, size_t len)) {
	frame_tap = tap;
}

/* ---- reading ---- */

static bool deliver(frame_buf_t *packet, size_t len) {
	packet->len = (uint16_t)len;
	device.in_packets++;
	device.in_bytes += packet->len;
	if(frame_tap)
		frame_tap(packet->data, packet->len);
	return true;
}

static bool read_failed(void) {
	if(errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read from %s (%s): %s", device.path, device.iface, strerror(errno));
	return false;
}

/* Without offloads: one frame per read, straight into the packet. */
static bool read_plain(frame_buf_t *packet) {
	ssize_t n;
	if(device.type == DEVICE_TUN) {
		n = read(device.fd, packet->data + PI_OFFSET, MTU - PI_OFFSET);
		if(n < 0)
			return read_failed();
		if(n < 4)
			return false;
		memset(packet->data, 0, PI_OFFSET + 2); /* zero MACs and the PI flags */
		return deliver(packet, (size_t)n + PI_OFFSET);
	}
	n = read(device.fd, packet->data, MTU);
	if(n < 0)
		return read_failed();
	return deliver(packet, (size_t)n);
}

/* With offloads the kernel may hand over up to 64 KiB of one TCP or UDP
 * flow at once. The first MTU bytes of a read land in the caller's packet
 * (most reads are single frames and need no copy); the rest lands in
 * super_buf after SUPER_HEAD, and for a super-packet the head is copied in
 * front of it so the frame is contiguous. Its segments are then handed out
 * one per device_read, so the queues behind us see single packets. */
#define SUPER_HEAD MTU
#define SUPER_TAIL (65536 + 256)
static uint8_t super_buf[SUPER_HEAD + SUPER_TAIL];
static uint16_t pending_ethertype; /* tun: for the pseudo Ethernet header of each segment */

/* Where a frame starts in frame_buf_t.data: past the pseudo Ethernet header in tun mode. */
static size_t frame_offset(void) {
	return device.type == DEVICE_TUN ? ETH_HLEN : 0;
}

bool device_segments_pending(void) {
	return pending.index < pending.count;
}

static bool next_segment(frame_buf_t *packet) {
	size_t off = frame_offset();
	size_t n = gso_next(&pending, packet->data + off);
	if(!n)
		return false;
	if(device.type == DEVICE_TUN) {
		memset(packet->data, 0, 12);
		packet->data[12] = (uint8_t)(pending_ethertype >> 8);
		packet->data[13] = (uint8_t)pending_ethertype;
	}
	return deliver(packet, n + off);
}

static void drop_bad(const char *why) {
	device.in_bad_frames++;
	LOG(VERBOSITY_TRAFFIC, LOG_WARNING, "Dropping a frame read from %s: %s", device.iface, why);
}

typedef enum read_result { READ_FRAME, READ_NOTHING, READ_DROPPED } read_result_t;

static read_result_t read_offloaded(frame_buf_t *packet) {
	bool tun = device.type == DEVICE_TUN;
	size_t off = frame_offset();
	size_t head_room = MTU - off;
	uint8_t raw[VNET_HDR_LEN];
	struct iovec iov[4];
	int k = 0;
	if(tun)
		iov[k++] = (struct iovec){packet->data + PI_OFFSET, 4};
	iov[k++] = (struct iovec){raw, sizeof(raw)};
	iov[k++] = (struct iovec){packet->data + off, head_room};
	iov[k++] = (struct iovec){super_buf + SUPER_HEAD, SUPER_TAIL};
	size_t prefix = (tun ? 4 : 0) + sizeof(raw);

	ssize_t n = readv(device.fd, iov, k);
	if(n < 0) {
		read_failed();
		return READ_NOTHING;
	}
	if((size_t)n < prefix + (tun ? 0 : ETH_HLEN)) {
		drop_bad("shorter than its headers");
		return READ_DROPPED;
	}
	size_t flen = (size_t)n - prefix;
	uint16_t pi_flags = 0; /* host byte order, unlike the protocol beside it */
	if(tun)
		memcpy(&pi_flags, packet->data + PI_OFFSET, 2);
	if(flen >= head_room + SUPER_TAIL || (pi_flags & TUN_PKT_STRIP)) {
		drop_bad("larger than the read buffer");
		return READ_DROPPED;
	}
	vnet_hdr_t h;
	vnet_hdr_parse(&h, raw);
	uint16_t ethertype = tun ? (uint16_t)(packet->data[12] << 8 | packet->data[13]) : 0;

	if(h.gso_type == VNET_GSO_NONE && flen <= head_room) {
		if((h.flags & VNET_F_NEEDS_CSUM) && !vnet_complete_checksum(&h, packet->data + off, flen)) {
			drop_bad(gso_status_text(GSO_BAD_CSUM));
			return READ_DROPPED;
		}
		if(tun)
			memset(packet->data, 0, PI_OFFSET + 2); /* zero MACs and the PI flags */
		deliver(packet, flen + off);
		return READ_FRAME;
	}

	size_t in_head = MIN(flen, head_room);
	uint8_t *frame = super_buf + SUPER_HEAD - in_head;
	memcpy(frame, packet->data + off, in_head);
	size_t l3 = 0;
	if(!tun) {
		l3 = ETH_HLEN;
		if((frame[12] << 8 | frame[13]) == ETHERTYPE_VLAN)
			l3 += 4;
	}
	gso_status_t s = gso_begin(&pending, &h, frame, flen, l3, head_room);
	if(s != GSO_OK) {
		pending.count = 0;
		drop_bad(gso_status_text(s));
		return READ_DROPPED;
	}
	pending_ethertype = ethertype;
	return next_segment(packet) ? READ_FRAME : READ_DROPPED;
}

/* Frames the kernel handed over that could not be read as such, at most
 * this many per call, so a stream of them cannot hold the loop. */
#define BAD_FRAMES_PER_READ 64

bool device_read(frame_buf_t *packet) {
	if(device.fd < 0)
		return false;
	if(!device.offloads)
		return read_plain(packet);
	if(next_segment(packet))
		return true;
	for(int bad = 0; bad < BAD_FRAMES_PER_READ; bad++) {
		read_result_t r = read_offloaded(packet);
		if(r != READ_DROPPED)
			return r == READ_FRAME;
	}
	return false;
}

/* ---- writing ---- */

/* TCP segments of a flow written in one loop turn go to the kernel as one
 * super-packet (packet/gro_table, packet/gro_coalesce) when the device has a
 * vnet header; device_flush_writes at the end of the turn writes the rest.
 * Turned off for good if the kernel rejects such a write. */
static bool coalescing = true;

/* l3 offset of a frame in frame_buf_t.data terms (past the pseudo Ethernet
 * header for tun, past the real one, VLAN tag included, for tap). */
static size_t frame_l3(const uint8_t *frame, size_t len) {
	if(device.type == DEVICE_TUN)
		return 0;
	if(len >= 18 && (frame[12] << 8 | frame[13]) == ETHERTYPE_VLAN)
		return 18;
	return ETH_HLEN;
}

static bool write_iov(struct iovec *iov, int k) {
	ssize_t n = writev(device.fd, iov, k);
	if(n < 0) {
		if(errno != EAGAIN && errno != EINVAL)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot write to %s (%s): %s", device.path, device.iface, strerror(errno));
		return false;
	}
	return true;
}

/* One frame of len bytes (from L3 for tun, from L2 for tap) with vnet header h. */
static bool write_frame(const uint8_t *frame, size_t len, const uint8_t raw_hdr[VNET_HDR_LEN]) {
	struct iovec iov[3];
	int k = 0;
	uint8_t pi[4] = {0};
	if(device.type == DEVICE_TUN) {
		if(len < 1)
			return false;
		uint16_t proto = frame[0] >> 4 == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP;
		pi[2] = (uint8_t)(proto >> 8);
		pi[3] = (uint8_t)proto;
		iov[k++] = (struct iovec){pi, sizeof(pi)};
	}
	iov[k++] = (struct iovec){(void *)raw_hdr, VNET_HDR_LEN};
	iov[k++] = (struct iovec){(void *)frame, len};
	return write_iov(iov, k);
}

/* The kernel refused a joined packet: cut it up again and write the pieces. */
static void write_segments_of(const vnet_hdr_t *h, uint8_t *frame, size_t len, size_t l3) {
	static const uint8_t plain_hdr[VNET_HDR_LEN];
	static uint8_t seg[MTU];
	gso_cursor_t c;
	if(gso_begin(&c, h, frame, len, l3, sizeof(seg)) != GSO_OK)
		return;
	size_t n;
	while((n = gso_next(&c, seg)))
		write_frame(seg, n, plain_hdr);
}

static void write_joined(gro_batch_t *b, void *ctx) {
	(void)ctx;
	vnet_hdr_t h;
	size_t len = gro_finish(b, &h);
	uint8_t raw[VNET_HDR_LEN];
	vnet_hdr_build(raw, &h);
	if(!write_frame(b->buf, len, raw) && h.gso_type != VNET_GSO_NONE && errno == EINVAL) {
		if(coalescing)
			logger(VERBOSITY_ERRORS, LOG_WARNING, "%s %s refused a joined TCP packet of %u segments: %s; writing segments one at a time from now on",
			       device_kind(), device.iface, b->count, strerror(errno));
		coalescing = false;
		write_segments_of(&h, b->buf, len, b->l3);
	}
}

void device_flush_writes(void) {
	gro_table_flush(&write_table);
}

bool device_write(frame_buf_t *packet) {
	if(frame_tap)
		frame_tap(packet->data, packet->len);
	if(device.fd < 0) {
		device.out_packets++;
		device.out_bytes += packet->len;
		return true;
	}
	if(device.type == DEVICE_TUN && packet->len < ETH_HLEN)
		return false;
	if(device.type == DEVICE_TAP && settings.route_mode == MODE_ROUTER)
		memcpy(packet->data, device.mac, 6);

	if(device.offloads && coalescing) {
		size_t off = frame_offset();
		const uint8_t *frame = packet->data + off;
		size_t len = packet->len - off;
		size_t l3 = frame_l3(frame, len);
		if(gro_table_offer(&write_table, frame, len, l3)) {
			device.out_packets++;
			device.out_bytes += packet->len;
			return true;
		}
	}

	/* With offloads every frame needs a header; all zero says: a single
	 * frame whose checksums are complete (the kernel still checks them). */
	static const uint8_t plain_hdr[VNET_HDR_LEN];
	struct iovec iov[3];
	int k = 0;
	if(device.type == DEVICE_TUN) {
		packet->data[PI_OFFSET] = 0;
		packet->data[PI_OFFSET + 1] = 0;
		iov[k++] = (struct iovec){packet->data + PI_OFFSET, 4};
		if(device.offloads)
			iov[k++] = (struct iovec){(void *)plain_hdr, sizeof(plain_hdr)};
		iov[k++] = (struct iovec){packet->data + ETH_HLEN, packet->len - ETH_HLEN};
	} else {
		if(device.offloads)
			iov[k++] = (struct iovec){(void *)plain_hdr, sizeof(plain_hdr)};
		iov[k++] = (struct iovec){packet->data, packet->len};
	}
	if(!write_iov(iov, k))
		return false;
	device.out_packets++;
	device.out_bytes += packet->len;
	return true;
}

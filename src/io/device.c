#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "config/conf.h"
#include "io/device.h"
#include "util/log.h"
#include "config/settings.h"
#include "util/xalloc.h"

device_t device = {.fd = -1};

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
			return false;
		}
		strncpy(ifr.ifr_name, want_iface, IFNAMSIZ - 1);
	}
	free(want_iface);
	if(ioctl(device.fd, TUNSETIFF, &ifr) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot create %s device %s: %s",
		       device.type == DEVICE_TUN ? "tun" : "tap", ifr.ifr_name, strerror(errno));
		close(device.fd);
		device.fd = -1;
		return false;
	}
	free(device.iface);
	device.iface = xstrdup(ifr.ifr_name);

	if(device.type == DEVICE_TAP) {
		/* Router mode on tap needs the host's MAC as destination of written frames. */
		struct ifreq hw = {0};
		strncpy(hw.ifr_name, device.iface, IFNAMSIZ - 1);
		if(ioctl(device.fd, SIOCGIFHWADDR, &hw) == 0)
			memcpy(device.mac, hw.ifr_hwaddr.sa_data, 6);
	}
	logger(VERBOSITY_ERRORS, LOG_INFO, "%s is a Linux %s device", device.iface,
	       device.type == DEVICE_TUN ? "tun" : "tap");
	return true;
}

void device_close(void) {
	if(device.fd >= 0)
		close(device.fd);
	device.fd = -1;
}

static void (*frame_tap)(const uint8_t *frame, size_t len);

void device_set_tap(void (*tap)(const uint8_t *frame, size_t len)) {
	frame_tap = tap;
}

bool device_read(frame_buf_t *packet) {
	if(device.fd < 0)
		return false;
	ssize_t n;
	if(device.type == DEVICE_TUN) {
		n = read(device.fd, packet->data + PI_OFFSET, MTU - PI_OFFSET);
		if(n < 0)
			goto error;
		if(n < 4)
			return false;
		memset(packet->data, 0, PI_OFFSET + 2); /* zero MACs and the PI flags */
		packet->len = (uint16_t)(n + PI_OFFSET);
	} else {
		n = read(device.fd, packet->data, MTU);
		if(n < 0)
			goto error;
		packet->len = (uint16_t)n;
	}
	device.in_packets++;
	device.in_bytes += packet->len;
	if(frame_tap)
		frame_tap(packet->data, packet->len);
	return true;
error:
	if(errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read from %s (%s): %s", device.path, device.iface, strerror(errno));
	return false;
}

bool device_write(frame_buf_t *packet) {
	if(frame_tap)
		frame_tap(packet->data, packet->len);
	if(device.fd < 0) {
		device.out_packets++;
		device.out_bytes += packet->len;
		return true;
	}
	ssize_t n;
	if(device.type == DEVICE_TUN) {
		if(packet->len < ETH_HLEN)
			return false;
		packet->data[PI_OFFSET] = 0;
		packet->data[PI_OFFSET + 1] = 0;
		n = write(device.fd, packet->data + PI_OFFSET, packet->len - PI_OFFSET);
	} else {
		if(settings.route_mode == MODE_ROUTER)
			memcpy(packet->data, device.mac, 6);
		n = write(device.fd, packet->data, packet->len);
	}
	if(n < 0) {
		if(errno != EAGAIN && errno != EINVAL)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot write to %s (%s): %s", device.path, device.iface, strerror(errno));
		return false;
	}
	device.out_packets++;
	device.out_bytes += packet->len;
	return true;
}

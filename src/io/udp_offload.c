/* UDP GSO/GRO on our sockets (see udp_offload.h). */
#include "util/compat.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include "config/settings.h"
#include "util/log.h"
#include "io/udp_offload.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

bool udp_offload_kernel_gso_ok(const char *release) {
	unsigned major = 0, minor = 0, patch = 0;
	if(!release || sscanf(release, "%u.%u.%u", &major, &minor, &patch) < 2)
		return true; /* unknown: the probe decides */
	if(major == 7 && minor == 0)
		return false;
	if(major == 7 && minor == 1 && patch <= 4)
		return false;
	return true;
}

static bool kernel_gso_ok(void) {
	static int known = -1;
	if(known < 0) {
		struct utsname u;
		known = uname(&u) < 0 || udp_offload_kernel_gso_ok(u.release);
	}
	return known;
}

/* The answer to "does the kernel know UDP_SEGMENT", or why not. */
static bool gso_probe(int fd, const char **why) {
	if(!settings.offload) {
		*why = "Offload = no";
		return false;
	}
	int size = 0;
	socklen_t len = sizeof(size);
	if(getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) < 0) {
		*why = "the kernel has no UDP_SEGMENT";
		return false;
	}
	if(!kernel_gso_ok()) {
		*why = "this kernel release corrupts UDP GSO sends";
		return false;
	}
	return true;
}

bool udp_offload_gso_usable(int fd) {
	const char *why;
	return gso_probe(fd, &why);
}

bool udp_offload_gro_enabled(int fd) {
	int on = 0;
	socklen_t len = sizeof(on);
	return getsockopt(fd, SOL_UDP, UDP_GRO, &on, &len) == 0 && on;
}

void udp_offload_setup(int fd) {
	static char said[160];
	const char *gso_why = "", *gro_why = "Offload = no";
	bool gso = gso_probe(fd, &gso_why), gro = false;
	if(settings.offload) {
		int one = 1;
		gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
		if(!gro)
			gro_why = "the kernel has no UDP_GRO";
	}
	char line[sizeof(said)];
	if(gso && gro)
		snprintf(line, sizeof(line), "GSO, GRO");
	else if(gso || gro)
		snprintf(line, sizeof(line), "%s (no %s: %s)", gso ? "GSO" : "GRO", gso ? "GRO" : "GSO", gso ? gro_why : gso_why);
	else if(!strcmp(gso_why, gro_why))
		snprintf(line, sizeof(line), "none (%s)", gso_why);
	else
		snprintf(line, sizeof(line), "none (GSO: %s; GRO: %s)", gso_why, gro_why);
	if(strcmp(line, said)) {
		logger(VERBOSITY_ERRORS, LOG_NOTICE, "UDP offloads active: %s", line);
		snprintf(said, sizeof(said), "%s", line);
	}
}

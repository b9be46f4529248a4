/* udpflood -- the small-packet load of bench/run: UDP datagrams of a given
 * payload size to one address, as fast as sendmmsg() takes them (or at a
 * given rate), for a bounded time. iperf3 -u spends a whole CPU on 64-byte
 * datagrams on this kind of machine, so with it the generator, not the
 * tunnel daemon, sets the packet rate; this one costs a small fraction.
 *
 *   udpflood ADDRESS PORT PAYLOAD SECONDS [PACKETS_PER_SECOND]
 *
 * Prints "sent N" at the end. Not part of fqtinc; built by bench/run. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_PAYLOAD 1472

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long arg_long(const char *s, const char *what, long min, long max) {
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if(end == s || *end || errno || v < min || v > max) {
		fprintf(stderr, "udpflood: %s must be a number from %ld to %ld, not `%s'\n", what, min, max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv) {
	if(argc < 5 || argc > 6) {
		fprintf(stderr, "usage: udpflood ADDRESS PORT PAYLOAD SECONDS [PACKETS_PER_SECOND]\n");
		return 2;
	}
	size_t payload = (size_t)arg_long(argv[3], "PAYLOAD", 1, MAX_PAYLOAD);
	double seconds = (double)arg_long(argv[4], "SECONDS", 1, 3600);
	double rate = argc == 6 ? (double)arg_long(argv[5], "PACKETS_PER_SECOND", 1, 100000000) : 0;

	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *ai;
	int err = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if(err) {
		fprintf(stderr, "udpflood: %s port %s: %s\n", argv[1], argv[2], gai_strerror(err));
		return 1;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if(fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udpflood: socket/connect");
		return 1;
	}
	freeaddrinfo(ai);

	static char buf[MAX_PAYLOAD];
	memset(buf, 'x', sizeof(buf));
	struct iovec iov = {buf, payload};
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for(int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	double start = now_s(), end = start + seconds;
	unsigned long long sent = 0;
	for(double t = start; t < end; t = now_s()) {
		if(rate > 0 && (double)sent > (t - start) * rate) {
			struct timespec pause = {0, 100000}; /* 0.1 ms */
			nanosleep(&pause, NULL);
			continue;
		}
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if(n > 0)
			sent += (unsigned long long)n;
		else if(errno != ENOBUFS && errno != EAGAIN && errno != ECONNREFUSED && errno != EINTR) {
			perror("udpflood: sendmmsg");
			return 1;
		}
	}
	printf("sent %llu\n", sent);
	return 0;
}

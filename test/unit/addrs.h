/* Socket addresses for unit tests, from text (documentation ranges). */
#ifndef FQTINC_TEST_ADDRS_H
#define FQTINC_TEST_ADDRS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "util/sockaddr.h"

static inline sockaddr_u addr_v4(const char *ip, uint16_t port) {
	sockaddr_u sa;
	memset(&sa, 0, sizeof(sa));
	sa.in.sin_family = AF_INET;
	sa.in.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa.in.sin_addr);
	return sa;
}

static inline sockaddr_u addr_v6(const char *ip, uint16_t port) {
	sockaddr_u sa;
	memset(&sa, 0, sizeof(sa));
	sa.in6.sin6_family = AF_INET6;
	sa.in6.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &sa.in6.sin6_addr);
	return sa;
}

#endif

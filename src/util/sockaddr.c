#include "util/compat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sockaddr.h"

socklen_t sockaddr_len(const sockaddr_u *sa) {
	switch(sa->sa.sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return sizeof(struct sockaddr_storage);
	}
}

bool sockaddr_format(const sockaddr_u *sa, char *host, size_t hostlen, char *port, size_t portlen) {
	char buf[INET6_ADDRSTRLEN];
	uint16_t p;
	if(sa->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sa->in.sin_addr, buf, sizeof(buf));
		p = ntohs(sa->in.sin_port);
	} else if(sa->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sa->in6.sin6_addr, buf, sizeof(buf));
		p = ntohs(sa->in6.sin6_port);
	} else {
		if(host)
			snprintf(host, hostlen, "unknown");
		if(port)
			snprintf(port, portlen, "unknown");
		return false;
	}
	if(host)
		snprintf(host, hostlen, "%s", buf);
	if(port)
		snprintf(port, portlen, "%u", p);
	return true;
}

const char *sockaddr_describe(const sockaddr_u *sa) {
	static char out[SOCKADDR_STRLEN + 16];
	char host[SOCKADDR_STRLEN], port[8];
	sockaddr_format(sa, host, sizeof(host), port, sizeof(port));
	snprintf(out, sizeof(out), "%s port %s", host, port);
	return out;
}

bool sockaddr_parse(const char *host, const char *port, sockaddr_u *sa) {
	memset(sa, 0, sizeof(*sa));
	char *end;
	unsigned long p = strtoul(port, &end, 10);
	if(!*port || *end || p > 65535)
		return false;
	if(inet_pton(AF_INET, host, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons((uint16_t)p);
		return true;
	}
	if(inet_pton(AF_INET6, host, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons((uint16_t)p);
		return true;
	}
	return false;
}

int sockaddr_cmp_host(const sockaddr_u *a, const sockaddr_u *b) {
	if(a->sa.sa_family != b->sa.sa_family)
		return a->sa.sa_family - b->sa.sa_family;
	if(a->sa.sa_family == AF_INET)
		return memcmp(&a->in.sin_addr, &b->in.sin_addr, 4);
	if(a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16);
	return 0;
}

int sockaddr_cmp(const sockaddr_u *a, const sockaddr_u *b) {
	int r = sockaddr_cmp_host(a, b);
	if(r)
		return r;
	return (int)sockaddr_port(a) - (int)sockaddr_port(b);
}

void sockaddr_unmap(sockaddr_u *sa) {
	if(sa->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sa->in6.sin6_addr))
		return;
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = sa->in6.sin6_port};
	memcpy(&in.sin_addr, &sa->in6.sin6_addr.s6_addr[12], 4);
	memset(sa, 0, sizeof(*sa));
	sa->in = in;
}

uint16_t sockaddr_port(const sockaddr_u *sa) {
	if(sa->sa.sa_family == AF_INET)
		return ntohs(sa->in.sin_port);
	if(sa->sa.sa_family == AF_INET6)
		return ntohs(sa->in6.sin6_port);
	return 0;
}

void sockaddr_set_port(sockaddr_u *sa, uint16_t port) {
	if(sa->sa.sa_family == AF_INET)
		sa->in.sin_port = htons(port);
	else if(sa->sa.sa_family == AF_INET6)
		sa->in6.sin6_port = htons(port);
}

/* Socket addresses: one union for IPv4/IPv6 plus the numeric string forms
 * tinc puts on the wire (getnameinfo NUMERICHOST style, no %scope). */
#ifndef FQTINC_SOCKADDR_H
#define FQTINC_SOCKADDR_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "util/compat.h"

typedef union sockaddr_u {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage storage;
} sockaddr_u;

#define SOCKADDR_STRLEN 64 /* "ffff:...:ffff" + NUL, plenty */

socklen_t sockaddr_len(const sockaddr_u *sa);
/* Numeric host and port strings; returns false for non-IP families. */
bool sockaddr_format(const sockaddr_u *sa, char *host, size_t hostlen, char *port, size_t portlen);
/* "10.0.0.1 port 655" for log messages (static buffer; one call per expression). */
const char *sockaddr_describe(const sockaddr_u *sa);
/* Parse numeric host and port; false if not numeric. */
bool sockaddr_parse(const char *host, const char *port, sockaddr_u *sa);
/* Compare family, address and port. */
int sockaddr_cmp(const sockaddr_u *a, const sockaddr_u *b);
/* Compare family and address, ignore port. */
int sockaddr_cmp_host(const sockaddr_u *a, const sockaddr_u *b);
/* Turn an IPv4-mapped IPv6 address into a plain IPv4 one. */
void sockaddr_unmap(sockaddr_u *sa);
uint16_t sockaddr_port(const sockaddr_u *sa);
void sockaddr_set_port(sockaddr_u *sa, uint16_t port);

#endif

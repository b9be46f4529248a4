/* Proxy (protocol.md §2.4, §3.1): outgoing meta connections through a SOCKS4,
 * SOCKS4a, SOCKS5 or HTTP CONNECT proxy, or through a command whose standard
 * input and output are the connection ("exec").  The proxy's handshake runs
 * in the clear before ID; ID is sent once the proxy has granted the
 * connection.  Incoming connections never involve the proxy.
 *
 * The target is the Address line as written: SOCKS4 needs an IPv4 address
 * (names are resolved here), SOCKS4a and SOCKS5 pass names on to the proxy
 * unresolved, HTTP always sends the name as written. */
#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/conf.h"
#include "meta/connection.h"
#include "util/log.h"
#include "config/settings.h"
#include "mesh/node.h"
#include "meta/protocol.h"
#include "meta/proxy.h"
#include "util/xalloc.h"

typedef enum proxy_type {
	PROXY_NONE = 0,
	PROXY_SOCKS4,
	PROXY_SOCKS4A,
	PROXY_SOCKS5,
	PROXY_HTTP,
	PROXY_EXEC,
} proxy_type_t;

static struct {
	proxy_type_t type;
	char *host, *port;    /* the proxy itself */
	char *user, *pass;
	char *command;        /* exec */
} proxy;

typedef enum proxy_result {
	PROXY_MORE,   /* the proxy's answer is not complete yet */
	PROXY_DONE,   /* granted: the bytes were consumed */
	PROXY_FAILED, /* refused or garbled (logged) */
} proxy_result_t;

/* A handshake in progress on one connection. */
struct proxy_state {
	proxy_type_t type;
};

static const char *type_name(proxy_type_t t) {
	switch(t) {
	case PROXY_SOCKS4: return "socks4";
	case PROXY_SOCKS4A: return "socks4a";
	case PROXY_SOCKS5: return "socks5";
	case PROXY_HTTP: return "http";
	case PROXY_EXEC: return "exec";
	default: return "none";
	}
}

static void clear_settings(void) {
	free(proxy.host);
	free(proxy.port);
	free(proxy.user);
	free(proxy.pass);
	free(proxy.command);
	memset(&proxy, 0, sizeof(proxy));
}

/* "Proxy = TYPE ARGS..." */
bool proxy_read_config(void) {
	clear_settings();
	char *value = NULL;
	if(!conf_string(settings.config, "Proxy", &value))
		return true;
	char *save = NULL;
	char *type = strtok_r(value, " \t", &save);
	bool ok = true;
	if(!type || !strcasecmp(type, "none")) {
		proxy.type = PROXY_NONE;
	} else if(!strcasecmp(type, "exec")) {
		proxy.type = PROXY_EXEC;
		char *rest = save ? save + strspn(save, " \t") : NULL;
		if(!rest || !*rest) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Proxy = exec needs a command");
			ok = false;
		} else {
			proxy.command = xstrdup(rest);
		}
	} else {
		if(!strcasecmp(type, "socks4"))
			proxy.type = PROXY_SOCKS4;
		else if(!strcasecmp(type, "socks4a"))
			proxy.type = PROXY_SOCKS4A;
		else if(!strcasecmp(type, "socks5"))
			proxy.type = PROXY_SOCKS5;
		else if(!strcasecmp(type, "http"))
			proxy.type = PROXY_HTTP;
		else {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Unknown proxy type `%s' (none, socks4, socks4a, socks5, http, exec)", type);
			ok = false;
		}
		char *host = strtok_r(NULL, " \t", &save);
		char *port = strtok_r(NULL, " \t", &save);
		char *user = strtok_r(NULL, " \t", &save);
		char *pass = strtok_r(NULL, " \t", &save);
		if(ok && (!host || !port)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Proxy = %s needs a host and a port", type);
			ok = false;
		}
		if(ok && proxy.type == PROXY_SOCKS5 && user && !pass) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Proxy = socks5 with a user name needs a password too");
			ok = false;
		}
		if(ok) {
			proxy.host = xstrdup(host);
			proxy.port = xstrdup(port);
			proxy.user = user ? xstrdup(user) : NULL;
			proxy.pass = pass ? xstrdup(pass) : NULL;
		}
	}
	free(value);
	if(!ok)
		clear_settings();
	else if(proxy.type != PROXY_NONE)
		LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Outgoing connections go through a %s proxy%s%s", type_name(proxy.type),
		    proxy.host ? " at " : "", proxy.host ? proxy.host : "");
	return ok;
}

bool proxy_enabled(void) {
	return proxy.type != PROXY_NONE;
}

bool proxy_needs_handshake(void) {
	return proxy.type != PROXY_NONE && proxy.type != PROXY_EXEC;
}

/* exec: the command talks to us over a socketpair.  A short-lived middle
 * child is reaped at once; the command itself is adopted by init, so it
 * never lingers as a zombie of ours. */
static int exec_command(const char *node, const char *host, const char *port) {
	int sv[2];
	if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Could not create a socketpair for the proxy command: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if(pid < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Could not fork the proxy command: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if(pid == 0) {
		if(fork() != 0)
			_exit(0);
		close(sv[0]);
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		if(sv[1] > 1)
			close(sv[1]);
		signal(SIGPIPE, SIG_DFL);
		setenv("NAME", local_node->name, 1);
		setenv("NODE", node, 1);
		setenv("REMOTEADDRESS", host, 1);
		setenv("REMOTEPORT", port, 1);
		if(settings.netname)
			setenv("NETNAME", settings.netname, 1);
		else
			unsetenv("NETNAME");
		execl("/bin/sh", "sh", "-c", proxy.command, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	waitpid(pid, NULL, 0);
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	fcntl(sv[0], F_SETFD, FD_CLOEXEC);
	return sv[0];
}

int proxy_open(const char *node, const char *host, const char *port, int af, bool *connecting, sockaddr_u *proxy_sa) {
	memset(proxy_sa, 0, sizeof(*proxy_sa));
	*connecting = false;
	if(proxy.type == PROXY_EXEC)
		return exec_command(node, host, port);

	(void)af; /* the proxy's own address family is whatever it resolves to */
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	struct addrinfo *ai;
	int err = getaddrinfo(proxy.host, proxy.port, &hints, &ai);
	if(err) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Error looking up proxy %s port %s: %s", proxy.host, proxy.port, gai_strerror(err));
		return -1;
	}
	int fd = -1;
	for(struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
		if(fd < 0)
			continue;
		if(connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			LOG(VERBOSITY_CONNECTIONS, LOG_ERR, "Could not connect to proxy %s port %s: %s", proxy.host, proxy.port, strerror(errno));
			close(fd);
			fd = -1;
			continue;
		}
		memcpy(proxy_sa, a->ai_addr, a->ai_addrlen);
		*connecting = true;
	}
	freeaddrinfo(ai);
	return fd;
}

static bool put(uint8_t *buf, size_t cap, size_t *len, const void *data, size_t n) {
	if(*len + n > cap)
		return false;
	memcpy(buf + *len, data, n);
	*len += n;
	return true;
}

/* The target as an address of one family, if it is numeric (or, for SOCKS4,
 * resolvable to IPv4 here). */
static bool target_numeric(const char *host, int family, bool resolve, sockaddr_u *sa) {
	struct addrinfo hints = {.ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = resolve ? 0 : AI_NUMERICHOST};
	struct addrinfo *ai;
	if(getaddrinfo(host, NULL, &hints, &ai))
		return false;
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return true;
}

static bool target_port(const char *port, uint16_t *out) {
	char *end;
	long p = strtol(port, &end, 10);
	if(*port && !*end && p > 0 && p <= 65535) {
		*out = (uint16_t)p;
		return true;
	}
	struct servent *se = getservbyname(port, "tcp");
	if(!se)
		return false;
	*out = ntohs((uint16_t)se->s_port);
	return true;
}

bool proxy_start(connection_t *c, const char *host, const char *port, uint8_t *buf, size_t *request_len) {
	const size_t cap = PROXY_REQUEST_MAX;
	size_t len = 0;
	uint16_t portnum;
	struct proxy_state *st = xzalloc(sizeof(*st));
	st->type = proxy.type;
	sockaddr_u sa;
	bool ok = true;

	if(proxy.type != PROXY_HTTP && !target_port(port, &portnum)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot use port `%s' of %s with a %s proxy", port, c->name, type_name(proxy.type));
		free(st);
		return false;
	}
	uint8_t nport[2] = {0, 0};
	if(proxy.type != PROXY_HTTP) {
		nport[0] = (uint8_t)(portnum >> 8);
		nport[1] = (uint8_t)portnum;
	}

	switch(proxy.type) {
	case PROXY_SOCKS4:
	case PROXY_SOCKS4A: {
		bool v4 = target_numeric(host, AF_INET, proxy.type == PROXY_SOCKS4, &sa);
		if(!v4 && proxy.type == PROXY_SOCKS4) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "A socks4 proxy needs an IPv4 address for %s, and `%s' is none", c->name, host);
			ok = false;
			break;
		}
		static const uint8_t head[2] = {4, 1};
		static const uint8_t name_marker[4] = {0, 0, 0, 1};
		const char *user = proxy.user ? proxy.user : "";
		ok = put(buf, cap, &len, head, 2) && put(buf, cap, &len, nport, 2) &&
		     put(buf, cap, &len, v4 ? (const void *)&sa.in.sin_addr : name_marker, 4) &&
		     put(buf, cap, &len, user, strlen(user) + 1);
		if(ok && !v4)
			ok = put(buf, cap, &len, host, strlen(host) + 1);
		break;
	}
	case PROXY_SOCKS5: {
		/* Greeting, optional user/password and CONNECT go in one burst. */
		uint8_t greet[3] = {5, 1, proxy.user ? 2 : 0};
		ok = put(buf, cap, &len, greet, 3);
		if(ok && proxy.user) {
			size_t ul = strlen(proxy.user), pl = strlen(proxy.pass);
			uint8_t v = 1, u8 = (uint8_t)ul, p8 = (uint8_t)pl;
			ok = ul <= 255 && pl <= 255 && put(buf, cap, &len, &v, 1) &&
			     put(buf, cap, &len, &u8, 1) && put(buf, cap, &len, proxy.user, ul) &&
			     put(buf, cap, &len, &p8, 1) && put(buf, cap, &len, proxy.pass, pl);
		}
		static const uint8_t req[3] = {5, 1, 0};
		ok = ok && put(buf, cap, &len, req, 3);
		if(target_numeric(host, AF_INET, false, &sa)) {
			uint8_t atyp = 1;
			ok = ok && put(buf, cap, &len, &atyp, 1) && put(buf, cap, &len, &sa.in.sin_addr, 4);
		} else if(target_numeric(host, AF_INET6, false, &sa)) {
			uint8_t atyp = 4;
			ok = ok && put(buf, cap, &len, &atyp, 1) && put(buf, cap, &len, &sa.in6.sin6_addr, 16);
		} else {
			size_t hl = strlen(host);
			uint8_t atyp = 3, h8 = (uint8_t)hl;
			ok = ok && hl <= 255 && put(buf, cap, &len, &atyp, 1) && put(buf, cap, &len, &h8, 1) &&
			     put(buf, cap, &len, host, hl);
		}
		ok = ok && put(buf, cap, &len, nport, 2);
		break;
	}
	case PROXY_HTTP: {
		bool v6 = strchr(host, ':') != NULL;
		int n = snprintf((char *)buf, cap, "CONNECT %s%s%s:%s HTTP/1.1\r\n\r\n", v6 ? "[" : "", host, v6 ? "]" : "", port);
		ok = n > 0 && (size_t)n < cap;
		len = ok ? (size_t)n : 0;
		break;
	}
	default:
		ok = false;
		break;
	}
	if(!ok) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot build the %s proxy request for %s (%s port %s)", type_name(proxy.type), c->name, host, port);
		free(st);
		return false;
	}
	LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Asking the %s proxy for a connection to %s (%s port %s)", type_name(proxy.type), c->name, host, port);
	c->proxy = st;
	*request_len = len;
	return true;
}

/* Drop n bytes from the front of the input buffer. */
static void consume(connection_t *c, size_t n) {
	memmove(c->inbound_buf, c->inbound_buf + n, c->inlen - n);
	c->inlen -= n;
}

static proxy_result_t fail(connection_t *c, const char *why) {
	logger(VERBOSITY_ERRORS, LOG_ERR, "Proxy refused the connection to %s: %s", c->name, why);
	return PROXY_FAILED;
}

static proxy_result_t parse_answer(connection_t *c) {
	struct proxy_state *st = c->proxy;
	const uint8_t *in = c->inbound_buf;
	size_t n = c->inlen;

	switch(st->type) {
	case PROXY_SOCKS4:
	case PROXY_SOCKS4A:
		if(n < 8)
			return PROXY_MORE;
		if(in[0] != 0 || in[1] != 0x5a)
			return fail(c, in[1] == 0x5b ? "request rejected or failed (socks4 status 0x5b)" : "unexpected socks4 answer");
		consume(c, 8);
		break;
	case PROXY_SOCKS5: {
		size_t pos = 0;
		if(n < 2)
			return PROXY_MORE;
		if(in[0] != 5)
			return fail(c, "not a socks5 answer");
		if(in[1] != (proxy.user ? 2 : 0))
			return fail(c, in[1] == 0xff ? "no acceptable authentication method" : "unexpected authentication method");
		pos = 2;
		if(proxy.user) {
			if(n < pos + 2)
				return PROXY_MORE;
			if(in[pos + 1] != 0)
				return fail(c, "user name or password rejected");
			pos += 2;
		}
		if(n < pos + 5)
			return PROXY_MORE;
		if(in[pos] != 5)
			return fail(c, "not a socks5 CONNECT answer");
		if(in[pos + 1] != 0) {
			static const char *const why[] = {"", "general failure", "not allowed by ruleset", "network unreachable",
			                                  "host unreachable", "connection refused", "TTL expired",
			                                  "command not supported", "address type not supported"};
			return fail(c, in[pos + 1] < ARRAY_SIZE(why) ? why[in[pos + 1]] : "unknown socks5 error");
		}
		size_t alen;
		switch(in[pos + 3]) {
		case 1: alen = 4; break;
		case 4: alen = 16; break;
		case 3: alen = 1 + (size_t)in[pos + 4]; break;
		default: return fail(c, "bad address type in the socks5 answer");
		}
		if(n < pos + 4 + alen + 2)
			return PROXY_MORE;
		consume(c, pos + 4 + alen + 2);
		break;
	}
	case PROXY_HTTP: {
		/* The status line must say 200; everything up to the empty line is
		 * the proxy's, what follows belongs to the peer. */
		const uint8_t *end = NULL;
		for(size_t i = 0; i + 3 < n; i++) {
			if(in[i] == '\r' && in[i + 1] == '\n' && in[i + 2] == '\r' && in[i + 3] == '\n') {
				end = in + i + 4;
				break;
			}
		}
		if(n >= 12 && memcmp(in, "HTTP/1.1 200", 12) && memcmp(in, "HTTP/1.0 200", 12)) {
			char status[64];
			size_t k = 0;
			while(k < n && k < sizeof(status) - 1 && in[k] != '\r' && in[k] != '\n') {
				status[k] = (in[k] >= 32 && in[k] < 127) ? (char)in[k] : '?';
				k++;
			}
			status[k] = 0;
			return fail(c, status);
		}
		if(!end)
			return n >= META_INBUF_SIZE - 1 ? fail(c, "answer too long") : PROXY_MORE;
		consume(c, (size_t)(end - in));
		break;
	}
	default:
		return fail(c, "internal error");
	}
	LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Proxy granted the connection to %s", c->name);
	proxy_free(st);
	c->proxy = NULL;
	return PROXY_DONE;
}

bool proxy_receive(connection_t *c) {
	switch(parse_answer(c)) {
	case PROXY_MORE:
		return false;
	case PROXY_FAILED:
		connection_shutdown(c, false);
		return false;
	case PROXY_DONE:
		break;
	}
	if(!send_id_request(c)) {
		connection_shutdown(c, false);
		return false;
	}
	return !c->status.dead;
}

void proxy_free(struct proxy_state *st) {
	free(st);
}

/* Sockets: TCP listeners and their UDP twins, accepting meta connections,
 * and the outgoing connections of ConnectTo with tinc's back-off (protocol.md §6.9). */
#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "io/sockets.h"
#include "io/udp_offload.h"
#include "io/udp_ports.h"
#include "datapath/aux_socket.h"
#include "meta/connection.h"
#include "meta/meta.h"
#include "meta/net_socket.h"
#include "datapath/receive.h"
#include "meta/protocol.h"
#include "util/log.h"
#include "mesh/node.h"
#include "meta/proxy.h"
#include "util/xalloc.h"

listener_t listener[MAX_LISTENERS];
int listener_count;
static sset_t outgoing_set; /* by name: one entry per ConnectTo */


static int address_family(void) {
	char *s = NULL;
	int af = AF_UNSPEC;
	if(conf_string(settings.config, "AddressFamily", &s)) {
		if(!strcasecmp(s, "ipv4"))
			af = AF_INET;
		else if(!strcasecmp(s, "ipv6"))
			af = AF_INET6;
		else if(strcasecmp(s, "any"))
			logger(VERBOSITY_ERRORS, LOG_WARNING, "AddressFamily %s is unknown: using any; the choices are ipv4, ipv6 and any", s);
		free(s);
	}
	return af;
}

static void set_nonblock_cloexec(int fd) {
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static bool bind_to_interface(int fd) {
	char *iface = NULL;
	if(!conf_string(settings.config, "BindToInterface", &iface))
		return true;
	bool ok = setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface)) == 0;
	if(!ok)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot tie the socket to interface %s (BindToInterface): %s", iface, strerror(errno));
	free(iface);
	return ok;
}

/* Meta sockets carry TOS "low delay" like tinc's (protocol.md §3.1). */
static void set_meta_socket_options(int fd, int family) {
	int one = 1, lowdelay = IPTOS_LOWDELAY;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if(family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_TOS, &lowdelay, sizeof(lowdelay));
	else if(family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &lowdelay, sizeof(lowdelay));
}

static int open_tcp_listener(const sockaddr_u *sa) {
	int fd = socket(sa->sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
	if(fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot open a TCP socket: %s", strerror(errno));
		return -1;
	}
	set_nonblock_cloexec(fd);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if(sa->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if(!bind_to_interface(fd) || bind(fd, &sa->sa, sockaddr_len(sa)) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot listen on %s (TCP): %s; is another daemon using the port?", sockaddr_describe(sa), strerror(errno));
		close(fd);
		return -1;
	}
	/* tinc 1.0.36 keeps 3; when a mesh starts, dozens of peers dial an
	 * early node at once, and while a busy daemon has not accepted them a
	 * full queue drops SYNs silently: the dialer gives up after PingTimeout
	 * and waits 5 s more. The tarpit still limits what we take per second. */
	if(listen(fd, 32) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot listen on the TCP socket: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_udp_socket(const sockaddr_u *sa) {
	int fd = socket(sa->sa.sa_family, SOCK_DGRAM, IPPROTO_UDP);
	if(fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot open a UDP socket: %s", strerror(errno));
		return -1;
	}
	set_nonblock_cloexec(fd);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	/* Kernel arrival time, for sojourn time of packets that waited in the socket. */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* A receive buffer deep enough to hold what arrives while the daemon is
	 * not scheduled: it drains the socket into its own queue whenever it runs,
	 * where the receive-side CoDel judges each datagram by its kernel
	 * timestamp, so the buffer never overflows as uncontrolled tail drops.
	 * As root we may exceed net.core.rmem_max. */
	int rcvbuf = settings.udp_rcvbuf ? settings.udp_rcvbuf : UDP_RCVBUF_DEFAULT;
	if(setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* A small send buffer is local backpressure: when the outer interface's
	 * queue is full the socket stops taking datagrams and the backlog waits in
	 * our FQ-CoDel instead of in a kernel FIFO (UDPSndBuf overrides). */
	int sndbuf = settings.udp_sndbuf ? settings.udp_sndbuf : UDP_SNDBUF_DEFAULT;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	bool pmtu = local_node->options & OPTION_PMTU_DISCOVERY;
	if(sa->sa.sa_family == AF_INET) {
		/* outer TOS and TTL of every datagram travel into the daemon (RFC 6040 decap) */
		setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
		if(pmtu) {
			int v = IP_PMTUDISC_DO;
			setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
		}
	} else if(sa->sa.sa_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
		if(pmtu) {
			int v = IPV6_PMTUDISC_DO;
			setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
		}
	}
	udp_offload_setup(fd);
	if(!bind_to_interface(fd) || bind(fd, &sa->sa, sockaddr_len(sa)) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot use %s (UDP): %s; is another daemon using the port?", sockaddr_describe(sa), strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void on_listener_accept(void *data, uint32_t events);

/* UDPPorts: 64 ports keep a handful of flows apart at a 1024-bucket
 * fq_codel most of the time (doc/tinc.conf.5 has the estimate). */
#define UDP_PORTS_DEFAULT 64

static bool read_udp_ports(void) {
	settings.udp_ports = UDP_PORTS_DEFAULT;
	config_t *cfg = config_first(settings.config, "UDPPorts");
	if(!cfg)
		return true;
	int v;
	if(!config_value_int(cfg, &v))
		return false;
	if(v < 1 || v > UDP_PORTS_MAX) {
		if(cfg->file)
			logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: UDPPorts = %d is out of range; use 1 (one port) to %d",
			       cfg->file, cfg->line, v, UDP_PORTS_MAX);
		else
			logger(VERBOSITY_ERRORS, LOG_ERR, "UDPPorts = %d on the command line is out of range; use 1 (one port) to %d",
			       v, UDP_PORTS_MAX);
		return false;
	}
	settings.udp_ports = v;
	return true;
}

/* The auxiliary ports of listener l: same address and options as its own
 * UDP socket, ports from the kernel. Fewer than asked is no error. Opened
 * only once a peer announced that it takes them (open_extra_udp_ports), so
 * a daemon among tinc peers holds no more sockets than tinc. */
static void open_aux_sockets(int l) {
	int want = settings.udp_ports - 1;
	udp_aux_count[l] = 0;
	if(want <= 0)
		return;
	udp_aux[l] = xzalloc((size_t)want * sizeof(udp_aux_t));
	sockaddr_u sa = listener[l].sa;
	sockaddr_set_port(&sa, 0);
	for(int k = 0; k < want; k++) {
		int fd = open_udp_socket(&sa);
		if(fd < 0) {
			logger(VERBOSITY_ERRORS, LOG_WARNING, "Cannot open more than %d extra UDP ports on %s; UDPPorts works with fewer",
			       k, sockaddr_describe(&listener[l].sa));
			break;
		}
		udp_aux_t *a = &udp_aux[l][k];
		a->id = udp_tx_id(l, k + 1);
		fd_watch_start(&a->watch, fd, EPOLLIN, udp_aux_event, a);
		udp_aux_count[l] = k + 1;
	}
	LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "%d extra UDP ports on %s for flows to capable peers",
	    udp_aux_count[l], sockaddr_describe(&listener[l].sa));
}

static bool aux_open; /* open_extra_udp_ports ran since the listeners opened */

void open_extra_udp_ports(void) {
	if(aux_open)
		return;
	aux_open = true;
	for(int l = 0; l < listener_count; l++)
		open_aux_sockets(l);
}

static void close_aux_sockets(int l) {
	for(int k = 0; k < udp_aux_count[l]; k++) {
		int fd = udp_aux[l][k].watch.fd;
		fd_watch_stop(&udp_aux[l][k].watch);
		close(fd);
	}
	free(udp_aux[l]);
	udp_aux[l] = NULL;
	udp_aux_count[l] = 0;
}

/* Port 0: the kernel picks the port of the first listener; every other
 * socket (its UDP twin, the other families' listeners) and our ACKs use
 * that same port.  tinc 1.0.36 lets each socket get a port of its own. */
static uint16_t chosen_port;

static void adopt_kernel_port(int tcp, sockaddr_u *sa) {
	sockaddr_u bound;
	socklen_t len = sizeof(bound);
	if(getsockname(tcp, &bound.sa, &len) < 0)
		return;
	chosen_port = sockaddr_port(&bound);
	sockaddr_set_port(sa, chosen_port);
	if(!strcmp(settings.listen_port, "0")) {
		free(settings.listen_port);
		settings.listen_port = xasprintf("%u", chosen_port);
		logger(VERBOSITY_ERRORS, LOG_NOTICE, "Port 0: listening on port %u", chosen_port);
	}
}

static bool listener_add(const char *address, const char *port, int af, bool explicit_bind) {
	struct addrinfo hints = {.ai_family = af, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP, .ai_flags = AI_PASSIVE};
	struct addrinfo *ai;
	int err = getaddrinfo(address && strcmp(address, "*") ? address : NULL, port, &hints, &ai);
	if(err) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot resolve the listening address %s port %s: %s",
		       address ? address : "*", port, gai_strerror(err));
		return false;
	}
	for(struct addrinfo *a = ai; a; a = a->ai_next) {
		if(listener_count >= MAX_LISTENERS) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Too many addresses to listen on: the most is %d", MAX_LISTENERS);
			break;
		}
		sockaddr_u sa = {0};
		memcpy(&sa, a->ai_addr, a->ai_addrlen);
		bool any_port = !sockaddr_port(&sa);
		if(any_port && chosen_port)
			sockaddr_set_port(&sa, chosen_port);
		int tcp = open_tcp_listener(&sa);
		if(tcp < 0)
			continue;
		if(!sockaddr_port(&sa))
			adopt_kernel_port(tcp, &sa);
		int udp = open_udp_socket(&sa);
		if(udp < 0) {
			close(tcp);
			continue;
		}
		listener_t *ls = &listener[listener_count];
		ls->sa = sa;
		ls->explicit_bind = explicit_bind;
		fd_watch_start(&ls->tcp, tcp, EPOLLIN, on_listener_accept, ls);
		fd_watch_start(&ls->udp, udp, EPOLLIN, udp_socket_readable, ls);
		LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "Listening on %s", sockaddr_describe(&sa));
		listener_count++;
	}
	freeaddrinfo(ai);
	return true;
}

bool setup_listen_sockets(void) {
	int af = address_family();
	listener_count = 0;
	if(!read_udp_ports())
		return false;
	chosen_port = 0;
	config_t *cfg = config_first(settings.config, "BindToAddress");
	if(!cfg) {
		listener_add(NULL, settings.listen_port, af, false);
	} else {
		for(; cfg; cfg = config_next(settings.config, cfg)) {
			char *addr = xstrdup(cfg->value);
			char *space = strchr(addr, ' ');
			const char *port = settings.listen_port;
			if(space) {
				*space = 0;
				port = space + 1;
				while(*port == ' ')
					port++;
			}
			/* "*" is the wildcard address with an explicit port */
			listener_add(addr, port, af, strcmp(addr, "*") != 0);
			free(addr);
		}
	}
	if(!listener_count) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot listen on any address; check Port, BindToAddress and ListenAddress");
		return false;
	}
	return true;
}

void close_listen_sockets(void) {
	for(int i = 0; i < listener_count; i++) {
		int tcp = listener[i].tcp.fd, udp = listener[i].udp.fd;
		fd_watch_stop(&listener[i].tcp);
		fd_watch_stop(&listener[i].udp);
		close(tcp);
		close(udp);
		close_aux_sockets(i);
	}
	aux_open = false;
	listener_count = 0;
}

/* ---- incoming meta connections ---- */

static void on_listener_accept(void *data, uint32_t events) {
	(void)events;
	listener_t *ls = data;
	static time_t last_second;
	static int accepted_this_second;

	sockaddr_u sa;
	socklen_t len = sizeof(sa);
	int fd = accept4(ls->tcp.fd, &sa.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if(fd < 0) {
		if(errno != EAGAIN && errno != EINTR)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot accept an incoming connection: %s", strerror(errno));
		return;
	}
	sockaddr_unmap(&sa);

	/* Like tinc: more than 10 connections in one second go straight to the tarpit. */
	time_t now = time(NULL);
	if(now != last_second) {
		last_second = now;
		accepted_this_second = 0;
	}
	connection_t *c = connection_new();
	c->address = sa;
	free(c->hostname);
	c->hostname = xstrdup(sockaddr_describe(&sa));
	c->socket = fd;
	c->state = CONN_ID;
	if(++accepted_this_second > 10) {
		LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Too many connections this second: holding %s in the tarpit", c->hostname);
		c->status.tarpit = true;
		connection_register(c);
		connection_close(c);
		return;
	}
	set_meta_socket_options(fd, sa.sa.sa_family);
	fd_watch_start(&c->io, fd, EPOLLIN, on_meta_io, c);
	connection_register(c);
	LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "Connection from %s", c->hostname);
}

/* ---- outgoing connections ---- */

static void connection_finish_connect(connection_t *c);

/* The socket of a connection in progress: writable or failed means
 * connect() is done either way. */
static void connecting_io(void *data, uint32_t events) {
	connection_t *c = data;
	if(c->status.dead || !c->status.connecting)
		return;
	if(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		connection_finish_connect(c);
}

static int outgoing_cmp(const void *a, const void *b) {
	return strcmp(((const outgoing_t *)a)->name, ((const outgoing_t *)b)->name);
}

static void outgoing_reset_addresses(outgoing_t *o) {
	if(o->ai)
		freeaddrinfo(o->ai);
	o->ai = o->ai_cursor = NULL;
	o->cfg = NULL;
}

static void outgoing_free(outgoing_t *o) {
	timer_del(&o->ev);
	outgoing_reset_addresses(o);
	if(o->config_entries)
		config_entries_free(o->config_entries);
	free(o->name);
	free(o);
}

static void retry_timer(void *data) {
	outgoing_start(data);
}

void outgoing_schedule_retry(outgoing_t *o) {
	o->timeout += 5;
	if(o->timeout < settings.mintimeout)
		o->timeout = settings.mintimeout;
	if(o->timeout > settings.maxtimeout)
		o->timeout = settings.maxtimeout;
	outgoing_reset_addresses(o);
	timer_set(&o->ev, sec_to_ns((uint64_t)o->timeout), retry_timer, o);
	LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "Will try to connect to %s again in %d s", o->name, o->timeout);
}

void outgoing_reset_backoff(outgoing_t *o) {
	o->timeout = 0;
	outgoing_reset_addresses(o);
}

void outgoing_connection_lost(outgoing_t *o) {
	if(!sset_find(&outgoing_set, o))
		return;
	if(o->cfg || o->ai_cursor)
		outgoing_try_next_address(o);
	else
		outgoing_schedule_retry(o);
}

/* "HOST [PORT]" of an Address line; PORT defaults to the host file's Port,
 * else 655 (protocol.md §2.5). */
static void split_address(const char *value, config_entries_t *tree, char **host, char **port) {
	*host = xstrdup(value);
	char *space = strchr(*host, ' ');
	*port = NULL;
	if(space) {
		*space++ = 0;
		while(*space == ' ')
			space++;
		*port = xstrdup(space);
	} else if(!conf_string(tree, "Port", port)) {
		*port = xstrdup("655");
	}
}

/* Advance to the next resolved address of the current or the next Address line. */
static bool next_address(outgoing_t *o, int af, sockaddr_u *sa) {
	for(;;) {
		if(o->ai_cursor) {
			struct addrinfo *a = o->ai_cursor;
			o->ai_cursor = a->ai_next;
			memset(sa, 0, sizeof(*sa));
			memcpy(sa, a->ai_addr, a->ai_addrlen);
			return true;
		}
		config_t *cfg = o->cfg ? config_next(o->config_entries, o->cfg)
		                       : (o->ai ? NULL : config_first(o->config_entries, "Address"));
		if(o->ai) {
			freeaddrinfo(o->ai);
			o->ai = NULL;
		}
		if(!cfg) {
			o->cfg = NULL;
			return false;
		}
		o->cfg = cfg;
		char *host, *port;
		split_address(cfg->value, o->config_entries, &host, &port);
		struct addrinfo hints = {.ai_family = af, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
		int err = getaddrinfo(host, port, &hints, &o->ai);
		if(err) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot resolve %s port %s: %s", host, port, gai_strerror(err));
			o->ai = NULL;
		}
		free(host);
		free(port);
		o->ai_cursor = o->ai;
		if(!o->ai) {
			/* keep o->cfg so the next round moves past this entry */
			continue;
		}
	}
}

/* If exactly one BindToAddress listener exists for this family, outgoing
 * meta connections of the family leave from that address (protocol.md §2.4). */
static void bind_outgoing(int fd, int family) {
	int found = -1;
	for(int i = 0; i < listener_count; i++) {
		if(!listener[i].explicit_bind || listener[i].sa.sa.sa_family != family)
			continue;
		if(found >= 0)
			return;
		found = i;
	}
	if(found < 0)
		return;
	sockaddr_u sa = listener[found].sa;
	sockaddr_set_port(&sa, 0);
	if(bind(fd, &sa.sa, sockaddr_len(&sa)) < 0)
		LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Cannot send from %s (BindToAddress): %s", sockaddr_describe(&sa), strerror(errno));
}

/* Through a proxy (proxy.c), one attempt per Address line: the proxy gets
 * the line's host as written.  Only a numeric host tells us the peer's
 * address (for our edge and UDP); names are never resolved here, so that
 * asking the proxy to resolve them leaks nothing. */
static void do_outgoing_via_proxy(outgoing_t *o, int af) {
	for(;;) {
		config_t *cfg = o->cfg ? config_next(o->config_entries, o->cfg) : config_first(o->config_entries, "Address");
		o->cfg = cfg;
		if(!cfg) {
			logger(VERBOSITY_CONNECTIONS, LOG_ERR, "No address of %s can be reached just now", o->name);
			outgoing_schedule_retry(o);
			return;
		}
		char *host, *port;
		split_address(cfg->value, o->config_entries, &host, &port);
		bool connecting;
		sockaddr_u proxy_sa;
		int fd = proxy_open(o->name, host, port, af, &connecting, &proxy_sa);
		if(fd < 0) {
			free(host);
			free(port);
			continue;
		}
		connection_t *c = connection_new();
		free(c->name);
		c->name = xstrdup(o->name);
		sockaddr_u target;
		if(sockaddr_parse(host, port, &target))
			c->address = target;
		free(c->hostname);
		c->hostname = xasprintf("%s port %s", host, port);
		c->socket = fd;
		c->outgoing = o;
		c->status.outgoing = true;
		c->state = CONN_ID;
		LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Connecting to %s (%s) through the proxy", o->name, c->hostname);
		free(host);
		free(port);
		if(connecting) {
			set_meta_socket_options(fd, proxy_sa.sa.sa_family);
			bind_to_interface(fd);
			c->status.connecting = true;
			fd_watch_start(&c->io, fd, EPOLLIN | EPOLLOUT, connecting_io, c);
			connection_register(c);
			return;
		}
		/* exec: the command's stdin/stdout is the connection */
		fd_watch_start(&c->io, fd, EPOLLIN, on_meta_io, c);
		connection_register(c);
		c->last_ping_ns = now_ns;
		if(!send_id_request(c))
			connection_shutdown(c, false);
		return;
	}
}

void outgoing_try_next_address(outgoing_t *o) {
	int af = address_family();
	sockaddr_u sa;
	if(proxy_enabled()) {
		do_outgoing_via_proxy(o, af);
		return;
	}
	for(;;) {
		if(!next_address(o, af, &sa)) {
			logger(VERBOSITY_CONNECTIONS, LOG_ERR, "No address of %s can be reached just now", o->name);
			outgoing_schedule_retry(o);
			return;
		}
		int fd = socket(sa.sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
		if(fd < 0) {
			LOG(VERBOSITY_CONNECTIONS, LOG_ERR, "Cannot open a socket for %s: %s", sockaddr_describe(&sa), strerror(errno));
			continue;
		}
		set_nonblock_cloexec(fd);
		set_meta_socket_options(fd, sa.sa.sa_family);
		bind_to_interface(fd);
		bind_outgoing(fd, sa.sa.sa_family);

		connection_t *c = connection_new();
		free(c->name);
		c->name = xstrdup(o->name);
		c->address = sa;
		free(c->hostname);
		c->hostname = xstrdup(sockaddr_describe(&sa));
		c->socket = fd;
		c->outgoing = o;
		c->status.outgoing = true;
		c->state = CONN_ID;
		LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Connecting to %s (%s)", o->name, c->hostname);

		if(connect(fd, &sa.sa, sockaddr_len(&sa)) < 0 && errno != EINPROGRESS) {
			LOG(VERBOSITY_CONNECTIONS, LOG_ERR, "Cannot connect to %s (%s): %s", o->name, c->hostname, strerror(errno));
			close(fd);
			c->socket = -1;
			connection_free(c);
			continue;
		}
		c->status.connecting = true;
		fd_watch_start(&c->io, fd, EPOLLIN | EPOLLOUT, connecting_io, c);
		connection_register(c);
		return;
	}
}

static void connection_finish_connect(connection_t *c) {
	int err = 0;
	socklen_t len = sizeof(err);
	getsockopt(c->socket, SOL_SOCKET, SO_ERROR, &err, &len);
	if(err) {
		LOG(VERBOSITY_CONNECTIONS, LOG_ERR, "Connection to %s (%s) failed: %s", c->name, c->hostname, strerror(err));
		outgoing_t *o = c->outgoing;
		c->outgoing = NULL;
		connection_close(c);
		if(o)
			outgoing_try_next_address(o);
		return;
	}
	c->status.connecting = false;
	c->io.cb = on_meta_io; /* from now on the meta stream's */
	fd_watch_set_events(&c->io, EPOLLIN);
	LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Connected to %s (%s)", c->name, c->hostname);
	c->last_ping_ns = now_ns;
	if(proxy_needs_handshake() && c->outgoing && c->outgoing->cfg) {
		/* ID waits until the proxy has granted the connection */
		char *host, *port;
		split_address(((config_t *)c->outgoing->cfg)->value, c->outgoing->config_entries, &host, &port);
		uint8_t request[PROXY_REQUEST_MAX];
		size_t request_len = 0;
		bool ok = proxy_start(c, host, port, request, &request_len) && meta_send_bytes(c, request, request_len);
		free(host);
		free(port);
		if(!ok)
			connection_shutdown(c, false);
		return;
	}
	if(!send_id_request(c))
		connection_shutdown(c, false);
}

void outgoing_start(outgoing_t *o) {
	timer_del(&o->ev);
	node_t *n = node_find(o->name);
	if(n && n->connection) {
		LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Already connected to %s", o->name);
		n->connection->outgoing = o;
		return;
	}
	if(o->config_entries)
		config_entries_free(o->config_entries);
	o->config_entries = config_entries_new();
	if(!config_read_host(o->config_entries, settings.config_dir, o->name)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "ConnectTo = %s, but hosts/%s cannot be read; trying again later", o->name, o->name);
		o->timeout = settings.maxtimeout - 5;
		outgoing_schedule_retry(o);
		return;
	}
	apply_cmdline_host_options(o->config_entries, o->name);
	if(!config_first(o->config_entries, "Address")) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "ConnectTo = %s, but its host file gives no Address", o->name);
		o->timeout = settings.maxtimeout - 5;
		outgoing_schedule_retry(o);
		return;
	}
	outgoing_reset_addresses(o);
	outgoing_try_next_address(o);
}

/* A connection of ours for o is being set up or authenticated. */
static bool outgoing_in_progress(const outgoing_t *o) {
	sset_foreach(connection_t, c, &connection_set)
		if(c->outgoing == o && !c->status.dead)
			return true;
	return false;
}

/* HUP: connection attempts still in connect() are given up; the following
 * outgoing_sync_connect_to() starts them again (protocol.md §2.9). */
void cancel_pending_connects(void) {
	for(size_t i = 0; i < connection_set.count;) {
		connection_t *c = connection_set.items[i];
		if(c->status.connecting && !c->status.dead) {
			LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Cancelling the connection attempt to %s (%s)", c->name, c->hostname);
			c->outgoing = NULL;
			connection_close(c);
			continue;
		}
		i++;
	}
}

void outgoing_sync_connect_to(void) {
	if(!outgoing_set.cmp)
		sset_init(&outgoing_set, outgoing_cmp);

	/* Forget outgoing entries whose ConnectTo line is gone. */
	for(size_t i = 0; i < outgoing_set.count;) {
		outgoing_t *o = outgoing_set.items[i];
		bool still = false;
		for(config_t *cfg = config_first(settings.config, "ConnectTo"); cfg; cfg = config_next(settings.config, cfg))
			if(!strcmp(cfg->value, o->name))
				still = true;
		if(still) {
			i++;
			continue;
		}
		sset_foreach(connection_t, c, &connection_set)
			if(c->outgoing == o)
				c->outgoing = NULL;
		sset_remove(&outgoing_set, o);
		outgoing_free(o);
	}

	for(config_t *cfg = config_first(settings.config, "ConnectTo"); cfg; cfg = config_next(settings.config, cfg)) {
		if(!node_name_is_valid(cfg->value)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: ConnectTo names no valid node", cfg->file ? cfg->file : "command line", cfg->line);
			continue;
		}
		if(!strcmp(cfg->value, local_node->name))
			continue;
		outgoing_t key = {.name = cfg->value};
		outgoing_t *o = sset_find(&outgoing_set, &key);
		if(o) {
			/* HUP: a connected entry stays; one waiting for its back-off, or
			 * whose connection was just closed, starts afresh as in tinc,
			 * which rebuilds the whole list. */
			node_t *n = node_find(o->name);
			if(n && n->connection) {
				LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Already connected to %s", o->name);
				n->connection->outgoing = o;
			} else if(!outgoing_in_progress(o)) {
				o->timeout = 0;
				outgoing_start(o);
			}
			continue;
		}
		o = xzalloc(sizeof(*o));
		o->name = xstrdup(cfg->value);
		sset_insert(&outgoing_set, o);
		outgoing_start(o);
	}
}

void net_socket_exit(void) {
	sset_clear(&outgoing_set, (void (*)(void *))outgoing_free);
}

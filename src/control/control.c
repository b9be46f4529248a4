#include "util/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/settings.h"
#include "control/control.h"
#include "control/client.h"
#include "control/log_tap.h"
#include "control/pcap_tap.h"
#include "io/sockets.h"
#include "packet/crypto.h"
#include "util/event.h"
#include "util/log.h"
#include "util/sockaddr.h"
#include "util/xalloc.h"

static fd_watch_t listen_watch = {.fd = -1};
static char *socket_path;

char *control_socket_path(const char *pid_file_path) {
	size_t len = strlen(pid_file_path);
	if(len > 4 && !strcmp(pid_file_path + len - 4, ".pid"))
		return xasprintf("%.*s.socket", (int)(len - 4), pid_file_path);
	return xasprintf("%s.socket", pid_file_path);
}

static void client_io(void *data, uint32_t events) {
	control_client_t *cl = data;
	if(events & EPOLLOUT && !control_client_flush(cl))
		return;
	if(!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	ssize_t r = recv(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, 0);
	if(r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if(r <= 0) {
		control_client_close(cl);
		return;
	}
	cl->inlen += (size_t)r;
	char *nl;
	while(!cl->dead && (nl = memchr(cl->in, '\n', cl->inlen))) {
		*nl = 0;
		size_t used = (size_t)(nl - cl->in) + 1;
		if(!control_dispatch(cl, cl->in))
			return;
		memmove(cl->in, cl->in + used, cl->inlen - used);
		cl->inlen -= used;
	}
	if(!cl->dead && cl->inlen == sizeof(cl->in)) {
		LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Control client sent a line longer than %d bytes: closing it", CONTROL_LINE_MAX);
		control_client_close(cl);
	}
}

static void accept_client(void *data, uint32_t events) {
	(void)data;
	(void)events;
	int fd = accept4(listen_watch.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if(fd < 0) {
		if(errno != EAGAIN && errno != EINTR)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot accept a control client on %s: %s", socket_path, strerror(errno));
		return;
	}
	control_client_t *cl = control_client_new(fd);
	fd_watch_start(&cl->io, fd, EPOLLIN, client_io, cl);
	LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Control client connected on %s", socket_path);
}

/* The address of the first listener, with the wildcard turned into
 * loopback: where a client on this host would reach us over TCP. */
static void first_listener_address(char *host, size_t hostlen, char *port, size_t portlen) {
	snprintf(host, hostlen, "127.0.0.1");
	snprintf(port, portlen, "%s", settings.listen_port ? settings.listen_port : "655");
	if(listener_count < 1)
		return;
	sockaddr_u sa;
	socklen_t len = sizeof(sa);
	if(getsockname(listener[0].tcp.fd, &sa.sa, &len) < 0)
		return;
	if(sa.sa.sa_family == AF_INET && sa.in.sin_addr.s_addr == 0)
		sa.in.sin_addr.s_addr = htonl(0x7f000001);
	else if(sa.sa.sa_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&sa.in6.sin6_addr))
		sa.in6.sin6_addr = in6addr_loopback;
	sockaddr_format(&sa, host, hostlen, port, portlen);
}

bool control_open(const char *path, const control_actions_t *actions, char *line, size_t linelen) {
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if(strlen(path) >= sizeof(sun.sun_path)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot use %s as the control socket: the path is longer than %zu bytes; choose a shorter --pidfile", path, sizeof(sun.sun_path) - 1);
		return false;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if(fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot make the control socket %s: %s", path, strerror(errno));
		return false;
	}
	/* A socket someone still answers on belongs to a running daemon. */
	if(connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Control socket %s is in use by another daemon; stop it first", path);
		close(fd);
		return false;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if(fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot make the control socket %s: %s", path, strerror(errno));
		return false;
	}
	unlink(path);
	mode_t old = umask(077); /* only the daemon's user may control it */
	int r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if(r < 0 || listen(fd, 3) < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot listen on the control socket %s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	free(socket_path);
	socket_path = xstrdup(path);
	fd_watch_start(&listen_watch, fd, EPOLLIN, accept_client, NULL);

	uint8_t raw[32];
	char cookie[65];
	randomize(raw, sizeof(raw));
	for(size_t i = 0; i < sizeof(raw); i++)
		snprintf(cookie + 2 * i, 3, "%02x", raw[i]);
	control_set_cookie(cookie);
	control_set_actions(actions);
	control_log_tap_start();

	char host[SOCKADDR_STRLEN], port[16];
	first_listener_address(host, sizeof(host), port, sizeof(port));
	snprintf(line, linelen, "%ld %s %s port %s\n", (long)getpid(), cookie, host, port);
	return true;
}

void control_close(void) {
	control_log_tap_stop();
	control_pcap_stop();
	control_clients_close_all();
	int fd = listen_watch.fd;
	if(fd >= 0) {
		fd_watch_stop(&listen_watch);
		close(fd);
	}
	if(socket_path) {
		unlink(socket_path);
		free(socket_path);
		socket_path = NULL;
	}
}

/* The control line protocol (doc/protocol.md §12.3, §12.4): the cookie
 * handshake, replies to the requests, and dump lines that have the fields
 * tinc 1.1's `tinc` reads, over a socketpair instead of the UNIX socket. */
#include "util/compat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/client.h"
#include "control/control.h"
#include "control/dispatch.h"
#include "mesh/mesh.h"
#include "mesh_fixtures.h"
#include "util/log.h"
#include "unit.h"

#define COOKIE "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int peer_fd;
static char got[1 << 16];

/* Everything the daemon has written so far, as text. */
static const char *drain(void) {
	ssize_t n = recv(peer_fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	got[n > 0 ? n : 0] = 0;
	return got;
}

static control_client_t *new_client(void) {
	int sv[2];
	if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		exit(99);
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	peer_fd = sv[1];
	return control_client_new(sv[0]);
}

static int fields(const char *line) {
	int n = 0;
	for(const char *p = line; *p && *p != '\n';) {
		while(*p == ' ')
			p++;
		if(!*p || *p == '\n')
			break;
		n++;
		while(*p && *p != ' ' && *p != '\n')
			p++;
	}
	return n;
}

/* The n-th (from 0) space-separated word of line, in a static buffer. */
static const char *word(const char *line, int n) {
	static char w[256];
	const char *p = line;
	for(int i = 0; i < n; i++) {
		p = strchr(p, ' ');
		if(!p)
			return "";
		p++;
	}
	size_t len = strcspn(p, " \n");
	snprintf(w, sizeof(w), "%.*s", (int)MIN(len, sizeof(w) - 1), p);
	return w;
}

static bool stopped, reloaded, retried;
static void on_stop(void) { stopped = true; }
static bool on_reload(void) { reloaded = true; return true; }
static void on_retry(void) { retried = true; }

static void test_wrong_cookie(void) {
	control_client_t *cl = new_client();
	CHECK(!control_dispatch(cl, "0 ^" "ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 0"));
	CHECK(cl->dead);
	CHECK_EQ_STR(drain(), "");
	close(peer_fd);
}

static void test_requests(void) {
	control_client_t *cl = new_client();
	char expect[64];
	CHECK(control_dispatch(cl, "0 ^" COOKIE " 0"));
	snprintf(expect, sizeof(expect), "0 me 17.0\n4 0 %d\n", (int)getpid());
	CHECK_EQ_STR(drain(), expect);

	/* a level below 0 only asks */
	debug_level = 2;
	CHECK(control_dispatch(cl, "18 9 -1"));
	CHECK_EQ_STR(drain(), "18 9 2\n");
	CHECK_EQ_INT(debug_level, 2);
	CHECK(control_dispatch(cl, "18 9 0"));
	CHECK_EQ_STR(drain(), "18 9 2\n");
	CHECK_EQ_INT(debug_level, 0);

	CHECK(control_dispatch(cl, "18 1"));
	CHECK_EQ_STR(drain(), "18 1 0\n");
	CHECK(reloaded);
	CHECK(control_dispatch(cl, "18 10"));
	CHECK_EQ_STR(drain(), "18 10 0\n");
	CHECK(retried);
	CHECK(control_dispatch(cl, "18 12 nosuch"));
	CHECK_EQ_STR(drain(), "18 12 -2\n");
	CHECK(control_dispatch(cl, "18 11 other"));
	CHECK_EQ_STR(drain(), "18 -1\n");
	CHECK(control_dispatch(cl, "18 424242"));
	CHECK_EQ_STR(drain(), "18 -1\n");

	/* nodes: "18 3" and 23 fields, the address two words joined by "port" */
	CHECK(control_dispatch(cl, "18 3 other"));
	const char *out = drain();
	const char *me = strstr(out, "18 3 me ");
	const char *other = strstr(out, "18 3 other ");
	CHECK(me && other);
	if(me && other) {
		CHECK_EQ_INT(fields(me), 25);
		CHECK_EQ_INT(fields(other), 25);
		CHECK_EQ_STR(word(me, 4), "MYSELF");
		CHECK_EQ_STR(word(me, 5), "port");
		CHECK_EQ_STR(word(other, 4), "unknown");
		CHECK_EQ_STR(word(other, 5), "port");
		CHECK_EQ_INT(strlen(word(other, 3)), 12); /* the node ID */
		CHECK_EQ_STR(word(other, 12), "10"); /* status: the reachable bit */
	}
	CHECK(strstr(out, "\n18 3\n") != NULL);

	/* edges: the local address is "unspec port unspec" */
	CHECK(control_dispatch(cl, "18 4"));
	out = drain();
	CHECK(strstr(out, "18 4 me other unknown port unknown unspec port unspec 0 7\n") != NULL);
	CHECK(strstr(out, "\n18 4\n") != NULL);

	/* subnets as tinc 1.1 writes them */
	CHECK(control_dispatch(cl, "18 5"));
	out = drain();
	CHECK(strstr(out, "18 5 10.0.0.1 other\n") != NULL);
	CHECK(strstr(out, "18 5 fd00::/64#5 other\n") != NULL);

	CHECK(control_dispatch(cl, "18 13"));
	out = drain();
	CHECK(strstr(out, "18 13 other 0 0 0 0\n") != NULL);

	CHECK(control_dispatch(cl, "18 0"));
	CHECK_EQ_STR(drain(), "18 0 0\n");
	CHECK(stopped);

	/* a line that is no control request closes the client */
	CHECK(!control_dispatch(cl, "hello"));
	CHECK(cl->dead);
	close(peer_fd);
}

/* The socket lies beside the pid file, named as tinc 1.1 names it. */
static void test_socket_path(void) {
	char *p = control_socket_path("/run/tinc.office.pid");
	CHECK_EQ_STR(p, "/run/tinc.office.socket");
	free(p);
	p = control_socket_path("/etc/tinc/office/pid");
	CHECK_EQ_STR(p, "/etc/tinc/office/pid.socket");
	free(p);
	p = control_socket_path(".pid");
	CHECK_EQ_STR(p, ".pid.socket");
	free(p);
	p = control_socket_path("x.pidfile");
	CHECK_EQ_STR(p, "x.pidfile.socket");
	free(p);
}

int main(void) {
	test_socket_path();
	node_table_init();
	edge_table_init();
	subnet_table_init();
	local_node = fixture_node("me", true, 0);
	node_t *other = fixture_node("other", true, 0);
	fixture_edge(local_node, other, 0, 7);
	fixture_subnet(other, "10.0.0.1/32");
	fixture_subnet(other, "fd00::/64#5");

	static const control_actions_t actions = {.reload = on_reload, .retry = on_retry, .stop = on_stop};
	control_set_actions(&actions);
	control_set_cookie(COOKIE);
	test_wrong_cookie();
	test_requests();
	mesh_exit();
	return unit_done();
}

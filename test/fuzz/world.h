/* A small daemon world for the fuzzing harnesses that drive the daemon's
 * own code paths (fuzz_meta, fuzz_udp_rx): settings, a configuration
 * directory with host files and an RSA key, and a node graph that is built
 * before and torn down after every input, so that one input cannot change
 * what the next one finds.
 *
 *   beta     local_node, 10.81.1.2/32, fd81:1::2/128, 10.10.0.2/32, fd10::2/128
 *   alpha    the peer under test, 10.81.1.1/32, 10.10.0.1/32, fd10::1/128,
 *            reachable (edges both ways)
 *   gamma    a second peer, 10.81.1.3/32, 10.10.0.0/24#20, reachable
 *            through alpha
 *   epsilon  known but unreachable (no edges), 10.81.1.5/32
 *
 * Included by exactly one .c file per harness, hence the static functions. */
#ifndef FQTINC_FUZZ_WORLD_H
#define FQTINC_FUZZ_WORLD_H

#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "packet/compress.h"
#include "config/conf.h"
#include "packet/crypto.h"
#include "mesh/edge.h"
#include "util/event.h"
#include "util/log.h"
#include "config/settings.h"
#include "datapath/datapath.h"
#include "datapath/receive.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "meta/meta.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

static char world_confbase[64];

static void world_write_file(const char *rel, const char *text) {
	char *path = xasprintf("%s/%s", world_confbase, rel);
	FILE *f = fopen(path, "w");
	if(!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		abort();
	}
	free(path);
}

/* Append the public key we generated to a host file. */
static void world_append_pubkey(const char *rel, const char *pubkey_text) {
	char *path = xasprintf("%s/%s", world_confbase, rel);
	FILE *f = fopen(path, "a");
	if(!f || fputs(pubkey_text, f) < 0 || fclose(f)) {
		perror(path);
		abort();
	}
	free(path);
}

static char *world_slurp(const char *path) {
	FILE *f = fopen(path, "r");
	if(!f) {
		perror(path);
		abort();
	}
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return xstrdup(buf);
}

/* The temporary directory goes when the fuzzer exits. */
static void world_cleanup_dir(void) {
	const char *rel[] = {"hosts/alpha", "hosts/beta", "hosts/gamma", "rsa_key.priv", "rsa_key.pub", "hosts", ""};
	for(size_t i = 0; i < ARRAY_SIZE(rel); i++) {
		char *path = xasprintf("%s/%s", world_confbase, rel[i]);
		remove(path);
		free(path);
	}
}

/* Once per process: crypto, logging (formatted, written nowhere), a
 * configuration directory with one 1024-bit key shared by every node (the
 * fuzzer cannot forge RSA anyway; a fixed size keeps seed lines valid). */
static void world_setup_once(const char *ident) {
	crypto_init();
	if(!compress_init())
		abort();
	const char *lvl = getenv("FUZZ_DEBUG");
	debug_level = lvl ? atoi(lvl) : VERBOSITY_TRAFFIC;
	log_open(LOG_TO_FILE, ident, lvl && *lvl == '+' ? "/dev/stderr" : "/dev/null");
	if(!event_init())
		abort();

	snprintf(world_confbase, sizeof(world_confbase), "/tmp/fqtinc-%s.XXXXXX", ident);
	if(!mkdtemp(world_confbase))
		abort();
	char *hosts = xasprintf("%s/hosts", world_confbase);
	if(mkdir(hosts, 0700) < 0)
		abort();
	free(hosts);

	char err[256] = "";
	char *priv = xasprintf("%s/rsa_key.priv", world_confbase);
	char *pub = xasprintf("%s/rsa_key.pub", world_confbase);
	if(!rsa_generate_keyfiles(1024, priv, pub, err, sizeof(err))) {
		fprintf(stderr, "key generation: %s\n", err);
		abort();
	}
	settings.privkey = rsa_read_private(priv, err, sizeof(err));
	if(!settings.privkey)
		abort();
	char *pubtext = world_slurp(pub);
	world_write_file("hosts/alpha", "Address = 10.81.0.1 655\nSubnet = 10.81.1.1/32\n");
	world_append_pubkey("hosts/alpha", pubtext);
	world_write_file("hosts/gamma", "Subnet = 10.81.1.3/32\nIndirectData = yes\n");
	world_append_pubkey("hosts/gamma", pubtext);
	world_write_file("hosts/beta", "Subnet = 10.81.1.2/32\n");
	world_append_pubkey("hosts/beta", pubtext);
	free(pubtext);
	free(priv);
	free(pub);
	atexit(world_cleanup_dir);

	settings.config_dir = xstrdup(world_confbase);
	settings.config = config_entries_new();
	settings.listen_port = xstrdup("655");
	if(!cipher_by_name("aes-256-cbc", &settings.cipher, err, sizeof(err)) ||
	   !digest_by_name("sha256", &settings.digest, err, sizeof(err)))
		abort();
	settings.maclength = 4;
	settings.meta_cipher_nid = meta_cipher_nid_for_keylen(settings.cipher.keylen);
	now_ns = clock_now_ns();
}

static void world_subnet(node_t *n, const char *str) {
	subnet_t *s = subnet_new();
	if(!subnet_parse(s, str))
		abort();
	subnet_attach(n, s);
}

static node_t *world_node(const char *name, const char *subnet) {
	node_t *n = node_new(name);
	replay_init(&n->replay, (size_t)settings.replaywindow);
	node_register(n);
	if(subnet)
		world_subnet(n, subnet);
	return n;
}

static edge_t *world_edge(node_t *from, node_t *to, const char *addr, uint32_t options) {
	edge_t *e = edge_new();
	e->from = from;
	e->to = to;
	if(!sockaddr_parse(addr, "655", &e->address))
		abort();
	e->options = options;
	e->weight = 10;
	edge_link(e);
	return e;
}

typedef struct world_flags {
	bool tunnelserver;
	bool strictsubnets;
	route_mode_t mode;
} world_flags_t;

/* Build the graph. 'with_alpha_edge' adds beta->alpha too, for harnesses
 * that have no meta connection to create it through ACK. */
static void world_up(world_flags_t flags, bool with_alpha_edge) {
	settings.tunnelserver = flags.tunnelserver;
	settings.strictsubnets = flags.strictsubnets || flags.tunnelserver;
	settings.route_mode = flags.mode;
	now_ns = clock_now_ns();

	node_table_init();
	edge_table_init();
	subnet_table_init();
	past_request_init();

	local_node = world_node("beta", "10.81.1.2/32#10");
	subnet_t *s6 = subnet_new();
	if(!subnet_parse(s6, "fd81:1::2/128"))
		abort();
	subnet_attach(local_node, s6);
	/* The subnets of the captures the seeds come from (test/fuzz/seeds/README). */
	world_subnet(local_node, "10.10.0.2/32#10");
	world_subnet(local_node, "fd10::2/128#10");
	local_node->nexthop = local_node->via = local_node;
	local_node->status.reachable = true;
	local_node->options = OPTION_PMTU_DISCOVERY | OPTION_CLAMP_MSS;
	free(local_node->hostname);
	local_node->hostname = xstrdup("MYSELF");

	node_t *alpha = world_node("alpha", "10.81.1.1/32#10");
	node_t *gamma = world_node("gamma", "10.81.1.3/32#10");
	world_node("epsilon", "10.81.1.5/32#10");
	world_subnet(alpha, "10.10.0.1/32#10");
	world_subnet(alpha, "fd10::1/128#10");
	world_subnet(gamma, "10.10.0.0/24#20");
	world_edge(alpha, local_node, "10.81.0.2", 0xc);
	if(with_alpha_edge)
		world_edge(local_node, alpha, "10.81.0.1", 0xc);
	world_edge(alpha, gamma, "10.81.0.3", 0xd);
	world_edge(gamma, alpha, "10.81.0.1", 0xd);
	graph_recompute();
}

static void world_stop_loop(void *data) {
	(void)data;
	event_loop_stop();
}

static void world_down(void) {
	/* Connections first: they point at nodes and edges. */
	while(connection_set.count)
		connection_close(connection_set.items[0]);
	mesh_exit();
	past_request_exit();
	subnet_lookup_cache_clear();
	/* connection_close defers the free to the end of the event-loop turn:
	 * run one turn that ends at once. */
	static ev_timer_t stop;
	timer_set(&stop, 0, world_stop_loop, NULL);
	event_loop();
	add_edge_contradictions = del_edge_contradictions = 0;
}

#endif

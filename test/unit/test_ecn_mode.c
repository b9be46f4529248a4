/* The per-node RFC 6040 mode: the pure decision (own ECN setting, the
 * node's options, its host settings), and how meta/ecn_mode.c keeps
 * node_t.ecn_normal current from host files, -o NAME.ECN and reloads. */
#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "meta/ecn_mode.h"
#include "util/xalloc.h"
#include "unit.h"

#define ANNOUNCED (OPTION_ECN_RFC6040 | OPTION_PMTU_DISCOVERY)
#define SILENT OPTION_PMTU_DISCOVERY /* tinc 1.0.36: no ECN bit */

static void test_decision(void) {
	static const int hosts[] = {NODE_ECN_UNREAD, NODE_ECN_UNSET, NODE_ECN_YES, NODE_ECN_NO};
	for(size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
		int h = hosts[i];
		bool host_allows = h != NODE_ECN_NO;
		/* Normal mode needs all three: our ECN, the announcement, a host
		 * setting that does not say no. */
		CHECK(ecn_mode_normal(true, ANNOUNCED, h) == host_allows);
		CHECK(!ecn_mode_normal(false, ANNOUNCED, h));
		CHECK(!ecn_mode_normal(true, SILENT, h));
		CHECK(!ecn_mode_normal(false, SILENT, h));
		CHECK(!ecn_mode_normal(true, 0, h));
	}
	/* Only the ECN bit counts among the options. */
	CHECK(ecn_mode_normal(true, OPTION_ECN_RFC6040, NODE_ECN_UNSET));
	CHECK(ecn_mode_normal(true, 0xffffffffu, NODE_ECN_YES));
	CHECK(!ecn_mode_normal(true, ~(uint32_t)OPTION_ECN_RFC6040, NODE_ECN_YES));
}

static char config_dir[64];

static void write_host(const char *name, const char *text) {
	char *path = xasprintf("%s/hosts/%s", config_dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if(f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
}

static void remove_host(const char *name) {
	char *path = xasprintf("%s/hosts/%s", config_dir, name);
	unlink(path);
	free(path);
}

static node_t *mknode(const char *name, uint32_t options) {
	node_t *n = node_new(name);
	n->options = options;
	node_register(n);
	return n;
}

/* hosts/beta says ECN = no, hosts/gamma says nothing, delta has no host
 * file, epsilon is told off by -o epsilon.ECN=no, zeta did not announce. */
static void test_host_settings(void) {
	snprintf(config_dir, sizeof(config_dir), "/tmp/fqtinc-ecn-mode.XXXXXX");
	CHECK(mkdtemp(config_dir) != NULL);
	char *hosts = xasprintf("%s/hosts", config_dir);
	CHECK(mkdir(hosts, 0700) == 0);
	settings.config_dir = config_dir;
	settings.ecn = true;
	write_host("alpha", "Subnet = 10.0.0.1/32\n");
	write_host("beta", "Subnet = 10.0.0.2/32\nECN = no\n");
	write_host("gamma", "Subnet = 10.0.0.3/32\n");
	write_host("zeta", "ECN = yes\n");
	CHECK(cmdline_option_add("epsilon.ECN=no"));

	node_table_init();
	local_node = mknode("alpha", ANNOUNCED);
	node_t *beta = mknode("beta", ANNOUNCED);
	node_t *gamma = mknode("gamma", ANNOUNCED);
	node_t *delta = mknode("delta", ANNOUNCED);
	node_t *epsilon = mknode("epsilon", ANNOUNCED);
	node_t *zeta = mknode("zeta", SILENT);

	ecn_mode_update_all();
	CHECK(!beta->ecn_normal);    /* ECN = no toward beta ... */
	CHECK(gamma->ecn_normal);    /* ... and beta alone */
	CHECK(delta->ecn_normal);    /* no host file: trusted on its announcement */
	CHECK(!epsilon->ecn_normal); /* -o NAME.ECN=no counts without a host file */
	CHECK(!zeta->ecn_normal);    /* no announcement, whatever its file says */
	CHECK_EQ_INT(zeta->ecn_host, NODE_ECN_UNREAD); /* not read: not needed */

	/* An announcement arrives for zeta (ADD_EDGE, then the graph run). */
	zeta->options = ANNOUNCED;
	ecn_mode_update(zeta);
	CHECK(zeta->ecn_normal);
	CHECK_EQ_INT(zeta->ecn_host, NODE_ECN_YES);

	/* A node that becomes unreachable loses its options. */
	gamma->options = 0;
	ecn_mode_update(gamma);
	CHECK(!gamma->ecn_normal);
	gamma->options = ANNOUNCED;
	ecn_mode_update(gamma);
	CHECK(gamma->ecn_normal);

	/* The host file is read once, not per update: a change on disk waits
	 * for SIGHUP. */
	write_host("gamma", "ECN = no\n");
	ecn_mode_update_all();
	CHECK(gamma->ecn_normal);
	write_host("beta", "Subnet = 10.0.0.2/32\n");
	ecn_mode_reload();
	CHECK(!gamma->ecn_normal);
	CHECK(beta->ecn_normal);
	CHECK(!epsilon->ecn_normal);

	/* ACK: the connection's host settings replace what was read. */
	config_entries_t *tree = config_entries_new();
	config_entries_add(tree, config_new("ECN", "no", NULL, -1));
	ecn_mode_host_settings(beta, tree);
	ecn_mode_update(beta);
	CHECK(!beta->ecn_normal);
	config_entries_free(tree);

	/* ECN = no on our side: compatibility mode toward everybody. */
	settings.ecn = false;
	ecn_mode_reload();
	CHECK(!beta->ecn_normal && !gamma->ecn_normal && !delta->ecn_normal && !zeta->ecn_normal);
	settings.ecn = true;
	ecn_mode_reload();
	CHECK(delta->ecn_normal && zeta->ecn_normal);

	/* Our own node is never given a mode. */
	CHECK(!local_node->ecn_normal);

	mesh_exit();
	const char *names[] = {"alpha", "beta", "gamma", "zeta"};
	for(size_t i = 0; i < ARRAY_SIZE(names); i++)
		remove_host(names[i]);
	rmdir(hosts);
	rmdir(config_dir);
	free(hosts);
	settings.config_dir = NULL;
}

/* A node that answers ECN path probes gets normal mode only over a capable
 * path; one that does not (an older fqtinc) is trusted as before, and so is
 * one reached through a relay. */
static void test_path_part(void) {
	uint32_t probes = OPTION_ECN_RFC6040 | OPTION_ECN_PATH_PROBES;
	CHECK(ecn_mode_path_allows(probes, true, ECN_PATH_CAPABLE));
	CHECK(!ecn_mode_path_allows(probes, true, ECN_PATH_UNKNOWN));
	CHECK(!ecn_mode_path_allows(probes, true, ECN_PATH_TESTING));
	CHECK(!ecn_mode_path_allows(probes, true, ECN_PATH_BLACK_HOLED));
	CHECK(!ecn_mode_path_allows(probes, true, ECN_PATH_BLEACHED));
	CHECK(!ecn_mode_path_allows(probes, true, ECN_PATH_CE_ERASED));
	CHECK(!ecn_mode_path_allows(probes, true, ECN_PATH_MANGLED));
	CHECK(ecn_mode_path_allows(OPTION_ECN_RFC6040, true, ECN_PATH_UNKNOWN));
	/* reached through a relay: the relay's mode is what counts */
	CHECK(ecn_mode_path_allows(probes, false, ECN_PATH_UNKNOWN));
}

int main(void) {
	test_decision();
	test_path_part();
	test_host_settings();
	return unit_done();
}

/* Turning the configuration into settings and bringing the VPN up and down
 * in tinc's order (protocol.md §2.8): keys and options, device, tinc-up, own
 * subnets, listening sockets, "Ready". */
#include "util/compat.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "packet/crypto.h"
#include "io/device.h"
#include "mesh/edge.h"
#include "datapath/egress.h"
#include "aqm/ingress.h"
#include "mesh/graph.h"
#include "util/log.h"
#include "daemon/net.h"
#include "daemon/netsetup.h"
#include "daemon/script.h"
#include "mesh/node.h"
#include "meta/ecn_mode.h"
#include "meta/net_socket.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "meta/proxy.h"
#include "aqm/fq_codel.h"
#include "aqm/shaper.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

/* HUP compares host files with the time of the previous check (startup or
 * the last HUP), at nanosecond resolution where tinc uses seconds. */
static struct timespec hosts_checked_at;

char *confpath(const char *rel) {
	return xasprintf("%s/%s", settings.config_dir, rel);
}

/* ---- helpers for keyword options ---- */

typedef struct keyword {
	const char *name;
	int value;
} keyword_t;

static bool conf_keyword(const char *var, const keyword_t *words, size_t n, int *result) {
	config_t *cfg = config_first(settings.config, var);
	if(!cfg)
		return true;
	for(size_t i = 0; i < n; i++) {
		if(!strcasecmp(cfg->value, words[i].name)) {
			*result = words[i].value;
			return true;
		}
	}
	if(cfg->file)
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: %s is not a valid value for %s", cfg->file, cfg->line, cfg->value, var);
	else
		logger(VERBOSITY_ERRORS, LOG_ERR, "Option -o %s=%s: not a valid value", var, cfg->value);
	return false;
}

/* conf_bool/conf_int return false both for "absent" and "invalid"; tell them apart. */
static bool get_bool(const char *var, bool *result) {
	config_t *cfg = config_first(settings.config, var);
	return !cfg || config_value_bool(cfg, result);
}

static bool get_int(const char *var, int *result) {
	config_t *cfg = config_first(settings.config, var);
	return !cfg || config_value_int(cfg, result);
}

static bool get_int_min(const char *var, int *result, int min) {
	config_t *cfg = config_first(settings.config, var);
	if(!cfg)
		return true;
	int v;
	if(!config_value_int(cfg, &v))
		return false;
	if(v < min) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: %s is below its minimum %d", cfg->file ? cfg->file : "command line", cfg->line, var, min);
		return false;
	}
	*result = v;
	return true;
}

/* "$VAR" takes the name from the environment; "$HOST" falls back to gethostname(). */
static char *resolve_own_name(void) {
	char *name = NULL;
	if(!conf_string(settings.config, "Name", &name)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "tinc.conf sets no Name: every node needs one");
		return NULL;
	}
	if(*name == '$') {
		const char *env = getenv(name + 1);
		char hostname[32] = "";
		if(!env && !strcmp(name + 1, "HOST")) {
			if(gethostname(hostname, sizeof(hostname) - 1) == 0)
				env = hostname;
		}
		if(!env) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Name = $%s, but the environment has no variable %s", name + 1, name + 1);
			free(name);
			return NULL;
		}
		char *expanded = xstrdup(env);
		for(char *p = expanded; *p; p++)
			if(!isalnum((unsigned char)*p) && *p != '_')
				*p = '_';
		free(name);
		name = expanded;
	}
	if(!node_name_is_valid(name)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Name %s is not usable: a name has letters, digits and _ only", name);
		free(name);
		return NULL;
	}
	return name;
}

static bool read_private_key(void) {
	char err[256];
	char *hex_d = NULL, *hex_n = NULL;
	if(conf_string(settings.config, "PrivateKey", &hex_d)) {
		if(!conf_string(settings.config, "PublicKey", &hex_n)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "PrivateKey is set but PublicKey is not: the key needs both halves");
			free(hex_d);
			return false;
		}
		settings.privkey = rsa_from_hex(hex_n, hex_d, err, sizeof(err));
		xfree_secret(hex_d, strlen(hex_d));
		free(hex_n);
		if(!settings.privkey) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "PrivateKey and PublicKey do not form a key: %s", err);
			return false;
		}
		return true;
	}
	char *path = NULL;
	if(!conf_string(settings.config, "PrivateKeyFile", &path))
		path = confpath("rsa_key.priv");
	settings.privkey = rsa_read_private(path, err, sizeof(err));
	if(!settings.privkey)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot load the private key from %s: %s", path, err);
	free(path);
	return settings.privkey != NULL;
}

static bool read_port(void) {
	char *port = NULL;
	if(!conf_string(settings.config, "Port", &port))
		port = xstrdup("655");
	char *end;
	long p = strtol(port, &end, 10);
	if(*port && !*end && p >= 0 && p <= 65535) {
		settings.listen_port = xasprintf("%ld", p);
	} else {
		struct servent *se = getservbyname(port, "tcp");
		if(!se) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Port %s is neither a number nor a service name known to this system", port);
			free(port);
			return false;
		}
		settings.listen_port = xasprintf("%d", ntohs((uint16_t)se->s_port));
	}
	free(port);
	return true;
}

static bool read_crypto_settings(void) {
	char err[256];
	char *s = NULL;
	if(conf_string(settings.config, "Cipher", &s)) {
		if(!cipher_by_name(s, &settings.cipher, err, sizeof(err))) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cipher %s is not available: %s", s, err);
			free(s);
			return false;
		}
		free(s);
	} else if(!cipher_by_name("aes-256-cbc", &settings.cipher, err, sizeof(err))) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "The default cipher aes-256-cbc is not available: %s", err);
		return false;
	}
	if(settings.cipher.nid && settings.cipher.blocklen <= 1)
		logger(VERBOSITY_ERRORS, LOG_WARNING, "Cipher is a stream or CTR mode: with the protocol's fixed IV per key it repeats keystream; choose a CBC cipher");
	settings.meta_cipher_nid = meta_cipher_nid_for_keylen(settings.cipher.keylen);

	if(conf_string(settings.config, "Digest", &s)) {
		if(!digest_by_name(s, &settings.digest, err, sizeof(err))) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Digest %s is not available: %s", s, err);
			free(s);
			return false;
		}
		free(s);
	} else if(!digest_by_name("sha256", &settings.digest, err, sizeof(err))) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "The default digest sha256 is not available: %s", err);
		return false;
	}

	settings.maclength = 4;
	config_t *cfg = config_first(settings.config, "MACLength");
	if(cfg) {
		if(!config_value_int(cfg, &settings.maclength))
			return false;
		if(settings.maclength < 0 || (size_t)settings.maclength > settings.digest.length) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: MACLength is out of range: this digest allows 0 to %zu",
			       cfg->file ? cfg->file : "command line", cfg->line, settings.digest.length);
			return false;
		}
	}
	if(!settings.digest.nid)
		settings.maclength = 0;
	else if((size_t)settings.maclength > settings.digest.length)
		settings.maclength = (int)settings.digest.length;

	settings.compression = 0;
	cfg = config_first(settings.config, "Compression");
	if(cfg) {
		if(!config_value_int(cfg, &settings.compression))
			return false;
		if(settings.compression < 0 || settings.compression > 11) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: Compression is out of range: the levels are 0 to 11",
			       cfg->file ? cfg->file : "command line", cfg->line);
			return false;
		}
	}
	return true;
}

static bool read_modes(void) {
	static const keyword_t modes[] = {{"router", MODE_ROUTER}, {"switch", MODE_SWITCH}, {"hub", MODE_HUB}};
	static const keyword_t fwd[] = {{"off", FORWARDING_OFF}, {"internal", FORWARDING_INTERNAL}, {"kernel", FORWARDING_KERNEL}};
	static const keyword_t bcast[] = {{"no", BROADCAST_NO}, {"mst", BROADCAST_MST}, {"yes", BROADCAST_MST}, {"direct", BROADCAST_DIRECT}};
	int v = settings.route_mode;
	if(!conf_keyword("Mode", modes, ARRAY_SIZE(modes), &v))
		return false;
	settings.route_mode = v;
	v = settings.forwarding_mode;
	if(!conf_keyword("Forwarding", fwd, ARRAY_SIZE(fwd), &v))
		return false;
	settings.forwarding_mode = v;
	v = settings.broadcast_mode;
	if(!conf_keyword("Broadcast", bcast, ARRAY_SIZE(bcast), &v))
		return false;
	settings.broadcast_mode = v;
	return true;
}

/* Options that can change on reload. */
static bool read_timing_settings(void) {
	settings.pinginterval = 60;
	settings.pingtimeout = 5;
	if(!get_int("PingInterval", &settings.pinginterval) || !get_int("PingTimeout", &settings.pingtimeout))
		return false;
	if(settings.pinginterval < 1)
		settings.pinginterval = 86400;
	if(settings.pingtimeout < 1 || settings.pingtimeout > settings.pinginterval)
		settings.pingtimeout = settings.pinginterval;
	settings.maxtimeout = 900;
	settings.mintimeout = 0;
	if(!get_int_min("MaxTimeout", &settings.maxtimeout, 1) || !get_int_min("MinTimeout", &settings.mintimeout, 0))
		return false;
	if(settings.mintimeout > settings.maxtimeout)
		settings.mintimeout = settings.maxtimeout;
	settings.key_expire = 3600;
	settings.macexpire = 600;
	if(!get_int_min("KeyExpire", &settings.key_expire, 1) || !get_int_min("MACExpire", &settings.macexpire, 1))
		return false;
	settings.max_output_buffer_size = 10 * MTU;
	if(!get_int_min("MaxOutputBufferSize", &settings.max_output_buffer_size, MTU))
		return false;
	settings.max_subnets_per_node = 10000;
	settings.max_edges_per_node = 1000;
	if(!get_int_min("MaxSubnetsPerNode", &settings.max_subnets_per_node, 1) ||
	   !get_int_min("MaxEdgesPerNode", &settings.max_edges_per_node, 1))
		return false;
	return true;
}

static bool read_flags(void) {
	bool tunnelserver = false, strict = false;
	if(!get_bool("TunnelServer", &tunnelserver) || !get_bool("StrictSubnets", &strict))
		return false;
	settings.tunnelserver = tunnelserver;
	settings.strictsubnets = strict || tunnelserver;
	if(!get_bool("DirectOnly", &settings.directonly) ||
	   !get_bool("DecrementTTL", &settings.decrement_ttl) ||
	   !get_bool("PriorityInheritance", &settings.priorityinheritance) ||
	   !get_bool("ECN", &settings.ecn) ||
	   !get_bool("LocalDiscovery", &settings.localdiscovery) ||
	   !get_bool("Hostnames", &settings.hostnames))
		return false;
	if(!get_int_min("ReplayWindow", &settings.replaywindow, 0))
		return false;
	settings.offload = true;
	if(!get_bool("Offload", &settings.offload))
		return false;
	settings.ecn_validation_interval = 600;
	if(!get_int_min("ECNValidationInterval", &settings.ecn_validation_interval, 1))
		return false;
	if(!get_int_min("UDPRcvBuf", &settings.udp_rcvbuf, 0) || !get_int_min("UDPSndBuf", &settings.udp_sndbuf, 0))
		return false;
	free(settings.scripts_interpreter);
	settings.scripts_interpreter = NULL;
	conf_string(settings.config, "ScriptsInterpreter", &settings.scripts_interpreter);
	return true;
}

/* Sizes like "32M" or "512k" (powers of 1024) for FQCoDelMemoryLimit. */
static bool get_size(const char *var, uint64_t *result) {
	config_t *cfg = config_first(settings.config, var);
	if(!cfg)
		return true;
	char *end;
	unsigned long long v = strtoull(cfg->value, &end, 10);
	unsigned long long mult = 1;
	if(*end == 'k' || *end == 'K')
		mult = 1ULL << 10, end++;
	else if(*end == 'm' || *end == 'M')
		mult = 1ULL << 20, end++;
	else if(*end == 'g' || *end == 'G')
		mult = 1ULL << 30, end++;
	if(end == cfg->value || *end || !v) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: %s takes a size in bytes such as 32M, not %s",
		       cfg->file ? cfg->file : "command line", cfg->line, var, cfg->value);
		return false;
	}
	*result = v * mult;
	return true;
}

/* A time in milliseconds, fractions allowed ("0.5"); "no" or "0" is 0. */
static bool get_ms_decimal(const char *var, uint64_t *result_ns) {
	config_t *cfg = config_first(settings.config, var);
	if(!cfg)
		return true;
	if(!strcasecmp(cfg->value, "no") || !strcasecmp(cfg->value, "off")) {
		*result_ns = 0;
		return true;
	}
	char *end;
	errno = 0;
	double ms = strtod(cfg->value, &end);
	if(end == cfg->value || *end || errno || !(ms >= 0 && ms <= 60000)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: %s takes milliseconds from 0 to 60000 (such as 1.5) or no, not %s",
		       cfg->file ? cfg->file : "command line", cfg->line, var, cfg->value);
		return false;
	}
	*result_ns = (uint64_t)(ms * (double)NSEC_PER_MSEC + 0.5);
	return true;
}

/* The daemon's own queue (FQ-CoDel) and shaper: fqtinc extensions. */
static bool read_aqm_settings(egress_config_t *e) {
	int target_ms = 5, interval_ms = 100, quantum = 0, flows = 0, limit = 0;
	bool ecn = true;
	memset(e, 0, sizeof(*e));
	if(!get_int_min("FQCoDelTarget", &target_ms, 1) || !get_int_min("FQCoDelInterval", &interval_ms, 1) ||
	   !get_int_min("FQCoDelQuantum", &quantum, 64) || !get_int_min("FQCoDelFlows", &flows, 1) ||
	   !get_int_min("FQCoDelLimit", &limit, 1) || !get_size("FQCoDelMemoryLimit", &e->memory_limit) ||
	   !get_bool("FQCoDelECN", &ecn))
		return false;
	e->ingress_ce_threshold_ns = INGRESS_CE_THRESHOLD_DEFAULT_NS;
	if(!get_ms_decimal("IngressCEThreshold", &e->ingress_ce_threshold_ns))
		return false;
	e->ingress_drop_threshold_ns = INGRESS_DROP_THRESHOLD_DEFAULT_NS;
	if(!get_ms_decimal("IngressDropThreshold", &e->ingress_drop_threshold_ns))
		return false;
	e->ingress_target_ns = INGRESS_TARGET_DEFAULT_NS;
	e->ingress_interval_ns = INGRESS_INTERVAL_DEFAULT_NS;
	if(!get_ms_decimal("IngressCoDelTarget", &e->ingress_target_ns) ||
	   !get_ms_decimal("IngressCoDelInterval", &e->ingress_interval_ns))
		return false;
	e->l4s_threshold_ns = FQ_CODEL_L4S_THRESHOLD_NS;
	if(!get_ms_decimal("L4SThreshold", &e->l4s_threshold_ns))
		return false;
	if(flows > 65536) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "FQCoDelFlows is too large: the most is 65536");
		return false;
	}
	e->target_ns = (uint64_t)target_ms * NSEC_PER_MSEC;
	e->interval_ns = (uint64_t)interval_ms * NSEC_PER_MSEC;
	e->quantum = (uint32_t)quantum;
	e->flows = (uint32_t)flows;
	e->limit = (uint32_t)limit;
	e->ecn = ecn;

	config_t *cfg = config_first(settings.config, "Shaper");
	if(cfg && strcasecmp(cfg->value, "no") && strcasecmp(cfg->value, "off")) {
		const char *err = shaper_parse_rate(cfg->value, &e->shaper_bps);
		if(err) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "%s line %d: Shaper rate %s is not usable: %s",
			       cfg->file ? cfg->file : "command line", cfg->line, cfg->value, err);
			return false;
		}
	}
	/* outer IPv4 + UDP + seqno + MAC + worst-case padding, unless told otherwise */
	int overhead = 20 + 8 + 4 + settings.maclength + (int)(settings.cipher.blocklen > 1 ? settings.cipher.blocklen : 0);
	if(!get_int_min("ShaperOverhead", &overhead, 0))
		return false;
	e->shaper_overhead = (uint32_t)overhead;
	return true;
}

/* Our own edge options, announced in ACK (protocol.md §3.8). */
static bool read_my_options(void) {
	bool b = false;
	local_node->options = 0;
	if(!get_bool("IndirectData", &b))
		return false;
	if(b)
		local_node->options |= OPTION_INDIRECT;
	b = false;
	if(!get_bool("TCPOnly", &b))
		return false;
	if(b)
		local_node->options |= OPTION_TCPONLY | OPTION_INDIRECT;
	b = !(local_node->options & OPTION_TCPONLY);
	if(!get_bool("PMTUDiscovery", &b))
		return false;
	if(b)
		local_node->options |= OPTION_PMTU_DISCOVERY;
	b = true;
	if(!get_bool("ClampMSS", &b))
		return false;
	if(b)
		local_node->options |= OPTION_CLAMP_MSS;
	int pmtu = MTU;
	if(!get_int("PMTU", &pmtu))
		return false;
	if(pmtu < 64 || pmtu > MTU)
		pmtu = MTU;
	local_node->mtu = local_node->mtu_ceiling = pmtu;
	return true;
}

static bool load_own_subnets(void) {
	for(config_t *cfg = config_first(settings.config, "Subnet"); cfg; cfg = config_next(settings.config, cfg)) {
		subnet_t *s;
		if(!config_value_subnet(cfg, &s))
			return false;
		if(subnet_find(local_node, s)) {
			subnet_free(s);
			continue;
		}
		subnet_attach(local_node, s);
	}
	return true;
}

/* Nodes named by hosts/ files (local_node excluded), created if unknown. */
static node_t *host_file_node(const char *name) {
	node_t *n = node_find(name);
	if(!n) {
		n = node_new(name);
		replay_init(&n->replay, (size_t)settings.replaywindow);
		node_register(n);
	}
	return n;
}

/* Make n's subnets exactly the Subnet lines of tree (NULL: none).  With
 * announce, every difference goes out as ADD/DEL_SUBNET and runs the
 * subnet scripts of a reachable owner, as tinc does on HUP. */
static void sync_host_subnets(node_t *n, config_entries_t *tree, bool announce) {
	subnet_t **want = NULL;
	size_t nwant = 0;
	for(config_t *cfg = tree ? config_first(tree, "Subnet") : NULL; cfg; cfg = config_next(tree, cfg)) {
		subnet_t *s;
		if(!config_value_subnet(cfg, &s))
			continue;
		want = xrealloc(want, (nwant + 1) * sizeof(*want));
		want[nwant++] = s;
	}

	/* Withdraw what the file no longer lists. */
	for(size_t i = 0; i < n->subnets.count;) {
		subnet_t *have = n->subnets.items[i];
		subnet_t key = *have;
		key.owner = NULL;
		bool keep = false;
		for(size_t k = 0; k < nwant && !keep; k++)
			keep = subnet_cmp(&key, want[k]) == 0;
		if(keep) {
			i++;
			continue;
		}
		if(announce) {
			send_del_subnet_request(broadcast_conn, have);
			if(n->status.reachable)
				run_subnet_scripts(n, have, false);
		}
		subnet_detach(n, have);
	}

	/* Add what is new. */
	for(size_t k = 0; k < nwant; k++) {
		if(subnet_find(n, want[k])) {
			subnet_free(want[k]);
			continue;
		}
		subnet_attach(n, want[k]);
		if(announce) {
			send_add_subnet_request(broadcast_conn, want[k]);
			if(n->status.reachable)
				run_subnet_scripts(n, want[k], true);
		}
	}
	free(want);
	subnet_lookup_cache_clear();
}

static int ptr_cmp(const void *a, const void *b) {
	return a < b ? -1 : a > b;
}

/* StrictSubnets: every host file's Subnet lines are authoritative (protocol.md §6.8).
 * At startup they are loaded; on HUP (announce) differences are applied and
 * announced, and nodes whose host file is gone lose their subnets. */
static void load_all_host_subnets(bool announce) {
	char *dir = confpath("hosts");
	DIR *d = opendir(dir);
	if(!d) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read the host files in %s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	sset_t seen;
	sset_init(&seen, ptr_cmp);
	struct dirent *ent;
	while((ent = readdir(d))) {
		if(!node_name_is_valid(ent->d_name) || !strcmp(ent->d_name, local_node->name))
			continue;
		config_entries_t *tree = config_entries_new();
		if(config_read_host(tree, settings.config_dir, ent->d_name)) {
			node_t *n = host_file_node(ent->d_name);
			sync_host_subnets(n, tree, announce);
			sset_insert(&seen, n);
		}
		config_entries_free(tree);
	}
	closedir(d);
	free(dir);
	if(announce) {
		sset_foreach(node_t, n, &nodes_by_name)
			if(n != local_node && n->subnets.count && !sset_find(&seen, n))
				sync_host_subnets(n, NULL, true);
	}
	sset_clear(&seen, NULL);
}

static bool local_node_setup(void) {
	char *name = resolve_own_name();
	if(!name)
		return false;
	local_node = node_new(name);
	free(name);
	local_node->connection = NULL;
	local_node->nexthop = local_node->via = local_node;
	local_node->status.reachable = true;
	node_register(local_node);

	/* The own host file joins the server configuration (protocol.md §2.3). */
	if(!config_read_host(settings.config, settings.config_dir, local_node->name)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot read our own host file hosts/%s; is the Name right?", local_node->name);
		return false;
	}
	apply_cmdline_host_options(settings.config, local_node->name);
	config_warn_unknown(settings.config);

	if(!read_private_key() || !read_port() || !proxy_read_config() || !read_crypto_settings() || !read_modes() ||
	   !read_timing_settings() || !read_flags() || !read_my_options() || !load_own_subnets())
		return false;
	if(settings.strictsubnets)
		load_all_host_subnets(false);

	char *priority = NULL;
	if(conf_string(settings.config, "ProcessPriority", &priority)) {
		int prio = 0;
		if(!strcasecmp(priority, "low"))
			prio = 10;
		else if(!strcasecmp(priority, "normal"))
			prio = 0;
		else if(!strcasecmp(priority, "high"))
			prio = -10;
		else {
			logger(VERBOSITY_ERRORS, LOG_ERR, "ProcessPriority %s is unknown: use low, normal or high", priority);
			free(priority);
			return false;
		}
		if(setpriority(PRIO_PROCESS, 0, prio) < 0)
			logger(VERBOSITY_ERRORS, LOG_WARNING, "Cannot set the process priority to %d: %s", prio, strerror(errno));
		free(priority);
	}
	free(local_node->hostname);
	local_node->hostname = xstrdup("MYSELF");
	return true;
}

/* The event scripts are the daemon's; the meta layer reports the events. */
static const meta_hooks_t script_hooks = {
	.node_up_down = host_scripts,
	.subnet_up_down = run_subnet_scripts,
};

bool network_init(void) {
	meta_connect_hooks(&script_hooks);
	node_table_init();
	edge_table_init();
	subnet_table_init();
	past_request_init();

	if(!local_node_setup())
		return false;
	egress_config_t aqm;
	if(!read_aqm_settings(&aqm) || !egress_init(&aqm))
		return false;
	ingress_init(aqm.ingress_target_ns, aqm.ingress_interval_ns, aqm.ingress_ce_threshold_ns, aqm.ingress_drop_threshold_ns);
	if(!device_open())
		return false;
	run_script("tinc-up", NULL);
	run_subnet_scripts(local_node, NULL, true);
	if(!setup_listen_sockets())
		return false;
	net_start();
	clock_gettime(CLOCK_REALTIME, &hosts_checked_at);
	logger(VERBOSITY_ERRORS, LOG_NOTICE, "Ready");
	return true;
}

void close_network(void) {
	/* Shutdown sends no DEL_EDGE: peers notice the TCP close (protocol.md §2.9). */
	while(connection_set.count)
		connection_close(connection_set.items[0]);
	net_stop();
	close_listen_sockets();
	if(local_node) {
		run_subnet_scripts(local_node, NULL, false);
		script_drain();
	}
	run_script("tinc-down", NULL);
	device_close();
}

static bool later(const struct timespec *a, const struct timespec *b) {
	return a->tv_sec != b->tv_sec ? a->tv_sec > b->tv_sec : a->tv_nsec > b->tv_nsec;
}

/* HUP (protocol.md §2.9): close every connection whose hosts/NAME was deleted or
 * modified since the last check.  Its outgoing entry, if any, is detached
 * first so that outgoing_sync_connect_to() reconnects at once with the new
 * file instead of after a back-off. */
static void close_changed_connections(void) {
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	for(size_t i = 0; i < connection_set.count;) {
		connection_t *c = connection_set.items[i];
		size_t before = connection_set.count;
		if(!c->status.dead && c->name && node_name_is_valid(c->name)) {
			char *path = xasprintf("%s/hosts/%s", settings.config_dir, c->name);
			struct stat st;
			bool gone = stat(path, &st) < 0;
			if(gone || later(&st.st_mtim, &hosts_checked_at)) {
				logger(VERBOSITY_ERRORS, LOG_NOTICE, "Host file %s was %s: dropping the connection to %s (%s) to start over with it",
				       path, gone ? "removed" : "modified", c->name, c->hostname);
				c->outgoing = NULL;
				connection_shutdown(c, c->status.active);
			}
			free(path);
		}
		if(connection_set.count == before)
			i++;
	}
	hosts_checked_at = now;
}

bool reload_settings(void) {
	if(!reload_server_config())
		return false;
	/* The own host file is not re-read on HUP; timers and flags are. */
	config_warn_unknown(settings.config);
	if(!read_timing_settings() || !read_flags())
		return false;
	ecn_mode_reload(); /* ECN, host files and -o NAME.ECN may have changed */
	cancel_pending_connects();
	close_changed_connections();
	if(settings.strictsubnets)
		load_all_host_subnets(true);
	outgoing_sync_connect_to();
	return true;
}

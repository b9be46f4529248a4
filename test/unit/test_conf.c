/* Configuration files, precedence and -o options (protocol.md §2.2–§2.5). */
#include "util/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "util/log.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"
#include "unit.h"

static char dir[64];
static char logpath[128];

/* ---- helpers ---- */

static char *path_in(const char *rel) {
	return xasprintf("%s/%s", dir, rel);
}

static void write_file(const char *rel, const char *content) {
	char *path = path_in(rel);
	FILE *f = fopen(path, "w");
	if(!f) {
		perror(path);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
	free(path);
}

static void remove_file(const char *rel) {
	char *path = path_in(rel);
	unlink(path);
	free(path);
}

static void log_clear(void) {
	if(truncate(logpath, 0))
		perror("truncate");
}

/* Everything logged since the last log_clear(). */
static char *log_text(void) {
	static char buf[65536];
	FILE *f = fopen(logpath, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if(f)
		fclose(f);
	return buf;
}

static int count_in_log(const char *needle) {
	int count = 0;
	for(const char *p = log_text(); (p = strstr(p, needle)); p += strlen(needle))
		count++;
	return count;
}

#define CHECK_LOG(needle)                                                      \
	do {                                                                       \
		bool found_ = strstr(log_text(), (needle)) != NULL;                    \
		if(!found_)                                                            \
			fprintf(stderr, "log lacks \"%s\"; log is:\n%s", (needle), log_text()); \
		CHECK(found_);                                                         \
	} while(0)

/* Value of the first `variable' in a tree built from one file, or "". */
static const char *value_of_file(const char *content, const char *variable) {
	static char value[256];
	write_file("one.conf", content);
	config_entries_t *tree = config_entries_new();
	char *path = path_in("one.conf");
	bool ok = config_read_file(tree, path);
	free(path);
	config_t *cfg = config_first(tree, variable);
	snprintf(value, sizeof(value), "%s", ok && cfg ? cfg->value : "");
	config_entries_free(tree);
	return value;
}

static config_t *cmdline(const char *arg, char **host) {
	config_t *cfg = NULL;
	*host = NULL;
	if(!parse_cmdline_option(arg, host, &cfg))
		return NULL;
	return cfg;
}

/* The server set of protocol.md §2.3: -o options, tinc.conf (+conf.d) and hosts/alpha. */
static int port_of(const char *option) {
	config_entries_t *tree = config_entries_new();
	if(option) {
		char *host;
		config_t *cfg = cmdline(option, &host);
		CHECK(cfg && !host);
		if(cfg)
			config_entries_add(tree, cfg);
	}
	CHECK(config_read_server(tree, dir));
	CHECK(config_read_host(tree, dir, "alpha"));
	int port = -1;
	CHECK(conf_int(tree, "Port", &port));
	config_entries_free(tree);
	return port;
}

/* ---- tests ---- */

static void test_precedence(void) {
	/* protocol.md §2.3: tinc.conf line 3 vs hosts/alpha line 1 -> the host file wins */
	write_file("tinc.conf", "Name = alpha\nMode = router\nPort = 7002\n");
	write_file("hosts/alpha", "Port = 7001\nSubnet = 10.81.1.0/24\n");
	CHECK_EQ_INT(port_of(NULL), 7001);

	/* swapped line numbers -> tinc.conf wins */
	write_file("tinc.conf", "Port = 7002\nName = alpha\nMode = router\n");
	write_file("hosts/alpha", "Subnet = 10.81.1.0/24\n\nPort = 7001\n");
	CHECK_EQ_INT(port_of(NULL), 7002);

	/* equal line numbers -> ".../hosts/alpha" sorts before ".../tinc.conf" */
	write_file("tinc.conf", "Name = alpha\nPort = 7002\n");
	write_file("hosts/alpha", "Subnet = 10.81.1.0/24\nPort = 7001\n");
	CHECK_EQ_INT(port_of(NULL), 7001);

	/* -o beats both */
	CHECK_EQ_INT(port_of("Port=7003"), 7003);
	write_file("hosts/alpha", "Port = 7001\n");
	CHECK_EQ_INT(port_of("Port=7003"), 7003);
}

static void test_iteration_order(void) {
	write_file("tinc.conf", "Name = alpha\nConnectTo = t2\nConnectTo = t3\n");
	write_file("hosts/alpha", "ConnectTo = h1\nconnectto = h2\n");
	config_entries_t *tree = config_entries_new();
	char *host;
	config_entries_add(tree, cmdline("ConnectTo=c1", &host));
	config_entries_add(tree, cmdline("ConnectTo=c2", &host));
	config_entries_add(tree, cmdline("Port=1", &host));
	CHECK(config_read_server(tree, dir));
	CHECK(config_read_host(tree, dir, "alpha"));

	/* command line in given order, then by line, path breaking ties */
	static const char *const expect[] = {"c1", "c2", "h1", "h2", "t2", "t3"};
	size_t n = 0;
	for(config_t *cfg = config_first(tree, "CONNECTTO"); cfg; cfg = config_next(tree, cfg)) {
		if(n < ARRAY_SIZE(expect))
			CHECK_EQ_STR(cfg->value, expect[n]);
		n++;
	}
	CHECK_EQ_INT(n, ARRAY_SIZE(expect));

	/* reading the same file again adds nothing */
	size_t before = tree->entries.count;
	CHECK(config_read_host(tree, dir, "alpha"));
	CHECK_EQ_INT(tree->entries.count, before);

	CHECK(config_first(tree, "Subnet") == NULL);
	CHECK(config_first(tree, "") == NULL);
	config_t *name = config_first(tree, "name");
	CHECK(name != NULL);
	CHECK(config_next(tree, name) == NULL);
	config_entries_free(tree);
}

static void test_syntax(void) {
	CHECK_EQ_STR(value_of_file("Port = 655\n", "Port"), "655");
	CHECK_EQ_STR(value_of_file("Port=655\n", "Port"), "655");
	CHECK_EQ_STR(value_of_file("port 655\n", "Port"), "655");
	CHECK_EQ_STR(value_of_file("PORT\t=\t655\n", "port"), "655");
	CHECK_EQ_STR(value_of_file("Port = 655 \t \r\n", "Port"), "655");
	CHECK_EQ_STR(value_of_file("Port 655", "Port"), "655"); /* no final newline */
	CHECK_EQ_STR(value_of_file("Port = = 655\n", "Port"), "= 655"); /* one '=' only */
	CHECK_EQ_STR(value_of_file("Address = 10.0.0.1 655\n", "Address"), "10.0.0.1 655");
	CHECK_EQ_STR(value_of_file("Device=/dev/net/tun=x\n", "Device"), "/dev/net/tun=x");
	/* no inline comments */
	CHECK_EQ_STR(value_of_file("Port = 655 # x\n", "Port"), "655 # x");
	/* comments and blank lines */
	CHECK_EQ_STR(value_of_file("# Port = 1\n\n   \n\t\nPort = 2\n", "Port"), "2");
	CHECK_EQ_STR(value_of_file("#Port = 1\n", "Port"), "");
	/* indentation is tolerated */
	CHECK_EQ_STR(value_of_file("  Port = 3\n", "Port"), "3");

	/* PEM blocks are skipped through their END line */
	const char *host =
		"Address = 192.0.2.1\n"
		"-----BEGIN RSA PUBLIC KEY-----\n"
		"Port = 1\n"
		"MIIBCgKCAQEA0123456789\n"
		"-----END RSA PUBLIC KEY-----\n"
		"Port = 2\n";
	write_file("hosts/pem", host);
	config_entries_t *tree = config_entries_new();
	CHECK(config_read_host(tree, dir, "pem"));
	CHECK_EQ_INT(tree->entries.count, 2);
	config_t *port = config_first(tree, "Port");
	CHECK(port && !strcmp(port->value, "2") && port->line == 6);
	CHECK(port && !config_next(tree, port));
	config_entries_free(tree);

	/* an unterminated block swallows the rest of the file */
	CHECK_EQ_STR(value_of_file("-----BEGIN X\nPort = 1\n", "Port"), "");

	/* a very long line stays one line */
	size_t longlen = 10000;
	char *longfile = xmalloc(longlen + 32);
	strcpy(longfile, "PublicKey = ");
	size_t off = strlen(longfile);
	memset(longfile + off, 'A', longlen);
	strcpy(longfile + off + longlen, "\nPort = 5\n");
	write_file("one.conf", longfile);
	tree = config_entries_new();
	char *path = path_in("one.conf");
	CHECK(config_read_file(tree, path));
	config_t *pk = config_first(tree, "PublicKey");
	CHECK(pk && strlen(pk->value) == longlen && pk->line == 1);
	port = config_first(tree, "Port");
	CHECK(port && port->line == 2 && !strcmp(port->value, "5"));
	CHECK_EQ_INT(tree->entries.count, 2);
	config_entries_free(tree);
	free(longfile);

	/* the entry remembers where it came from */
	write_file("one.conf", "\n\nMode = switch\n");
	tree = config_entries_new();
	CHECK(config_read_file(tree, path));
	config_t *mode = config_first(tree, "mode");
	CHECK(mode && mode->line == 3 && mode->file && !strcmp(mode->file, path));
	config_entries_free(tree);
	free(path);
}

static void test_errors(void) {
	char *path = path_in("one.conf");
	char expect[512];

	/* empty value: fatal for the file, message names variable, line and file */
	write_file("one.conf", "Name = alpha\nPort =\nMode = switch\n");
	config_entries_t *tree = config_entries_new();
	log_clear();
	CHECK(!config_read_file(tree, path));
	snprintf(expect, sizeof(expect), "%s line 2: no value given for Port", path);
	CHECK_LOG(expect);
	CHECK(config_first(tree, "Mode") == NULL);
	config_entries_free(tree);

	write_file("one.conf", "\n\n\nPort\n");
	tree = config_entries_new();
	log_clear();
	CHECK(!config_read_file(tree, path));
	snprintf(expect, sizeof(expect), "%s line 4: no value given for Port", path);
	CHECK_LOG(expect);
	config_entries_free(tree);

	write_file("one.conf", "= 655\n");
	tree = config_entries_new();
	log_clear();
	CHECK(!config_read_file(tree, path));
	CHECK_LOG("line 1");
	config_entries_free(tree);

	/* NUL inside a line is refused, not silently truncated */
	FILE *f = fopen(path, "w");
	fwrite("Port = 6\0 55\n", 1, 13, f);
	fclose(f);
	tree = config_entries_new();
	log_clear();
	CHECK(!config_read_file(tree, path));
	CHECK_LOG("line 1");
	config_entries_free(tree);

	/* missing file */
	char *missing = path_in("does-not-exist");
	tree = config_entries_new();
	log_clear();
	CHECK(!config_read_file(tree, missing));
	CHECK_LOG(missing);
	free(missing);
	config_entries_free(tree);

	/* a directory is not a config file */
	tree = config_entries_new();
	CHECK(!config_read_file(tree, dir));
	config_entries_free(tree);

	free(path);
}

static void test_getters(void) {
	char *path = path_in("one.conf");
	char expect[512];
	write_file("one.conf",
	           "TCPOnly = maybe\n"      /* 1 */
	           "IndirectData = YES\n"   /* 2 */
	           "ClampMSS = No\n"        /* 3 */
	           "PMTUDiscovery = yes please\n" /* 4 */
	           "Port = abc\n"           /* 5 */
	           "PingInterval = 12abc\n" /* 6 */
	           "PingTimeout = -5\n"     /* 7 */
	           "KeyExpire = 99999999999\n" /* 8 */
	           "Subnet = 10.1.2.3/24\n" /* 9 */
	           "Subnet = 10.1.2.0/24#7\n" /* 10 */
	           "Subnet = bogus\n"       /* 11 */
	           "Subnet = fd81::/48\n"   /* 12 */
	           "Name = alpha\n"         /* 13 */
	           "MACLength = +4\n");     /* 14 */
	config_entries_t *tree = config_entries_new();
	CHECK(config_read_file(tree, path));

	bool b = true;
	log_clear();
	CHECK(!conf_bool(tree, "TCPOnly", &b));
	snprintf(expect, sizeof(expect), "TCPOnly = maybe in %s line 1: expected yes or no", path);
	CHECK_LOG(expect);
	b = false;
	CHECK(conf_bool(tree, "IndirectData", &b) && b);
	CHECK(conf_bool(tree, "clampmss", &b) && !b);
	CHECK(!conf_bool(tree, "PMTUDiscovery", &b));
	CHECK(!conf_bool(tree, "NotThere", &b));

	int i = 0;
	log_clear();
	CHECK(!conf_int(tree, "Port", &i));
	snprintf(expect, sizeof(expect), "Port = abc in %s line 5: expected a whole number", path);
	CHECK_LOG(expect);
	CHECK(conf_int(tree, "PingInterval", &i) && i == 12);
	CHECK(conf_int(tree, "PingTimeout", &i) && i == -5);
	CHECK(!conf_int(tree, "KeyExpire", &i));
	CHECK(conf_int(tree, "MACLength", &i) && i == 4);
	CHECK(!conf_int(tree, "NotThere", &i));

	char *s = NULL;
	CHECK(conf_string(tree, "Name", &s));
	CHECK_EQ_STR(s, "alpha");
	free(s);
	CHECK(!conf_string(tree, "NotThere", &s));

	/* Subnets come in line order: 9, 10, 11, 12 */
	config_t *cfg = config_first(tree, "Subnet");
	subnet_t *sub = NULL;
	log_clear();
	CHECK(!config_value_subnet(cfg, &sub));
	snprintf(expect, sizeof(expect),
	         "Subnet = 10.1.2.3/24 in %s line 9: the address has host bits set beyond the prefix; write the network address", path);
	CHECK_LOG(expect);
	cfg = config_next(tree, cfg);
	CHECK(config_value_subnet(cfg, &sub));
	if(sub) {
		CHECK_EQ_INT(sub->type, SUBNET_IPV4);
		CHECK_EQ_INT(sub->net.ipv4.prefix_bits, 24);
		CHECK_EQ_INT(sub->weight, 7);
		CHECK(!memcmp(sub->net.ipv4.address, "\x0a\x01\x02\x00", 4));
		CHECK(sub->owner == NULL);
		free(sub);
		sub = NULL;
	}
	cfg = config_next(tree, cfg);
	log_clear();
	CHECK(!config_value_subnet(cfg, &sub));
	snprintf(expect, sizeof(expect), "Subnet = bogus in %s line 11: expected a subnet such as 10.1.0.0/16", path);
	CHECK_LOG(expect);
	cfg = config_next(tree, cfg);
	CHECK(config_value_subnet(cfg, &sub));
	CHECK(sub && sub->type == SUBNET_IPV6 && sub->net.ipv6.prefix_bits == 48);
	free(sub);
	CHECK(config_next(tree, cfg) == NULL);
	config_entries_free(tree);

	/* errors about -o entries say so */
	char *host;
	cfg = cmdline("TCPOnly=perhaps", &host);
	CHECK(cfg != NULL);
	log_clear();
	CHECK(!config_value_bool(cfg, &b));
	CHECK_LOG("TCPOnly = perhaps on the command line: expected yes or no");
	config_free(cfg);

	CHECK(!config_value_bool(NULL, &b));
	CHECK(!config_value_int(NULL, &i));
	free(path);
}

static void test_conf_d(void) {
	char *confd = path_in("conf.d");
	mkdir(confd, 0700);
	free(confd);
	write_file("tinc.conf", "Name = alpha\n");
	write_file("conf.d/b.conf", "\nConnectTo = b\n");
	write_file("conf.d/a.conf", "\nConnectTo = a\nPort = 1234\n");
	write_file("conf.d/ignored.txt", "Mode = hub\n");
	write_file("conf.d/.conf", "Mode = switch\n");
	write_file("conf.d/x.conf.bak", "Mode = router\n");

	config_entries_t *tree = config_entries_new();
	CHECK(config_read_server(tree, dir));
	int port = 0;
	CHECK(conf_int(tree, "Port", &port) && port == 1234);
	CHECK(config_first(tree, "Mode") == NULL);
	config_t *cfg = config_first(tree, "ConnectTo");
	CHECK(cfg && !strcmp(cfg->value, "a"));
	cfg = config_next(tree, cfg);
	CHECK(cfg && !strcmp(cfg->value, "b"));
	config_entries_free(tree);

	/* a broken conf.d file fails the whole server config */
	write_file("conf.d/c.conf", "Broken\n");
	tree = config_entries_new();
	log_clear();
	CHECK(!config_read_server(tree, dir));
	CHECK_LOG("conf.d/c.conf");
	config_entries_free(tree);
	remove_file("conf.d/c.conf");

	/* tinc.conf must exist, and the error names it */
	remove_file("tinc.conf");
	tree = config_entries_new();
	log_clear();
	CHECK(!config_read_server(tree, dir));
	char *tincconf = path_in("tinc.conf");
	CHECK_LOG(tincconf);
	free(tincconf);
	config_entries_free(tree);
	write_file("tinc.conf", "Name = alpha\n");
}

static void test_cmdline(void) {
	char *host = NULL;
	config_t *cfg = cmdline("Port=7003", &host);
	CHECK(cfg && !host);
	if(cfg) {
		CHECK_EQ_STR(cfg->variable, "Port");
		CHECK_EQ_STR(cfg->value, "7003");
		CHECK(cfg->file == NULL);
		CHECK_EQ_INT(cfg->line, -1);
	}
	config_free(cfg);

	cfg = cmdline("Address=1.2.3.4", &host);
	CHECK(cfg && !host);
	if(cfg) {
		CHECK_EQ_STR(cfg->variable, "Address");
		CHECK_EQ_STR(cfg->value, "1.2.3.4");
	}
	config_free(cfg);

	cfg = cmdline("Address 1.2.3.4 655", &host);
	CHECK(cfg && !host && !strcmp(cfg->value, "1.2.3.4 655"));
	config_free(cfg);

	cfg = cmdline("beta.Address=192.0.2.7", &host);
	CHECK(cfg && host);
	if(cfg && host) {
		CHECK_EQ_STR(host, "beta");
		CHECK_EQ_STR(cfg->variable, "Address");
		CHECK_EQ_STR(cfg->value, "192.0.2.7");
	}
	free(host);
	config_free(cfg);

	cfg = cmdline("node_2.Subnet = 10.0.0.0/8", &host);
	CHECK(cfg && host && !strcmp(host, "node_2") && !strcmp(cfg->variable, "Subnet") &&
	      !strcmp(cfg->value, "10.0.0.0/8"));
	free(host);
	config_free(cfg);

	static const char *const bad[] = {
		"bad-host.Port=1", ".Port=1", "beta.=1", "a.b.Port=1", "Port=", "Port", "=1", "", "Port =  ",
	};
	for(size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		host = (char *)"untouched";
		cfg = (config_t *)1;
		bool ok = parse_cmdline_option(bad[i], &host, &cfg);
		if(ok)
			fprintf(stderr, "unexpectedly accepted -o \"%s\"\n", bad[i]);
		CHECK(!ok && host == NULL && cfg == NULL);
	}
	log_clear();
	CHECK(!cmdline("bad-host.Port=1", &host));
	CHECK_LOG("bad-host");
}

static void test_check_id(void) {
	CHECK(node_name_is_valid("alpha"));
	CHECK(node_name_is_valid("Node_01"));
	CHECK(node_name_is_valid("_"));
	CHECK(!node_name_is_valid(""));
	CHECK(!node_name_is_valid(NULL));
	CHECK(!node_name_is_valid("a-b"));
	CHECK(!node_name_is_valid("a.b"));
	CHECK(!node_name_is_valid("../x"));
	CHECK(!node_name_is_valid("a b"));
	CHECK(!node_name_is_valid("\xc3\xa9t\xc3\xa9"));

	config_entries_t *tree = config_entries_new();
	CHECK(!config_read_host(tree, dir, "../tinc.conf"));
	config_entries_free(tree);
}

static void test_options(void) {
	static const char *const tinc_options[] = {
		"AddressFamily", "BindToAddress", "BindToInterface", "Broadcast", "ConnectTo",
		"DecrementTTL", "Device", "DeviceType", "DirectOnly", "Forwarding", "GraphDumpFile",
		"Hostnames", "IffOneQueue", "Interface", "KeyExpire", "LocalDiscovery", "MACExpire",
		"MaxOutputBufferSize", "MaxTimeout", "MinTimeout", "Mode", "Name", "PingInterval",
		"PingTimeout", "PriorityInheritance", "PrivateKey", "PrivateKeyFile", "ProcessPriority",
		"Proxy", "ReplayWindow", "ScriptsInterpreter", "StrictSubnets", "TunnelServer",
		"UDPRcvBuf", "UDPSndBuf", "VDEPort", "VDEGroup", "Address", "Cipher", "ClampMSS",
		"Compression", "Digest", "IndirectData", "MACLength", "PMTU", "PMTUDiscovery", "Port",
		"PublicKey", "PublicKeyFile", "Subnet", "TCPOnly", "Weight",
	};
	for(size_t i = 0; i < ARRAY_SIZE(tinc_options); i++) {
		const option_info_t *o = option_lookup(tinc_options[i]);
		if(!o)
			fprintf(stderr, "missing option %s\n", tinc_options[i]);
		CHECK(o && !strcmp(o->name, tinc_options[i]) && !o->extension);
	}
	static const char *const extensions[] = {
		"ECN", "Shaper", "FQCoDelTarget", "FQCoDelInterval", "FQCoDelQuantum", "FQCoDelFlows",
		"FQCoDelLimit", "FQCoDelMemoryLimit", "FQCoDelECN",
	};
	for(size_t i = 0; i < ARRAY_SIZE(extensions); i++) {
		const option_info_t *o = option_lookup(extensions[i]);
		CHECK(o && o->extension);
	}
	static const char *const unimplemented[] = {"VDEPort", "VDEGroup", "Hostnames"};
	for(size_t i = 0; i < ARRAY_SIZE(unimplemented); i++) {
		const option_info_t *o = option_lookup(unimplemented[i]);
		CHECK(o && !o->implemented);
	}
	static const char *const implemented_late[] = {
		"Proxy", "GraphDumpFile", "LocalDiscovery", "IffOneQueue", "ProcessPriority",
	};
	for(size_t i = 0; i < ARRAY_SIZE(implemented_late); i++) {
		const option_info_t *o = option_lookup(implemented_late[i]);
		CHECK(o && o->implemented);
	}
	CHECK(option_lookup("BindToInterface")->implemented);
	CHECK(option_lookup("ECN")->implemented);
	CHECK(option_lookup("subnet") && option_lookup("subnet")->multiple);
	CHECK(option_lookup("ConnectTo")->multiple && option_lookup("Address")->multiple &&
	      option_lookup("BindToAddress")->multiple);
	CHECK(!option_lookup("Port")->multiple);
	CHECK_EQ_INT(option_lookup("Port")->scope, OPT_HOST);
	CHECK_EQ_INT(option_lookup("Mode")->scope, OPT_SERVER);
	CHECK(option_lookup("Foo") == NULL);
	CHECK(option_lookup("") == NULL);

	/* warnings: once per variable, naming file and line */
	char *path = path_in("one.conf");
	char expect[512];
	write_file("one.conf", "Name = alpha\nFoo = 1\nfoo = 2\nHostnames = no\nPort = 655\nHostnames = no\n");
	config_entries_t *tree = config_entries_new();
	CHECK(config_read_file(tree, path));
	char *host;
	config_entries_add(tree, cmdline("Bar=1", &host));
	log_clear();
	config_warn_unknown(tree);
	snprintf(expect, sizeof(expect), "%s line 2: unknown variable Foo; ignored", path);
	CHECK_LOG(expect);
	CHECK_EQ_INT(count_in_log("unknown variable Foo;"), 1);
	CHECK_EQ_INT(count_in_log("unknown variable foo;"), 0);
	CHECK_LOG("Option -o: unknown variable Bar; ignored");
	CHECK_LOG("Hostnames is not implemented in fqtinc yet: ignored");
	CHECK_EQ_INT(count_in_log("Hostnames is not implemented"), 1);
	CHECK_EQ_INT(count_in_log("Port"), 0);
	CHECK_EQ_INT(count_in_log("Name"), 0);
	config_entries_free(tree);
	free(path);
}

int main(void) {
	snprintf(dir, sizeof(dir), "/tmp/test_conf.XXXXXX");
	if(!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	char *hosts = path_in("hosts");
	mkdir(hosts, 0700);
	free(hosts);
	snprintf(logpath, sizeof(logpath), "%s.log", dir);
	debug_level = VERBOSITY_ERRORS;
	log_open(LOG_TO_FILE, "test_conf", logpath);

	test_precedence();
	test_iteration_order();
	test_syntax();
	test_errors();
	test_getters();
	test_conf_d();
	test_cmdline();
	test_check_id();
	test_options();

	log_close();
	char *cmd = xasprintf("rm -rf '%s' '%s'", dir, logpath);
	if(system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return unit_done();
}

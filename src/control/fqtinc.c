/* fqtinc: a small control program of our own beside tincd (doc/fqtinc.8).
 * `fqtinc stats` prints the per-node statistics as a table, `fqtinc stats
 * --json` as JSON; both from one "18 100" request on the control socket. */
#include "util/compat.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/control.h"
#include "control/protocol_ids.h"
#include "util/xalloc.h"

#define MAX_FIELDS 48

typedef struct row {
	char name[256];
	int nfields;
	char key[MAX_FIELDS][48];
	char value[MAX_FIELDS][96];
} row_t;

static const char *field(const row_t *r, const char *key) {
	for(int i = 0; i < r->nfields; i++)
		if(!strcmp(r->key[i], key))
			return r->value[i];
	return "-";
}

static void usage(FILE *f) {
	fprintf(f, "Usage: fqtinc [-n NETNAME | --pidfile=FILE] stats [--json]\n"
	           "Prints each node's path MTU, ECN mode, queue and drop/mark counters from a running tincd.\n");
}

static int connect_daemon(const char *pidfile) {
	FILE *f = fopen(pidfile, "r");
	if(!f) {
		fprintf(stderr, "Cannot open the pid file %s: %s; is tincd running for this net?\n", pidfile, strerror(errno));
		return -1;
	}
	long pid = 0;
	char cookie[129] = "";
	int n = fscanf(f, "%ld %128s", &pid, cookie);
	fclose(f);
	if(n != 2 || strlen(cookie) != 64) {
		fprintf(stderr, "The pid file %s holds no control cookie; is it fqtinc's tincd, started by this version?\n", pidfile);
		return -1;
	}
	char *path = control_socket_path(pidfile);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if(fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "Cannot connect to the control socket %s: %s\n", path, strerror(errno));
		free(path);
		if(fd >= 0)
			close(fd);
		return -1;
	}
	free(path);
	dprintf(fd, "%d ^%s %d\n%d %d\n", CTL_ID, cookie, CTL_VERSION, CTL_CONTROL, CTL_DUMP_STATS);
	return fd;
}

/* Lines of the reply, one at a time; NULL at the end of the stream. */
static char *next_line(FILE *in, char *buf, size_t len) {
	if(!fgets(buf, (int)len, in))
		return NULL;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static bool parse_row(const char *line, row_t *r) {
	int code, req, used = 0;
	memset(r, 0, sizeof(*r));
	if(sscanf(line, "%d %d %255s %n", &code, &req, r->name, &used) != 3 || code != CTL_CONTROL || req != CTL_DUMP_STATS)
		return false;
	const char *p = line + used;
	while(*p && r->nfields < MAX_FIELDS) {
		int len = 0;
		char pair[160];
		if(sscanf(p, "%159s%n", pair, &len) != 1)
			break;
		p += len;
		while(*p == ' ')
			p++;
		char *eq = strchr(pair, '=');
		if(!eq)
			continue;
		*eq = 0;
		snprintf(r->key[r->nfields], sizeof(r->key[0]), "%.47s", pair);
		snprintf(r->value[r->nfields], sizeof(r->value[0]), "%.95s", eq + 1);
		r->nfields++;
	}
	return true;
}

static bool is_number(const char *s) {
	char *end;
	if(!*s)
		return false;
	strtod(s, &end);
	return !*end;
}

static void print_json_string(const char *s) {
	putchar('"');
	for(; *s; s++) {
		if(*s == '"' || *s == '\\')
			putchar('\\');
		if((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static void print_json_fields(const row_t *r) {
	for(int k = 0; k < r->nfields; k++) {
		printf("%s\"%s\": ", k ? ", " : "", r->key[k]);
		if(is_number(r->value[k]))
			printf("%s", r->value[k]);
		else
			print_json_string(r->value[k]);
	}
}

static void print_json(const row_t *daemon, const row_t *rows, int n) {
	printf("{\"daemon\": {");
	if(daemon)
		print_json_fields(daemon);
	printf("},\n\"nodes\": [");
	for(int i = 0; i < n; i++) {
		printf("%s\n  {\"name\": ", i ? "," : "");
		print_json_string(rows[i].name);
		if(rows[i].nfields)
			printf(", ");
		print_json_fields(&rows[i]);
		printf("}");
	}
	printf("\n]}\n");
}

/* The daemon-wide counters under the table, grouped by where they arise. */
static void print_daemon(const row_t *d) {
	printf("\negress queue: backlog %s packets (%s bytes), sojourn avg %s ms max %s ms; dropped codel %s, limit %s, memory %s; CE marked %s\n",
	       field(d, "egress_backlog"), field(d, "egress_backlog_bytes"), field(d, "egress_sojourn_avg_ms"),
	       field(d, "egress_sojourn_max_ms"), field(d, "egress_drop_codel"), field(d, "egress_drop_limit"),
	       field(d, "egress_drop_memory"), field(d, "egress_mark_ce"));
	printf("ingress codel: sojourn avg %s ms max %s ms; dropped before decryption %s, Not-ECT after decryption %s; CE marked %s (over the threshold %s)\n",
	       field(d, "ingress_sojourn_avg_ms"), field(d, "ingress_sojourn_max_ms"), field(d, "ingress_drop_before_decryption"),
	       field(d, "ingress_drop_notect_after_decryption"), field(d, "ingress_mark_ce"), field(d, "ingress_mark_ce_threshold"));
	printf("ecn: outer CE passed to the inner packet %s, CE over Not-ECT dropped %s\n",
	       field(d, "ecn_ce_propagated"), field(d, "ecn_ce_over_notect_dropped"));
	printf("udp refused: unknown source %s, no key %s, bad MAC %s, decrypt %s, decompress %s, late %s, replayed %s, far future %s\n",
	       field(d, "udp_drop_unknown_source"), field(d, "udp_drop_no_key"), field(d, "udp_drop_bad_mac"),
	       field(d, "udp_drop_decrypt"), field(d, "udp_drop_decompress"), field(d, "replay_late"),
	       field(d, "replay_replayed"), field(d, "replay_far_future"));
}

static void print_table(const row_t *rows, int n) {
	static const char *const cols[][2] = {
		{"reachable", "up"}, {"pmtu", "pmtu"}, {"ecn", "ecn"}, {"ecn_path", "ecn_path"}, {"backlog", "backlog"},
		{"sojourn_avg_ms", "soj_avg_ms"}, {"sojourn_max_ms", "soj_max_ms"},
		{"egress_drop_codel", "eg_drop_codel"}, {"egress_drop_limit", "eg_drop_limit"}, {"egress_mark_ce", "eg_mark_ce"},
		{"ingress_drop", "in_drop"}, {"ingress_mark_ce", "in_mark_ce"}, {"out_packets", "tx_pkts"}, {"in_packets", "rx_pkts"},
	};
	printf("%-12s", "node");
	for(size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		printf(" %*s", (int)MAX(strlen(cols[c][1]), 4), cols[c][1]);
	printf("  %s\n", "address");
	for(int i = 0; i < n; i++) {
		printf("%-12s", rows[i].name);
		for(size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
			const char *v = field(&rows[i], cols[c][0]);
			if(!strcmp(cols[c][0], "reachable"))
				v = !strcmp(v, "1") ? "yes" : "no";
			printf(" %*s", (int)MAX(strlen(cols[c][1]), 4), v);
		}
		printf("  %s port %s\n", field(&rows[i], "address"), field(&rows[i], "port"));
	}
}

int main(int argc, char **argv) {
	const char *netname = NULL;
	char *pidfile = NULL;
	bool json = false;
	static const struct option longopts[] = {
		{"net", required_argument, NULL, 'n'},
		{"pidfile", required_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	while((c = getopt_long(argc, argv, "+n:h", longopts, NULL)) != -1) {
		switch(c) {
		case 'n': netname = optarg; break;
		case 'p': pidfile = xstrdup(optarg); break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if(optind >= argc || strcmp(argv[optind], "stats")) {
		usage(stderr);
		return 1;
	}
	for(int i = optind + 1; i < argc; i++) {
		if(!strcmp(argv[i], "--json")) {
			json = true;
		} else {
			fprintf(stderr, "Unknown argument %s for stats; only --json is known\n", argv[i]);
			return 1;
		}
	}
	if(!pidfile)
		pidfile = netname ? xasprintf("%s/tinc.%s.pid", RUNSTATEDIR, netname) : xasprintf("%s/tinc.pid", RUNSTATEDIR);

	/* a daemon that hangs up shows as a short reply, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	int fd = connect_daemon(pidfile);
	if(fd < 0)
		return 1;
	FILE *in = fdopen(fd, "r");
	char line[8192];
	int code, a, b;
	/* the daemon's ID line, then its ACK */
	if(!next_line(in, line, sizeof(line)) || sscanf(line, "%d", &code) != 1 || code != CTL_ID ||
	   !next_line(in, line, sizeof(line)) || sscanf(line, "%d %d %d", &code, &a, &b) != 3 || code != CTL_ACK) {
		fprintf(stderr, "The daemon did not accept the cookie of %s; is the pid file stale?\n", pidfile);
		return 1;
	}
	char end[16];
	snprintf(end, sizeof(end), "%d %d", CTL_CONTROL, CTL_DUMP_STATS);
	row_t *rows = NULL, daemon;
	bool have_daemon = false;
	int n = 0;
	bool ended = false;
	while(next_line(in, line, sizeof(line))) {
		if(!strcmp(line, end)) {
			ended = true;
			break;
		}
		rows = xrealloc(rows, sizeof(*rows) * (size_t)(n + 1));
		if(!parse_row(line, &rows[n])) {
			fprintf(stderr, "Cannot read the daemon's reply: %s; is tincd the same version as this program?\n", line);
			return 1;
		}
		if(!strcmp(rows[n].name, "*")) {
			daemon = rows[n];
			have_daemon = true;
		} else {
			n++;
		}
	}
	if(!ended) {
		fprintf(stderr, "The daemon closed the control connection before the end of the statistics\n");
		return 1;
	}
	if(json) {
		print_json(have_daemon ? &daemon : NULL, rows, n);
	} else {
		print_table(rows, n);
		if(have_daemon)
			print_daemon(&daemon);
	}
	free(rows);
	fclose(in);
	free(pidfile);
	return 0;
}

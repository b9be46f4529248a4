/* fqtinc's own per-node statistics, collected once and written two ways:
 * the line of the SIGUSR2 dump in the log, and the "18 100" reply of the
 * control socket that `fqtinc stats` reads (doc/fqtinc.8). */
#ifndef FQTINC_CONTROL_DUMP_STATS_H
#define FQTINC_CONTROL_DUMP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "control/client.h"
#include "mesh/node.h"

typedef struct node_report {
	const char *name;
	char address[96];        /* "HOST port PORT" or "unknown port unknown" */
	int cipher, digest, maclength, compression;
	unsigned options, status;
	const char *nexthop, *via;
	bool reachable;
	int pmtu, pmtu_min, pmtu_max;
	const char *ecn;         /* "normal", "compat", or "-" for ourselves */
	uint64_t in_packets, in_bytes, out_packets, out_bytes;
	uint64_t udp_in, udp_out, tcp_in, tcp_out;
	uint64_t late, replayed;
	/* the egress queue */
	uint32_t backlog;
	uint64_t sent;
	double sojourn_max_ms, sojourn_avg_ms;
	uint64_t drop_codel, drop_limit, mark_ce;
	/* the receive-side CoDel */
	uint64_t in_mark_ce, in_drop;
} node_report_t;

void node_report_collect(const node_t *n, node_report_t *r);
/* The SIGUSR2 dump's line for one node (starts with a space). */
void node_report_log_line(const node_report_t *r, char *out, size_t outlen);
/* "18 100 NAME key=value ..." for every node, then "18 100". */
void control_dump_stats(control_client_t *cl, int request);

#endif

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
	const char *ecn_path;    /* what path validation found (mesh/ecn_path.h) */
	const char *dscp_path;
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
	unsigned ports; /* distinct outer source ports our datagrams to it left from (UDPPorts) */
} node_report_t;

/* What belongs to the whole daemon: UDP datagrams refused by reason, the
 * replay window, RFC 6040 decapsulation, the egress queue, the receive-side
 * CoDel. */
typedef struct daemon_report {
	uint64_t udp_unknown_source, udp_no_key, udp_bad_mac, udp_decrypt_failed, udp_decompress_failed;
	uint64_t replay_late, replay_replayed, replay_far_ahead;
	uint64_t ecn_ce_propagated, ecn_ce_over_notect_dropped, ecn_unexpected, send_errors;
	uint64_t udp_gso_messages, udp_gso_datagrams, udp_gro_reads, udp_gro_datagrams, udp_gro_lost;
	bool egress_present;
	uint64_t egress_packets, egress_drop_codel, egress_drop_limit, egress_drop_memory, egress_mark_ce;
	uint32_t egress_backlog_packets;
	uint64_t egress_backlog_bytes;
	double egress_sojourn_max_ms, egress_sojourn_avg_ms;
	uint64_t ingress_signals, ingress_drop_before_decryption, ingress_drop_notect_after_decryption;
	uint64_t ingress_drop_threshold; /* of the drops before decryption: IngressDropThreshold's */
	uint64_t ingress_mark_ce, ingress_mark_ce_threshold;
	double ingress_sojourn_max_ms, ingress_sojourn_avg_ms;
} daemon_report_t;

/* The lines of the SIGUSR2 dump that daemon_report_log_line writes. */
typedef enum daemon_report_line {
	DAEMON_REPORT_UDP,
	DAEMON_REPORT_REPLAY,
	DAEMON_REPORT_ECN,
	DAEMON_REPORT_INGRESS,
} daemon_report_line_t;

void daemon_report_collect(daemon_report_t *r);
/* One line of the SIGUSR2 dump (starts with a space). */
void daemon_report_log_line(const daemon_report_t *r, daemon_report_line_t which, char *out, size_t outlen);

void node_report_collect(const node_t *n, node_report_t *r);
/* The SIGUSR2 dump's line for one node (starts with a space). */
void node_report_log_line(const node_report_t *r, char *out, size_t outlen);
/* "18 100 * key=value ..." for the daemon, "18 100 NAME key=value ..."
 * for every node, then "18 100". */
void control_dump_stats(control_client_t *cl, int request);

#endif

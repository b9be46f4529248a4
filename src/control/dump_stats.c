#include "util/compat.h"

#include <stdio.h>
#include <string.h>

#include "control/dump_stats.h"
#include "control/protocol_ids.h"
#include "config/settings.h"
#include "aqm/ingress.h"
#include "datapath/datapath.h"
#include "datapath/egress.h"
#include "datapath/port_spread.h"
#include "io/udp_tx.h"
#include "mesh/ecn_path.h"

void daemon_report_collect(daemon_report_t *r) {
	memset(r, 0, sizeof(*r));
	const datapath_stats_t *d = &datapath_stats;
	r->udp_unknown_source = d->udp_unknown_source;
	r->udp_no_key = d->udp_no_key;
	r->udp_bad_mac = d->udp_bad_mac;
	r->udp_decrypt_failed = d->udp_decrypt_failed;
	r->udp_decompress_failed = d->udp_decompress_failed;
	r->replay_late = d->udp_replay_late;
	r->replay_replayed = d->udp_replay_replayed;
	r->replay_far_ahead = d->udp_replay_far_ahead;
	r->ecn_ce_propagated = d->ecn_ce_propagated;
	r->ecn_ce_over_notect_dropped = d->ecn_ce_drops;
	r->ecn_unexpected = d->ecn_unexpected;
	r->send_errors = udp_tx_send_errors();
	udp_tx_gso_counts(&r->udp_gso_messages, &r->udp_gso_datagrams);
	r->udp_gro_reads = d->udp_gro_reads;
	r->udp_gro_datagrams = d->udp_gro_datagrams;
	r->udp_gro_lost = d->udp_gro_lost;

	fq_codel_stats_t eg;
	if(egress_get_stats(&eg)) {
		r->egress_present = true;
		r->egress_packets = eg.dequeued_packets;
		r->egress_drop_codel = eg.drop_codel;
		r->egress_drop_limit = eg.drop_overlimit;
		r->egress_drop_memory = eg.drop_memory;
		r->egress_mark_ce = eg.ce_marks;
		r->egress_backlog_packets = eg.backlog_packets;
		r->egress_backlog_bytes = eg.backlog_bytes;
		r->egress_sojourn_max_ms = eg.sojourn_max_ns / 1e6;
		r->egress_sojourn_avg_ms = eg.sojourn_avg_ns / 1e6;
	}

	ingress_stats_t in;
	ingress_get_stats(&in);
	r->ingress_signals = in.signals;
	r->ingress_drop_before_decryption = in.dropped + in.threshold_drops;
	r->ingress_drop_threshold = in.threshold_drops;
	r->ingress_drop_notect_after_decryption = d->rx_codel_drops;
	r->ingress_mark_ce = in.marked;
	r->ingress_mark_ce_threshold = in.threshold_marks;
	r->ingress_sojourn_max_ms = in.sojourn_max_ns / 1e6;
	r->ingress_sojourn_avg_ms = in.delivered ? in.sojourn_sum_ns / 1e6 / (double)in.delivered : 0.0;
}

void daemon_report_log_line(const daemon_report_t *r, daemon_report_line_t which, char *out, size_t outlen) {
	switch(which) {
	case DAEMON_REPORT_UDP:
		snprintf(out, outlen, " udp dropped: unknown source %llu, no key %llu, bad MAC %llu, decrypt %llu, decompress %llu",
		         (unsigned long long)r->udp_unknown_source, (unsigned long long)r->udp_no_key, (unsigned long long)r->udp_bad_mac,
		         (unsigned long long)r->udp_decrypt_failed, (unsigned long long)r->udp_decompress_failed);
		break;
	case DAEMON_REPORT_REPLAY:
		snprintf(out, outlen, " replay window: late %llu, replayed %llu, far future %llu",
		         (unsigned long long)r->replay_late, (unsigned long long)r->replay_replayed, (unsigned long long)r->replay_far_ahead);
		break;
	case DAEMON_REPORT_ECN:
		snprintf(out, outlen, " ecn: CE propagated %llu, CE over Not-ECT dropped %llu, unexpected %llu; send errors %llu",
		         (unsigned long long)r->ecn_ce_propagated, (unsigned long long)r->ecn_ce_over_notect_dropped,
		         (unsigned long long)r->ecn_unexpected, (unsigned long long)r->send_errors);
		break;
	case DAEMON_REPORT_INGRESS:
		snprintf(out, outlen, " ingress codel: signals %llu, dropped before decryption %llu (threshold %llu), marked %llu (threshold %llu), dropped Not-ECT after decryption %llu, sojourn max %.3f ms avg %.3f ms",
		         (unsigned long long)r->ingress_signals, (unsigned long long)r->ingress_drop_before_decryption,
		         (unsigned long long)r->ingress_drop_threshold,
		         (unsigned long long)r->ingress_mark_ce, (unsigned long long)r->ingress_mark_ce_threshold,
		         (unsigned long long)r->ingress_drop_notect_after_decryption, r->ingress_sojourn_max_ms, r->ingress_sojourn_avg_ms);
		break;
	}
}

void node_report_collect(const node_t *n, node_report_t *r) {
	memset(r, 0, sizeof(*r));
	r->name = n->name;
	snprintf(r->address, sizeof(r->address), "%s", n->hostname ? n->hostname : "unknown port unknown");
	r->cipher = n->tx_key.cipher_nid;
	r->digest = n->tx_key.digest_nid;
	r->maclength = n->tx_key.maclength;
	r->compression = n->tx_key.compression;
	r->options = n->options;
	r->status = node_status_bits(n);
	r->nexthop = n->nexthop ? n->nexthop->name : "-";
	r->via = n->via ? n->via->name : "-";
	r->reachable = n->status.reachable;
	r->pmtu = n->mtu;
	r->pmtu_min = n->mtu_floor;
	r->pmtu_max = n->mtu_ceiling;
	r->ecn = n == local_node ? "-" : n->ecn_normal ? "normal" : "compat";
	r->ecn_path = ecn_path_state_name(n->ecn_path.state);
	r->dscp_path = dscp_path_state_name(n->ecn_path.dscp);
	const node_stats_t *s = &n->stats;
	r->in_packets = s->in_packets;
	r->in_bytes = s->in_bytes;
	r->out_packets = s->out_packets;
	r->out_bytes = s->out_bytes;
	r->udp_in = s->udp_in;
	r->udp_out = s->udp_out;
	r->tcp_in = s->tcp_in;
	r->tcp_out = s->tcp_out;
	r->late = n->replay.n_late;
	r->replayed = n->replay.n_replayed;
	r->backlog = s->q_backlog;
	r->sent = s->q_sent;
	r->sojourn_max_ms = s->q_sojourn_max_ns / 1e6;
	r->sojourn_avg_ms = s->q_sent ? s->q_sojourn_sum_ns / 1e6 / (double)s->q_sent : 0.0;
	r->drop_codel = s->q_drop_codel;
	r->drop_limit = s->q_drop_limit;
	r->mark_ce = s->q_ce;
	r->in_mark_ce = s->rx_ce;
	r->in_drop = s->rx_drop;
	r->ports = port_spread_ports_used(n);
}

void node_report_log_line(const node_report_t *r, char *out, size_t outlen) {
	snprintf(out, outlen,
	         " %s at %s cipher %d digest %d maclength %d compression %d options %x status %04x nexthop %s via %s pmtu %d (min %d max %d) ecn %s ecnpath %s dscp %s"
	         " in %llu/%llu out %llu/%llu udp %llu/%llu tcp %llu/%llu late %llu replayed %llu"
	         " queue backlog %u sent %llu sojourn max %.3f avg %.3f ms drops codel %llu limit %llu CE %llu"
	         " ingress CE %llu drops %llu ports %u",
	         r->name, r->address, r->cipher, r->digest, r->maclength, r->compression, r->options, r->status,
	         r->nexthop, r->via, r->pmtu, r->pmtu_min, r->pmtu_max, r->ecn, r->ecn_path, r->dscp_path,
	         (unsigned long long)r->in_packets, (unsigned long long)r->in_bytes,
	         (unsigned long long)r->out_packets, (unsigned long long)r->out_bytes,
	         (unsigned long long)r->udp_in, (unsigned long long)r->udp_out,
	         (unsigned long long)r->tcp_in, (unsigned long long)r->tcp_out,
	         (unsigned long long)r->late, (unsigned long long)r->replayed,
	         r->backlog, (unsigned long long)r->sent, r->sojourn_max_ms, r->sojourn_avg_ms,
	         (unsigned long long)r->drop_codel, (unsigned long long)r->drop_limit, (unsigned long long)r->mark_ce,
	         (unsigned long long)r->in_mark_ce, (unsigned long long)r->in_drop, r->ports);
}

/* key=value pairs, values without spaces, so a reader needs no grammar
 * beyond splitting; new keys may be added, readers skip unknown ones. */
static void stats_line(control_client_t *cl, int request, const node_report_t *r) {
	char host[96] = "unknown", port[32] = "unknown";
	if(sscanf(r->address, "%95s port %31s", host, port) < 2 && r->ecn[0] == '-')
		snprintf(port, sizeof(port), "%s", settings.listen_port ? settings.listen_port : "655");
	control_client_printf(cl,
	                      "%d %d %s address=%s port=%s reachable=%d pmtu=%d pmtu_min=%d pmtu_max=%d ecn=%s ecn_path=%s dscp_path=%s"
	                      " in_packets=%llu in_bytes=%llu out_packets=%llu out_bytes=%llu udp_in=%llu udp_out=%llu tcp_in=%llu tcp_out=%llu"
	                      " backlog=%u sent=%llu sojourn_max_ms=%.3f sojourn_avg_ms=%.3f"
	                      " egress_drop_codel=%llu egress_drop_limit=%llu egress_mark_ce=%llu"
	                      " ingress_mark_ce=%llu ingress_drop=%llu replay_late=%llu replay_replayed=%llu ports=%u",
	                      CTL_CONTROL, request, r->name, host, port, r->reachable, r->pmtu, r->pmtu_min, r->pmtu_max, r->ecn,
	                      r->ecn_path, r->dscp_path, (unsigned long long)r->in_packets, (unsigned long long)r->in_bytes,
	                      (unsigned long long)r->out_packets, (unsigned long long)r->out_bytes,
	                      (unsigned long long)r->udp_in, (unsigned long long)r->udp_out,
	                      (unsigned long long)r->tcp_in, (unsigned long long)r->tcp_out,
	                      r->backlog, (unsigned long long)r->sent, r->sojourn_max_ms, r->sojourn_avg_ms,
	                      (unsigned long long)r->drop_codel, (unsigned long long)r->drop_limit, (unsigned long long)r->mark_ce,
	                      (unsigned long long)r->in_mark_ce, (unsigned long long)r->in_drop,
	                      (unsigned long long)r->late, (unsigned long long)r->replayed, r->ports);
}

/* The daemon's line; "*" is no node name, so readers tell it apart. */
static void daemon_line(control_client_t *cl, int request, const daemon_report_t *r) {
	control_client_printf(cl,
	                      "%d %d * udp_drop_unknown_source=%llu udp_drop_no_key=%llu udp_drop_bad_mac=%llu udp_drop_decrypt=%llu udp_drop_decompress=%llu"
	                      " replay_late=%llu replay_replayed=%llu replay_far_future=%llu"
	                      " ecn_ce_propagated=%llu ecn_ce_over_notect_dropped=%llu ecn_unexpected=%llu send_errors=%llu"
	                      " egress_packets=%llu egress_drop_codel=%llu egress_drop_limit=%llu egress_drop_memory=%llu egress_mark_ce=%llu"
	                      " egress_backlog=%u egress_backlog_bytes=%llu egress_sojourn_max_ms=%.3f egress_sojourn_avg_ms=%.3f"
	                      " ingress_signals=%llu ingress_drop_before_decryption=%llu ingress_drop_notect_after_decryption=%llu"
	                      " ingress_drop_threshold=%llu ingress_mark_ce=%llu ingress_mark_ce_threshold=%llu ingress_sojourn_max_ms=%.3f ingress_sojourn_avg_ms=%.3f"
	                      " udp_gso_messages=%llu udp_gso_datagrams=%llu udp_gro_reads=%llu udp_gro_datagrams=%llu udp_gro_lost=%llu",
	                      CTL_CONTROL, request,
	                      (unsigned long long)r->udp_unknown_source, (unsigned long long)r->udp_no_key, (unsigned long long)r->udp_bad_mac,
	                      (unsigned long long)r->udp_decrypt_failed, (unsigned long long)r->udp_decompress_failed,
	                      (unsigned long long)r->replay_late, (unsigned long long)r->replay_replayed, (unsigned long long)r->replay_far_ahead,
	                      (unsigned long long)r->ecn_ce_propagated, (unsigned long long)r->ecn_ce_over_notect_dropped,
	                      (unsigned long long)r->ecn_unexpected, (unsigned long long)r->send_errors,
	                      (unsigned long long)r->egress_packets, (unsigned long long)r->egress_drop_codel, (unsigned long long)r->egress_drop_limit,
	                      (unsigned long long)r->egress_drop_memory, (unsigned long long)r->egress_mark_ce,
	                      r->egress_backlog_packets, (unsigned long long)r->egress_backlog_bytes, r->egress_sojourn_max_ms, r->egress_sojourn_avg_ms,
	                      (unsigned long long)r->ingress_signals, (unsigned long long)r->ingress_drop_before_decryption,
	                      (unsigned long long)r->ingress_drop_notect_after_decryption,
	                      (unsigned long long)r->ingress_drop_threshold, (unsigned long long)r->ingress_mark_ce, (unsigned long long)r->ingress_mark_ce_threshold,
	                      r->ingress_sojourn_max_ms, r->ingress_sojourn_avg_ms,
	                      (unsigned long long)r->udp_gso_messages, (unsigned long long)r->udp_gso_datagrams,
	                      (unsigned long long)r->udp_gro_reads, (unsigned long long)r->udp_gro_datagrams,
	                      (unsigned long long)r->udp_gro_lost);
}

void control_dump_stats(control_client_t *cl, int request) {
	daemon_report_t dr;
	daemon_report_collect(&dr);
	daemon_line(cl, request, &dr);
	sset_foreach(node_t, n, &nodes_by_name) {
		node_report_t r;
		node_report_collect(n, &r);
		stats_line(cl, request, &r);
	}
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}

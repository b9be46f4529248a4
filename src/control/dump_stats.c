#include "util/compat.h"

#include <stdio.h>
#include <string.h>

#include "control/dump_stats.h"
#include "control/protocol_ids.h"
#include "config/settings.h"

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
}

void node_report_log_line(const node_report_t *r, char *out, size_t outlen) {
	snprintf(out, outlen,
	         " %s at %s cipher %d digest %d maclength %d compression %d options %x status %04x nexthop %s via %s pmtu %d (min %d max %d) ecn %s"
	         " in %llu/%llu out %llu/%llu udp %llu/%llu tcp %llu/%llu late %llu replayed %llu"
	         " queue backlog %u sent %llu sojourn max %.3f avg %.3f ms drops codel %llu limit %llu CE %llu"
	         " ingress CE %llu drops %llu",
	         r->name, r->address, r->cipher, r->digest, r->maclength, r->compression, r->options, r->status,
	         r->nexthop, r->via, r->pmtu, r->pmtu_min, r->pmtu_max, r->ecn,
	         (unsigned long long)r->in_packets, (unsigned long long)r->in_bytes,
	         (unsigned long long)r->out_packets, (unsigned long long)r->out_bytes,
	         (unsigned long long)r->udp_in, (unsigned long long)r->udp_out,
	         (unsigned long long)r->tcp_in, (unsigned long long)r->tcp_out,
	         (unsigned long long)r->late, (unsigned long long)r->replayed,
	         r->backlog, (unsigned long long)r->sent, r->sojourn_max_ms, r->sojourn_avg_ms,
	         (unsigned long long)r->drop_codel, (unsigned long long)r->drop_limit, (unsigned long long)r->mark_ce,
	         (unsigned long long)r->in_mark_ce, (unsigned long long)r->in_drop);
}

/* key=value pairs, values without spaces, so a reader needs no grammar
 * beyond splitting; new keys may be added, readers skip unknown ones. */
static void stats_line(control_client_t *cl, int request, const node_report_t *r) {
	char host[96] = "unknown", port[32] = "unknown";
	if(sscanf(r->address, "%95s port %31s", host, port) < 2 && r->ecn[0] == '-')
		snprintf(port, sizeof(port), "%s", settings.listen_port ? settings.listen_port : "655");
	control_client_printf(cl,
	                      "%d %d %s address=%s port=%s reachable=%d pmtu=%d pmtu_min=%d pmtu_max=%d ecn=%s"
	                      " in_packets=%llu in_bytes=%llu out_packets=%llu out_bytes=%llu udp_in=%llu udp_out=%llu tcp_in=%llu tcp_out=%llu"
	                      " backlog=%u sent=%llu sojourn_max_ms=%.3f sojourn_avg_ms=%.3f"
	                      " egress_drop_codel=%llu egress_drop_limit=%llu egress_mark_ce=%llu"
	                      " ingress_mark_ce=%llu ingress_drop=%llu replay_late=%llu replay_replayed=%llu",
	                      CTL_CONTROL, request, r->name, host, port, r->reachable, r->pmtu, r->pmtu_min, r->pmtu_max, r->ecn,
	                      (unsigned long long)r->in_packets, (unsigned long long)r->in_bytes,
	                      (unsigned long long)r->out_packets, (unsigned long long)r->out_bytes,
	                      (unsigned long long)r->udp_in, (unsigned long long)r->udp_out,
	                      (unsigned long long)r->tcp_in, (unsigned long long)r->tcp_out,
	                      r->backlog, (unsigned long long)r->sent, r->sojourn_max_ms, r->sojourn_avg_ms,
	                      (unsigned long long)r->drop_codel, (unsigned long long)r->drop_limit, (unsigned long long)r->mark_ce,
	                      (unsigned long long)r->in_mark_ce, (unsigned long long)r->in_drop,
	                      (unsigned long long)r->late, (unsigned long long)r->replayed);
}

void control_dump_stats(control_client_t *cl, int request) {
	sset_foreach(node_t, n, &nodes_by_name) {
		node_report_t r;
		node_report_collect(n, &r);
		stats_line(cl, request, &r);
	}
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}

/* The daemon's heartbeat: the device reader, housekeeping (pings, timeouts,
 * key expiry, MAC aging), the end of every loop turn, and the USR1/USR2
 * dumps. */
#include "util/compat.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "datapath/datapath.h"
#include "datapath/mac_learning.h"
#include "datapath/rekey.h"
#include "datapath/transmit.h"
#include "io/device.h"
#include "mesh/edge.h"
#include "datapath/egress.h"
#include "aqm/ingress.h"
#include "util/event.h"
#include "mesh/graph.h"
#include "daemon/graphdump.h"
#include "util/log.h"
#include "daemon/net.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "meta/connection.h"
#include "meta/net_socket.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "io/udp_tx.h"
#include "util/xalloc.h"


static fd_watch_t device_watch;
static ev_timer_t housekeeping_timer;
static uint64_t last_key_expiry;
static uint64_t last_edge_storm_check;

/* ---- housekeeping (protocol.md §7) ---- */

static void check_connections(void) {
	uint64_t timeout = sec_to_ns((uint64_t)settings.pingtimeout);
	uint64_t interval = sec_to_ns((uint64_t)settings.pinginterval);
	for(size_t i = 0; i < connection_set.count;) {
		connection_t *c = connection_set.items[i];
		size_t before = connection_set.count;
		if(c->status.dead) {
			i++;
			continue;
		}
		if(!c->status.active) {
			if(now_ns - c->created_ns >= timeout) {
				if(c->status.connecting)
					LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Connecting to %s (%s) took longer than %d s: giving up on this address", c->name, c->hostname, settings.pingtimeout);
				else
					LOG(VERBOSITY_CONNECTIONS, LOG_WARNING, "Authentication of %s (%s) took longer than %d s: closing the connection", c->name, c->hostname, settings.pingtimeout);
				if(c->status.connecting) {
					outgoing_t *o = c->outgoing;
					c->outgoing = NULL;
					connection_close(c);
					if(o)
						outgoing_try_next_address(o);
				} else {
					c->status.tarpit = true;
					connection_shutdown(c, false);
				}
			}
		} else if(c->status.ping_outstanding && now_ns - c->last_ping_ns >= timeout) {
			LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "No PONG from %s (%s) within %d s: closing the connection", c->name, c->hostname, settings.pingtimeout);
			connection_shutdown(c, true);
		} else if(c->outlen > c->outstart && now_ns - c->last_flushed_ns >= timeout) {
			LOG(VERBOSITY_CONNECTIONS, LOG_INFO, "Nothing could be sent to %s (%s) for %d s, %zu bytes still queued: closing the connection",
			    c->name, c->hostname, settings.pingtimeout, c->outlen - c->outstart);
			connection_shutdown(c, true);
		} else if(!c->status.ping_outstanding && now_ns - c->last_ping_ns >= interval) {
			send_ping_request(c);
		}
		if(connection_set.count == before)
			i++;
	}
}

/* The contradiction-storm pause: like tinc 1.0.36 the daemon handles no
 * network at all for the pause, but a pending TERM or QUIT ends the pause
 * early, so that stopping the daemon never waits for it. */
static void pause_network(int seconds) {
	uint64_t end = clock_now_ns() + sec_to_ns((uint64_t)seconds);
	for(uint64_t t = clock_now_ns(); t < end; t = clock_now_ns()) {
		sigset_t pending;
		if(!sigpending(&pending) && (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGQUIT)))
			break;
		uint64_t step = MIN(end - t, 200 * NSEC_PER_MSEC);
		struct timespec ts = {(time_t)(step / NSEC_PER_SEC), (long)(step % NSEC_PER_SEC)};
		nanosleep(&ts, NULL);
	}
	now_ns = clock_now_ns();
}

static void housekeeping(void *data) {
	(void)data;
	/* tinc 1.0.36 counts contradictions per PingTimeout; so do we. */
	if(now_ns - last_edge_storm_check >= sec_to_ns((uint64_t)settings.pingtimeout)) {
		last_edge_storm_check = now_ns;
		int pause = edge_storm_tick(settings.pingtimeout);
		if(pause)
			pause_network(pause);
	}
	check_connections();
	past_request_age();
	if(settings.route_mode == MODE_SWITCH)
		expire_learned_macs();
	if(keyexpire_requested || now_ns - last_key_expiry >= sec_to_ns((uint64_t)settings.key_expire)) {
		last_key_expiry = now_ns;
		keyexpire_now();
	}
	graphdump_periodic();
	egress_trim();
	/* Poll at least once a second so timeouts are not quantised to PingTimeout. */
	timer_set(&housekeeping_timer, NSEC_PER_SEC, housekeeping, NULL);
}

void net_start(void) {
	last_key_expiry = now_ns;
	last_edge_storm_check = now_ns;
	if(device.fd >= 0)
		fd_watch_start(&device_watch, device.fd, EPOLLIN, device_readable, NULL);
	datapath_link_start();
	/* once per loop turn: queued frames go out, then the sendmmsg batches */
	event_set_idle_hook(datapath_end_of_turn);
	graph_recompute();
	timer_set(&housekeeping_timer, NSEC_PER_SEC, housekeeping, NULL);
}

void net_stop(void) {
	timer_del(&housekeeping_timer);
	fd_watch_stop(&device_watch);
	egress_exit();
	net_socket_exit();
	graphdump_exit();
}

/* ---- dumps (USR1, USR2) ---- */

void dump_connection_list(void) {
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "Connections:");
	sset_foreach(connection_t, c, &connection_set)
		logger(VERBOSITY_ERRORS, LOG_DEBUG, " %s at %s options %x socket %d status %s%s%s",
		       c->name, c->hostname, c->options, c->socket,
		       c->status.active ? "active" : "authenticating",
		       c->status.on_mst ? " mst" : "", c->status.outgoing ? " outgoing" : "");
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "End of connections.");
}

void dump_nodes_edges_subnets(void) {
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "Traffic through %s %s:", device.type == DEVICE_TUN ? "tun" : "device", device.iface ? device.iface : "");
	logger(VERBOSITY_ERRORS, LOG_DEBUG, " bytes read:    %10llu", (unsigned long long)device.in_bytes);
	logger(VERBOSITY_ERRORS, LOG_DEBUG, " bytes written: %10llu", (unsigned long long)device.out_bytes);

	const datapath_stats_t *d = &datapath_stats;
	logger(VERBOSITY_ERRORS, LOG_DEBUG, " udp dropped: unknown source %llu, no key %llu, bad MAC %llu, decrypt %llu, decompress %llu",
	       (unsigned long long)d->udp_unknown_source, (unsigned long long)d->udp_no_key, (unsigned long long)d->udp_bad_mac,
	       (unsigned long long)d->udp_decrypt_failed, (unsigned long long)d->udp_decompress_failed);
	logger(VERBOSITY_ERRORS, LOG_DEBUG, " replay window: late %llu, replayed %llu, far future %llu",
	       (unsigned long long)d->udp_replay_late, (unsigned long long)d->udp_replay_replayed, (unsigned long long)d->udp_replay_far_ahead);
	logger(VERBOSITY_ERRORS, LOG_DEBUG, " ecn: CE propagated %llu, CE over Not-ECT dropped %llu, unexpected %llu; send errors %llu",
	       (unsigned long long)d->ecn_ce_propagated, (unsigned long long)d->ecn_ce_drops, (unsigned long long)d->ecn_unexpected,
	       (unsigned long long)udp_tx_send_errors());
	egress_dump();
	ingress_stats_t in;
	ingress_get_stats(&in);
	logger(VERBOSITY_ERRORS, LOG_DEBUG, " ingress codel: signals %llu, dropped before decryption %llu, marked %llu (threshold %llu), dropped Not-ECT after decryption %llu, sojourn max %.3f ms avg %.3f ms",
	       (unsigned long long)in.signals, (unsigned long long)in.dropped, (unsigned long long)in.marked,
	       (unsigned long long)in.threshold_marks,
	       (unsigned long long)d->rx_codel_drops, in.sojourn_max_ns / 1e6,
	       in.delivered ? in.sojourn_sum_ns / 1e6 / (double)in.delivered : 0.0);
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "Nodes:");
	sset_foreach(node_t, n, &nodes_by_name) {
		logger(VERBOSITY_ERRORS, LOG_DEBUG,
		       " %s at %s cipher %d digest %d maclength %d compression %d options %x status %04x nexthop %s via %s pmtu %d (min %d max %d) ecn %s ecnpath %s dscp %s"
		       " in %llu/%llu out %llu/%llu udp %llu/%llu tcp %llu/%llu late %llu replayed %llu"
		       " queue backlog %u sent %llu sojourn max %.3f avg %.3f ms drops codel %llu limit %llu CE %llu"
		       " ingress CE %llu drops %llu",
		       n->name, n->hostname ? n->hostname : "unknown port unknown",
		       n->tx_key.cipher_nid, n->tx_key.digest_nid, n->tx_key.maclength, n->tx_key.compression,
		       n->options, node_status_bits(n),
		       n->nexthop ? n->nexthop->name : "-", n->via ? n->via->name : "-",
		       n->mtu, n->mtu_floor, n->mtu_ceiling,
		       n == local_node ? "-" : n->ecn_normal ? "normal" : "compat",
		       ecn_path_state_name(n->ecn_path.state), dscp_path_state_name(n->ecn_path.dscp),
		       (unsigned long long)n->stats.in_packets, (unsigned long long)n->stats.in_bytes,
		       (unsigned long long)n->stats.out_packets, (unsigned long long)n->stats.out_bytes,
		       (unsigned long long)n->stats.udp_in, (unsigned long long)n->stats.udp_out,
		       (unsigned long long)n->stats.tcp_in, (unsigned long long)n->stats.tcp_out,
		       (unsigned long long)n->replay.n_late, (unsigned long long)n->replay.n_replayed,
		       n->stats.q_backlog, (unsigned long long)n->stats.q_sent, n->stats.q_sojourn_max_ns / 1e6,
		       n->stats.q_sent ? n->stats.q_sojourn_sum_ns / 1e6 / (double)n->stats.q_sent : 0.0,
		       (unsigned long long)n->stats.q_drop_codel, (unsigned long long)n->stats.q_drop_limit,
		       (unsigned long long)n->stats.q_ce, (unsigned long long)n->stats.rx_ce, (unsigned long long)n->stats.rx_drop);
	}
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "End of nodes.");

	logger(VERBOSITY_ERRORS, LOG_DEBUG, "Edges:");
	sset_foreach(node_t, n, &nodes_by_name) {
		sset_foreach(edge_t, e, &n->edges) {
			char host[SOCKADDR_STRLEN] = "unknown", port[16] = "unknown";
			if(e->address.sa.sa_family)
				sockaddr_format(&e->address, host, sizeof(host), port, sizeof(port));
			logger(VERBOSITY_ERRORS, LOG_DEBUG, " %s to %s at %s port %s options %x weight %d",
			       e->from->name, e->to->name, host, port, e->options, e->weight);
		}
	}
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "End of edges.");

	logger(VERBOSITY_ERRORS, LOG_DEBUG, "Subnets:");
	sset_foreach(subnet_t, s, &subnets_all) {
		char net[SUBNET_TEXT_MAX];
		subnet_format(net, sizeof(net), s);
		logger(VERBOSITY_ERRORS, LOG_DEBUG, " %s owner %s", net, s->owner ? s->owner->name : "-");
	}
	logger(VERBOSITY_ERRORS, LOG_DEBUG, "End of subnets.");
}

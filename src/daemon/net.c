/* The daemon's heartbeat: the device reader, housekeeping (pings, timeouts,
 * key expiry, MAC aging), the consequences of graph changes (scripts, keys,
 * PMTU), purging unreachable nodes, and the USR1/USR2 dumps. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "datapath/mac_learning.h"
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
#include "io/udp_tx.h"
#include "util/xalloc.h"

void net_socket_exit(void);             /* net_socket.c */

static io_t device_io;
static ev_timer_t housekeeping_timer;
static uint64_t last_key_expiry;

/* ---- scripts for nodes and subnets ---- */

static void node_script_env(node_t *n, char **env, size_t *k) {
	char host[SOCKADDR_STRLEN] = "unknown", port[16] = "unknown";
	if(n->address.sa.sa_family)
		sockaddr2str(&n->address, host, sizeof(host), port, sizeof(port));
	env[(*k)++] = xasprintf("REMOTEADDRESS=%s", host);
	env[(*k)++] = xasprintf("REMOTEPORT=%s", port);
}

static void free_env(char **env) {
	for(char **e = env; *e; e++)
		free(*e);
}

static void subnet_script(node_t *owner, subnet_t *s, bool up) {
	char net[MAXNETSTR];
	char *env[8] = {0};
	size_t k = 0;
	net2str_noweight(net, sizeof(net), s);
	env[k++] = xasprintf("NODE=%s", owner->name);
	env[k++] = xasprintf("SUBNET=%s", net);
	env[k++] = xasprintf("WEIGHT=%d", s->weight);
	if(owner != myself)
		node_script_env(owner, env, &k);
	run_script(up ? "subnet-up" : "subnet-down", env);
	free_env(env);
}

void subnet_update(node_t *owner, subnet_t *subnet, bool up) {
	if(subnet) {
		subnet_script(owner, subnet, up);
		return;
	}
	sset_foreach(subnet_t, s, &owner->subnets)
		subnet_script(owner, s, up);
}

static void host_scripts(node_t *n, bool up) {
	char *env[4] = {0};
	size_t k = 0;
	env[k++] = xasprintf("NODE=%s", n->name);
	node_script_env(n, env, &k);
	run_script(up ? "host-up" : "host-down", env);
	char *name = xasprintf("hosts/%s-%s", n->name, up ? "up" : "down");
	run_script(name, env);
	free(name);
	free_env(env);
}

/* ---- graph consequences (spec §6.2) ---- */

static void reachability_changed(node_t *n) {
	if(n == myself)
		return;
	if(n->status.reachable)
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Node %s (%s) became reachable", n->name, n->hostname ? n->hostname : "unknown");
	else
		LOG(DEBUG_TRAFFIC, LOG_DEBUG, "Node %s (%s) became unreachable", n->name, n->hostname ? n->hostname : "unknown");
	logger(DEBUG_STATUS, LOG_INFO, "Node %s became %s", n->name, n->status.reachable ? "reachable" : "unreachable");

	/* A flip invalidates the key for sending and the PMTU probing state;
	 * n->mtu stays, as in 1.0.36, so a PMTU from the ACK (which comes
	 * before the edge that makes the node reachable) is not lost. */
	n->status.validkey = false;
	n->status.waitingforkey = false;
	n->status.udp_confirmed = false;
	n->last_req_key = 0;
	packet_key_clear(&n->outkey);
	pmtu_reset(n);

	host_scripts(n, n->status.reachable);
	subnet_update(n, NULL, n->status.reachable);

	if(!n->status.reachable) {
		update_node_udp(n, NULL);
		n->options = 0;
		n->status.indirect = false;
	} else if(n->connection && n->connection->status.active) {
		send_ans_key(n);
	}
}

void graph_changed(void) {
	graph_reachability_changed = reachability_changed;
	graph();
}

/* Forget unreachable nodes (WINCH, or when the last connection closes). */
void purge(void) {
	LOG(DEBUG_PROTOCOL, LOG_DEBUG, "Purging unreachable nodes");
	for(size_t i = 0; i < node_tree.count; i++) {
		node_t *n = node_tree.items[i];
		if(n->status.reachable || n == myself)
			continue;
		LOG(DEBUG_STATUS, LOG_DEBUG, "Purging node %s (%s)", n->name, n->hostname ? n->hostname : "unknown");
		if(!settings.strictsubnets) {
			while(n->subnets.count) {
				subnet_t *s = n->subnets.items[0];
				sset_foreach(connection_t, c, &connection_list)
					if(c->status.active)
						send_del_subnet(c, s);
				subnet_del(n, s);
			}
		}
		while(n->edges.count) {
			edge_t *e = n->edges.items[0];
			sset_foreach(connection_t, c, &connection_list)
				if(c->status.active)
					send_del_edge(c, e);
			edge_del(e);
		}
	}
	/* Then delete unreachable nodes no edge points to. */
	for(size_t i = 0; i < node_tree.count;) {
		node_t *n = node_tree.items[i];
		bool referenced = n == myself || n->status.reachable || n->connection;
		if(!referenced) {
			sset_foreach(edge_t, e, &edge_weight_tree)
				if(e->to == n)
					referenced = true;
		}
		if(!referenced && (!settings.strictsubnets || !n->subnets.count)) {
			udp_tx_forget_node(n);
			egress_forget_node(n);
			node_del(n);
			continue;
		}
		i++;
	}
	subnet_cache_flush();
}

/* ---- housekeeping (spec §7) ---- */

static void check_connections(void) {
	uint64_t timeout = sec_to_ns((uint64_t)settings.pingtimeout);
	uint64_t interval = sec_to_ns((uint64_t)settings.pinginterval);
	for(size_t i = 0; i < connection_list.count;) {
		connection_t *c = connection_list.items[i];
		size_t before = connection_list.count;
		if(c->status.dead) {
			i++;
			continue;
		}
		if(!c->status.active) {
			if(now_ns - c->created_ns >= timeout) {
				if(c->status.connecting)
					LOG(DEBUG_CONNECTIONS, LOG_WARNING, "Timeout while connecting to %s (%s)", c->name, c->hostname);
				else
					LOG(DEBUG_CONNECTIONS, LOG_WARNING, "Timeout from %s (%s) during authentication", c->name, c->hostname);
				if(c->status.connecting) {
					outgoing_t *o = c->outgoing;
					c->outgoing = NULL;
					connection_close(c);
					if(o)
						do_outgoing_connection(o);
				} else {
					c->status.tarpit = true;
					terminate_connection(c, false);
				}
			}
		} else if(c->status.pinged && now_ns - c->last_ping_ns >= timeout) {
			LOG(DEBUG_CONNECTIONS, LOG_INFO, "%s (%s) didn't respond to PING in %d seconds", c->name, c->hostname, settings.pingtimeout);
			terminate_connection(c, true);
		} else if(c->outlen > c->outstart && now_ns - c->last_flushed_ns >= timeout) {
			LOG(DEBUG_CONNECTIONS, LOG_INFO, "%s (%s) could not flush for %d seconds (%zu bytes remaining)",
			    c->name, c->hostname, settings.pingtimeout, c->outlen - c->outstart);
			terminate_connection(c, true);
		} else if(!c->status.pinged && now_ns - c->last_ping_ns >= interval) {
			send_ping(c);
		}
		if(connection_list.count == before)
			i++;
	}
}

static void housekeeping(void *data) {
	(void)data;
	check_connections();
	past_request_age();
	if(settings.routing_mode == RMODE_SWITCH)
		expire_learned_macs();
	if(keyexpire_requested || now_ns - last_key_expiry >= sec_to_ns((uint64_t)settings.keylifetime)) {
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
	if(device.fd >= 0)
		io_add(&device_io, device.fd, EPOLLIN, device_readable, NULL);
	datapath_link_start();
	/* once per loop turn: queued frames go out, then the sendmmsg batches */
	event_set_idle_hook(datapath_end_of_turn);
	graph_changed();
	timer_set(&housekeeping_timer, NSEC_PER_SEC, housekeeping, NULL);
}

void net_stop(void) {
	timer_del(&housekeeping_timer);
	io_del(&device_io);
	egress_exit();
	net_socket_exit();
	graphdump_exit();
}

/* ---- dumps (USR1, USR2) ---- */

void dump_connections(void) {
	logger(DEBUG_ALWAYS, LOG_DEBUG, "Connections:");
	sset_foreach(connection_t, c, &connection_list)
		logger(DEBUG_ALWAYS, LOG_DEBUG, " %s at %s options %x socket %d status %s%s%s",
		       c->name, c->hostname, c->options, c->socket,
		       c->status.active ? "active" : "authenticating",
		       c->status.mst ? " mst" : "", c->status.outgoing ? " outgoing" : "");
	logger(DEBUG_ALWAYS, LOG_DEBUG, "End of connections.");
}

void dump_nodes_edges_subnets(void) {
	logger(DEBUG_ALWAYS, LOG_DEBUG, "Statistics for %s %s:", device.type == DEVICE_TUN ? "tun" : "device", device.iface ? device.iface : "");
	logger(DEBUG_ALWAYS, LOG_DEBUG, " total bytes in:  %10llu", (unsigned long long)device.in_bytes);
	logger(DEBUG_ALWAYS, LOG_DEBUG, " total bytes out: %10llu", (unsigned long long)device.out_bytes);

	const datapath_stats_t *d = &datapath_stats;
	logger(DEBUG_ALWAYS, LOG_DEBUG, " udp dropped: unknown source %llu, no key %llu, bad MAC %llu, decrypt %llu, decompress %llu",
	       (unsigned long long)d->udp_unknown_source, (unsigned long long)d->udp_no_key, (unsigned long long)d->udp_bad_mac,
	       (unsigned long long)d->udp_decrypt_failed, (unsigned long long)d->udp_decompress_failed);
	logger(DEBUG_ALWAYS, LOG_DEBUG, " replay window: late %llu, replayed %llu, far future %llu",
	       (unsigned long long)d->udp_replay_late, (unsigned long long)d->udp_replay_replayed, (unsigned long long)d->udp_replay_farfuture);
	logger(DEBUG_ALWAYS, LOG_DEBUG, " ecn: CE propagated %llu, CE over Not-ECT dropped %llu, unexpected %llu; send errors %llu",
	       (unsigned long long)d->ecn_ce_propagated, (unsigned long long)d->ecn_ce_drops, (unsigned long long)d->ecn_unexpected,
	       (unsigned long long)udp_tx_send_errors());
	egress_dump();
	ingress_stats_t in;
	ingress_get_stats(&in);
	logger(DEBUG_ALWAYS, LOG_DEBUG, " ingress codel: signals %llu, dropped before decryption %llu, marked %llu (threshold %llu), dropped Not-ECT after decryption %llu, sojourn max %.3f ms avg %.3f ms",
	       (unsigned long long)in.signals, (unsigned long long)in.dropped, (unsigned long long)in.marked,
	       (unsigned long long)in.threshold_marks,
	       (unsigned long long)d->rx_codel_drops, in.sojourn_max_ns / 1e6,
	       in.delivered ? in.sojourn_sum_ns / 1e6 / (double)in.delivered : 0.0);
	logger(DEBUG_ALWAYS, LOG_DEBUG, "Nodes:");
	sset_foreach(node_t, n, &node_tree) {
		logger(DEBUG_ALWAYS, LOG_DEBUG,
		       " %s at %s cipher %d digest %d maclength %d compression %d options %x status %04x nexthop %s via %s pmtu %d (min %d max %d) ecn %s"
		       " in %llu/%llu out %llu/%llu udp %llu/%llu tcp %llu/%llu late %llu replayed %llu"
		       " queue backlog %u sent %llu sojourn max %.3f avg %.3f ms drops codel %llu limit %llu CE %llu"
		       " ingress CE %llu drops %llu",
		       n->name, n->hostname ? n->hostname : "unknown port unknown",
		       n->outkey.cipher_nid, n->outkey.digest_nid, n->outkey.maclength, n->outkey.compression,
		       n->options, node_status_bits(n),
		       n->nexthop ? n->nexthop->name : "-", n->via ? n->via->name : "-",
		       n->mtu, n->minmtu, n->maxmtu,
		       n == myself ? "-" : node_ecn_normal(n) ? "normal" : "compat",
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
	logger(DEBUG_ALWAYS, LOG_DEBUG, "End of nodes.");

	logger(DEBUG_ALWAYS, LOG_DEBUG, "Edges:");
	sset_foreach(node_t, n, &node_tree) {
		sset_foreach(edge_t, e, &n->edges) {
			char host[SOCKADDR_STRLEN] = "unknown", port[16] = "unknown";
			if(e->address.sa.sa_family)
				sockaddr2str(&e->address, host, sizeof(host), port, sizeof(port));
			logger(DEBUG_ALWAYS, LOG_DEBUG, " %s to %s at %s port %s options %x weight %d",
			       e->from->name, e->to->name, host, port, e->options, e->weight);
		}
	}
	logger(DEBUG_ALWAYS, LOG_DEBUG, "End of edges.");

	logger(DEBUG_ALWAYS, LOG_DEBUG, "Subnet list:");
	sset_foreach(subnet_t, s, &subnet_tree) {
		char net[MAXNETSTR];
		net2str(net, sizeof(net), s);
		logger(DEBUG_ALWAYS, LOG_DEBUG, " %s owner %s", net, s->owner ? s->owner->name : "-");
	}
	logger(DEBUG_ALWAYS, LOG_DEBUG, "End of subnet list.");
}

/* Every reply line is "18 REQUEST fields..."; an end line "18 REQUEST"
 * closes each dump (doc/protocol.md §12.4). Addresses are always written
 * as "HOST port PORT", because the reader splits on the word "port". */
#include "util/compat.h"

#include <openssl/obj_mac.h>
#include <stdio.h>
#include <string.h>

#include "control/dump_mesh.h"
#include "control/protocol_ids.h"
#include "config/settings.h"
#include "mesh/edge.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "packet/crypto.h"
#include "util/sockaddr.h"

/* tinc 1.1 names a node by the first six bytes of SHA-256 of its name. */
static void node_id_hex(const node_t *n, char out[13]) {
	uint8_t digest[64];
	size_t len = sizeof(digest);
	if(!digest_oneshot(NID_sha256, n->name, strlen(n->name), digest, &len) || len < 6)
		memset(digest, 0, 6);
	for(int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* "HOST port PORT", whatever the node's hostname holds. */
static void node_address(const node_t *n, char *out, size_t outlen) {
	if(n == local_node)
		snprintf(out, outlen, "MYSELF port %s", settings.listen_port ? settings.listen_port : "655");
	else if(n->hostname && strstr(n->hostname, " port "))
		snprintf(out, outlen, "%s", n->hostname);
	else
		snprintf(out, outlen, "unknown port unknown");
}

/* Hops from us along the tree the last graph run built; -1 if unreachable. */
static int node_distance(const node_t *n) {
	if(n == local_node)
		return 0;
	if(!n->status.reachable)
		return -1;
	int hops = 0;
	for(const node_t *m = n; m && m != local_node && hops <= (int)nodes_by_name.count; hops++)
		m = m->parent_edge ? m->parent_edge->from : NULL;
	return hops;
}

/* tinc 1.1's status word: 1.0's bits, plus bit 7 for "UDP confirmed". */
static unsigned node_status_word(const node_t *n) {
	return node_status_bits(n) | (unsigned)n->status.udp_verified << 7;
}

void control_dump_nodes(control_client_t *cl, int request) {
	sset_foreach(node_t, n, &nodes_by_name) {
		char id[13], addr[SOCKADDR_STRLEN + 32];
		node_id_hex(n, id);
		node_address(n, addr, sizeof(addr));
		control_client_printf(cl, "%d %d %s %s %s %d %d %d %d %x %x %s %s %d %d %d %d %ld %d %llu %llu %llu %llu",
		                      CTL_CONTROL, request, n->name, id, addr,
		                      n->tx_key.cipher_nid, n->tx_key.digest_nid, n->tx_key.maclength, n->tx_key.compression,
		                      n->options, node_status_word(n),
		                      n->nexthop ? n->nexthop->name : "-", n->via ? n->via->name : "-",
		                      node_distance(n), n->mtu, n->mtu_floor, n->mtu_ceiling,
		                      0L /* we keep no time of the last state change */, -1 /* no UDP ping RTT */,
		                      (unsigned long long)n->stats.in_packets, (unsigned long long)n->stats.in_bytes,
		                      (unsigned long long)n->stats.out_packets, (unsigned long long)n->stats.out_bytes);
	}
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}

void control_dump_edges(control_client_t *cl, int request) {
	sset_foreach(node_t, n, &nodes_by_name) {
		sset_foreach(edge_t, e, &n->edges) {
			char host[SOCKADDR_STRLEN] = "unknown", port[16] = "unknown";
			if(e->address.sa.sa_family)
				sockaddr_format(&e->address, host, sizeof(host), port, sizeof(port));
			else if(e->address_str && e->port_str) {
				snprintf(host, sizeof(host), "%s", e->address_str);
				snprintf(port, sizeof(port), "%s", e->port_str);
			}
			/* The legacy protocol carries no local address. */
			control_client_printf(cl, "%d %d %s %s %s port %s unspec port unspec %x %d",
			                      CTL_CONTROL, request, e->from->name, e->to->name, host, port,
			                      e->options, e->weight);
		}
	}
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}

/* RFC 5952: the first longest run of two or more zero groups becomes "::"
 * (tinc 1.1 writes IPv6 subnets so; 1.0's wire form spells every group). */
static void ipv6_text(char *out, size_t outlen, const uint8_t a[16], int prefix_bits) {
	int best = -1, best_len = 1;
	for(int i = 0; i < 8;) {
		int run = 0;
		while(i + run < 8 && !a[2 * (i + run)] && !a[2 * (i + run) + 1])
			run++;
		if(run > best_len) {
			best = i;
			best_len = run;
		}
		i += run ? run : 1;
	}
	size_t used = 0;
	for(int i = 0; i < 8 && used < outlen;) {
		if(i == best) {
			used += (size_t)snprintf(out + used, outlen - used, i == 0 ? "::" : ":");
			i += best_len;
			continue;
		}
		used += (size_t)snprintf(out + used, outlen - used, "%x%s", a[2 * i] << 8 | a[2 * i + 1], i < 7 ? ":" : "");
		i++;
	}
	if(used < outlen && prefix_bits != 128)
		snprintf(out + used, outlen - used, "/%d", prefix_bits);
}

/* tinc 1.1 leaves out a host prefix (/32, /128) and the default weight. */
bool control_subnet_text(char *out, size_t outlen, const subnet_t *s) {
	char bare[SUBNET_TEXT_MAX];
	const uint8_t *mac = s->net.mac.address;
	if(s->type == SUBNET_IPV6)
		ipv6_text(bare, sizeof(bare), s->net.ipv6.address, s->net.ipv6.prefix_bits);
	else if(s->type == SUBNET_MAC) /* two digits a byte, unlike 1.0's wire form */
		snprintf(bare, sizeof(bare), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	else if(!subnet_format_without_weight(bare, sizeof(bare), s))
		return false;
	size_t len = strlen(bare);
	if(s->type == SUBNET_IPV4 && len > 3 && !strcmp(bare + len - 3, "/32"))
		bare[len - 3] = 0;
	else if(s->type == SUBNET_IPV6 && len > 4 && !strcmp(bare + len - 4, "/128"))
		bare[len - 4] = 0;
	if(s->weight != DEFAULT_WEIGHT)
		snprintf(out, outlen, "%s#%d", bare, s->weight);
	else
		snprintf(out, outlen, "%s", bare);
	return true;
}

void control_dump_subnets(control_client_t *cl, int request) {
	sset_foreach(subnet_t, s, &subnets_all) {
		char net[SUBNET_TEXT_MAX + 16];
		if(!control_subnet_text(net, sizeof(net), s))
			continue;
		control_client_printf(cl, "%d %d %s %s", CTL_CONTROL, request, net,
		                      s->owner ? s->owner->name : "(broadcast)");
	}
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}

void control_dump_traffic(control_client_t *cl, int request) {
	sset_foreach(node_t, n, &nodes_by_name)
		control_client_printf(cl, "%d %d %s %llu %llu %llu %llu", CTL_CONTROL, request, n->name,
		                      (unsigned long long)n->stats.in_packets, (unsigned long long)n->stats.in_bytes,
		                      (unsigned long long)n->stats.out_packets, (unsigned long long)n->stats.out_bytes);
	control_client_printf(cl, "%d %d", CTL_CONTROL, request);
}

/* Packet keys (protocol.md §5.4): KEY_CHANGED, REQ_KEY and ANS_KEY.
 *
 * Unlike tinc 1.0.36 we never route a key request towards a node we cannot
 * reach: its next hop is unknown then, and 1.0.36 crashes on exactly that. */
#include "util/compat.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "meta/connection.h"
#include "util/hex.h"
#include "util/log.h"
#include "config/settings.h"
#include "datapath/pmtu.h"
#include "mesh/node.h"
#include "meta/meta.h"
#include "packet/packet_codec.h"
#include "meta/protocol.h"
#include "packet/replay.h"

/* The meta connection that leads towards n, or NULL (logged). */
static connection_t *route_to(const node_t *n, const char *what) {
	connection_t *c = n->status.reachable && n->nexthop ? n->nexthop->connection : NULL;
	if(!c || !c->status.active) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "Cannot send %s to %s: no route to it", what, n->name);
		return NULL;
	}
	return c;
}

/* ---- KEY_CHANGED ---- */

/* Only the flood; the daemon sends the fresh ANS_KEYs itself (keyexpire_now). */
void send_key_changed_request(void) {
	request_send(broadcast_conn, "%d %x %s", REQ_KEY_CHANGED, request_nonce(), local_node->name);
}

bool handle_key_changed_request(connection_t *c, request_fields_t *rf, const char *line) {
	uint32_t nonce;
	if(rf->count < 3 || !parse_hex32_field(rf->f[1], &nonce))
		return bad_request(c, REQ_KEY_CHANGED, NULL);
	const char *name = rf->f[2];
	if(!node_name_is_valid(name))
		return bad_request(c, REQ_KEY_CHANGED, "invalid name");

	if(request_seen_before(line))
		return true;

	node_t *n = node_find(name);
	if(!n) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s from %s (%s) names the unknown node %s as its origin",
		       "KEY_CHANGED", c->name, c->hostname, name);
		return true;
	}
	if(n != local_node) {
		/* Stop using the old key; the next packet for n asks for a new one. */
		packet_key_clear(&n->tx_key);
		n->status.tx_key_valid = false;
		n->status.key_requested = false;
		n->req_key_sent_at = 0;
	}

	if(!settings.tunnelserver)
		request_forward(c, line);
	return true;
}

/* ---- REQ_KEY ---- */

bool send_req_key_request(node_t *to) {
	connection_t *c = route_to(to, "REQ_KEY");
	if(!c)
		return false;
	to->status.key_requested = true;
	to->req_key_sent_at = now_ns;
	return request_send(c, "%d %s %s", REQ_REQ_KEY, local_node->name, to->name);
}

/* FROM and TO of a REQ_KEY or ANS_KEY, both known; NULL-safe logging. */
static bool lookup_key_nodes(connection_t *c, int request, const char *from_name, const char *to_name,
                             node_t **from, node_t **to) {
	*from = node_find(from_name);
	if(!*from) {
		logger(VERBOSITY_ERRORS, LOG_ERR,
		       "%s from %s (%s) names the unknown node %s as its origin",
		       request_name(request), c->name, c->hostname, from_name);
		return false;
	}
	*to = node_find(to_name);
	if(!*to) {
		logger(VERBOSITY_ERRORS, LOG_ERR,
		       "%s from %s (%s) names the unknown node %s as its destination",
		       request_name(request), c->name, c->hostname, to_name);
		return false;
	}
	return true;
}

bool handle_req_key_request(connection_t *c, request_fields_t *rf, const char *line) {
	if(rf->count < 3)
		return bad_request(c, REQ_REQ_KEY, NULL);
	const char *from_name = rf->f[1], *to_name = rf->f[2];
	if(!node_name_is_valid(from_name) || !node_name_is_valid(to_name))
		return bad_request(c, REQ_REQ_KEY, "invalid name");

	node_t *from, *to;
	if(!lookup_key_nodes(c, REQ_REQ_KEY, from_name, to_name, &from, &to))
		return true;

	if(to == local_node) {
		if(from == local_node)
			return true;
		if(!from->status.reachable) {
			logger(VERBOSITY_ERRORS, LOG_WARNING, "%s from %s (%s) comes from %s, which is not reachable",
			       "REQ_KEY", c->name, c->hostname, from_name);
			return true;
		}
		send_ans_key_request(from);
		/* FROM is about to probe us and send to us: without its key our
		 * answers would wait for a request of their own, one round trip
		 * after its first probes. Ask now, once. */
		if(!from->status.tx_key_valid && !from->status.key_requested)
			send_req_key_request(from);
		return true;
	}

	if(settings.tunnelserver)
		return true;
	if(from == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "%s from %s (%s) is our own request for %s coming back: dropped",
		    "REQ_KEY", c->name, c->hostname, to->name);
		return true;
	}
	if(!to->status.reachable) {
		logger(VERBOSITY_ERRORS, LOG_WARNING, "%s from %s (%s) is for %s, which is not reachable",
		       "REQ_KEY", c->name, c->hostname, to_name);
		return true;
	}
	connection_t *next = route_to(to, "REQ_KEY");
	if(next)
		request_send(next, "%s", line);
	return true;
}

/* ---- ANS_KEY ---- */

/* How long an ANS_KEY repeats the key of the previous one (see below). */
#define ANS_KEY_REPEAT_NS (10ULL * 1000000000ULL)

bool send_ans_key_request(node_t *to) {
	connection_t *c = route_to(to, "ANS_KEY");
	if(!c)
		return false;

	/* A key made moments ago is sent again rather than replaced: an
	 * earlier ANS_KEY may still be on a longer path (sent while routes
	 * settled) and arrive after this one; with a new key the peer would
	 * end up sealing with the one we dropped. */
	const packet_key_t *k = &to->rx_key;
	bool recent = k->valid && to->rx_key_made_at && now_ns - to->rx_key_made_at < ANS_KEY_REPEAT_NS &&
	              k->cipher_nid == settings.cipher.nid && k->digest_nid == settings.digest.nid &&
	              k->maclength == settings.maclength && k->compression == settings.compression;
	char err[256] = "";
	if(!recent) {
		if(!packet_key_generate(&to->rx_key, settings.cipher.nid, settings.digest.nid, settings.maclength,
		                        settings.compression, err, sizeof(err))) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot make a packet key for %s: %s", to->name, err);
			return false;
		}
		to->rx_key_made_at = now_ns;
	}
	/* A new key starts a new sequence number space. */
	if(to->replay.bytes != (size_t)settings.replaywindow) {
		replay_free(&to->replay);
		replay_init(&to->replay, settings.replaywindow > 0 ? (size_t)settings.replaywindow : 0);
	} else {
		replay_reset(&to->replay);
	}

	char hex[2 * PACKET_KEY_MAX + 1];
	bin2hex(to->rx_key.material, to->rx_key.material_len, hex);
	return request_send(c, "%d %s %s %s %d %d %d %d", REQ_ANS_KEY, local_node->name, to->name, hex,
	                    to->rx_key.cipher_nid, to->rx_key.digest_nid, to->rx_key.maclength,
	                    to->rx_key.compression);
}

/* Relay an ANS_KEY for somebody else, adding FROM's UDP address as we see
 * it if the originator's relay did not (protocol.md §5.4). */
static void relay_ans_key(connection_t *c, request_fields_t *rf, const char *line, node_t *from,
                          node_t *to) {
	if(settings.tunnelserver)
		return;
	if(!to->status.reachable) {
		logger(VERBOSITY_ERRORS, LOG_WARNING, "%s from %s (%s) is for %s, which is not reachable",
		       "ANS_KEY", c->name, c->hostname, to->name);
		return;
	}
	connection_t *next = route_to(to, "ANS_KEY");
	if(!next)
		return;
	char host[SOCKADDR_STRLEN], port[16];
	if(rf->count < 9 && to->mtu_floor > 0 &&
	   sockaddr_format(&from->address, host, sizeof(host), port, sizeof(port))) {
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "Adding the UDP address we see for %s to its ANS_KEY for %s",
		    from->name, to->name);
		request_send(next, "%s %s %s", line, host, port);
		return;
	}
	request_send(next, "%s", line);
}

bool handle_ans_key_request(connection_t *c, request_fields_t *rf, const char *line) {
	int cipher, digest, maclength, compression;
	if(rf->count < 8 || !parse_int_field(rf->f[4], &cipher) || !parse_int_field(rf->f[5], &digest) ||
	   !parse_int_field(rf->f[6], &maclength) || !parse_int_field(rf->f[7], &compression))
		return bad_request(c, REQ_ANS_KEY, NULL);
	const char *from_name = rf->f[1], *to_name = rf->f[2], *hexkey = rf->f[3];
	if(!node_name_is_valid(from_name) || !node_name_is_valid(to_name))
		return bad_request(c, REQ_ANS_KEY, "invalid name");

	node_t *from, *to;
	if(!lookup_key_nodes(c, REQ_ANS_KEY, from_name, to_name, &from, &to))
		return true;

	/* Our own key came back: a relay sent it our way while routes were
	 * settling. Passing it on again would deliver it after a newer key we
	 * may have sent directly since, and the peer would then seal with a
	 * key we no longer hold until the next rekey. */
	if(from == local_node) {
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "%s from %s (%s) is our own key for %s coming back: dropped",
		    "ANS_KEY", c->name, c->hostname, to->name);
		return true;
	}
	if(to != local_node) {
		relay_ans_key(c, rf, line, from, to);
		return true;
	}
	if(!from->status.reachable) {
		logger(VERBOSITY_ERRORS, LOG_WARNING, "%s from %s (%s) comes from %s, which is not reachable",
		       "ANS_KEY", c->name, c->hostname, from_name);
		return true;
	}

	/* Nothing of the old key may be used once a new one is announced. */
	packet_key_clear(&from->tx_key);
	from->status.tx_key_valid = false;

	uint8_t material[PACKET_KEY_MAX];
	char err[256] = "";
	ssize_t len = hex2bin(hexkey, material, sizeof(material));
	bool ok = len >= 0;
	if(!ok)
		snprintf(err, sizeof(err), "invalid key material");
	else
		ok = packet_key_set(&from->tx_key, material, (size_t)len, cipher, digest, maclength,
		                    compression, err, sizeof(err));
	memset(material, 0, sizeof(material));
	if(!ok) {
		/* Loud on purpose: this is where an OpenSSL without the legacy
		 * provider meets a Blowfish peer (protocol.md §2.10), and the only symptom
		 * otherwise is traffic silently going over TCP. */
		logger(VERBOSITY_ERRORS, LOG_ERR,
		       "Unusable packet key from %s (%s): %s; packets to it will go over TCP",
		       from->name, from->hostname, err);
		return true;
	}

	from->status.tx_key_valid = true;
	from->status.key_requested = false;
	from->tx_seqno = 0;

	if(rf->count >= 10) {
		sockaddr_u sa;
		if(sockaddr_parse(rf->f[8], rf->f[9], &sa)) {
			LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "%s is reachable by UDP at %s port %s, as a relay saw it",
			    from->name, rf->f[8], rf->f[9]);
			sockaddr_unmap(&sa);
			node_set_udp_address(from, &sa);
		}
	}

	if((from->options & OPTION_PMTU_DISCOVERY) && !timer_armed(&from->mtutimer))
		pmtu_start(from);
	return true;
}

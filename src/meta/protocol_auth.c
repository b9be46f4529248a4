/* Authentication of a meta connection (protocol.md §4): ID, METAKEY, CHALLENGE,
 * CHAL_REPLY and ACK, then activation and the initial synchronisation. */
#include "util/compat.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "config/cmdline.h"
#include "config/conf.h"
#include "config/settings.h"
#include "meta/connection.h"
#include "packet/crypto.h"
#include "mesh/edge.h"
#include "util/hex.h"
#include "util/log.h"
#include "mesh/node.h"
#include "meta/ecn_mode.h"
#include "meta/meta.h"
#include "meta/net_socket.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

#define MAX_DIGEST_BYTES 128 /* larger than any digest OpenSSL offers */

static rsa_key_t *my_private_key(void) {
	return (rsa_key_t *)settings.privkey;
}

/* Constant-time comparison: how much of a challenge reply matched must not
 * show in our response time. */
static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t len) {
	volatile uint8_t diff = 0;
	for(size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* A yes/no host-file setting as a tri-state (absent or malformed: unset). */
static int host_bool(const config_entries_t *tree, const char *var) {
	bool b;
	if(!tree || !config_value_bool(config_first(tree, var), &b))
		return OPT_UNSET;
	return b ? OPT_YES : OPT_NO;
}

/* ---- ID ---- */

bool send_id_request(connection_t *c) {
	return request_send(c, "%d %s %d", REQ_ID, local_node->name, PROTOCOL_MAJOR);
}

/* The peer's public key (protocol.md §2.5): PublicKey, else PublicKeyFile, else a
 * PEM block in its host file. */
static rsa_key_t *load_peer_key(connection_t *c) {
	char err[256] = "";
	char *value = NULL;
	rsa_key_t *key;

	if(conf_string(c->config_entries, "PublicKey", &value)) {
		key = rsa_from_hex(value, NULL, err, sizeof(err));
		if(!key)
			logger(VERBOSITY_ERRORS, LOG_ERR, "PublicKey of %s is not usable: %s", c->name, err);
		free(value);
		return key;
	}
	if(conf_string(c->config_entries, "PublicKeyFile", &value)) {
		key = rsa_read_public(value, err, sizeof(err));
		if(!key)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot load a public key from %s: %s", value, err);
		free(value);
		return key;
	}
	char *path = xasprintf("%s/hosts/%s", settings.config_dir, c->name);
	key = rsa_read_public(path, err, sizeof(err));
	if(!key)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Found no public key for %s: %s; add one to its host file", c->name, err);
	free(path);
	return key;
}

bool handle_id_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	int major, minor;
	if(rf->count < 3 || !parse_version_field(rf->f[2], &major, &minor))
		return bad_request(c, REQ_ID, NULL);
	const char *name = rf->f[1];

	if(!node_name_is_valid(name) || !strcmp(name, local_node->name))
		return bad_request(c, REQ_ID, "invalid name");

	if(connection_is_initiator(c)) {
		const char *expected = c->outgoing ? c->outgoing->name : c->name;
		if(strcmp(expected, name)) {
			logger(VERBOSITY_ERRORS, LOG_ERR, "Expected %s at %s, but it says it is %s", expected, c->hostname, name);
			return false;
		}
	}
	if(strcmp(c->name, name)) {
		free(c->name);
		c->name = xstrdup(name);
	}
	c->protocol_major = major;
	c->protocol_minor = minor;

	if(major != PROTOCOL_MAJOR) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "%s (%s) speaks protocol %d, we speak 17: closing the connection", c->name, c->hostname,
		       major);
		return false;
	}

	if(!c->config_entries) {
		config_entries_t *tree = config_entries_new();
		if(!config_read_host(tree, settings.config_dir, c->name)) {
			config_entries_free(tree);
			logger(VERBOSITY_ERRORS, LOG_ERR, "Connection from %s claims to be %s, which has no host file here", c->hostname, c->name);
			return false;
		}
		apply_cmdline_host_options(tree, c->name);
		c->config_entries = tree;
	}

	if(c->rsa) {
		rsa_free(c->rsa);
		c->rsa = NULL;
	}
	c->rsa = load_peer_key(c);
	if(!c->rsa)
		return false;

	c->state = CONN_METAKEY;
	/* Since 1.0.35 the responder speaks only after the initiator's ID. */
	if(!connection_is_initiator(c) && !send_id_request(c))
		return false;
	return send_metakey_request(c);
}

/* ---- METAKEY ---- */

bool send_metakey_request(connection_t *c) {
	rsa_key_t *key = c->rsa;
	size_t k = key ? rsa_size(key) : 0;
	if(!k || 2 * k > MAX_FIELD_LEN) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Public key of %s (%s) has an unusable size of %zu bytes", c->name,
		       c->hostname, k);
		return false;
	}
	int nid = settings.meta_cipher_nid ? settings.meta_cipher_nid
	                                   : meta_cipher_nid_for_keylen(settings.cipher.keylen);

	uint8_t *plain = xmalloc(k);
	uint8_t *sealed = xmalloc(k);
	char *hex = xmalloc(2 * k + 1);
	char err[256] = "";
	bool ok = false;
	stream_cipher_t *sc = NULL;

	randomize(plain, k);
	/* Below 2^(bits-1), hence below the modulus: raw RSA needs K < n. */
	plain[0] &= 0x7F;
	if(debug_level >= VERBOSITY_SECRETS) {
		bin2hex(plain, k, hex);
		logger(VERBOSITY_SECRETS, LOG_DEBUG, "Our meta key in the clear: %s", hex);
	}
	if(!rsa_public_encrypt_raw(key, plain, sealed)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot encrypt the meta key for %s (%s)", c->name,
		       c->hostname);
		goto out;
	}
	sc = stream_cipher_new(nid, plain, k, true, err, sizeof(err));
	if(!sc) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot set up the meta cipher to %s (%s): %s", c->name,
		       c->hostname, err);
		goto out;
	}
	bin2hex(sealed, k, hex);
	c->outdigest_nid = META_DIGEST_NID;
	if(!request_send(c, "%d %d %d %d %d %s", REQ_METAKEY, nid, META_DIGEST_NID, 0, 0, hex))
		goto out;
	/* Everything after the METAKEY line is encrypted (protocol.md §3.2). */
	if(c->meta_cipher_out)
		stream_cipher_free(c->meta_cipher_out);
	c->meta_cipher_out = sc;
	sc = NULL;
	c->status.encrypt_out = true;
	ok = true;
out:
	if(sc)
		stream_cipher_free(sc);
	xfree_secret(plain, k);
	free(sealed);
	free(hex);
	return ok;
}

bool handle_metakey_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	int cipher, digest, maclength, compression;
	if(rf->count < 6 || !parse_int_field(rf->f[1], &cipher) || !parse_int_field(rf->f[2], &digest) ||
	   !parse_int_field(rf->f[3], &maclength) || !parse_int_field(rf->f[4], &compression))
		return bad_request(c, REQ_METAKEY, NULL);
	const char *hexkey = rf->f[5];

	rsa_key_t *priv = my_private_key();
	size_t k = priv ? rsa_size(priv) : 0;
	if(!k || strlen(hexkey) != 2 * k) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its meta key does not match the length of our RSA key");
		return false;
	}

	if(!cipher) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): it wants no meta cipher", c->name, c->hostname);
		return false;
	}
	char err[256] = "";
	cipher_info_t ci;
	if(!cipher_by_nid(cipher, &ci, err, sizeof(err))) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): its meta cipher is not available: %s", c->name, c->hostname, err);
		return false;
	}
	if(!digest) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): it wants no meta digest", c->name, c->hostname);
		return false;
	}
	digest_info_t di;
	if(!digest_by_nid(digest, &di, err, sizeof(err))) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): its meta digest is not available: %s", c->name, c->hostname, err);
		return false;
	}
	if(maclength < 0 || (size_t)maclength > di.length) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): its MAC length does not fit the digest", c->name, c->hostname);
		return false;
	}

	uint8_t *sealed = xmalloc(k);
	uint8_t *plain = xmalloc(k);
	bool ok = false;
	if(hex2bin(hexkey, sealed, k) != (ssize_t)k) {
		bad_request(c, REQ_METAKEY, "invalid key");
		goto out;
	}
	if(!rsa_private_decrypt_raw(priv, sealed, plain)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot decrypt the meta key from %s (%s)", c->name,
		       c->hostname);
		goto out;
	}
	if(debug_level >= VERBOSITY_SECRETS) {
		char *hex = xmalloc(2 * k + 1);
		bin2hex(plain, k, hex);
		logger(VERBOSITY_SECRETS, LOG_DEBUG, "Peer's meta key in the clear: %s", hex);
		free(hex);
	}
	stream_cipher_t *sc = stream_cipher_new(cipher, plain, k, false, err, sizeof(err));
	if(!sc) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot set up the meta cipher from %s (%s): %s", c->name,
		       c->hostname, err);
		goto out;
	}
	if(c->meta_cipher_in)
		stream_cipher_free(c->meta_cipher_in);
	c->meta_cipher_in = sc;
	/* meta.c decrypts everything that follows this line from now on. */
	c->status.decrypt_in = true;
	c->indigest_nid = digest;
	c->state = CONN_CHALLENGE;
	ok = send_challenge_request(c);
out:
	xfree_secret(plain, k);
	free(sealed);
	return ok;
}

/* ---- CHALLENGE ---- */

bool send_challenge_request(connection_t *c) {
	size_t k = c->rsa ? rsa_size(c->rsa) : 0;
	if(!k || 2 * k > MAX_FIELD_LEN)
		return false;
	xfree_secret(c->challenge_sent, c->challenge_sent_len);
	c->challenge_sent = xmalloc(k);
	c->challenge_sent_len = k;
	randomize(c->challenge_sent, k);
	char *hex = xmalloc(2 * k + 1);
	bin2hex(c->challenge_sent, k, hex);
	bool ok = request_send(c, "%d %s", REQ_CHALLENGE, hex);
	free(hex);
	return ok;
}

bool handle_challenge_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	if(rf->count < 2)
		return bad_request(c, REQ_CHALLENGE, NULL);
	const char *hex = rf->f[1];
	rsa_key_t *priv = my_private_key();
	size_t k = priv ? rsa_size(priv) : 0;
	if(!k || strlen(hex) != 2 * k) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its challenge does not match the length of our RSA key");
		return false;
	}
	uint8_t *challenge = xmalloc(k);
	if(hex2bin(hex, challenge, k) != (ssize_t)k) {
		free(challenge);
		return bad_request(c, REQ_CHALLENGE, "invalid challenge");
	}
	xfree_secret(c->challenge_received, c->challenge_received_len);
	c->challenge_received = challenge;
	c->challenge_received_len = k;
	c->state = CONN_CHAL_REPLY;

	/* The responder proves its identity only after the initiator has proven
	 * its own (protocol.md §4.5): it answers from handle_chal_reply_request. */
	if(connection_is_initiator(c))
		return send_chal_reply_request(c);
	c->status.got_challenge = true;
	return true;
}

/* ---- CHAL_REPLY ---- */

bool send_chal_reply_request(connection_t *c) {
	uint8_t hash[MAX_DIGEST_BYTES];
	size_t hashlen = 0;
	digest_info_t di;
	char err[256] = "";
	if(!c->challenge_received || !digest_by_nid(c->indigest_nid, &di, err, sizeof(err)) ||
	   di.length > sizeof(hash) ||
	   !digest_oneshot(c->indigest_nid, c->challenge_received, c->challenge_received_len, hash, &hashlen)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot compute the challenge answer for %s (%s)", c->name,
		       c->hostname);
		return false;
	}
	char hex[2 * MAX_DIGEST_BYTES + 1];
	bin2hex(hash, hashlen, hex);
	return request_send(c, "%d %s", REQ_CHAL_REPLY, hex);
}

bool handle_chal_reply_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	if(rf->count < 2)
		return bad_request(c, REQ_CHAL_REPLY, NULL);
	const char *hex = rf->f[1];

	digest_info_t di;
	char err[256] = "";
	if(!digest_by_nid(c->outdigest_nid, &di, err, sizeof(err)) || di.length > MAX_DIGEST_BYTES) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot compute the expected answer of %s (%s): %s", c->name,
		       c->hostname, err);
		return false;
	}
	if(strlen(hex) != 2 * di.length) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its challenge answer has the wrong length");
		return false;
	}
	uint8_t theirs[MAX_DIGEST_BYTES], mine[MAX_DIGEST_BYTES];
	size_t minelen = 0;
	if(hex2bin(hex, theirs, sizeof(theirs)) != (ssize_t)di.length)
		return bad_request(c, REQ_CHAL_REPLY, "invalid hash");
	if(!c->challenge_sent ||
	   !digest_oneshot(c->outdigest_nid, c->challenge_sent, c->challenge_sent_len, mine, &minelen) ||
	   minelen != di.length) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot compute the expected answer of %s (%s)", c->name,
		       c->hostname);
		return false;
	}
	if(!equal_ct(theirs, mine, di.length)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its challenge answer is wrong; does its host file hold the right key?");
		return false;
	}

	/* Identity verified. */
	c->state = CONN_ACK;
	if(!connection_is_initiator(c)) {
		if(!c->status.got_challenge || !send_chal_reply_request(c))
			return false;
	}
	return send_ack_request(c);
}

/* ---- ACK ---- */

bool send_ack_request(connection_t *c) {
	c->options = ack_options_ours(local_node->options, host_bool(c->config_entries, "IndirectData"),
	                              host_bool(c->config_entries, "TCPOnly"),
	                              host_bool(c->config_entries, "ClampMSS"));

	/* Weight: a crude round-trip estimate, the time authentication took. */
	uint64_t now = clock_now_ns();
	uint64_t ms = now > c->created_ns ? (now - c->created_ns) / NSEC_PER_MSEC : 0;
	c->measured_weight = ms > INT_MAX ? INT_MAX : (int)ms;
	int weight;
	if(c->config_entries && conf_int(c->config_entries, "Weight", &weight))
		c->measured_weight = weight;

	return request_send(c, "%d %s %d %x", REQ_ACK, settings.listen_port ? settings.listen_port : "655",
	                    c->measured_weight, ack_options_announce(c->options));
}

/* Everything we know, for a newly activated peer (protocol.md §4.7). */
static void announce_known_graph(connection_t *c) {
	if(settings.tunnelserver) {
		sset_foreach(subnet_t, s, &local_node->subnets)
			send_add_subnet_request(c, s);
		return;
	}
	sset_foreach(node_t, n, &nodes_by_name) {
		sset_foreach(subnet_t, s, &n->subnets)
			send_add_subnet_request(c, s);
		sset_foreach(edge_t, e, &n->edges)
			send_add_edge_request(c, e);
	}
}

bool handle_ack_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	int weight;
	uint32_t options;
	if(rf->count < 4 || !parse_int_field(rf->f[2], &weight) || !parse_hex32_field(rf->f[3], &options))
		return bad_request(c, REQ_ACK, NULL);
	const char *hisport = rf->f[1];

	node_t *n = node_find(c->name);
	if(!n) {
		n = node_new(c->name);
		node_register(n);
	} else if(n->connection && n->connection != c) {
		connection_t *old = n->connection;
		LOG(VERBOSITY_CONNECTIONS, LOG_DEBUG,
		    "A second connection with %s (%s) is up: closing the older one", n->name,
		    old->hostname);
		/* Keep the ConnectTo on the surviving connection instead of
		 * reconnecting at once, which would replace this one in turn. */
		if(old->outgoing && !c->outgoing) {
			c->outgoing = old->outgoing;
			old->outgoing = NULL;
		}
		connection_shutdown(old, false);
		graph_mark_dirty();
	}
	n->connection = c;
	c->node = n;

	int peer_clamp = host_bool(c->config_entries, "ClampMSS");
	c->options = ack_options_merge(c->options, options, peer_clamp);
	if(options & OPTION_UDP_PORTS)
		open_extra_udp_ports();
	/* The ECN mode follows at the graph run below, with these settings
	 * and the peer's announcement on our edge. */
	ecn_mode_host_settings(n, c->config_entries);

	int mtu;
	if(c->config_entries && conf_int(c->config_entries, "PMTU", &mtu) && mtu < n->mtu)
		n->mtu = mtu;
	if(settings.config && conf_int(settings.config, "PMTU", &mtu) && mtu < n->mtu)
		n->mtu = mtu;

	c->state = CONN_ACTIVE;
	c->status.active = true;
	c->status.ping_outstanding = false;
	c->last_ping_ns = now_ns;
	LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "Connection with %s (%s) activated", c->name, c->hostname);

	announce_known_graph(c);

	/* Our edge to the peer: its IP as seen on this connection, its port as
	 * announced (0 or garbage keeps the TCP source port, like atoi would). */
	edge_t *stale = edge_find(local_node, n);
	if(stale) {
		if(stale->connection && stale->connection->edge == stale)
			stale->connection->edge = NULL;
		edge_unlink(stale);
	}
	edge_t *e = edge_new();
	e->from = local_node;
	e->to = n;
	e->address = c->address;
	sockaddr_unmap(&e->address);
	uint16_t port = parse_ack_port(hisport);
	if(port)
		sockaddr_set_port(&e->address, port);
	e->weight = (int)(((long long)weight + c->measured_weight) / 2);
	e->options = c->options;
	e->connection = c;
	c->edge = e;
	edge_link(e);

	if(settings.tunnelserver)
		send_add_edge_request(c, e);
	else
		send_add_edge_request(broadcast_conn, e);

	graph_mark_dirty();
	return true;
}

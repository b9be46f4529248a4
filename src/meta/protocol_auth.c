/* Authentication of a meta connection (spec §4): ID, METAKEY, CHALLENGE,
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
static int host_bool(const config_tree_t *tree, const char *var) {
	bool b;
	if(!tree || !get_config_bool(lookup_config(tree, var), &b))
		return OPT_UNSET;
	return b ? OPT_YES : OPT_NO;
}

/* ---- ID ---- */

bool send_id(connection_t *c) {
	return send_request(c, "%d %s %d", REQ_ID, myself->name, PROTOCOL_MAJOR);
}

/* The peer's public key (spec §2.5): PublicKey, else PublicKeyFile, else a
 * PEM block in its host file. */
static rsa_key_t *load_peer_key(connection_t *c) {
	char err[256] = "";
	char *value = NULL;
	rsa_key_t *key;

	if(conf_string(c->config_tree, "PublicKey", &value)) {
		key = rsa_from_hex(value, NULL, err, sizeof(err));
		if(!key)
			logger(DEBUG_ALWAYS, LOG_ERR, "PublicKey of %s is not usable: %s", c->name, err);
		free(value);
		return key;
	}
	if(conf_string(c->config_tree, "PublicKeyFile", &value)) {
		key = rsa_read_public(value, err, sizeof(err));
		if(!key)
			logger(DEBUG_ALWAYS, LOG_ERR, "Cannot load a public key from %s: %s", value, err);
		free(value);
		return key;
	}
	char *path = xasprintf("%s/hosts/%s", settings.confbase, c->name);
	key = rsa_read_public(path, err, sizeof(err));
	if(!key)
		logger(DEBUG_ALWAYS, LOG_ERR, "Found no public key for %s: %s; add one to its host file", c->name, err);
	free(path);
	return key;
}

bool id_h(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	int major, minor;
	if(rf->count < 3 || !parse_version_field(rf->f[2], &major, &minor))
		return bad_request(c, REQ_ID, NULL);
	const char *name = rf->f[1];

	if(!check_id(name) || !strcmp(name, myself->name))
		return bad_request(c, REQ_ID, "invalid name");

	if(connection_is_initiator(c)) {
		const char *expected = c->outgoing ? c->outgoing->name : c->name;
		if(strcmp(expected, name)) {
			logger(DEBUG_ALWAYS, LOG_ERR, "Expected %s at %s, but it says it is %s", expected, c->hostname, name);
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
		logger(DEBUG_ALWAYS, LOG_ERR, "%s (%s) speaks protocol %d, we speak 17: closing the connection", c->name, c->hostname,
		       major);
		return false;
	}

	if(!c->config_tree) {
		config_tree_t *tree = config_tree_new();
		if(!read_host_config(tree, settings.confbase, c->name)) {
			config_tree_free(tree);
			logger(DEBUG_ALWAYS, LOG_ERR, "Connection from %s claims to be %s, which has no host file here", c->hostname, c->name);
			return false;
		}
		apply_cmdline_host_options(tree, c->name);
		c->config_tree = tree;
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
	if(!connection_is_initiator(c) && !send_id(c))
		return false;
	return send_metakey(c);
}

/* ---- METAKEY ---- */

bool send_metakey(connection_t *c) {
	rsa_key_t *key = c->rsa;
	size_t k = key ? rsa_size(key) : 0;
	if(!k || 2 * k > MAX_FIELD_LEN) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Public key of %s (%s) has an unusable size of %zu bytes", c->name,
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
	if(debug_level >= DEBUG_SCARY_THINGS) {
		bin2hex(plain, k, hex);
		logger(DEBUG_SCARY_THINGS, LOG_DEBUG, "Our meta key in the clear: %s", hex);
	}
	if(!rsa_public_encrypt_raw(key, plain, sealed)) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot encrypt the meta key for %s (%s)", c->name,
		       c->hostname);
		goto out;
	}
	sc = stream_cipher_new(nid, plain, k, true, err, sizeof(err));
	if(!sc) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot set up the meta cipher to %s (%s): %s", c->name,
		       c->hostname, err);
		goto out;
	}
	bin2hex(sealed, k, hex);
	c->outdigest_nid = META_DIGEST_NID;
	if(!send_request(c, "%d %d %d %d %d %s", REQ_METAKEY, nid, META_DIGEST_NID, 0, 0, hex))
		goto out;
	/* Everything after the METAKEY line is encrypted (spec §3.2). */
	if(c->outcipher)
		stream_cipher_free(c->outcipher);
	c->outcipher = sc;
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

bool metakey_h(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	int cipher, digest, maclength, compression;
	if(rf->count < 6 || !parse_int_field(rf->f[1], &cipher) || !parse_int_field(rf->f[2], &digest) ||
	   !parse_int_field(rf->f[3], &maclength) || !parse_int_field(rf->f[4], &compression))
		return bad_request(c, REQ_METAKEY, NULL);
	const char *hexkey = rf->f[5];

	rsa_key_t *priv = my_private_key();
	size_t k = priv ? rsa_size(priv) : 0;
	if(!k || strlen(hexkey) != 2 * k) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its meta key does not match the length of our RSA key");
		return false;
	}

	if(!cipher) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): it wants no meta cipher", c->name, c->hostname);
		return false;
	}
	char err[256] = "";
	cipher_info_t ci;
	if(!cipher_by_nid(cipher, &ci, err, sizeof(err))) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): its meta cipher is not available: %s", c->name, c->hostname, err);
		return false;
	}
	if(!digest) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): it wants no meta digest", c->name, c->hostname);
		return false;
	}
	digest_info_t di;
	if(!digest_by_nid(digest, &di, err, sizeof(err))) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): its meta digest is not available: %s", c->name, c->hostname, err);
		return false;
	}
	if(maclength < 0 || (size_t)maclength > di.length) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): its MAC length does not fit the digest", c->name, c->hostname);
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
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot decrypt the meta key from %s (%s)", c->name,
		       c->hostname);
		goto out;
	}
	if(debug_level >= DEBUG_SCARY_THINGS) {
		char *hex = xmalloc(2 * k + 1);
		bin2hex(plain, k, hex);
		logger(DEBUG_SCARY_THINGS, LOG_DEBUG, "Peer's meta key in the clear: %s", hex);
		free(hex);
	}
	stream_cipher_t *sc = stream_cipher_new(cipher, plain, k, false, err, sizeof(err));
	if(!sc) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot set up the meta cipher from %s (%s): %s", c->name,
		       c->hostname, err);
		goto out;
	}
	if(c->incipher)
		stream_cipher_free(c->incipher);
	c->incipher = sc;
	/* meta.c decrypts everything that follows this line from now on. */
	c->status.decrypt_in = true;
	c->indigest_nid = digest;
	c->state = CONN_CHALLENGE;
	ok = send_challenge(c);
out:
	xfree_secret(plain, k);
	free(sealed);
	return ok;
}

/* ---- CHALLENGE ---- */

bool send_challenge(connection_t *c) {
	size_t k = c->rsa ? rsa_size(c->rsa) : 0;
	if(!k || 2 * k > MAX_FIELD_LEN)
		return false;
	xfree_secret(c->hischallenge, c->hischallenge_len);
	c->hischallenge = xmalloc(k);
	c->hischallenge_len = k;
	randomize(c->hischallenge, k);
	char *hex = xmalloc(2 * k + 1);
	bin2hex(c->hischallenge, k, hex);
	bool ok = send_request(c, "%d %s", REQ_CHALLENGE, hex);
	free(hex);
	return ok;
}

bool challenge_h(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	if(rf->count < 2)
		return bad_request(c, REQ_CHALLENGE, NULL);
	const char *hex = rf->f[1];
	rsa_key_t *priv = my_private_key();
	size_t k = priv ? rsa_size(priv) : 0;
	if(!k || strlen(hex) != 2 * k) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its challenge does not match the length of our RSA key");
		return false;
	}
	uint8_t *challenge = xmalloc(k);
	if(hex2bin(hex, challenge, k) != (ssize_t)k) {
		free(challenge);
		return bad_request(c, REQ_CHALLENGE, "invalid challenge");
	}
	xfree_secret(c->mychallenge, c->mychallenge_len);
	c->mychallenge = challenge;
	c->mychallenge_len = k;
	c->state = CONN_CHAL_REPLY;

	/* The responder proves its identity only after the initiator has proven
	 * its own (spec §4.5): it answers from chal_reply_h. */
	if(connection_is_initiator(c))
		return send_chal_reply(c);
	c->status.got_challenge = true;
	return true;
}

/* ---- CHAL_REPLY ---- */

bool send_chal_reply(connection_t *c) {
	uint8_t hash[MAX_DIGEST_BYTES];
	size_t hashlen = 0;
	digest_info_t di;
	char err[256] = "";
	if(!c->mychallenge || !digest_by_nid(c->indigest_nid, &di, err, sizeof(err)) ||
	   di.length > sizeof(hash) ||
	   !digest_oneshot(c->indigest_nid, c->mychallenge, c->mychallenge_len, hash, &hashlen)) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot compute the challenge answer for %s (%s)", c->name,
		       c->hostname);
		return false;
	}
	char hex[2 * MAX_DIGEST_BYTES + 1];
	bin2hex(hash, hashlen, hex);
	return send_request(c, "%d %s", REQ_CHAL_REPLY, hex);
}

bool chal_reply_h(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	if(rf->count < 2)
		return bad_request(c, REQ_CHAL_REPLY, NULL);
	const char *hex = rf->f[1];

	digest_info_t di;
	char err[256] = "";
	if(!digest_by_nid(c->outdigest_nid, &di, err, sizeof(err)) || di.length > MAX_DIGEST_BYTES) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot compute the expected answer of %s (%s): %s", c->name,
		       c->hostname, err);
		return false;
	}
	if(strlen(hex) != 2 * di.length) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its challenge answer has the wrong length");
		return false;
	}
	uint8_t theirs[MAX_DIGEST_BYTES], mine[MAX_DIGEST_BYTES];
	size_t minelen = 0;
	if(hex2bin(hex, theirs, sizeof(theirs)) != (ssize_t)di.length)
		return bad_request(c, REQ_CHAL_REPLY, "invalid hash");
	if(!c->hischallenge ||
	   !digest_oneshot(c->outdigest_nid, c->hischallenge, c->hischallenge_len, mine, &minelen) ||
	   minelen != di.length) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Cannot compute the expected answer of %s (%s)", c->name,
		       c->hostname);
		return false;
	}
	if(!equal_ct(theirs, mine, di.length)) {
		logger(DEBUG_ALWAYS, LOG_ERR, "Rejecting %s (%s): %s", c->name, c->hostname,
		       "its challenge answer is wrong; does its host file hold the right key?");
		return false;
	}

	/* Identity verified. */
	c->state = CONN_ACK;
	if(!connection_is_initiator(c)) {
		if(!c->status.got_challenge || !send_chal_reply(c))
			return false;
	}
	return send_ack(c);
}

/* ---- ACK ---- */

bool send_ack(connection_t *c) {
	c->options = ack_options_ours(myself->options, host_bool(c->config_tree, "IndirectData"),
	                              host_bool(c->config_tree, "TCPOnly"),
	                              host_bool(c->config_tree, "ClampMSS"));

	/* Weight: a crude round-trip estimate, the time authentication took. */
	uint64_t now = clock_now_ns();
	uint64_t ms = now > c->created_ns ? (now - c->created_ns) / NSEC_PER_MSEC : 0;
	c->estimated_weight = ms > INT_MAX ? INT_MAX : (int)ms;
	int weight;
	if(c->config_tree && conf_int(c->config_tree, "Weight", &weight))
		c->estimated_weight = weight;

	return send_request(c, "%d %s %d %x", REQ_ACK, settings.myport ? settings.myport : "655",
	                    c->estimated_weight, ack_options_announce(c->options));
}

/* Everything we know, for a newly activated peer (spec §4.7). */
static void send_everything(connection_t *c) {
	if(settings.tunnelserver) {
		sset_foreach(subnet_t, s, &myself->subnets)
			send_add_subnet(c, s);
		return;
	}
	sset_foreach(node_t, n, &node_tree) {
		sset_foreach(subnet_t, s, &n->subnets)
			send_add_subnet(c, s);
		sset_foreach(edge_t, e, &n->edges)
			send_add_edge(c, e);
	}
}

bool ack_h(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	int weight;
	uint32_t options;
	if(rf->count < 4 || !parse_int_field(rf->f[2], &weight) || !parse_hex32_field(rf->f[3], &options))
		return bad_request(c, REQ_ACK, NULL);
	const char *hisport = rf->f[1];

	node_t *n = lookup_node(c->name);
	if(!n) {
		n = node_new(c->name);
		node_add(n);
	} else if(n->connection && n->connection != c) {
		connection_t *old = n->connection;
		LOG(DEBUG_CONNECTIONS, LOG_DEBUG,
		    "A second connection with %s (%s) is up: closing the older one", n->name,
		    old->hostname);
		/* Keep the ConnectTo on the surviving connection instead of
		 * reconnecting at once, which would replace this one in turn. */
		if(old->outgoing && !c->outgoing) {
			c->outgoing = old->outgoing;
			old->outgoing = NULL;
		}
		terminate_connection(old, false);
		graph_changed();
	}
	n->connection = c;
	c->node = n;

	int peer_clamp = host_bool(c->config_tree, "ClampMSS");
	c->options = ack_options_merge(c->options, options, peer_clamp);
	/* The ECN mode follows at the graph run below, with these settings
	 * and the peer's announcement on our edge. */
	ecn_mode_host_settings(n, c->config_tree);

	int mtu;
	if(c->config_tree && conf_int(c->config_tree, "PMTU", &mtu) && mtu < n->mtu)
		n->mtu = mtu;
	if(settings.config && conf_int(settings.config, "PMTU", &mtu) && mtu < n->mtu)
		n->mtu = mtu;

	c->state = CONN_ACTIVE;
	c->status.active = true;
	c->status.pinged = false;
	c->last_ping_ns = now_ns;
	LOG(DEBUG_CONNECTIONS, LOG_NOTICE, "Connection with %s (%s) activated", c->name, c->hostname);

	send_everything(c);

	/* Our edge to the peer: its IP as seen on this connection, its port as
	 * announced (0 or garbage keeps the TCP source port, like atoi would). */
	edge_t *stale = lookup_edge(myself, n);
	if(stale) {
		if(stale->connection && stale->connection->edge == stale)
			stale->connection->edge = NULL;
		edge_del(stale);
	}
	edge_t *e = edge_new();
	e->from = myself;
	e->to = n;
	e->address = c->address;
	sockaddr_unmap(&e->address);
	uint16_t port = parse_ack_port(hisport);
	if(port)
		sockaddr_set_port(&e->address, port);
	e->weight = (int)(((long long)weight + c->estimated_weight) / 2);
	e->options = c->options;
	e->connection = c;
	c->edge = e;
	edge_add(e);

	if(settings.tunnelserver)
		send_add_edge(c, e);
	else
		send_add_edge(everyone, e);

	graph_changed();
	return true;
}

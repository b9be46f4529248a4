/* libFuzzer: the meta-connection input path, meta_feed() -> line framing and
 * PACKET payloads -> request_dispatch() -> every handler, on a connection in
 * each authentication state, as responder or initiator, and on an active
 * connection of an authenticated peer ("alpha") in a small graph (world.h)
 * with a second, honest active peer ("gamma") that receives what is
 * forwarded. Replies go into socket pairs that are drained and discarded.
 *
 * Input: byte 0 = scenario, byte 1 = feed chunk size (0: all at once),
 * then the bytes the peer sends, in plaintext (the stream cipher is not
 * what is being fuzzed). Scenario bits:
 *   0-2  state: 0 ID, 1 METAKEY, 2 CHALLENGE, 3 CHAL_REPLY, 4 ACK, else ACTIVE
 *   3    we initiated the connection
 *   4    TunnelServer = yes
 *   5    StrictSubnets = yes
 *   6    Mode = switch
 *   7    from CHALLENGE on: both streams encrypted as after METAKEY (the
 *        harness encrypts the input with the matching key, so the fuzzer
 *        still chooses the plaintext)
 * In CHAL_REPLY state the challenge we sent is bytes 0..127, so a seed can
 * carry the right SHA-256 answer and reach ACK and activation. */
#include "world.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#define CHALLENGE_LEN 128 /* = our 1024-bit key's size */

typedef struct endpoint {
	connection_t *c;
	int peer_fd; /* the far end of the socket pair: what the peer would read */
} endpoint_t;

static void drain(int fd) {
	static uint8_t sink[65536];
	while(fd >= 0 && read(fd, sink, sizeof(sink)) > 0)
		;
}

static bool nonblocking_pair(int sv[2]) {
	if(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return false;
	/* Large buffers: a flood of replies must not stay queued in outbound_buf. */
	int size = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return true;
}

static uint8_t *fixed_challenge(uint8_t seed) {
	uint8_t *ch = xmalloc(CHALLENGE_LEN);
	for(size_t i = 0; i < CHALLENGE_LEN; i++)
		ch[i] = (uint8_t)(i + seed);
	return ch;
}

/* A connection that has gone through the handshake up to 'state' with
 * plaintext streams. */
static endpoint_t make_connection(const char *name, const char *addr, conn_state_t state, bool initiator) {
	endpoint_t ep = {NULL, -1};
	int sv[2];
	if(!nonblocking_pair(sv))
		abort();
	connection_t *c = connection_new();
	c->socket = sv[0];
	ep.peer_fd = sv[1];
	if(!sockaddr_parse(addr, "655", &c->address))
		abort();
	free(c->hostname);
	c->hostname = xasprintf("%s port 655", addr);
	c->status.outgoing = initiator;
	c->protocol_major = PROTOCOL_MAJOR;
	if(initiator || state > CONN_ID) {
		free(c->name);
		c->name = xstrdup(name);
	}
	if(state > CONN_ID) {
		char err[256];
		c->config_entries = config_entries_new();
		if(!config_read_host(c->config_entries, settings.config_dir, name))
			abort();
		char *path = xasprintf("%s/hosts/%s", settings.config_dir, name);
		c->rsa = rsa_read_public(path, err, sizeof(err));
		free(path);
		if(!c->rsa)
			abort();
		c->outdigest_nid = META_DIGEST_NID;
	}
	if(state > CONN_METAKEY) {
		c->indigest_nid = META_DIGEST_NID;
		c->challenge_sent = fixed_challenge(0);
		c->challenge_sent_len = CHALLENGE_LEN;
	}
	if(state > CONN_CHALLENGE) {
		c->challenge_received = fixed_challenge(1);
		c->challenge_received_len = CHALLENGE_LEN;
		c->status.got_challenge = !initiator;
	}
	c->state = state > CONN_ACK ? CONN_ACK : state;
	connection_register(c);
	ep.c = c;
	if(state > CONN_ACK) {
		/* Activate through the real ACK handler. */
		char ack[] = "4 655 3 c";
		if(!request_dispatch(c, ack) || !c->status.active)
			abort();
	}
	return ep;
}

/* Key material both ends of an "encrypted" fuzz connection use. */
static uint8_t stream_material[CHALLENGE_LEN];

static stream_cipher_t *fixed_stream(bool encrypt) {
	char err[256];
	stream_cipher_t *sc = stream_cipher_new(settings.meta_cipher_nid, stream_material, sizeof(stream_material),
	                                        encrypt, err, sizeof(err));
	if(!sc)
		abort();
	return sc;
}

static void check_invariants(const connection_t *c) {
	if(c->status.dead)
		return;
	if(c->inlen >= META_INBUF_SIZE || c->pending_frame_len < 0 || c->pending_frame_len > META_INBUF_SIZE)
		abort();
	if(c->status.active != (c->state == CONN_ACTIVE))
		abort();
	/* Every edge joins two nodes of the table. */
	sset_foreach(edge_t, e, &edges_by_weight) {
		if(node_find(e->from->name) != e->from || node_find(e->to->name) != e->to)
			abort();
	}
}

/* What the event loop does after a turn: the graph runs, and the queued
 * output goes to the sockets (the loop would see them writable). */
static void end_of_turn(connection_t *a, connection_t *b) {
	graph_settle();
	if(a && !a->status.dead)
		on_meta_io(a, EPOLLOUT);
	if(b && !b->status.dead)
		on_meta_io(b, EPOLLOUT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool ready;
	if(!ready) {
		world_setup_once("fuzz_meta");
		ready = true;
	}
	if(size < 2)
		return 0;
	uint8_t scenario = data[0];
	size_t chunk = data[1] ? data[1] : size;
	data += 2;
	size -= 2;

	conn_state_t state = (conn_state_t)(scenario & 7);
	if(state > CONN_ACTIVE)
		state = CONN_ACTIVE;
	bool initiator = scenario & 8;
	world_flags_t flags = {
		.tunnelserver = scenario & 16,
		.strictsubnets = scenario & 32,
		.mode = (scenario & 64) ? MODE_SWITCH : MODE_ROUTER,
	};
	world_up(flags, false);

	endpoint_t honest = {NULL, -1};
	if(state == CONN_ACTIVE) {
		honest = make_connection("gamma", "10.81.0.3", CONN_ACTIVE, false);
		/* gamma announces its side of the link: now it is reachable directly */
		char edge[] = "12 1 gamma beta 10.81.0.2 655 c 1";
		if(!request_dispatch(honest.c, edge))
			abort();
		graph_settle(); /* as the loop does at the end of the turn */
		if(!node_find("gamma")->status.reachable)
			abort();
	}
	endpoint_t peer = make_connection("alpha", "10.81.0.1", state, initiator);
	drain(peer.peer_fd);
	drain(honest.peer_fd);

	connection_t *c = peer.c;
	stream_cipher_t *enc = NULL;
	if((scenario & 128) && state >= CONN_CHALLENGE && !c->status.dead) {
		c->meta_cipher_in = fixed_stream(false);
		c->status.decrypt_in = true;
		c->meta_cipher_out = fixed_stream(true);
		c->status.encrypt_out = true;
		enc = fixed_stream(true);
	}
	static uint8_t sealed[65536];
	while(size && !c->status.dead) {
		size_t n = MIN(MIN(size, chunk), sizeof(sealed));
		const uint8_t *in = data;
		if(enc) {
			if(!stream_cipher_update(enc, data, n, sealed))
				break; /* the cipher's byte budget (protocol.md §4.3) */
			in = sealed;
		}
		meta_feed(c, in, n);
		check_invariants(c);
		end_of_turn(c, honest.c);
		drain(peer.peer_fd);
		drain(honest.peer_fd);
		data += n;
		size -= n;
	}

	world_down();
	if(enc)
		stream_cipher_free(enc);
	if(peer.peer_fd >= 0)
		close(peer.peer_fd);
	if(honest.peer_fd >= 0)
		close(honest.peer_fd);
	return 0;
}

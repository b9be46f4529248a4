/* Meta connections: one TCP connection to a directly connected node. */
#ifndef FQTINC_CONNECTION_H
#define FQTINC_CONNECTION_H

#include <stdint.h>

#include "util/compat.h"
#include "config/conf.h"
#include "packet/crypto.h"
#include "util/event.h"
#include "util/sockaddr.h"
#include "mesh/options.h"

struct node;
struct edge;
struct outgoing;

#define META_INBUF_SIZE 2176 /* meta receive buffer, protocol.md §3.2 */

typedef enum conn_state {
	CONN_ID = 0,        /* expecting ID */
	CONN_METAKEY,
	CONN_CHALLENGE,
	CONN_CHAL_REPLY,
	CONN_ACK,
	CONN_ACTIVE,
} conn_state_t;

typedef struct connection_flags {
	bool ping_outstanding;          /* PING sent, no PONG yet */
	bool active;
	bool connecting;      /* non-blocking connect() in progress */
	bool outgoing;
	bool on_mst;             /* in the broadcast tree */
	bool encrypt_out;     /* our METAKEY has been sent */
	bool decrypt_in;      /* peer's METAKEY has been received */
	bool dead;            /* closing; freed at the end of the loop turn */
	bool tarpit;          /* dropped for bad input: park the fd, never read it */
	bool got_challenge;   /* responder: peer's CHALLENGE stored */
} connection_flags_t;

typedef struct connection {
	char *name;                 /* peer name once known, "<unknown>" before */
	char *hostname;             /* "ADDR port PORT" */
	sockaddr_u address;         /* TCP peer address */
	int socket;
	fd_watch_t io;
	connection_flags_t status;
	conn_state_t state;
	int protocol_major, protocol_minor;

	struct node *node;
	struct edge *edge;          /* our edge to the peer, once active */
	struct outgoing *outgoing;  /* set for connections we initiated */
	struct proxy_state *proxy;  /* proxy handshake in progress (proxy.c; one malloc'd block) */
	config_entries_t *config_entries; /* hosts/PEER plus -o PEER.Key */
	uint32_t options;
	int measured_weight;

	/* authentication */
	void *rsa;                  /* rsa_key_t *: peer's public key */
	stream_cipher_t *meta_cipher_out, *meta_cipher_in;
	int outdigest_nid;          /* our METAKEY digest: what the peer must answer with */
	int indigest_nid;           /* peer's METAKEY digest: how we answer its challenge */
	uint8_t *challenge_sent;      /* challenge we sent (raw) */
	size_t challenge_sent_len;
	uint8_t *challenge_received;       /* challenge the peer sent (raw) */
	size_t challenge_received_len;

	/* input: raw bytes decrypted in place */
	uint8_t inbound_buf[META_INBUF_SIZE];
	size_t inlen;
	int pending_frame_len;                 /* >0: expecting a PACKET payload of this many bytes */
	bool tcp_discard;           /* skip those bytes instead of delivering them */
	/* output: encrypted bytes waiting for the socket */
	uint8_t *outbound_buf;
	size_t outlen, outcap, outstart;

	uint64_t created_ns;        /* connection object created (weight estimate, auth timeout) */
	uint64_t last_ping_ns;      /* last PING sent (or activation) */
	uint64_t last_flushed_ns;   /* output buffer last empty */
} connection_t;

extern sset_t connection_set; /* by pointer, iteration only */
extern connection_t *broadcast_conn;  /* pseudo connection meaning "broadcast to all" */

connection_t *connection_new(void);
void connection_register(connection_t *c);
/* Close the socket (or park it in the tarpit), unlink from tables, free later. */
void connection_close(connection_t *c);
void connection_free(connection_t *c);
/* Park an fd we will never read again (protocol.md §3.9): a ring of 10 slots, the
 * fd previously in the slot is closed. */
void connection_tarpit_fd(int fd);

#endif

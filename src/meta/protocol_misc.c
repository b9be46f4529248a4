/* PING, PONG, PACKET, TERMREQ, tinc 1.1's SPTPS_PACKET framing, and the end
 * of a connection (protocol.md §3.9). */
#include "util/compat.h"

#include "util/clock.h"
#include "meta/connection.h"
#include "mesh/edge.h"
#include "util/log.h"
#include "config/settings.h"
#include "mesh/node.h"
#include "packet/packet.h"
#include "meta/meta.h"
#include "meta/net_socket.h"
#include "meta/protocol.h"
#include "meta/topology.h"

/* ---- PING / PONG ---- */

bool send_ping_request(connection_t *c) {
	c->status.ping_outstanding = true;
	c->last_ping_ns = now_ns;
	return request_send(c, "%d", REQ_PING);
}

bool send_pong_request(connection_t *c) {
	return request_send(c, "%d", REQ_PONG);
}

bool handle_ping_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)rf;
	(void)line;
	return send_pong_request(c);
}

bool handle_pong_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)rf;
	(void)line;
	c->status.ping_outstanding = false;
	/* The link has proven itself: reconnect quickly next time (protocol.md §6.9). */
	if(c->outgoing)
		outgoing_reset_backoff(c->outgoing);
	return true;
}

/* ---- PACKET and SPTPS_PACKET framing ---- */

/* "NN LEN" announces LEN raw bytes; they must fit our receive buffer. */
static bool expect_payload(connection_t *c, request_fields_t *rf, int request, bool discard) {
	int len;
	if(rf->count < 2 || !parse_int_field(rf->f[1], &len) || len < 0)
		return bad_request(c, request, NULL);
	if(len > META_INBUF_SIZE)
		return bad_request(c, request, "payload larger than the receive buffer");
	c->pending_frame_len = len;
	c->tcp_discard = discard;
	return true;
}

bool handle_packet_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	if(!expect_payload(c, rf, REQ_PACKET, false))
		return false;
	/* Larger than any frame: 1.0.36 consumes and ignores it (protocol.md §5.9). */
	if(c->pending_frame_len > PACKET_BUF_MAX) {
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "Dropping a PACKET of %d bytes from %s (%s): larger than a frame can be",
		    c->pending_frame_len, c->name, c->hostname);
		c->tcp_discard = true;
	}
	return true;
}

bool handle_sptps_packet_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)line;
	LOG(VERBOSITY_REQUESTS, LOG_WARNING, "Ignoring %s from %s (%s): a tinc 1.1 request we do not speak", "SPTPS_PACKET",
	    c->name, c->hostname);
	return expect_payload(c, rf, REQ_SPTPS_PACKET, true);
}

/* ---- TERMREQ ---- */

bool handle_termreq_request(connection_t *c, request_fields_t *rf, const char *line) {
	(void)rf;
	(void)line;
	/* 1.0.36 has no handler and drops the link; a peer asking to end it gets
	 * that without an error message or the tarpit. */
	LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "%s (%s) said goodbye (TERMREQ)", c->name, c->hostname);
	connection_shutdown(c, c->status.active);
	return true;
}

/* ---- the end of a connection ---- */

void connection_shutdown(connection_t *c, bool report) {
	if(!c || c == broadcast_conn || c->status.dead)
		return;
	LOG(VERBOSITY_CONNECTIONS, LOG_NOTICE, "Closing the connection with %s (%s)", c->name, c->hostname);

	c->status.active = false;
	node_t *peer = c->node;
	if(peer && peer->connection == c)
		peer->connection = NULL;

	if(c->edge) {
		if(report && !settings.tunnelserver)
			send_del_edge_request(broadcast_conn, c->edge);
		edge_unlink(c->edge);
		c->edge = NULL;
		graph_recompute();

		/* The peer's own edge to us would keep a half link alive in every
		 * graph until it times out: remove and announce it as well. */
		if(report && peer && !peer->status.reachable) {
			edge_t *back = edge_find(peer, local_node);
			if(back) {
				if(!settings.tunnelserver)
					send_del_edge_request(broadcast_conn, back);
				edge_unlink(back);
			}
		}
	}

	outgoing_t *o = c->outgoing;
	c->outgoing = NULL;
	connection_close(c);

	/* Like tinc: once the last connection is gone, forget what we knew about
	 * unreachable nodes, so stale edges cannot resurrect them later. Any
	 * connection still open (say, the one replacing this one right now, whose
	 * ACK is being processed) may refer to a node: then purge nothing. */
	if(!connection_set.count)
		purge();

	/* only now: a reconnect attempt is a connection too */
	if(o)
		outgoing_connection_lost(o);
}

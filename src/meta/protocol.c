/* Dispatching received requests (protocol.md §3.3, §3.9): parse the request
 * number, check it is allowed in the connection's state, log and call the
 * handler. Also the daemon's past-request cache (protocol.md §3.6). */
#include "util/compat.h"

#include <string.h>

#include "util/clock.h"
#include "meta/connection.h"
#include "util/log.h"
#include "config/settings.h"
#include "meta/protocol.h"

static const request_handler_t handlers[REQ_LAST] = {
	[REQ_ID] = handle_id_request,
	[REQ_METAKEY] = handle_metakey_request,
	[REQ_CHALLENGE] = handle_challenge_request,
	[REQ_CHAL_REPLY] = handle_chal_reply_request,
	[REQ_ACK] = handle_ack_request,
	[REQ_TERMREQ] = handle_termreq_request,
	[REQ_PING] = handle_ping_request,
	[REQ_PONG] = handle_pong_request,
	[REQ_ADD_SUBNET] = handle_add_subnet_request,
	[REQ_DEL_SUBNET] = handle_del_subnet_request,
	[REQ_ADD_EDGE] = handle_add_edge_request,
	[REQ_DEL_EDGE] = handle_del_edge_request,
	[REQ_KEY_CHANGED] = handle_key_changed_request,
	[REQ_REQ_KEY] = handle_req_key_request,
	[REQ_ANS_KEY] = handle_ans_key_request,
	[REQ_PACKET] = handle_packet_request,
	[REQ_SPTPS_PACKET] = handle_sptps_packet_request,
};

bool bad_request(const connection_t *c, int request, const char *why) {
	if(why)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Malformed %s from %s (%s): %s", request_name(request), c->name,
		       c->hostname, why);
	else
		logger(VERBOSITY_ERRORS, LOG_ERR, "Malformed %s from %s (%s)", request_name(request), c->name,
		       c->hostname);
	return false;
}

/* Requests a peer may send in each state (protocol.md §3.9): exactly the next step
 * of the handshake before activation, anything but the handshake after. */
static bool request_allowed(const connection_t *c, int request) {
	if(c->state != CONN_ACTIVE)
		return request == (int)c->state;
	return request > REQ_ACK;
}

static void log_unknown(const connection_t *c, const char *line) {
	if(debug_level >= VERBOSITY_REQUEST_DETAIL)
		logger(VERBOSITY_REQUEST_DETAIL, LOG_DEBUG, "Request of unknown type from %s (%s): %s", c->name, c->hostname, line);
	else
		logger(VERBOSITY_ERRORS, LOG_ERR, "Request of unknown type from %s (%s)", c->name, c->hostname);
}

bool request_dispatch(connection_t *c, char *line) {
	request_fields_t rf;
	int request;
	split_result_t split = request_split(&rf, line);
	if(split != SPLIT_OK || rf.count < 1 || !parse_request_number(rf.f[0], &request)) {
		if(split == SPLIT_OK && rf.count >= 1 && rf.f[0][0] == '-') {
			log_unknown(c, line);
			return false;
		}
		if(split == SPLIT_FIELD_TOO_LONG)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Request from %s (%s) has an overlong field", c->name,
			       c->hostname);
		else
			logger(VERBOSITY_ERRORS, LOG_ERR, "Unreadable data from %s (%s): not a request line", c->name, c->hostname);
		return false;
	}

	bool known = request < REQ_LAST;
	/* 1.0.36 has no handler for these and drops the connection; a TERMREQ
	 * is a polite goodbye though, handled quietly by handle_termreq_request. */
	if(!known || request == REQ_STATUS || request == REQ_ERROR) {
		log_unknown(c, line);
		return false;
	}

	if(debug_level >= VERBOSITY_REQUEST_DETAIL)
		logger(VERBOSITY_REQUEST_DETAIL, LOG_DEBUG, "Got %s from %s (%s): %s", request_name(request), c->name,
		       c->hostname, line);
	else
		LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "Got %s from %s (%s)", request_name(request), c->name,
		    c->hostname);

	if(!request_allowed(c, request)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Out-of-order %s from %s (%s): not allowed at this stage", request_name(request), c->name, c->hostname);
		return false;
	}

	request_handler_t h = handlers[request];
	if(!h) {
		/* tinc 1.1 requests (protocol.md §9): a node announcing minor 0 should never
		 * get them; ignoring is kinder than dropping the link. */
		LOG(VERBOSITY_REQUESTS, LOG_WARNING, "Ignoring %s from %s (%s): a tinc 1.1 request we do not speak",
		    request_name(request), c->name, c->hostname);
		return true;
	}
	if(!h(c, &rf, line)) {
		if(!c->status.dead)
			logger(VERBOSITY_ERRORS, LOG_ERR, "Handling %s from %s (%s) failed: closing the connection",
			       request_name(request), c->name, c->hostname);
		return false;
	}
	return true;
}

/* ---- past requests ---- */

static past_cache_t *past_requests;

void past_request_init(void) {
	if(!past_requests)
		past_requests = past_cache_new(PAST_REQUEST_CAP);
}

void past_request_exit(void) {
	past_cache_free(past_requests);
	past_requests = NULL;
}

void past_request_age(void) {
	if(!past_requests)
		return;
	size_t deleted = past_cache_age(past_requests, now_ns, sec_to_ns((uint64_t)settings.pinginterval));
	size_t left = past_cache_count(past_requests);
	if(deleted || left)
		LOG(VERBOSITY_SECRETS, LOG_DEBUG, "Seen-request cache: %zu expired, %zu kept", deleted, left);
}

bool request_seen_before(const char *line) {
	past_request_init();
	if(past_cache_seen(past_requests, line, now_ns)) {
		LOG(VERBOSITY_SECRETS, LOG_DEBUG, "Request seen before: not handled again");
		return true;
	}
	return false;
}

/* CoDel on the receive path. When the daemon cannot keep up, datagrams wait
 * in the UDP socket's receive buffer, a FIFO the daemon does not manage. The
 * kernel's arrival timestamp (SO_TIMESTAMPNS) tells how long each one
 * waited, so CoDel can act on that queue as if it were ours: a datagram
 * CoDel picks is dropped before decryption (the expensive step) when its
 * outer ECN says the inner packet cannot carry a mark, and is decrypted and
 * CE-marked when it can. Because the daemon serves the socket in bursts,
 * ECN-capable datagrams are also marked as soon as they waited longer than
 * a threshold (IngressCEThreshold), before the buffer can overflow. */
#ifndef FQTINC_INGRESS_H
#define FQTINC_INGRESS_H

#include "aqm/codel.h"
#include "util/compat.h"
#include "packet/packet.h"

/* Default IngressCEThreshold. */
#define INGRESS_CE_THRESHOLD_DEFAULT_NS (1 * 1000000ULL)
/* Default IngressCoDelTarget and IngressCoDelInterval. */
#define INGRESS_TARGET_DEFAULT_NS (2 * 1000000ULL)
#define INGRESS_INTERVAL_DEFAULT_NS (20 * 1000000ULL)
/* Default IngressDropThreshold. */
#define INGRESS_DROP_THRESHOLD_DEFAULT_NS (2 * 1000000ULL)
/* At most one drop for the threshold per this time. */
#define INGRESS_DROP_SPACING_NS (2 * 1000000ULL)
/* ... and only while this many bytes wait (about 32 full datagrams). */
#define INGRESS_DROP_MIN_BACKLOG (32 * 1500)

typedef struct ingress_stats {
	uint64_t signals;     /* CoDel decisions */
	uint64_t dropped;     /* dropped before decryption (outer Not-ECT) */
	uint64_t marked;      /* passed on to be CE-marked */
	uint64_t threshold_marks; /* passed on to be CE-marked for waiting longer than the CE threshold */
	uint64_t threshold_drops; /* Not-ECT, dropped undecrypted for waiting longer than the drop threshold */
	uint64_t delivered;   /* datagrams CoDel let through untouched */
	uint64_t sojourn_max_ns;
	uint64_t sojourn_sum_ns; /* of those: for the average */
} ingress_stats_t;

typedef enum ingress_verdict {
	INGRESS_PASS, /* process the datagram */
	INGRESS_MARK, /* process it and CE-mark the inner packet (drop it if it
	               * turns out not ECN-capable) */
	INGRESS_MARK_ONLY, /* CE threshold: mark the inner packet if it is
	                    * ECN-capable, else pass it (a drop is CoDel's call) */
	INGRESS_DROP, /* dropped undecrypted: only for the caller's accounting */
} ingress_verdict_t;

/* The AQM state of one receive queue: the caller keeps one per queue it
 * serves (per flow bucket of a socket), zeroed or set by ingress_queue_init. */
typedef struct ingress_queue {
	codel_vars_t codel;
	uint64_t last_threshold_drop_ns;
} ingress_queue_t;

typedef void (*ingress_deliver_t)(frame_buf_t *p, ingress_verdict_t v, void *ctx);

/* 0 for target or interval: the RFC 8289 default. ce_threshold_ns: an
 * ECN-capable datagram that waited longer is marked regardless of CoDel's
 * state (0: never). drop_threshold_ns: a Not-ECT datagram that waited longer
 * is dropped before decryption, likewise, but at most one per
 * INGRESS_DROP_SPACING_NS, only while INGRESS_DROP_MIN_BACKLOG bytes are
 * queued and only from a queue that holds more than one full packet (0:
 * never). */
void ingress_init(uint64_t target_ns, uint64_t interval_ns, uint64_t ce_threshold_ns, uint64_t drop_threshold_ns);
void ingress_queue_init(ingress_queue_t *q);
/* Run one batch of queue q through CoDel at time now (ns, the clock of the
 * packets' tstamp_ns). bytes_behind: bytes of q's datagrams queued behind the
 * batch; 0 says q ends with this batch. all_queued: bytes waiting in all the
 * queues of the socket, batch included (the load the drop threshold asks
 * about). Every datagram of the batch is delivered once, in order, with a
 * verdict. */
void ingress_run(ingress_queue_t *q, frame_buf_t **batch, int n, uint64_t bytes_behind, uint64_t all_queued,
                 uint64_t now, ingress_deliver_t deliver, void *ctx);
void ingress_get_stats(ingress_stats_t *st);

#endif

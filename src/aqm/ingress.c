/* The receive-side AQM (CoDel on kernel arrival times, plus the CE
 * threshold): see ingress.h. */
#include "util/compat.h"

#include "packet/ecn.h"
#include "aqm/ingress.h"

typedef struct rx_queue {
	frame_buf_t **batch;
	int n, head;
	uint64_t backlog;
	ingress_deliver_t deliver;
	void *ctx;
} rx_queue_t;

static codel_params_t params;
static uint64_t ce_threshold;
static uint64_t drop_threshold;
static codel_stats_t cstats;
static ingress_stats_t stats;

void ingress_init(uint64_t target_ns, uint64_t interval_ns, uint64_t ce_threshold_ns, uint64_t drop_threshold_ns) {
	codel_params_default(&params, PACKET_BUF_MAX);
	if(target_ns)
		params.target_ns = target_ns;
	if(interval_ns)
		params.interval_ns = interval_ns;
	/* never let CoDel touch the (encrypted) bytes: we decide mark or drop */
	params.ecn = false;
	ce_threshold = ce_threshold_ns;
	drop_threshold = drop_threshold_ns;
}

void ingress_queue_init(ingress_queue_t *q) {
	codel_vars_init(&q->codel);
	q->last_threshold_drop_ns = 0;
}

static frame_buf_t *rx_pop(void *ctx) {
	rx_queue_t *q = ctx;
	if(q->head == q->n)
		return NULL;
	frame_buf_t *p = q->batch[q->head++];
	q->backlog = q->backlog > p->len ? q->backlog - p->len : 0;
	return p;
}

static void rx_signal(void *ctx, frame_buf_t *p) {
	rx_queue_t *q = ctx;
	stats.signals++;
	if((p->outer_tos & ECN_MASK) == ECN_NOT_ECT) {
		stats.dropped++;
		q->deliver(p, INGRESS_DROP, q->ctx);
		return;
	}
	stats.marked++;
	q->deliver(p, INGRESS_MARK, q->ctx);
}

void ingress_run(ingress_queue_t *queue, frame_buf_t **batch, int n, uint64_t bytes_behind, uint64_t all_queued,
                 uint64_t now, ingress_deliver_t deliver, void *ctx) {
	rx_queue_t q = {batch, n, 0, 0, deliver, ctx};
	for(int i = 0; i < n; i++)
		q.backlog += batch[i]->len;
	/* what waits behind the batch counts: never "nearly empty" then */
	q.backlog += bytes_behind;
	codel_queue_t cq = {rx_pop, rx_signal, &q, &q.backlog};
	/* Stop once the batch is used up: when more datagrams wait behind it the
	 * queue is not empty, and CoDel must not be told it is (an empty queue
	 * ends its dropping state). */
	while(q.head < q.n || !bytes_behind) {
		frame_buf_t *p = codel_dequeue(&params, &queue->codel, &cstats, &cq, now);
		if(!p)
			break;
		uint64_t s = codel_sojourn(p, now);
		if(s > stats.sojourn_max_ns)
			stats.sojourn_max_ns = s;
		/* The socket is a FIFO served in bursts (whenever the daemon gets
		 * the CPU), so its sojourn keeps dipping below target and CoDel,
		 * which waits for a standing queue, may never act while bursts
		 * overflow the buffer. A packet that can carry a mark gets one as
		 * soon as it waited longer than the threshold: an ECN flow backs off
		 * once per round trip however many it gets (the idea of Linux
		 * fq_codel's ce_threshold). */
		bool ect = (p->outer_tos & ECN_MASK) != ECN_NOT_ECT;
		if(ce_threshold && s > ce_threshold && ect) {
			stats.threshold_marks++;
			deliver(p, INGRESS_MARK_ONLY, ctx);
			continue;
		}
		/* Flows that can only be told by a loss get one the same way, but
		 * sparingly: served in bursts, the queue empties often enough that
		 * CoDel keeps leaving its dropping state while the delay stands at
		 * several times its target. A Not-ECT datagram that waited longer
		 * than the drop threshold is dropped before it costs a decryption,
		 * one per INGRESS_DROP_SPACING_NS at most: a TCP flow halves its
		 * window once per round trip however many it loses, and a burst of
		 * losses costs retransmissions (and goodput) for no further signal.
		 * Only while a real load waits: a few pings held up by a stalled
		 * daemon are late, not the cause. And only from a queue that holds
		 * more than one full packet, as CoDel itself: a sparse flow (a ping,
		 * DNS, a voice call) waited in the kernel's buffer behind the others'
		 * load, which its loss would not shorten. */
		bool own_queue = q.backlog + p->len > params.mtu;
		if(drop_threshold && s > drop_threshold && !ect && own_queue && all_queued >= INGRESS_DROP_MIN_BACKLOG &&
		   now - queue->last_threshold_drop_ns >= INGRESS_DROP_SPACING_NS) {
			queue->last_threshold_drop_ns = now;
			stats.threshold_drops++;
			deliver(p, INGRESS_DROP, ctx);
			continue;
		}
		stats.sojourn_sum_ns += s;
		stats.delivered++;
		deliver(p, INGRESS_PASS, ctx);
	}
}

void ingress_get_stats(ingress_stats_t *st) {
	*st = stats;
}

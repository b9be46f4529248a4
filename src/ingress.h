/* CoDel on the receive path. When the daemon cannot keep up, datagrams wait
 * in the UDP socket's receive buffer, a FIFO the daemon does not manage. The
 * kernel's arrival timestamp (SO_TIMESTAMPNS) tells how long each one
 * waited, so CoDel can act on that queue as if it were ours: a datagram
 * CoDel picks is dropped before decryption (the expensive step) when its
 * outer ECN says the inner packet cannot carry a mark, and is decrypted and
 * CE-marked when it can. */
#ifndef FQTINC_INGRESS_H
#define FQTINC_INGRESS_H

#include "codel.h"
#include "compat.h"
#include "packet.h"

typedef struct ingress_stats {
	uint64_t signals;     /* CoDel decisions */
	uint64_t dropped;     /* dropped before decryption (outer Not-ECT) */
	uint64_t marked;      /* passed on to be CE-marked */
	uint64_t sojourn_max_ns;
} ingress_stats_t;

/* deliver(p, congested): process datagram p; congested = CoDel asked for a
 * congestion signal, so the inner packet must be CE-marked (or dropped if it
 * turns out not ECN-capable). */
typedef void (*ingress_deliver_t)(vpn_packet_t *p, bool congested, void *ctx);

void ingress_init(uint64_t target_ns, uint64_t interval_ns);
/* Run one receive batch through CoDel at time now (ns, the clock of the
 * packets' tstamp_ns). more_waiting: the batch was full, so more datagrams
 * are queued in the kernel behind it. */
void ingress_run(int sock, vpn_packet_t **batch, int n, bool more_waiting, uint64_t now,
                 ingress_deliver_t deliver, void *ctx);
void ingress_get_stats(ingress_stats_t *st);

#endif

/* Which node sends from an address and port that is not its UDP address:
 * a peer that spreads its flows over several source ports (protocol.md
 * §10.3) sends from many. Without this cache every datagram from such a
 * port would cost a MAC trial over the nodes (receive.c).
 *
 * Bounded: SENDER_CACHE_SETS sets of two entries (2 x 2048 = 4096), the
 * less recently used one of a set giving way. An entry is put only after a
 * datagram from that address authenticated and passed the replay window;
 * it goes when its node goes, and when a datagram from it fails the MAC of
 * the node it names. Pure data structure: no I/O, no clock. */
#ifndef FQTINC_SENDER_CACHE_H
#define FQTINC_SENDER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"
#include "util/sockaddr.h"

struct node;

#define SENDER_CACHE_SETS 2048
#define SENDER_CACHE_WAYS 2

/* The node last proven to send from 'from' (address and port), or NULL. */
struct node *sender_cache_find(const sockaddr_u *from);
/* 'from' is n's: remember it (an older entry of the set may give way). */
void sender_cache_put(const sockaddr_u *from, struct node *n);
/* A datagram from 'from' did not open with the cached node's key. */
void sender_cache_drop(const sockaddr_u *from);
/* n is going away or changed its keys: forget all its entries. */
void sender_cache_forget(const struct node *n);
/* Forget everything. */
void sender_cache_clear(void);
/* Pure: may a datagram from an address new for its sender move the
 * sender's UDP address there? A peer that announced OPTION_UDP_PORTS sends
 * probes (EtherType 0) only from its own port, and spreads data over other
 * ports only on links with PMTU discovery: there only a probe may move it. */
bool sender_address_follows(uint32_t peer_options, bool probe);
/* Entries held (for the stats report and tests). */
size_t sender_cache_count(void);

#endif

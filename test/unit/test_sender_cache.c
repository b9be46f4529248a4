/* The sender cache: hits by address and port, the bound, which entry of a
 * full set gives way, and forgetting a node. */
#include "util/compat.h"

#include <string.h>

#include "datapath/sender_cache.h"
#include "mesh/options.h"
#include "addrs.h"
#include "unit.h"

/* stand-ins: the cache only compares and returns the pointers */
static int node_a, node_b;
#define A ((struct node *)&node_a)
#define B ((struct node *)&node_b)

int main(void) {
	sockaddr_u a1 = addr_v4("192.0.2.1", 40001), a2 = addr_v4("192.0.2.1", 40002), b1 = addr_v6("2001:db8::2", 40001);
	CHECK(!sender_cache_find(&a1));
	sender_cache_put(&a1, A);
	sender_cache_put(&a2, A);
	sender_cache_put(&b1, B);
	CHECK(sender_cache_find(&a1) == A);
	CHECK(sender_cache_find(&a2) == A);
	CHECK(sender_cache_find(&b1) == B);
	CHECK_EQ_INT(sender_cache_count(), 3);
	/* another port of a known address is not known */
	sockaddr_u a3 = addr_v4("192.0.2.1", 40003);
	CHECK(!sender_cache_find(&a3));
	/* the same port of another family is not known either */
	sockaddr_u b1v4 = addr_v4("192.0.2.2", 40001);
	CHECK(!sender_cache_find(&b1v4));
	/* putting again moves, does not add */
	sender_cache_put(&a1, B);
	CHECK(sender_cache_find(&a1) == B);
	CHECK_EQ_INT(sender_cache_count(), 3);
	sender_cache_put(&a1, A);

	/* a failed MAC drops the entry */
	sender_cache_drop(&a2);
	CHECK(!sender_cache_find(&a2));
	CHECK_EQ_INT(sender_cache_count(), 2);
	sender_cache_drop(&a2); /* twice: nothing more happens */
	CHECK_EQ_INT(sender_cache_count(), 2);

	/* forgetting a node forgets all its entries and only those */
	sender_cache_put(&a2, A);
	sender_cache_forget(A);
	CHECK(!sender_cache_find(&a1));
	CHECK(!sender_cache_find(&a2));
	CHECK(sender_cache_find(&b1) == B);
	CHECK_EQ_INT(sender_cache_count(), 1);

	/* bounded: far more senders than entries */
	sender_cache_clear();
	CHECK_EQ_INT(sender_cache_count(), 0);
	for(uint32_t i = 0; i < 20000; i++) {
		sockaddr_u sa = addr_v4("198.51.100.7", (uint16_t)(1024 + i));
		sender_cache_put(&sa, A);
	}
	CHECK(sender_cache_count() <= SENDER_CACHE_SETS * SENDER_CACHE_WAYS);
	CHECK(sender_cache_count() > SENDER_CACHE_SETS); /* and the space is used */
	/* the newest ones are all still there (a put never evicts the entry just used) */
	int hits = 0;
	for(uint32_t i = 20000 - 64; i < 20000; i++) {
		sockaddr_u sa = addr_v4("198.51.100.7", (uint16_t)(1024 + i));
		hits += sender_cache_find(&sa) == A;
	}
	CHECK(hits >= 60);

	/* the entry in use stays: whatever lands in its set pushes the other one out */
	sender_cache_clear();
	sockaddr_u busy = addr_v4("203.0.113.1", 1);
	sender_cache_put(&busy, A);
	bool kept = true;
	for(uint32_t i = 0; i < 20000 && kept; i++) {
		sockaddr_u sa = addr_v4("203.0.113.9", (uint16_t)(1024 + i));
		sender_cache_put(&sa, B);
		kept = sender_cache_find(&busy) == A;
	}
	CHECK(kept);

	/* unknown families are never stored */
	sockaddr_u none;
	memset(&none, 0, sizeof(none));
	sender_cache_put(&none, A);
	CHECK(!sender_cache_find(&none));
	/* who may move a node's UDP address */
	uint32_t spreading = OPTION_UDP_PORTS | OPTION_PMTU_DISCOVERY;
	CHECK(sender_address_follows(OPTION_PMTU_DISCOVERY, false)); /* tinc, or an older fqtinc: anything */
	CHECK(sender_address_follows(0xc | OPTION_ECN_RFC6040, false));
	CHECK(!sender_address_follows(spreading, false));           /* data may come from another port */
	CHECK(sender_address_follows(spreading, true));             /* probes come from its own */
	CHECK(sender_address_follows(OPTION_UDP_PORTS, false));     /* no PMTU discovery: it does not spread */
	return unit_done();
}

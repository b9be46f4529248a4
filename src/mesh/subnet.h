/* Subnets: MAC, IPv4 and IPv6 prefixes owned by nodes, their string forms
 * (protocol.md §3.7) and the global lookup table (protocol.md §6.5). */
#ifndef FQTINC_SUBNET_H
#define FQTINC_SUBNET_H

#include <stdint.h>

#include "util/compat.h"

struct node;

typedef enum subnet_kind {
	SUBNET_MAC = 0,
	SUBNET_IPV4,
	SUBNET_IPV6,
} subnet_kind_t;

#define DEFAULT_WEIGHT 10
#define SUBNET_TEXT_MAX 64

typedef struct subnet {
	struct node *owner;   /* NULL while not attached to a node */
	subnet_kind_t type;
	int weight;
	uint64_t expires;     /* switch mode learned MACs: monotonic ns; 0 = never */
	union {
		struct { uint8_t address[6]; } mac;
		struct { uint8_t address[4]; int prefix_bits; } ipv4;
		struct { uint8_t address[16]; int prefix_bits; } ipv6;
	} net;
} subnet_t;

/* ---- strings (subnet_parse.c) ---- */

/* Parse "ADDR[/PREFIX][#WEIGHT]" as tinc does; false on any error. */
bool subnet_parse(subnet_t *subnet, const char *str);
/* Print in tinc's wire form, always with "#weight" (protocol.md §3.7). */
bool subnet_format(char *out, size_t outlen, const subnet_t *subnet);
/* Same without the "#weight" suffix (SUBNET in script environments). */
bool subnet_format_without_weight(char *out, size_t outlen, const subnet_t *subnet);
/* Config subnets must have zero host bits. */
bool subnet_hostbits_zero(const subnet_t *subnet);
/* Total order used by the tables (type, prefix desc, address, weight, owner name). */
int subnet_cmp(const subnet_t *a, const subnet_t *b);
bool host_bits_clear(const uint8_t *a, int masklen, size_t len);
bool maskcmp_match(const uint8_t *net, const uint8_t *addr, int masklen);

/* ---- the tables (subnet.c) ---- */

subnet_t *subnet_new(void);
void subnet_free(subnet_t *subnet);
void subnet_table_init(void);
void subnet_table_exit(void);
/* Attach to owner and the global table. */
void subnet_attach(struct node *owner, subnet_t *subnet);
/* Detach from owner and the global table, and free. */
void subnet_detach(struct node *owner, subnet_t *subnet);
/* Exact match (type, address, prefix, weight) among owner's subnets. */
subnet_t *subnet_find(const struct node *owner, const subnet_t *subnet);
/* Data-path lookups: first match with a reachable owner, else the last match, else NULL. */
subnet_t *subnet_match_mac(const struct node *owner, const uint8_t mac[6]);
subnet_t *subnet_match_ipv4(const uint8_t address[4]);
subnet_t *subnet_match_ipv6(const uint8_t address[16]);
/* Flush lookup caches; call after any subnet or reachability change. */
void subnet_lookup_cache_clear(void);

#include "util/sset.h"
extern sset_t subnets_all; /* every subnet of every node, in subnet_cmp order */

#endif

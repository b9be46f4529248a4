/* The data path's counters for the whole daemon, kept by the stages and
 * dumped on USR2. */
#ifndef FQTINC_COUNTERS_H
#define FQTINC_COUNTERS_H

#include <stdint.h>

#include "util/compat.h"

/* Counters for the whole daemon (dumped on USR2). */
typedef struct datapath_stats {
	uint64_t udp_unknown_source;
	uint64_t udp_no_key;
	uint64_t udp_bad_mac;
	uint64_t udp_decrypt_failed;
	uint64_t udp_replay_late;
	uint64_t udp_replay_replayed;
	uint64_t udp_replay_far_ahead;
	uint64_t udp_decompress_failed;
	uint64_t ecn_ce_drops;       /* outer CE over inner Not-ECT (RFC 6040: drop) */
	uint64_t ecn_ce_propagated;  /* outer CE copied into the inner packet */
	uint64_t ecn_unexpected;     /* combinations RFC 6040 says to log */
	uint64_t rx_codel_drops;     /* receive-side CoDel signal on a Not-ECT inner packet */
	uint64_t udp_gro_reads;      /* reads that held several datagrams (UDP GRO) */
	uint64_t udp_gro_datagrams;  /* the datagrams in them */
	uint64_t udp_gro_lost;       /* coalesced datagrams that did not fit the ring or were unusable */
} datapath_stats_t;

extern datapath_stats_t datapath_stats;

#endif

/* Numbers of the control protocol (doc/protocol.md §12): the request
 * numbers the meta protocol already uses for ID, ACK and CONTROL, and the
 * control request types tinc 1.1's `tinc` sends. */
#ifndef FQTINC_CONTROL_PROTOCOL_IDS_H
#define FQTINC_CONTROL_PROTOCOL_IDS_H

#define CTL_ID 0
#define CTL_ACK 4
#define CTL_CONTROL 18
#define CTL_VERSION 0

enum control_request {
	CTL_INVALID = -1,
	CTL_STOP = 0,
	CTL_RELOAD = 1,
	CTL_RESTART = 2,
	CTL_DUMP_NODES = 3,
	CTL_DUMP_EDGES = 4,
	CTL_DUMP_SUBNETS = 5,
	CTL_DUMP_CONNECTIONS = 6,
	CTL_DUMP_GRAPH = 7,
	CTL_PURGE = 8,
	CTL_SET_DEBUG = 9,
	CTL_RETRY = 10,
	CTL_CONNECT = 11,
	CTL_DISCONNECT = 12,
	CTL_DUMP_TRAFFIC = 13,
	CTL_PCAP = 14,
	CTL_LOG = 15,
	/* fqtinc's own, far from tinc's numbers */
	CTL_DUMP_STATS = 100,
};

#endif

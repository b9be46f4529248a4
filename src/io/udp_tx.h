/* Batched UDP transmission: datagrams are sealed straight into a per-socket
 * batch and leave in one sendmmsg() per batch, each with its own outer
 * TOS/TCLASS control message; with GSO (udp_offload.h), runs of equal
 * datagrams to one address with one TOS go as one message (gso_runs.h).
 * The batch is flushed when full and at the end of every event-loop turn,
 * so batching never adds more than one turn of delay. A slot may hold a
 * datagram whose encryption the codec deferred (packet_seal_deferred);
 * every flush completes those first. */
#ifndef FQTINC_UDP_TX_H
#define FQTINC_UDP_TX_H

#include "util/compat.h"
#include "packet/packet.h"

struct node;

#define UDP_TX_BATCH 64
#define UDP_TX_SLOT (PACKET_BUF_MAX + 64)

/* sock is a send-socket id (io/udp_ports.h): a listener index, or an
 * auxiliary port of one. */
/* A buffer of UDP_TX_SLOT bytes to seal a datagram for socket sock into,
 * or NULL if the socket's batch cannot take more until it becomes writable. */
uint8_t *udp_tx_slot(int sock);
/* Queue the datagram just written into the slot. framelen is the inner frame
 * length (for path-MTU bookkeeping when the kernel says EMSGSIZE). */
void udp_tx_commit(int sock, struct node *to, size_t len, uint8_t tos, size_t framelen);
/* Send what is queued on every socket. */
void udp_tx_flush_all(void);
/* True while a socket's batch is stuck on a full send buffer. */
bool udp_tx_blocked(int sock);
/* The socket became writable again: send what waited. True if the batch
 * went out, so the caller may queue more. */
bool udp_tx_writable(int sock);
/* True while any socket's batch is stuck (auxiliary ports included). */
bool udp_tx_any_blocked(void);
/* When a UDP socket last found the local queue below it full (0: never):
 * the uplink itself is the bottleneck. */
uint64_t udp_tx_last_pushback_ns(void);
/* Datagrams the kernel refused for other reasons than a full buffer or
 * the path MTU. */
uint64_t udp_tx_send_errors(void);
/* UDP GSO messages sent, and the datagrams they carried. */
void udp_tx_gso_counts(uint64_t *messages, uint64_t *datagrams);
/* Before a node is freed: drop references to it from queued datagrams. */
void udp_tx_forget_node(const struct node *n);

#endif

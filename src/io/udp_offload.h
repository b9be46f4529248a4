/* The kernel's UDP segmentation offloads on our sockets: GSO (UDP_SEGMENT,
 * one send carries many equal datagrams, cut by the kernel or the NIC) and
 * GRO (UDP_GRO, one read returns many datagrams of one sender). Both only
 * change how datagrams cross the socket boundary; on the wire they stay
 * plain protocol-17 datagrams. Switched off by Offload = no. */
#ifndef FQTINC_UDP_OFFLOAD_H
#define FQTINC_UDP_OFFLOAD_H

#include "util/compat.h"

/* At socket setup: ask for GRO, probe GSO, and say once (and again when it
 * changes) which of them are in use. */
void udp_offload_setup(int fd);
/* May sends on fd use UDP_SEGMENT? */
bool udp_offload_gso_usable(int fd);
/* Does the kernel coalesce datagrams on reads from fd? */
bool udp_offload_gro_enabled(int fd);

/* Kernel releases known to corrupt UDP GSO sends (7.0 up to 7.1.4 mangled
 * the headers of segmented datagrams): false for those. Pure. */
bool udp_offload_kernel_gso_ok(const char *release);

#endif

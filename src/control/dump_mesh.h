/* The dumps of the mesh as tinc 1.1's control program reads them
 * (doc/protocol.md §12.4): nodes, edges, subnets, traffic. */
#ifndef FQTINC_CONTROL_DUMP_MESH_H
#define FQTINC_CONTROL_DUMP_MESH_H

#include "control/client.h"
#include "mesh/subnet.h"

/* A subnet as tinc 1.1 writes it: no /32 or /128, no default weight, IPv6
 * with "::" (RFC 5952). */
bool control_subnet_text(char *out, size_t outlen, const subnet_t *s);

void control_dump_nodes(control_client_t *cl, int request);
void control_dump_edges(control_client_t *cl, int request);
void control_dump_subnets(control_client_t *cl, int request);
void control_dump_traffic(control_client_t *cl, int request);

#endif

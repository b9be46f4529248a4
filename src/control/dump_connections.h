/* The meta connections (and the control clients) as tinc 1.1's
 * `tinc dump connections` reads them (doc/protocol.md §12.4). */
#ifndef FQTINC_CONTROL_DUMP_CONNECTIONS_H
#define FQTINC_CONTROL_DUMP_CONNECTIONS_H

#include "control/client.h"

void control_dump_connections(control_client_t *cl, int request);

#endif

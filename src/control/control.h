/* The control socket of tinc 1.1 (doc/protocol.md §12): a UNIX socket
 * beside the pid file, a cookie in the pid file, and clients that speak
 * the control line protocol. The daemon opens it once the listeners are up. */
#ifndef FQTINC_CONTROL_H
#define FQTINC_CONTROL_H

#include <stddef.h>

#include "util/compat.h"
#include "control/dispatch.h"

/* "X.pid" gives "X.socket", any other name gets ".socket" appended
 * (xasprintf'd). */
char *control_socket_path(const char *pid_file_path);

/* Make a fresh cookie, bind the socket (mode 0700) and start accepting.
 * Writes the pid file line "PID COOKIE HOST port PORT" into line. False
 * with a logged reason when the socket cannot be had. */
bool control_open(const char *socket_path, const control_actions_t *actions, char *line, size_t linelen);
void control_close(void);

#endif

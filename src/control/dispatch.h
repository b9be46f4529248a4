/* One line from a control client: the cookie handshake, then the control
 * requests (doc/protocol.md §12.3). */
#ifndef FQTINC_CONTROL_DISPATCH_H
#define FQTINC_CONTROL_DISPATCH_H

#include "control/client.h"

/* What only the daemon can do; set once at start-up. A NULL member makes
 * its request fail. */
typedef struct control_actions {
	bool (*reload)(void);   /* re-read the configuration; false on errors */
	void (*retry)(void);    /* connect again now, as SIGALRM */
	void (*stop)(void);     /* leave the event loop */
	/* the fqtinc statistics (control/dump_stats.h) need nothing from above */
} control_actions_t;

void control_set_actions(const control_actions_t *actions);
/* The cookie clients must present, 64 hex digits. */
void control_set_cookie(const char *cookie);

/* Handle one line (no newline). False: the client broke the protocol and
 * has been closed. */
bool control_dispatch(control_client_t *cl, const char *line);

#endif

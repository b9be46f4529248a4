/* Dropping our receive keys so that every node picks up a fresh one: on the
 * KeyExpire timer, or early once a sequence number grows large. */
#ifndef FQTINC_REKEY_H
#define FQTINC_REKEY_H

#include "util/compat.h"

/* Set by the receive stage when a sender's sequence numbers near the
 * point where the key must change; the daemon's housekeeping acts on it. */
extern bool keyexpire_requested;

/* Drop every receive key now and have new ones handed out. */
void keyexpire_now(void);

#endif

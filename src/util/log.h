/* Logging with tinc's debug levels: stderr (-D), syslog, or a log file. */
#ifndef FQTINC_LOG_H
#define FQTINC_LOG_H

#include <syslog.h>

#include "util/compat.h"

enum debug_level {
	VERBOSITY_NONE = -1,
	VERBOSITY_ERRORS = 0,      /* errors and start-up messages */
	VERBOSITY_CONNECTIONS = 1, /* connections made and closed */
	VERBOSITY_STATUS = 2,      /* status changes, scripts */
	VERBOSITY_REQUESTS = 3,    /* request names */
	VERBOSITY_REQUEST_DETAIL = 4,        /* request contents */
	VERBOSITY_TRAFFIC = 5,     /* per-packet decisions */
	VERBOSITY_PACKET_DUMPS = 6,      /* packet contents */
	VERBOSITY_SECRETS = 10, /* key material: never in production */
};

enum log_mode { LOG_TO_STDERR, LOG_TO_FILE, LOG_TO_SYSLOG };

extern int debug_level;

void log_open(enum log_mode mode, const char *ident, const char *logfile);
void log_reopen(void);
void log_close(void);
/* Also hand every message that is logged to tap (NULL: nobody). */
void log_set_tap(void (*tap)(int level, const char *msg));
void logger(int level, int priority, const char *fmt, ...) ATTR_PRINTF(3, 4);

/* The argument list is evaluated only when the message will be printed. */
#define LOG(level, prio, ...)                                                  \
	do {                                                                       \
		if(debug_level >= (level))                                             \
			logger((level), (prio), __VA_ARGS__);                              \
	} while(0)

#endif

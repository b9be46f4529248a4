/* Logging with tinc's debug levels: stderr (-D), syslog, or a log file. */
#ifndef FQTINC_LOG_H
#define FQTINC_LOG_H

#include <syslog.h>

#include "util/compat.h"

enum debug_level {
	DEBUG_NOTHING = -1,
	DEBUG_ALWAYS = 0,      /* errors and start-up messages */
	DEBUG_CONNECTIONS = 1, /* connections made and closed */
	DEBUG_STATUS = 2,      /* status changes, scripts */
	DEBUG_PROTOCOL = 3,    /* request names */
	DEBUG_META = 4,        /* request contents */
	DEBUG_TRAFFIC = 5,     /* per-packet decisions */
	DEBUG_PACKET = 6,      /* packet contents */
	DEBUG_SCARY_THINGS = 10, /* key material: never in production */
};

enum log_mode { LOGMODE_STDERR, LOGMODE_FILE, LOGMODE_SYSLOG };

extern int debug_level;

void log_open(enum log_mode mode, const char *ident, const char *logfile);
void log_reopen(void);
void log_close(void);
void logger(int level, int priority, const char *fmt, ...) ATTR_PRINTF(3, 4);

/* The argument list is evaluated only when the message will be printed. */
#define LOG(level, prio, ...)                                                  \
	do {                                                                       \
		if(debug_level >= (level))                                             \
			logger((level), (prio), __VA_ARGS__);                              \
	} while(0)

#endif

#include "util/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/xalloc.h"

int debug_level = VERBOSITY_NONE;

static enum log_mode mode = LOG_TO_STDERR;
static FILE *logfp;
static char *log_path;
static char *log_ident;

void log_open(enum log_mode m, const char *ident, const char *logfile) {
	mode = m;
	free(log_ident);
	log_ident = xstrdup(ident);
	switch(mode) {
	case LOG_TO_FILE:
		free(log_path);
		log_path = xstrdup(logfile);
		logfp = fopen(logfile, "a");
		if(!logfp) {
			fprintf(stderr, "Cannot open log file %s: %s; logging to stderr\n", logfile, strerror(errno));
			mode = LOG_TO_STDERR;
		} else {
			setvbuf(logfp, NULL, _IOLBF, 0);
		}
		break;
	case LOG_TO_SYSLOG:
		openlog(log_ident, LOG_CONS | LOG_PID, LOG_DAEMON);
		break;
	case LOG_TO_STDERR:
		break;
	}
}

void log_reopen(void) {
	if(mode != LOG_TO_FILE)
		return;
	if(logfp)
		fclose(logfp);
	logfp = fopen(log_path, "a");
	if(!logfp)
		mode = LOG_TO_STDERR;
	else
		setvbuf(logfp, NULL, _IOLBF, 0);
}

void log_close(void) {
	if(mode == LOG_TO_FILE && logfp)
		fclose(logfp);
	else if(mode == LOG_TO_SYSLOG)
		closelog();
	logfp = NULL;
}

static void (*log_tap)(int level, const char *msg);

void log_set_tap(void (*tap)(int level, const char *msg)) {
	log_tap = tap;
}

void logger(int level, int priority, const char *fmt, ...) {
	if(level > debug_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Never let a peer-controlled string put control characters into logs. */
	for(char *p = msg; *p; p++)
		if((unsigned char)*p < 0x20)
			*p = '?';
	if(log_tap)
		log_tap(level, msg);

	switch(mode) {
	case LOG_TO_STDERR:
		fprintf(stderr, "%s\n", msg);
		fflush(stderr);
		break;
	case LOG_TO_FILE: {
		char stamp[32];
		time_t now = time(NULL);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&now));
		if(logfp)
			fprintf(logfp, "%s %s[%ld]: %s\n", stamp, log_ident, (long)getpid(), msg);
		break;
	}
	case LOG_TO_SYSLOG:
		syslog(priority, "%s", msg);
		break;
	}
}

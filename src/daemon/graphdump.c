/* GraphDumpFile (protocol.md §2.4): the graph as Graphviz "digraph" text, written
 * when it changed, at most once a minute: to PATH.new renamed over PATH, or
 * into the standard input of a command given as "|COMMAND".
 *
 * "Changed" is decided by comparing the text with the one last written, so
 * no other part of the daemon has to report graph changes.  The first dump
 * comes a few seconds after start-up (time for the first connections), the
 * next ones every 60 s; tinc waits a full minute for the first one. */
#include "util/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "config/conf.h"
#include "mesh/edge.h"
#include "daemon/graphdump.h"
#include "util/log.h"
#include "config/settings.h"
#include "mesh/node.h"
#include "util/xalloc.h"

#define GRAPHDUMP_FIRST_NS (5ULL * NSEC_PER_SEC)
#define GRAPHDUMP_PERIOD_NS (60ULL * NSEC_PER_SEC)

static uint64_t next_dump_ns;
static char *last_text;

/* Append to a growing string. */
typedef struct text {
	char *buf;
	size_t len, cap;
} text_t;

static void text_add(text_t *t, const char *fmt, ...) ATTR_PRINTF(2, 3);
static void text_add(text_t *t, const char *fmt, ...) {
	va_list ap;
	for(;;) {
		va_start(ap, fmt);
		int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if(n < 0)
			return;
		if(t->buf && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap : 1024;
		while(cap <= t->len + (size_t)n)
			cap *= 2;
		t->buf = xrealloc(t->buf, cap);
		t->cap = cap;
	}
}

char *graphdump_text(void) {
	text_t t = {0};
	text_add(&t, "digraph {\n");
	/* Node names are letters, digits and '_' (node_name_is_valid), safe inside quotes. */
	sset_foreach(node_t, n, &nodes_by_name) {
		text_add(&t, "\t\"%s\" [label = \"%s\"%s];\n", n->name, n->name,
		         n == local_node ? ", color = \"green\"" : n->status.reachable ? "" : ", style = \"dashed\"");
	}
	sset_foreach(edge_t, e, &edges_by_weight)
		text_add(&t, "\t\"%s\" -> \"%s\" [weight = %d];\n", e->from->name, e->to->name, e->weight);
	text_add(&t, "}\n");
	return t.buf;
}

static bool write_file(const char *path, const char *text) {
	char *tmp = xasprintf("%s.new", path);
	FILE *f = fopen(tmp, "w");
	bool ok = f != NULL;
	if(ok) {
		ok = fputs(text, f) >= 0;
		ok = fclose(f) == 0 && ok;
	}
	if(ok && rename(tmp, path) < 0)
		ok = false;
	if(!ok) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot write the graph to %s: %s", path, strerror(errno));
		remove(tmp);
	}
	free(tmp);
	return ok;
}

static bool write_pipe(const char *command, const char *text) {
	FILE *p = popen(command, "w");
	if(!p) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot start the GraphDumpFile command %s: %s", command, strerror(errno));
		return false;
	}
	fputs(text, p);
	int status = pclose(p);
	if(status != 0)
		logger(VERBOSITY_ERRORS, LOG_WARNING, "GraphDumpFile command %s failed with status %d", command, status);
	return true;
}

/* Write the dump now if the text differs from the last one written. */
void graphdump_now(void) {
	char *target = NULL;
	if(!conf_string(settings.config, "GraphDumpFile", &target))
		return;
	char *text = graphdump_text();
	if(!last_text || strcmp(text, last_text)) {
		bool ok = *target == '|' ? write_pipe(target + 1, text) : write_file(target, text);
		if(ok) {
			LOG(VERBOSITY_STATUS, LOG_INFO, "Wrote the graph to %s", target);
			free(last_text);
			last_text = text;
			text = NULL;
		}
	}
	free(text);
	free(target);
}

void graphdump_periodic(void) {
	if(!next_dump_ns)
		next_dump_ns = now_ns + GRAPHDUMP_FIRST_NS;
	if(now_ns < next_dump_ns)
		return;
	next_dump_ns = now_ns + GRAPHDUMP_PERIOD_NS;
	graphdump_now();
}

void graphdump_exit(void) {
	free(last_text);
	last_text = NULL;
	next_dump_ns = 0;
}

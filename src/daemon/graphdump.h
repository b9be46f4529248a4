/* GraphDumpFile: the graph in Graphviz form (graphdump.c). */
#ifndef FQTINC_GRAPHDUMP_H
#define FQTINC_GRAPHDUMP_H

/* The current nodes and edges as a Graphviz digraph (xmalloc'd). */
char *graphdump_text(void);
/* Housekeeping: write the dump when due and changed. */
void graphdump_periodic(void);
/* Write it now if it changed since the last dump. */
void graphdump_now(void);
void graphdump_exit(void);

#endif

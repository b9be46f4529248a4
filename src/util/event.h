/* The event loop: epoll for file descriptors, a binary heap of timers on the
 * monotonic nanosecond clock, and signals delivered through signalfd so that
 * handlers run in the loop, never asynchronously. */
#ifndef FQTINC_EVENT_H
#define FQTINC_EVENT_H

#include <stdint.h>
#include <sys/epoll.h>

#include "util/compat.h"

typedef void (*fd_watch_cb_t)(void *data, uint32_t events);

typedef struct io {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT */
	fd_watch_cb_t cb;
	void *data;
} fd_watch_t;

/* fd must be non-blocking. events may be 0. */
void fd_watch_start(fd_watch_t *io, int fd, uint32_t events, fd_watch_cb_t cb, void *data);
void fd_watch_set_events(fd_watch_t *io, uint32_t events);
void fd_watch_stop(fd_watch_t *io);

typedef void (*timer_cb_t)(void *data);

typedef struct ev_timer {
	uint64_t when; /* absolute, monotonic ns */
	timer_cb_t cb;
	void *data;
	size_t heap_index; /* 0 = not armed */
} ev_timer_t;

/* (Re)arm t to fire delay_ns from now. */
void timer_set(ev_timer_t *t, uint64_t delay_ns, timer_cb_t cb, void *data);
void timer_del(ev_timer_t *t);
static inline bool timer_armed(const ev_timer_t *t) { return t->heap_index != 0; }
/* SIGALRM: make every armed timer due now. */
void timer_expire_all(void);

typedef void (*signal_handler_t)(int signum);
void signal_watch(int signum, signal_handler_t cb);

/* Run fn(arg) once the current batch of events has been handled. Used to
 * free objects whose fd_watch_t may still have events pending in the batch. */
void event_defer(void (*fn)(void *), void *arg);

/* Called once per loop turn, right before waiting for events; returning
 * true means work is left, so the loop only polls instead of sleeping. */
void event_set_idle_hook(bool (*fn)(void));

bool event_init(void);
/* Runs until event_loop_stop(); returns false on a fatal loop error. */
bool event_loop(void);
void event_loop_stop(void);

#endif

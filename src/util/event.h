/* The event loop: epoll for file descriptors, a binary heap of timers on the
 * monotonic nanosecond clock, and signals delivered through signalfd so that
 * handlers run in the loop, never asynchronously. */
#ifndef FQTINC_EVENT_H
#define FQTINC_EVENT_H

#include <stdint.h>
#include <sys/epoll.h>

#include "util/compat.h"

typedef void (*io_cb_t)(void *data, uint32_t events);

typedef struct io {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT */
	io_cb_t cb;
	void *data;
} io_t;

/* fd must be non-blocking. events may be 0. */
void io_add(io_t *io, int fd, uint32_t events, io_cb_t cb, void *data);
void io_set(io_t *io, uint32_t events);
void io_del(io_t *io);

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

typedef void (*signal_cb_t)(int signum);
void signal_add(int signum, signal_cb_t cb);

/* Run fn(arg) once the current batch of events has been handled. Used to
 * free objects whose io_t may still have events pending in the batch. */
void event_defer(void (*fn)(void *), void *arg);

/* Called once per loop turn, right before waiting for events; returning
 * true means work is left, so the loop only polls instead of sleeping. */
void event_set_idle_hook(bool (*fn)(void));

bool event_init(void);
/* Runs until event_exit(); returns false on a fatal loop error. */
bool event_loop(void);
void event_exit(void);

#endif

#include "util/compat.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/event.h"
#include "util/log.h"
#include "util/xalloc.h"

uint64_t now_ns;

static int epfd = -1;
static bool running;

/* Work deferred to the end of the current batch of events, so that an object
 * freed by one callback is never touched by a later event of the same batch. */
typedef struct deferred {
	void (*fn)(void *);
	void *arg;
} deferred_t;
static deferred_t *deferred;
static size_t deferred_len, deferred_cap;

void event_defer(void (*fn)(void *), void *arg) {
	if(deferred_len == deferred_cap) {
		deferred_cap = deferred_cap ? deferred_cap * 2 : 16;
		deferred = xrealloc(deferred, deferred_cap * sizeof(*deferred));
	}
	deferred[deferred_len++] = (deferred_t){fn, arg};
}

static void run_deferred(void) {
	for(size_t i = 0; i < deferred_len; i++)
		deferred[i].fn(deferred[i].arg);
	deferred_len = 0;
}

/* ---- timers: 1-based binary min-heap ---- */

static ev_timer_t **heap; /* heap[1..heap_len] */
static size_t heap_len, heap_cap;

static void heap_swap(size_t a, size_t b) {
	ev_timer_t *t = heap[a];
	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_index = a;
	heap[b]->heap_index = b;
}

static void heap_up(size_t i) {
	while(i > 1 && heap[i / 2]->when > heap[i]->when) {
		heap_swap(i, i / 2);
		i /= 2;
	}
}

static void heap_down(size_t i) {
	for(;;) {
		size_t l = 2 * i, r = l + 1, m = i;
		if(l <= heap_len && heap[l]->when < heap[m]->when)
			m = l;
		if(r <= heap_len && heap[r]->when < heap[m]->when)
			m = r;
		if(m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

void timer_del(ev_timer_t *t) {
	size_t i = t->heap_index;
	if(!i)
		return;
	t->heap_index = 0;
	if(i != heap_len) {
		heap[i] = heap[heap_len];
		heap[i]->heap_index = i;
		heap_len--;
		/* the moved element may belong above or below slot i */
		heap_up(i);
		heap_down(i);
	} else {
		heap_len--;
	}
}

void timer_set(ev_timer_t *t, uint64_t delay_ns, timer_cb_t cb, void *data) {
	timer_del(t);
	if(!now_ns)
		now_ns = clock_now_ns();
	t->when = now_ns + delay_ns;
	t->cb = cb;
	t->data = data;
	if(heap_len + 1 >= heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 64;
		heap = xrealloc(heap, heap_cap * sizeof(*heap));
	}
	heap[++heap_len] = t;
	t->heap_index = heap_len;
	heap_up(heap_len);
}

void timer_expire_all(void) {
	for(size_t i = 1; i <= heap_len; i++)
		heap[i]->when = 0;
}

/* ---- file descriptors ---- */

void fd_watch_start(fd_watch_t *io, int fd, uint32_t events, fd_watch_cb_t cb, void *data) {
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->data = data;
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if(epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot watch file descriptor %d (epoll_ctl): %s", fd, strerror(errno));
}

void fd_watch_set_events(fd_watch_t *io, uint32_t events) {
	if(io->events == events || io->fd < 0)
		return;
	io->events = events;
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if(epoll_ctl(epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot change the events of file descriptor %d (epoll_ctl): %s", io->fd, strerror(errno));
}

void fd_watch_stop(fd_watch_t *io) {
	if(io->fd < 0 || !io->cb)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->cb = NULL;
	io->fd = -1;
}

/* ---- signals ---- */

static fd_watch_t signal_io;
static int sigfd = -1;
static sigset_t sigmask;
static signal_handler_t signal_cbs[65];

static void signal_ready(void *data, uint32_t events) {
	(void)data;
	(void)events;
	struct signalfd_siginfo si;
	while(read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if(si.ssi_signo < ARRAY_SIZE(signal_cbs) && signal_cbs[si.ssi_signo])
			signal_cbs[si.ssi_signo]((int)si.ssi_signo);
}

void signal_watch(int signum, signal_handler_t cb) {
	signal_cbs[signum] = cb;
	sigaddset(&sigmask, signum);
	sigprocmask(SIG_BLOCK, &sigmask, NULL);
	int fd = signalfd(sigfd, &sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if(fd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot receive signals through signalfd: %s", strerror(errno));
		return;
	}
	if(sigfd < 0) {
		sigfd = fd;
		fd_watch_start(&signal_io, sigfd, EPOLLIN, signal_ready, NULL);
	}
}

/* ---- loop ---- */

bool event_init(void) {
	if(epfd >= 0)
		return true;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if(epfd < 0) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Cannot create the event loop (epoll_create1): %s", strerror(errno));
		return false;
	}
	sigemptyset(&sigmask);
	now_ns = clock_now_ns();
	return true;
}

static bool (*idle_hook)(void);

void event_set_idle_hook(bool (*fn)(void)) {
	idle_hook = fn;
}

void event_loop_stop(void) {
	running = false;
}

static void run_timers(void) {
	now_ns = clock_now_ns();
	while(heap_len && heap[1]->when <= now_ns) {
		ev_timer_t *t = heap[1];
		timer_del(t);
		t->cb(t->data); /* may re-arm t */
	}
	run_deferred();
}

bool event_loop(void) {
	running = true;
	struct epoll_event evs[64];
	while(running) {
		run_timers();
		if(!running)
			break;
		/* work batched during this turn (e.g. sendmmsg) goes out before we sleep */
		bool more = idle_hook && idle_hook();
		int timeout_ms = -1;
		if(more) {
			timeout_ms = 0; /* work is left: just poll for new events */
		} else if(heap_len) {
			uint64_t delta = heap[1]->when > now_ns ? heap[1]->when - now_ns : 0;
			/* round up so we never spin waking up just before a timer */
			timeout_ms = (int)MIN((delta + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC, 1000000ULL);
		}
		int n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), timeout_ms);
		if(n < 0) {
			if(errno == EINTR)
				continue;
			logger(VERBOSITY_ERRORS, LOG_ERR, "Waiting for events failed (epoll_wait): %s", strerror(errno));
			return false;
		}
		now_ns = clock_now_ns();
		for(int i = 0; i < n && running; i++) {
			fd_watch_t *io = evs[i].data.ptr;
			if(io->cb)
				io->cb(io->data, evs[i].events);
		}
		run_deferred();
	}
	run_deferred();
	return true;
}

/*
 * loop.h - the single-threaded event loop (poll(2) with file descriptor
 * handlers and one-shot timers on CLOCK_MONOTONIC), in the manner of
 * chrony's sched.c.  No worker threads where a descriptor can be polled.
 *
 * Capacity: the fd and timer tables grow as needed (doubling), so adding
 * a watch fails only when memory runs out (-ENOMEM); a caller that takes
 * descriptors from outside (status clients) bounds their number itself.
 * Handlers may add or remove fds and add or cancel timers at any time,
 * including from inside a callback.
 */
#ifndef GPSPPS_LOOP_H
#define GPSPPS_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

/* revents as poll(2) reports them. */
typedef void (*loop_fd_cb)(void *arg, int fd, short revents);
typedef void (*loop_timer_cb)(void *arg);

struct loop *loop_create(void);
void loop_destroy(struct loop *l);

/* Watch fd for events (POLLIN...).  One handler per fd.  Returns 0 or
 * -EEXIST / -ENOMEM.  An fd removed or added by a handler is not
 * dispatched again in the same wake-up. */
int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb,
		void *arg);
void loop_remove_fd(struct loop *l, int fd);

/* Call cb once at CLOCK_MONOTONIC time deadline_ns (or as soon as
 * possible if it is past).  Timers due in the same wake-up fire in
 * deadline order (equal deadlines in the order they were added).
 * Returns a timer id > 0, or -ENOMEM. */
int loop_add_timer(struct loop *l, int64_t deadline_ns, loop_timer_cb cb,
		   void *arg);
/* Cancel a pending timer; ids of fired or cancelled timers are ignored. */
void loop_cancel_timer(struct loop *l, int id);

/* Dispatch until loop_quit().  Returns 0, or a negative errno if poll
 * fails other than with EINTR. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);

/* CLOCK_REALTIME and CLOCK_MONOTONIC_RAW (ns) read once as poll() last
 * returned, before any handler ran (chrony's SCH_GetLastEventTime): the
 * time to date the event that woke a handler by.  0, 0 before the first
 * wake-up. */
void loop_wake_time(const struct loop *l, int64_t *real_ns,
		    int64_t *mono_raw_ns);

/* Counters for the health report: poll wake-ups so far. */
uint64_t loop_wakeups(const struct loop *l);

/* Watched fds and pending timers now, and the slots allocated for each
 * (for tests and the status report). */
void loop_usage(const struct loop *l, int *fds, int *timers, int *fd_cap,
		int *timer_cap);

#endif

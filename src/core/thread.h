/*
 * thread.h - starting a helper thread that never takes a signal.
 *
 * SIGINT, SIGTERM and the kill-switch signals (SIGUSR1/2) belong to the
 * main thread, which waits for them while the engine runs
 * (driver_threaded.c). The kernel gives a process-directed signal to any
 * thread that does not block it, so a helper thread (the logger, the API,
 * the history recorder) that left them unblocked could be picked and die
 * of SIGINT's default action. The new thread inherits the signal mask of
 * its creator: ig_thread_start_quiet blocks every signal around
 * pthread_create and restores the caller's mask after.
 *
 * Owner: the thread that starts the helper (usually the main thread).
 */
#ifndef IG_CORE_THREAD_H
#define IG_CORE_THREAD_H

#include <pthread.h>

/* Starts fn(arg) on a new thread with every signal blocked. Returns 0 with
 * *tid set, or IG_ETHREAD. The caller's mask is unchanged. */
int ig_thread_start_quiet(pthread_t *tid, void *(*fn)(void *), void *arg);

#endif

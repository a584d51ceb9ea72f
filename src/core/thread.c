/* thread.c - see thread.h. */
#include "core/thread.h"

#include "ingenium/error.h"

#include <signal.h>

int ig_thread_start_quiet(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : IG_ETHREAD;
}

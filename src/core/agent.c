/* agent.c - runs agents' duty cycles on a thread with an idle strategy. */
#include "core/agent.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <sched.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void ig_agent_thread_init(struct ig_agent_thread *t, const char *name, enum ig_wait_kind wait,
			  int cpu)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	ig_waiter_init(&t->waiter);
	ig_idle_init(&t->idle, wait);
	t->cpu = cpu;
}

int ig_agent_thread_add(struct ig_agent_thread *t, const struct ig_agent *a)
{
	if (t->nagents >= IG_THREAD_MAX_AGENTS)
		return IG_ELIMIT;
	t->agents[t->nagents++] = *a;
	return 0;
}

int ig_pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET((size_t)cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		return IG_EINVAL;
	return 0;
}

static bool thread_has_work(void *arg)
{
	struct ig_agent_thread *t = arg;
	if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
		return true;
	for (uint32_t i = 0; i < t->nagents; i++)
		if (t->agents[i].has_work != NULL && t->agents[i].has_work(t->agents[i].self))
			return true;
	return false;
}

static void *thread_main(void *arg)
{
	struct ig_agent_thread *t = arg;
	struct timespec ts;

	pthread_setname_np(pthread_self(), t->name);
	/* 1 us timer slack (default 50 us): parks with a deadline, such as a
	 * paced feed's next event, wake on time. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
	ig_log_attach(t->name);
	if (t->cpu >= 0 && ig_pin_self(t->cpu) != 0)
		ig_log_warn("%s: could not pin to cpu %d", t->name, t->cpu);
	for (uint32_t i = 0; i < t->nagents; i++)
		if (t->agents[i].on_start != NULL)
			t->agents[i].on_start(t->agents[i].self);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		int work = 0;
		int64_t deadline = INT64_MAX;
		for (uint32_t i = 0; i < t->nagents; i++)
			work += t->agents[i].do_work(t->agents[i].self);
		t->cycles++;
		if (work == 0) {
			t->idle_cycles++;
			for (uint32_t i = 0; i < t->nagents; i++) {
				if (t->agents[i].deadline_ns != NULL) {
					int64_t d = t->agents[i].deadline_ns(t->agents[i].self);
					if (d < deadline)
						deadline = d;
				}
			}
		}
		if (work == 0 && t->park_to_deadline && deadline != INT64_MAX)
			ig_idle_park(&t->waiter, deadline, thread_has_work, t);
		else
			ig_idle_wait(&t->idle, &t->waiter, work, deadline, thread_has_work, t);
	}
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		t->cpu_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return NULL;
}

int ig_agent_thread_start(struct ig_agent_thread *t)
{
	if (pthread_create(&t->tid, NULL, thread_main, t) != 0)
		return IG_ETHREAD;
	t->started = true;
	return 0;
}

void ig_agent_thread_stop(struct ig_agent_thread *t)
{
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	ig_waiter_notify(&t->waiter);
}

void ig_agent_thread_join(struct ig_agent_thread *t)
{
	if (t->started) {
		pthread_join(t->tid, NULL);
		t->started = false;
	}
}

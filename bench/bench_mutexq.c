/* bench_mutexq.c - mutex + condvar bounded queue (see bench_mutexq.h). */
#include "bench_mutexq.h"

#include "core/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bench_mq_init(struct bench_mq *q, uint32_t capacity, size_t elem_size)
{
	pthread_condattr_t attr;

	if (capacity == 0 || elem_size == 0)
		return -1;
	memset(q, 0, sizeof(*q));
	q->slots = calloc(capacity, elem_size);
	if (q->slots == NULL)
		return -1;
	q->capacity = capacity;
	q->elem_size = elem_size;
	if (pthread_condattr_init(&attr) != 0)
		goto out_free;
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0)
		goto out_attr;
	if (pthread_mutex_init(&q->lock, NULL) != 0)
		goto out_attr;
	if (pthread_cond_init(&q->not_empty, &attr) != 0)
		goto out_mutex;
	if (pthread_cond_init(&q->not_full, &attr) != 0)
		goto out_not_empty;
	pthread_condattr_destroy(&attr);
	return 0;

out_not_empty:
	pthread_cond_destroy(&q->not_empty);
out_mutex:
	pthread_mutex_destroy(&q->lock);
out_attr:
	pthread_condattr_destroy(&attr);
out_free:
	free(q->slots);
	q->slots = NULL;
	return -1;
}

void bench_mq_destroy(struct bench_mq *q)
{
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
	free(q->slots);
	q->slots = NULL;
}

static struct timespec deadline_after(int64_t timeout_ns)
{
	int64_t at = ig_clock_mono_ns() + timeout_ns;
	struct timespec ts;

	ts.tv_sec = at / 1000000000;
	ts.tv_nsec = at % 1000000000;
	return ts;
}

bool bench_mq_push(struct bench_mq *q, const void *elem, int64_t timeout_ns)
{
	bool wake;

	pthread_mutex_lock(&q->lock);
	if (q->head - q->tail == q->capacity) {
		struct timespec ts = deadline_after(timeout_ns);

		q->waiting_push++;
		while (q->head - q->tail == q->capacity) {
			if (pthread_cond_timedwait(&q->not_full, &q->lock, &ts) == ETIMEDOUT)
				break;
		}
		q->waiting_push--;
		if (q->head - q->tail == q->capacity) {
			pthread_mutex_unlock(&q->lock);
			return false;
		}
	}
	memcpy(q->slots + (q->head % q->capacity) * q->elem_size, elem, q->elem_size);
	q->head++;
	wake = q->waiting_pop > 0;
	pthread_mutex_unlock(&q->lock);
	/* A popper counted under the lock is either still waiting or about
	 * to re-check the predicate under the lock: signalling after the
	 * unlock loses nothing and spares it waking into a held mutex. */
	if (wake)
		pthread_cond_signal(&q->not_empty);
	return true;
}

bool bench_mq_pop(struct bench_mq *q, void *out, int64_t timeout_ns)
{
	bool wake;

	pthread_mutex_lock(&q->lock);
	if (q->head == q->tail) {
		struct timespec ts = deadline_after(timeout_ns);

		q->waiting_pop++;
		while (q->head == q->tail) {
			if (pthread_cond_timedwait(&q->not_empty, &q->lock, &ts) == ETIMEDOUT)
				break;
		}
		q->waiting_pop--;
		if (q->head == q->tail) {
			pthread_mutex_unlock(&q->lock);
			return false;
		}
	}
	memcpy(out, q->slots + (q->tail % q->capacity) * q->elem_size, q->elem_size);
	q->tail++;
	wake = q->waiting_push > 0;
	pthread_mutex_unlock(&q->lock);
	if (wake)
		pthread_cond_signal(&q->not_full);
	return true;
}

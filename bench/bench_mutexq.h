/*
 * bench_mutexq.h - a bounded queue on a mutex and two condition variables:
 * the textbook baseline the engine ring is measured against.
 *
 * Design
 * ------
 * capacity slots of elem_size bytes in one array, a head (next write) and a
 * tail (next read), all under one pthread mutex. A pusher finding the queue
 * full waits on not_full; a popper finding it empty waits on not_empty.
 * After a push or pop the other side's condvar is signalled, outside the
 * lock and only if a thread was counted as waiting (so a queue that never
 * runs dry costs no futex calls). Condition waits use CLOCK_MONOTONIC and a
 * caller-given timeout, so a bench thread never blocks forever.
 *
 * Threads: any number of pushers and poppers (the bench uses one of each).
 * init/destroy run before/after them.
 */
#ifndef IG_BENCH_MUTEXQ_H
#define IG_BENCH_MUTEXQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_mq {
	pthread_mutex_t lock;
	pthread_cond_t not_empty;  /* signalled after a push */
	pthread_cond_t not_full;   /* signalled after a pop */
	uint64_t head;             /* next position to write; under lock */
	uint64_t tail;             /* next position to read; under lock */
	uint32_t waiting_pop;      /* poppers in cond wait; under lock */
	uint32_t waiting_push;     /* pushers in cond wait; under lock */
	uint32_t capacity;         /* slots */
	size_t elem_size;          /* bytes per slot */
	unsigned char *slots;      /* capacity * elem_size */
};

/* Returns 0 or -1 (bad arguments, out of memory, pthread init failure);
 * on failure there is nothing to undo. */
int bench_mq_init(struct bench_mq *q, uint32_t capacity, size_t elem_size);
void bench_mq_destroy(struct bench_mq *q);

/* Copies elem in, waiting while the queue is full for at most timeout_ns.
 * Returns true if pushed, false on timeout. */
bool bench_mq_push(struct bench_mq *q, const void *elem, int64_t timeout_ns);

/* Copies the oldest element to out, waiting while empty for at most
 * timeout_ns. Returns true if popped, false on timeout. */
bool bench_mq_pop(struct bench_mq *q, void *out, int64_t timeout_ns);

#endif

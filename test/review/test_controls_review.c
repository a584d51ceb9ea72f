/*
 * test_controls_review.c - review findings on the operator-control path
 * that have no better home: `ingenium ctl` (src/app/ctl.c) argument
 * handling. A stub HTTP server on 127.0.0.1 (a thread of this test,
 * stopped by each test) answers 200 to whatever comes and counts the
 * requests, so a test sees whether ctl sent one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/ctl.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN_ENV "IG_REVIEW_CTL_TOKEN"

struct stub {
	int fd;
	uint16_t port;
	pthread_t th;
	int stop;      /* atomic */
	int requests;  /* atomic */
	char body[512]; /* the last request, as it came (cut) */
};

static void *stub_run(void *arg)
{
	struct stub *s = arg;
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				    "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}";

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int c;
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		/* One read is enough for a small request on loopback; wait
		 * briefly for the body to follow the headers. */
		n = read(c, s->body, sizeof(s->body) - 1);
		if (n > 0) {
			struct pollfd q = { c, POLLIN, 0 };
			s->body[n] = '\0';
			if (strstr(s->body, "\r\n\r\n") != NULL &&
			    strstr(s->body, "\r\n\r\n")[4] == '\0' && poll(&q, 1, 200) > 0) {
				ssize_t m = read(c, s->body + n, sizeof(s->body) - 1 - (size_t)n);
				if (m > 0)
					s->body[n + m] = '\0';
			}
		}
		__atomic_add_fetch(&s->requests, 1, __ATOMIC_RELEASE);
		if (write(c, reply, sizeof(reply) - 1) < 0) {
			/* the client went: nothing to do */
		}
		close(c);
	}
	return NULL;
}

static void stub_start(struct stub *s)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, stub_run, s), 0);
}

static int stub_stop(struct stub *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->th, NULL);
	close(s->fd);
	return __atomic_load_n(&s->requests, __ATOMIC_ACQUIRE);
}

/* ingenium ctl --api http://127.0.0.1:PORT params s1 a3 [a4]. */
static int ctl_params(const struct stub *s, const char *a3, const char *a4)
{
	char api[64], c0[] = "ctl", o1[] = "--api", o2[] = "--token-env", env[] = TOKEN_ENV,
		      cmd[] = "params", name[] = "s1", p3[64], p4[64];
	char *argv[10];
	int argc = 0;

	snprintf(api, sizeof(api), "http://127.0.0.1:%u", (unsigned)s->port);
	snprintf(p3, sizeof(p3), "%s", a3);
	snprintf(p4, sizeof(p4), "%s", a4 != NULL ? a4 : "");
	argv[argc++] = c0;
	argv[argc++] = o1;
	argv[argc++] = api;
	argv[argc++] = o2;
	argv[argc++] = env;
	argv[argc++] = cmd;
	argv[argc++] = name;
	argv[argc++] = p3;
	if (a4 != NULL)
		argv[argc++] = p4;
	argv[argc] = NULL;
	return ig_ctl_main(argc, argv);
}

/* The stub works: a good change is sent, with its body. */
static void test_ctl_params_sent(void **state)
{
	struct stub s;
	(void)state;
	stub_start(&s);
	assert_int_equal(ctl_params(&s, "qty=0.5", "fast=5"), 0);
	assert_int_equal(stub_stop(&s), 1);
	assert_non_null(strstr(s.body, "POST /api/v1/strategies/s1/params"));
	assert_non_null(strstr(s.body, "\"qty\":\"0.5\""));
}

/* A KEY=VALUE whose value (or key) is not UTF-8 cannot go into the JSON
 * body: it was dropped silently and the other params were sent (the
 * operator read "ok" for a change half made). Refused now, nothing sent. */
static void test_ctl_params_bad_utf8_refused(void **state)
{
	struct stub s;
	(void)state;
	stub_start(&s);
	assert_int_equal(ctl_params(&s, "qty=\xff", "fast=5"), 2);
	assert_int_equal(ctl_params(&s, "fast=5", "q\xfety=1"), 2);
	assert_int_equal(stub_stop(&s), 0);
}

/* The same KEY twice: the last one silently won; the API refuses a key
 * given twice, so the CLI does too. */
static void test_ctl_params_key_twice_refused(void **state)
{
	struct stub s;
	(void)state;
	stub_start(&s);
	assert_int_equal(ctl_params(&s, "qty=1", "qty=2"), 2);
	assert_int_equal(stub_stop(&s), 0);
}

static int setup(void **state)
{
	(void)state;
	ig_log_set_level(IG_LOG_ERROR);
	setenv(TOKEN_ENV, "review-token", 1);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_params_sent),
		cmocka_unit_test(test_ctl_params_bad_utf8_refused),
		cmocka_unit_test(test_ctl_params_key_twice_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

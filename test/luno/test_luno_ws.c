/*
 * test_luno_ws.c - what the Luno websocket clients share (luno_ws.c: the
 * stream URL, the credentials message, the backoff) and the user stream's
 * message handling and health (luno_user.c), without a connection; and
 * the user stream against a server that upgrades and then goes quiet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "luno/luno_user.h"
#include "luno/luno_ws.h"
#include "sim/ws.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS INT64_C(1000000)

static void test_url(void **state)
{
	char url[IG_LUNO_WS_URL_MAX], err[128];
	(void)state;

	assert_int_equal(ig_luno_ws_url("https://api.luno.com", NULL, "/api/1/userstream", url,
					sizeof(url), err, sizeof(err)),
			 0);
	/* Luno's own REST host: its streams are on ws.luno.com. */
	assert_string_equal(url, "wss://ws.luno.com/api/1/userstream");
	assert_int_equal(ig_luno_ws_url("http://127.0.0.1:8080/", "", "/api/1/userstream", url,
					sizeof(url), err, sizeof(err)),
			 0);
	assert_string_equal(url, "ws://127.0.0.1:8080/api/1/userstream");
	/* venue.stream_url wins. */
	assert_int_equal(ig_luno_ws_url("https://api.luno.com", "wss://ws.luno.com/", "/api/1/userstream",
					url, sizeof(url), err, sizeof(err)),
			 0);
	assert_string_equal(url, "wss://ws.luno.com/api/1/userstream");
	assert_int_equal(ig_luno_ws_url("ftp://x", NULL, "/p", url, sizeof(url), err, sizeof(err)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_url("https://a", "https://b", "/p", url, sizeof(url), err, sizeof(err)),
			 IG_ECONFIG);
	assert_non_null(strstr(err, "stream_url"));
	assert_int_equal(ig_luno_ws_url("https://u:p@a", NULL, "/p", url, sizeof(url), err, sizeof(err)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_url("https://a", NULL, "/p", url, 6, err, sizeof(err)), IG_ECONFIG);
}

static void test_split(void **state)
{
	char host[64], path[64];
	bool tls;
	int port;
	(void)state;

	assert_int_equal(ig_luno_ws_split("wss://ws.luno.com/api/1/userstream", &tls, host, sizeof(host),
					  &port, path, sizeof(path)),
			 0);
	assert_true(tls);
	assert_string_equal(host, "ws.luno.com");
	assert_int_equal(port, 443);
	assert_string_equal(path, "/api/1/userstream");
	assert_int_equal(ig_luno_ws_split("ws://127.0.0.1:4567", &tls, host, sizeof(host), &port, path,
					  sizeof(path)),
			 0);
	assert_false(tls);
	assert_int_equal(port, 4567);
	assert_string_equal(path, "/");
	assert_int_equal(ig_luno_ws_split("ws://h:0/x", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_split("ws://h:99999/x", &tls, host, sizeof(host), &port, path,
					  sizeof(path)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_split("http://h/x", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	/* The market stream's stricter checks, now the one parser's: [IPv6]
	 * hosts, no query, fragment, blank or credentials, a port that is a
	 * number. */
	assert_int_equal(ig_luno_ws_split("ws://[::1]:8080/p", &tls, host, sizeof(host), &port, path,
					  sizeof(path)),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_string_equal(path, "/p");
	assert_int_equal(ig_luno_ws_split("ws://h/x?a=1", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_split("ws://h/x#f", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_split("ws://u:p@h/x", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_split("ws://h:/x", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	assert_int_equal(ig_luno_ws_split("ws://[::1/x", &tls, host, sizeof(host), &port, path, sizeof(path)),
			 IG_ECONFIG);
	/* ig_luno_ws_url refuses what the split would. */
	{
		char url[IG_LUNO_WS_URL_MAX], err[128];
		assert_int_equal(ig_luno_ws_url("http://h:0", NULL, "/p", url, sizeof(url), err, sizeof(err)),
				 IG_ECONFIG);
		assert_int_equal(ig_luno_ws_url("https://a", "wss://b/x?y", "/p", url, sizeof(url), err,
						sizeof(err)),
				 IG_ECONFIG);
		assert_non_null(strstr(err, "venue.stream_url"));
	}
}

static void test_auth_msg(void **state)
{
	char buf[128];
	json_t *j;
	int n;
	(void)state;

	n = ig_luno_ws_auth_msg("key\"1", "se\\cr\net", buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	/* Valid JSON that gives the values back exactly. */
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "api_key_id")), "key\"1");
	assert_string_equal(json_string_value(json_object_get(j, "api_key_secret")), "se\\cr\net");
	json_decref(j);
	/* Too small: -1 and nothing of the secret left behind. */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(ig_luno_ws_auth_msg("k", "a-long-secret-value", buf, 40), -1);
	assert_null(memmem(buf, sizeof(buf), "a-long", 6));
}

static void test_backoff(void **state)
{
	uint64_t rng = 42;
	(void)state;

	for (int i = 0; i < 200; i++) {
		int64_t d1 = ig_luno_ws_backoff_ms(1, 500, 30000, &rng);
		int64_t d3 = ig_luno_ws_backoff_ms(3, 500, 30000, &rng);
		int64_t d20 = ig_luno_ws_backoff_ms(20, 500, 30000, &rng);
		assert_true(d1 >= 250 && d1 <= 500);
		assert_true(d3 >= 1000 && d3 <= 2000);
		assert_true(d20 >= 15000 && d20 <= 30000);
	}
}

static struct ig_luno_user U;
static int wakes;

static void wake(void *arg)
{
	assert_ptr_equal(arg, &U);
	wakes++;
}

static int user_setup(void **state)
{
	struct ig_luno_user_opts o;
	char err[128];
	(void)state;
	memset(&o, 0, sizeof(o));
	o.url = "ws://127.0.0.1:9/api/1/userstream";
	o.key_id = "k";
	o.secret = "s";
	o.pairs[0] = "XBTZAR";
	o.pairs[1] = "ETHZAR";
	o.npairs = 2;
	o.timeout_ms = 1000;
	assert_int_equal(ig_luno_user_init(&U, &o, err, sizeof(err)), 0);
	ig_luno_user_set_wake(&U, wake, &U);
	wakes = 0;
	return 0;
}

static int user_teardown(void **state)
{
	(void)state;
	ig_luno_user_destroy(&U);
	return 0;
}

static int on(const char *m, int64_t now)
{
	return ig_luno_user_on_message(&U, m, strlen(m), now);
}

static void test_user_health(void **state)
{
	uint64_t gen;
	(void)state;

	assert_false(ig_luno_user_healthy(&U, 0, &gen));
	ig_luno_user_connected(&U);
	assert_false(ig_luno_user_healthy(&U, 0, NULL)); /* no message yet */
	assert_int_equal(on("\"\"", 5000 * MS), IG_LUNO_USER_MSG_KEEPALIVE);
	assert_true(ig_luno_user_healthy(&U, 5500 * MS, &gen));
	assert_int_equal(gen, 1);
	/* Silent past timeout_ms: not healthy. */
	assert_false(ig_luno_user_healthy(&U, 6001 * MS, NULL));
	assert_int_equal(on("\"\"", 6100 * MS), IG_LUNO_USER_MSG_KEEPALIVE);
	assert_true(ig_luno_user_healthy(&U, 6200 * MS, &gen));
	assert_int_equal(gen, 1); /* same connection */
	ig_luno_user_lost(&U);
	assert_false(ig_luno_user_healthy(&U, 6200 * MS, NULL));
	ig_luno_user_connected(&U);
	on("\"\"", 7000 * MS);
	assert_true(ig_luno_user_healthy(&U, 7000 * MS, &gen));
	assert_int_equal(gen, 2); /* a new one: the venue catches up */
	{
		struct ig_luno_user_stats st;
		ig_luno_user_stats(&U, &st);
		assert_int_equal(st.connects, 2);
		assert_int_equal(st.drops, 1);
		assert_int_equal(st.keepalives, 3);
	}
	assert_true(wakes >= 5);
}

static void test_user_messages(void **state)
{
	struct ig_luno_user_note n;
	uint64_t ev;
	char m[256];
	(void)state;

	ig_luno_user_connected(&U);
	ev = ig_luno_user_events(&U);
	assert_int_equal(on("{\"type\":\"order_fill\",\"timestamp\":1,\"order_fill_update\":"
			    "{\"order_id\":\"BX1\",\"market_id\":\"ETHZAR\"}}",
			    1),
			 IG_LUNO_USER_MSG_FILL);
	assert_true(ig_luno_user_events(&U) != ev);
	assert_int_equal(ig_luno_user_take_trades(&U), 2u);
	assert_int_equal(ig_luno_user_take_trades(&U), 0u);
	/* Another pair: none of ours. */
	on("{\"type\":\"order_fill\",\"order_fill_update\":{\"market_id\":\"XRPZAR\"}}", 1);
	assert_int_equal(ig_luno_user_take_trades(&U), 0u);
	/* PENDING tells nothing; COMPLETE is a note with the client id. */
	assert_int_equal(on("{\"type\":\"order_status\",\"order_status_update\":{\"order_id\":\"BX2\","
			    "\"client_order_id\":\"ig-00000000000000ab\",\"status\":\"PENDING\"}}",
			    1),
			 IG_LUNO_USER_MSG_PENDING);
	assert_false(ig_luno_user_take_note(&U, &n));
	assert_int_equal(on("{\"type\":\"order_status\",\"order_status_update\":{\"order_id\":\"BX2\","
			    "\"client_order_id\":\"ig-00000000000000ab\",\"status\":\"COMPLETE\"}}",
			    1),
			 IG_LUNO_USER_MSG_STATUS);
	assert_true(ig_luno_user_take_note(&U, &n));
	assert_int_equal(n.client_id, 0xab);
	assert_string_equal(n.order_id, "BX2");
	assert_false(ig_luno_user_take_note(&U, &n));
	assert_int_equal(on("{\"type\":\"balance_update\",\"balance_update\":{}}", 1),
			 IG_LUNO_USER_MSG_BALANCE);
	assert_int_equal(on("{\"type\":\"something_new\"}", 1), IG_LUNO_USER_MSG_OTHER);
	/* Malformed: cannot tell what it was, so everything is to be read. */
	assert_int_equal(on("{\"type\":", 1), IG_LUNO_USER_MSG_MALFORMED);
	assert_int_equal(ig_luno_user_take_trades(&U), IG_LUNO_USER_ALL_PAIRS);
	assert_true(ig_luno_user_take_all_orders(&U));
	assert_false(ig_luno_user_take_all_orders(&U));
	/* The ring overflows into "every order". */
	for (int i = 0; i < IG_LUNO_USER_RING + 3; i++) {
		snprintf(m, sizeof(m),
			 "{\"type\":\"order_status\",\"order_status_update\":{\"order_id\":\"BX%d\","
			 "\"status\":\"COMPLETE\"}}",
			 i);
		on(m, 1);
	}
	assert_true(ig_luno_user_take_all_orders(&U));
	for (int i = 0; i < IG_LUNO_USER_RING; i++) {
		char want[16];
		assert_true(ig_luno_user_take_note(&U, &n));
		snprintf(want, sizeof(want), "BX%d", i);
		assert_string_equal(n.order_id, want);
		assert_int_equal(n.client_id, 0);
	}
	assert_false(ig_luno_user_take_note(&U, &n));
}


/* The wake callback and its argument are one pair: while another thread
 * changes them (destroy clears both), the stream thread never calls a
 * wake function with an argument it was not given (the engine's wake
 * with NULL dereferenced it at shutdown). */
static int race_target;
static unsigned long race_bad, race_calls;
static bool race_stop;

static void race_wake(void *arg)
{
	if (arg != &race_target)
		__atomic_add_fetch(&race_bad, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&race_calls, 1, __ATOMIC_RELAXED);
}

static void *race_signaller(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE))
		ig_luno_user_connected(&U);
	return NULL;
}

static void test_user_wake_pair(void **state)
{
	pthread_t t;
	(void)state;

	race_bad = race_calls = 0;
	race_stop = false;
	assert_int_equal(pthread_create(&t, NULL, race_signaller, NULL), 0);
	for (long i = 0; i < 3000000 && __atomic_load_n(&race_bad, __ATOMIC_RELAXED) == 0; i++) {
		ig_luno_user_set_wake(&U, race_wake, &race_target);
		ig_luno_user_set_wake(&U, NULL, NULL);
	}
	__atomic_store_n(&race_stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_true(race_calls > 0);
	assert_int_equal(race_bad, 0);
}


/* ------------------------------------------------ a server that goes quiet */

/* A websocket server on 127.0.0.1 that answers the upgrade (101, the right
 * accept key) and then says nothing, ever: it reads nothing either, so the
 * client's credentials sit in its socket. Counts the upgrades it answered.
 * Its thread owns everything but `upgrades` and `stop` (atomics). */
struct quiet_srv {
	int lfd;
	uint16_t port;
	int fds[32];
	int nfds;
	int upgrades;
	int stop;
	pthread_t th;
};

/* Reads a request head into buf (NUL-terminated). Returns its length, or
 * -1 on close, error or 1 s of silence. */
static int quiet_read_head(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd pf = { .fd = fd, .events = POLLIN, .revents = 0 };
		ssize_t r;
		if (poll(&pf, 1, 1000) <= 0)
			return -1;
		r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return (int)n;
	}
	return -1;
}

static void *quiet_main(void *arg)
{
	struct quiet_srv *q = arg;
	while (!__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pf = { .fd = q->lfd, .events = POLLIN, .revents = 0 };
		char head[4096], key[64], akey[29], resp[256];
		const char *k;
		int fd, len;
		if (poll(&pf, 1, 50) <= 0)
			continue;
		fd = accept(q->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (q->nfds == (int)(sizeof(q->fds) / sizeof(q->fds[0])) ||
		    quiet_read_head(fd, head, sizeof(head)) < 0 ||
		    (k = strcasestr(head, "Sec-WebSocket-Key:")) == NULL ||
		    sscanf(k + strlen("Sec-WebSocket-Key:"), " %63[^\r\n ]", key) != 1 ||
		    ig__ws_accept_key(key, akey) != 0) {
			close(fd);
			continue;
		}
		len = snprintf(resp, sizeof(resp),
			       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			       akey);
		if (write(fd, resp, (size_t)len) != len) {
			close(fd);
			continue;
		}
		q->fds[q->nfds++] = fd; /* open, and quiet, until the end */
		__atomic_add_fetch(&q->upgrades, 1, __ATOMIC_ACQ_REL);
	}
	return NULL;
}

static void quiet_start(struct quiet_srv *q)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	memset(q, 0, sizeof(*q));
	q->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(q->lfd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(q->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(q->lfd, 8), 0);
	assert_int_equal(getsockname(q->lfd, (struct sockaddr *)&a, &alen), 0);
	q->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&q->th, NULL, quiet_main, q), 0);
}

static void quiet_stop(struct quiet_srv *q)
{
	__atomic_store_n(&q->stop, 1, __ATOMIC_RELEASE);
	pthread_join(q->th, NULL);
	for (int i = 0; i < q->nfds; i++)
		close(q->fds[i]);
	close(q->lfd);
}

/* Review finding: the user stream counted as CONNECTED before its
 * credentials were sent, and a connection that stayed CONNECTED (upgraded,
 * credentials out, never a message back) was never dropped: the venue
 * polled for ever on a dead stream that never reconnected. Now it is
 * dropped after timeout_ms and reconnected, and it is never healthy. */
static void test_user_quiet_server_reconnects(void **state)
{
	struct quiet_srv q;
	struct ig_luno_user u;
	struct ig_luno_user_opts o;
	struct ig_luno_user_stats st;
	char url[128], err[128];
	int64_t end_ns;
	(void)state;

	quiet_start(&q);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%u/api/1/userstream", (unsigned)q.port);
	memset(&u, 0, sizeof(u));
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.key_id = "quietkey";
	o.secret = "quietsecret";
	o.pairs[0] = "XBTZAR";
	o.npairs = 1;
	o.timeout_ms = 300;
	o.backoff_base_ms = 50;
	o.backoff_max_ms = 100;
	assert_int_equal(ig_luno_user_init(&u, &o, err, sizeof(err)), 0);
	assert_int_equal(ig_luno_user_start(&u), 0);
	/* Three upgrades: the first two were dropped for their silence. */
	end_ns = ig_clock_mono_ns() + 5000 * MS;
	while (__atomic_load_n(&q.upgrades, __ATOMIC_ACQUIRE) < 3 && ig_clock_mono_ns() < end_ns) {
		assert_false(ig_luno_user_healthy(&u, ig_clock_mono_ns(), NULL));
		usleep(10000);
	}
	assert_true(__atomic_load_n(&q.upgrades, __ATOMIC_ACQUIRE) >= 3);
	assert_false(ig_luno_user_healthy(&u, ig_clock_mono_ns(), NULL));
	ig_luno_user_halt(&u);
	ig_luno_user_stats(&u, &st);
	assert_true(st.attempts >= 3);
	assert_int_equal(st.connects, 0); /* never live: no message ever came */
	ig_luno_user_destroy(&u);
	quiet_stop(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_auth_msg),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_user_health, user_setup, user_teardown),
		cmocka_unit_test_setup_teardown(test_user_messages, user_setup, user_teardown),
		cmocka_unit_test_setup_teardown(test_user_wake_pair, user_setup, user_teardown),
		cmocka_unit_test(test_user_quiet_server_reconnects),
	};
	ig_log_set_level(IG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

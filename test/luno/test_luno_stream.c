/*
 * test_luno_stream.c - the Luno market stream client (src/luno/luno_stream.c)
 * against a small libwebsockets server run by the test on 127.0.0.1 (a
 * free port): the credentials come first; a snapshot and scripted updates
 * come out of next() as quotes and trades with the right prices, sizes
 * and exchange times; a sequence gap, a close by the server, silence and
 * garbage each drop the connection, count a resync by reason and come
 * back with a new snapshot; a port that refuses retries with backoff; the
 * credentials never reach the log (not even at debug level, not even
 * when the server echoes them); the config keys; stop is clean (ASan).
 * Bounds on waiting are generous and never asserted as durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/engine.h"
#include "config/config.h"
#include "core/log.h"
#include "luno/luno_feed.h"
#include "luno/luno_stream.h"
#include "luno/luno_ws.h"
#include "ingenium/error.h"
#include "ingenium/event.h"
#include "ingenium/fixed.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY_ENV "IGT_STREAM_KEY_ID"
#define SECRET_ENV "IGT_STREAM_SECRET"
#define KEY "CANARYKEYf00d1d"
#define SECRET "CANARYSECRETbeefc0ffee"
#define WAIT_MS 8000 /* generous: a bound, never asserted as a duration */
#define MS INT64_C(1000000)
#define T0 INT64_C(1700000000000) /* exchange ms */

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------- the server */

#define QMAX 64

struct pss {
	bool got_first;
};

static struct srv {
	struct lws_context *ctx;
	pthread_t tid;
	int port;
	bool stop;                  /* __atomic */
	pthread_mutex_t mu;
	/* under mu */
	int conns;                  /* connections accepted */
	int creds_ok;               /* connections whose first message was the credentials */
	int creds_bad;
	char first[512];            /* the last connection's first message */
	struct lws *cur;            /* the live connection */
	char snapshot[1024];        /* sent after good credentials; "" = none */
	char *q[QMAX];              /* messages to send to cur */
	int qn;
	bool close_now;
} S;

static int srv_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct pss *ps = user;
	int rc = 0;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		pthread_mutex_lock(&S.mu);
		S.conns++;
		S.cur = wsi;
		for (int i = 0; i < S.qn; i++)
			free(S.q[i]);
		S.qn = 0;
		ps->got_first = false;
		pthread_mutex_unlock(&S.mu);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (ps->got_first)
			break;
		ps->got_first = true;
		pthread_mutex_lock(&S.mu);
		snprintf(S.first, sizeof(S.first), "%.*s", (int)len, (const char *)in);
		if (strcmp(S.first, "{\"api_key_id\":\"" KEY "\",\"api_key_secret\":\"" SECRET "\"}") == 0) {
			S.creds_ok++;
			/* The snapshot goes first, before anything queued. */
			if (S.snapshot[0] != '\0' && S.qn < QMAX) {
				memmove(S.q + 1, S.q, (size_t)S.qn * sizeof(S.q[0]));
				S.q[0] = strdup(S.snapshot);
				S.qn++;
			}
		} else {
			S.creds_bad++;
		}
		pthread_mutex_unlock(&S.mu);
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE: {
		char *m = NULL;
		bool more = false, close_it = false;
		pthread_mutex_lock(&S.mu);
		if (wsi == S.cur) {
			if (S.close_now) {
				S.close_now = false;
				close_it = true;
			} else if (S.qn > 0 && ps->got_first) {
				m = S.q[0];
				memmove(S.q, S.q + 1, (size_t)(S.qn - 1) * sizeof(S.q[0]));
				S.qn--;
				more = S.qn > 0;
			}
		}
		pthread_mutex_unlock(&S.mu);
		if (close_it) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, NULL, 0);
			return -1;
		}
		if (m != NULL) {
			size_t n = strlen(m);
			unsigned char *buf = malloc(LWS_PRE + n + 1);
			memcpy(buf + LWS_PRE, m, n);
			if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
				rc = -1;
			free(buf);
			free(m);
		}
		if (more)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLOSED:
		pthread_mutex_lock(&S.mu);
		if (S.cur == wsi)
			S.cur = NULL;
		pthread_mutex_unlock(&S.mu);
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		pthread_mutex_lock(&S.mu);
		if (S.cur != NULL)
			lws_callback_on_writable(S.cur);
		pthread_mutex_unlock(&S.mu);
		break;
	default:
		break;
	}
	return rc;
}

static struct lws_protocols srv_protocols[] = {
	{ "luno", srv_cb, sizeof(struct pss), 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void *srv_run(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&S.stop, __ATOMIC_ACQUIRE))
		lws_service(S.ctx, 0);
	return NULL;
}

/* A free port on 127.0.0.1 (bound, read, closed). */
static int free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static void srv_start(const char *snapshot)
{
	struct lws_context_creation_info info;

	memset(&S, 0, sizeof(S));
	pthread_mutex_init(&S.mu, NULL);
	snprintf(S.snapshot, sizeof(S.snapshot), "%s", snapshot);
	memset(&info, 0, sizeof(info));
	info.port = free_port();
	info.iface = "127.0.0.1";
	info.protocols = srv_protocols;
	info.gid = -1;
	info.uid = -1;
	S.ctx = lws_create_context(&info);
	assert_non_null(S.ctx);
	S.port = info.port;
	assert_int_equal(pthread_create(&S.tid, NULL, srv_run, NULL), 0);
}

static void srv_stop(void)
{
	__atomic_store_n(&S.stop, true, __ATOMIC_RELEASE);
	lws_cancel_service(S.ctx);
	pthread_join(S.tid, NULL);
	lws_context_destroy(S.ctx);
	for (int i = 0; i < S.qn; i++)
		free(S.q[i]);
	pthread_mutex_destroy(&S.mu);
}

/* Queues a message for the live connection. */
static void srv_send(const char *m)
{
	pthread_mutex_lock(&S.mu);
	assert_true(S.qn < QMAX);
	S.q[S.qn++] = strdup(m);
	pthread_mutex_unlock(&S.mu);
	lws_cancel_service(S.ctx);
}

static void srv_close(void)
{
	pthread_mutex_lock(&S.mu);
	S.close_now = true;
	pthread_mutex_unlock(&S.mu);
	lws_cancel_service(S.ctx);
}

static int srv_get(const int *field)
{
	int v;
	pthread_mutex_lock(&S.mu);
	v = *field;
	pthread_mutex_unlock(&S.mu);
	return v;
}

static void srv_set_snapshot(const char *snapshot)
{
	pthread_mutex_lock(&S.mu);
	snprintf(S.snapshot, sizeof(S.snapshot), "%s", snapshot);
	pthread_mutex_unlock(&S.mu);
}

/* ------------------------------------------------------- the client */

static const char SNAP10[] =
	"{\"sequence\":\"10\",\"asks\":[{\"id\":\"A1\",\"price\":\"101.00\",\"volume\":\"2.5\"}],"
	"\"bids\":[{\"id\":\"B1\",\"price\":\"99.50\",\"volume\":\"1.25\"}],\"status\":\"ACTIVE\","
	"\"timestamp\":1700000000000}";
static const char SNAP20[] =
	"{\"sequence\":\"20\",\"asks\":[{\"id\":\"A9\",\"price\":\"202\",\"volume\":\"3\"}],"
	"\"bids\":[{\"id\":\"B9\",\"price\":\"198\",\"volume\":\"4\"}],\"status\":\"ACTIVE\","
	"\"timestamp\":1700000009000}";

static char url[64];

static struct ig_luno_stream *open_stream(int64_t timeout_ms, int port)
{
	struct ig_luno_stream_opts o;
	struct ig_luno_stream *s = NULL;
	char err[256];

	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d", port);
	o.url = url;
	o.pairs[0] = "XBTZAR";
	o.instrument_ids[0] = 3;
	o.npairs = 1;
	o.key_id_env = KEY_ENV;
	o.secret_env = SECRET_ENV;
	o.timeout_ms = timeout_ms;
	o.backoff_min_ms = 20;
	o.backoff_max_ms = 200;
	if (ig_luno_stream_open(&o, &s, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	return s;
}

/* The next event within WAIT_MS: returns true with *ev. */
static bool next_ev(struct ig_luno_stream *s, struct ig_event *ev)
{
	int64_t due;
	for (int i = 0; i < WAIT_MS; i++) {
		int rc = ig_luno_stream_next(s, 0, ev, &due);
		if (rc == 1)
			return true;
		assert_int_equal(rc, 0);
		assert_true(due > 0);
		sleep_ms(1);
	}
	return false;
}

static void expect_quote(struct ig_luno_stream *s, const char *bid, const char *bq, const char *ask,
			 const char *aq, int64_t ts_ms)
{
	struct ig_event ev;
	assert_true(next_ev(s, &ev));
	assert_int_equal(ev.hdr.type, IG_EV_QUOTE);
	assert_int_equal(ev.hdr.instrument_id, 3);
	if (ev.body.quote.bid_px != D(bid))
		fail_msg("bid %lld (ts %lld), expected %s", (long long)ev.body.quote.bid_px,
			 (long long)ev.hdr.ts_event_ns, bid);
	assert_int_equal(ev.body.quote.bid_qty, D(bq));
	assert_int_equal(ev.body.quote.ask_px, D(ask));
	assert_int_equal(ev.body.quote.ask_qty, D(aq));
	assert_int_equal(ev.hdr.ts_event_ns, ts_ms * MS);
	assert_true(ev.hdr.ts_origin_ns > 0); /* the receive time */
}

static struct ig_luno_stream_stats stats(struct ig_luno_stream *s)
{
	struct ig_luno_stream_stats st;
	ig_luno_stream_stats(s, &st);
	return st;
}

/* Waits until resyncs_by[reason] >= n. */
static void wait_resync(struct ig_luno_stream *s, int reason, uint64_t n)
{
	for (int i = 0; i < WAIT_MS && stats(s).resyncs_by[reason] < n; i++)
		sleep_ms(1);
	assert_true(stats(s).resyncs_by[reason] >= n);
}

static int setup(void **state)
{
	(void)state;
	setenv(KEY_ENV, KEY, 1);
	setenv(SECRET_ENV, SECRET, 1);
	return 0;
}

/* ----------------------------------------------------------- tests */

static void test_quotes_and_trades(void **state)
{
	struct ig_luno_stream *s;
	struct ig_event ev;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(0, S.port);
	/* The credentials are the first message, exactly. */
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	assert_int_equal(srv_get(&S.creds_ok), 1);
	assert_int_equal(srv_get(&S.creds_bad), 0);
	/* A better bid. */
	srv_send("{\"sequence\":\"11\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B2\","
		 "\"type\":\"BID\",\"price\":\"100.00\",\"volume\":\"0.5\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000000100}");
	expect_quote(s, "100", "0.5", "101", "2.5", T0 + 100);
	/* A keep-alive changes nothing. */
	srv_send("\"\"");
	/* A buy takes 1 of the ask: the trade, then the new top. */
	srv_send("{\"sequence\":\"12\",\"trade_updates\":[{\"base\":\"1.0\",\"counter\":\"101.00\","
		 "\"maker_order_id\":\"A1\",\"taker_order_id\":\"T1\"}],\"create_update\":null,"
		 "\"delete_update\":null,\"status_update\":null,\"timestamp\":1700000000200}");
	assert_true(next_ev(s, &ev));
	assert_int_equal(ev.hdr.type, IG_EV_TRADE);
	assert_int_equal(ev.hdr.instrument_id, 3);
	assert_int_equal(ev.body.trade.px, D("101"));
	assert_int_equal(ev.body.trade.qty, D("1"));
	assert_int_equal(ev.body.trade.aggressor, IG_SIDE_BUY);
	assert_int_equal(ev.hdr.ts_event_ns, (T0 + 200) * MS);
	expect_quote(s, "100", "0.5", "101", "1.5", T0 + 200);
	assert_int_equal(stats(s).quotes, 3);
	assert_int_equal(stats(s).trades, 1);
	assert_int_equal(stats(s).keepalives, 1);
	assert_int_equal(stats(s).snapshots, 1);
	assert_int_equal(stats(s).resyncs, 0);
	/* Stop: next() says EOF; close joins and frees (ASan checks). */
	ig_luno_stream_stop(s);
	{
		int64_t due;
		assert_int_equal(ig_luno_stream_next(s, 0, &ev, &due), IG_EEOF);
	}
	ig_luno_stream_log_stats(s);
	ig_luno_stream_close(s);
	srv_stop();
}

static int wakes_n;

static void count_wake(void *arg)
{
	__atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

/* With a waker set, the stream thread calls it after each frame that put
 * events in the ring (not after a keep-alive), has_work says the ring has
 * something, and next()'s due is only a safety net: the tick thread parks
 * instead of polling every poll_us. */
static void test_wake_after_frame(void **state)
{
	struct ig_luno_stream *s;
	struct ig_event ev;
	int64_t due, now;
	int w0;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(0, S.port);
	ig_luno_stream_set_wake(s, count_wake, &wakes_n);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	assert_false(ig_luno_stream_has_work(s));
	now = ig_clock_mono_ns();
	assert_int_equal(ig_luno_stream_next(s, now, &ev, &due), 0);
	assert_int_equal(due, now + IG_LUNO_STREAM_WOKEN_POLL_US * 1000);
	w0 = __atomic_load_n(&wakes_n, __ATOMIC_SEQ_CST);
	srv_send("\"\"");
	srv_send("{\"sequence\":\"11\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B2\","
		 "\"type\":\"BID\",\"price\":\"100.00\",\"volume\":\"0.5\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000000100}");
	for (int i = 0; i < WAIT_MS && __atomic_load_n(&wakes_n, __ATOMIC_SEQ_CST) == w0; i++)
		sleep_ms(1);
	/* One wake, for the frame with the quote; the keep-alive woke nobody. */
	assert_int_equal(__atomic_load_n(&wakes_n, __ATOMIC_SEQ_CST), w0 + 1);
	assert_int_equal(stats(s).keepalives, 1);
	assert_true(ig_luno_stream_has_work(s));
	expect_quote(s, "100", "0.5", "101", "2.5", T0 + 100);
	assert_false(ig_luno_stream_has_work(s));
	/* No waker: polled every poll_us again. */
	ig_luno_stream_set_wake(s, NULL, NULL);
	now = ig_clock_mono_ns();
	assert_int_equal(ig_luno_stream_next(s, now, &ev, &due), 0);
	assert_int_equal(due, now + IG_LUNO_STREAM_DEFAULT_POLL_US * 1000);
	ig_luno_stream_stop(s);
	assert_true(ig_luno_stream_has_work(s)); /* the end is something to read */
	ig_luno_stream_close(s);
	srv_stop();
}

static void test_gap_resyncs(void **state)
{
	struct ig_luno_stream *s;
	struct ig_event ev;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(0, S.port);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	/* The next snapshot is another one; then skip sequence 11. */
	srv_set_snapshot(SNAP20);
	srv_send("{\"sequence\":\"12\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B2\","
		 "\"type\":\"BID\",\"price\":\"100.00\",\"volume\":\"0.5\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000000100}");
	wait_resync(s, IG_LUNO_STREAM_R_SEQUENCE, 1);
	/* The gap's update made no quote; the next event is the new
	 * snapshot's top, on a new connection that sent the credentials
	 * first again. */
	expect_quote(s, "198", "4", "202", "3", T0 + 9000);
	assert_int_equal(srv_get(&S.creds_ok), 2);
	assert_int_equal(srv_get(&S.creds_bad), 0);
	assert_int_equal(stats(s).resyncs, 1);
	assert_int_equal(stats(s).snapshots, 2);
	/* Updates go on from the new snapshot's sequence. */
	srv_send("{\"sequence\":\"21\",\"trade_updates\":null,\"create_update\":null,"
		 "\"delete_update\":{\"order_id\":\"A9\"},\"status_update\":null,\"timestamp\":1700000009100}");
	srv_send("{\"sequence\":\"22\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"A10\","
		 "\"type\":\"ASK\",\"price\":\"205\",\"volume\":\"1\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000009200}");
	/* An empty ask side makes no quote; the new ask does. */
	expect_quote(s, "198", "4", "205", "1", T0 + 9200);
	(void)ev;
	ig_luno_stream_close(s); /* close without stop first: also clean */
	srv_stop();
}

static void test_server_close_resyncs(void **state)
{
	struct ig_luno_stream *s;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(0, S.port);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	srv_set_snapshot(SNAP20);
	srv_close();
	wait_resync(s, IG_LUNO_STREAM_R_CLOSED, 1);
	expect_quote(s, "198", "4", "202", "3", T0 + 9000);
	assert_int_equal(srv_get(&S.creds_ok), 2);
	ig_luno_stream_stop(s);
	ig_luno_stream_close(s);
	srv_stop();
}

static void test_silence_resyncs(void **state)
{
	struct ig_luno_stream *s;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(150, S.port); /* a small feed.stream_timeout_ms */
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	srv_set_snapshot(SNAP20);
	/* The server says nothing more. */
	wait_resync(s, IG_LUNO_STREAM_R_TIMEOUT, 1);
	expect_quote(s, "198", "4", "202", "3", T0 + 9000);
	assert_true(srv_get(&S.conns) >= 2);
	ig_luno_stream_stop(s);
	ig_luno_stream_close(s);
	srv_stop();
}

static void test_keepalives_keep_it_up(void **state)
{
	struct ig_luno_stream *s;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(300, S.port);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	/* Keep-alives well inside the timeout: no resync. */
	for (int i = 0; i < 10; i++) {
		srv_send("");
		sleep_ms(50);
	}
	assert_int_equal(stats(s).resyncs, 0);
	assert_int_equal(srv_get(&S.conns), 1);
	assert_true(stats(s).keepalives >= 1);
	ig_luno_stream_close(s);
	srv_stop();
}

static void test_garbage_resyncs(void **state)
{
	struct ig_luno_stream *s;
	(void)state;

	srv_start(SNAP10);
	s = open_stream(0, S.port);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	srv_set_snapshot(SNAP20);
	srv_send("{not json at all");
	wait_resync(s, IG_LUNO_STREAM_R_MALFORMED, 1);
	expect_quote(s, "198", "4", "202", "3", T0 + 9000);
	/* A crossed book after an update is a resync too. */
	srv_set_snapshot(SNAP10);
	srv_send("{\"sequence\":\"21\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B3\","
		 "\"type\":\"BID\",\"price\":\"300\",\"volume\":\"1\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000009100}");
	wait_resync(s, IG_LUNO_STREAM_R_CROSSED, 1);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	assert_int_equal(stats(s).resyncs, 2);
	ig_luno_stream_close(s);
	srv_stop();
}

static void test_connect_failure_backs_off(void **state)
{
	struct ig_luno_stream *s;
	(void)state;

	s = open_stream(0, free_port()); /* nobody listens there */
	wait_resync(s, IG_LUNO_STREAM_R_CONNECT, 3);
	assert_int_equal(stats(s).quotes, 0);
	assert_int_equal(stats(s).connects, 0);
	ig_luno_stream_stop(s);
	ig_luno_stream_close(s);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *buf;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* stderr (where the log goes) redirected to a temporary file. */
struct stderr_cap {
	char path[32];
	int fd, saved;
};

static void stderr_capture(struct stderr_cap *c)
{
	snprintf(c->path, sizeof(c->path), "/tmp/igt_stream_stderr_XXXXXX");
	c->fd = mkstemp(c->path);
	assert_true(c->fd >= 0);
	fflush(stderr);
	c->saved = dup(2);
	dup2(c->fd, 2);
}

/* Puts stderr back. Returns what was written meanwhile (the caller frees);
 * the file is removed. */
static char *stderr_release(struct stderr_cap *c)
{
	char *text;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	close(c->fd);
	text = slurp(c->path);
	unlink(c->path);
	return text;
}

static void test_secret_never_logged(void **state)
{
	char err[256], *log;
	struct ig_luno_stream *s;
	struct ig_luno_stream_opts o;
	struct stderr_cap cap;
	(void)state;

	stderr_capture(&cap);
	ig_log_set_level(IG_LOG_DEBUG);

	srv_start(SNAP10);
	s = open_stream(0, S.port);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	/* A hostile server echoes the credentials in what the book quotes
	 * in its errors: a price, then a truncated value, then bad JSON. */
	srv_send("{\"sequence\":\"11\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B2\","
		 "\"type\":\"BID\",\"price\":\"" SECRET "\",\"volume\":\"0.5\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000000100}");
	wait_resync(s, IG_LUNO_STREAM_R_MALFORMED, 1);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	srv_send("{\"sequence\":\"11\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B2\","
		 "\"type\":\"BID\",\"price\":\"123456789012345678901234" SECRET "\",\"volume\":\"0.5\"},"
		 "\"delete_update\":null,\"status_update\":null,\"timestamp\":1700000000100}");
	wait_resync(s, IG_LUNO_STREAM_R_MALFORMED, 2);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	srv_send(KEY SECRET);
	wait_resync(s, IG_LUNO_STREAM_R_MALFORMED, 3);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	ig_luno_stream_log_stats(s);
	ig_luno_stream_close(s);
	srv_stop();

	/* Open errors name the variable, never its value. */
	memset(&o, 0, sizeof(o));
	o.url = "ws://127.0.0.1:1";
	o.pairs[0] = "XBTZAR";
	o.npairs = 1;
	o.key_id_env = KEY_ENV;
	o.secret_env = "IGT_STREAM_NOT_SET";
	assert_int_equal(ig_luno_stream_open(&o, &s, err, sizeof(err)), IG_ECONFIG);
	assert_null(s);
	fprintf(stderr, "%s\n", err);

	ig_log_set_level(IG_LOG_INFO);
	log = stderr_release(&cap);
	/* The log did say things. */
	assert_non_null(strstr(log, "luno stream XBTZAR"));
	assert_non_null(strstr(log, "malformed"));
	assert_non_null(strstr(log, "IGT_STREAM_NOT_SET"));
	/* But never the credentials, nor 4+ bytes that start the secret. */
	assert_null(strstr(log, KEY));
	assert_null(strstr(log, SECRET));
	if (strstr(log, "CANA") != NULL)
		fail_msg("%s", strstr(log, "CANA") - 120 > log ? strstr(log, "CANA") - 120 : log);
	free(log);
}


/* A hostile server that quotes the secret from its second byte on (an
 * order id the book names in its error) does not get it into the log:
 * every run of 4+ bytes of a credential is masked, not only its start. */
static void test_secret_tail_never_logged(void **state)
{
	char *log;
	struct ig_luno_stream *s;
	struct stderr_cap cap;
	(void)state;

	stderr_capture(&cap);
	srv_start(SNAP10);
	s = open_stream(0, S.port);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	srv_send("{\"sequence\":\"11\",\"trade_updates\":null,\"create_update\":null,"
		 "\"delete_update\":{\"order_id\":\"ANARYSECRETbeefc0ffee\"},"
		 "\"status_update\":null,\"timestamp\":1700000000100}");
	wait_resync(s, IG_LUNO_STREAM_R_UNKNOWN_ORDER, 1);
	ig_luno_stream_close(s);
	srv_stop();
	log = stderr_release(&cap);
	assert_non_null(strstr(log, "not in the book"));
	if (strstr(log, "SECRETbeef") != NULL)
		fail_msg("%s", strstr(log, "SECRETbeef") - 60 > log ? strstr(log, "SECRETbeef") - 60 : log);
	free(log);
}

static void test_config_keys(void **state)
{
	struct ig_config cfg;
	char err[512];
	const char *yaml_bad = "feed:\n  source: luno\n  luno_endpoint: stream\nvenue:\n  stream_url: \"ftp://x\"\n";
	const char *yaml_bad2 = "venue:\n  stream_url: \"wss://user:pw@ws.luno.com\"\n";
	const char *yaml_ok = "feed:\n  source: luno\n  luno_endpoint: stream\n  stream_timeout_ms: 5000\n"
			      "venue:\n  stream_url: \"wss://ws.example.com:8443/prefix/\"\n";
	FILE *f;
	char path[] = "/tmp/igt_stream_cfg_XXXXXX";
	char u[IG_LUNO_WS_URL_MAX];
	int fd;
	(void)state;

	/* The default and the derivation. */
	/* The default and the derivation (luno_ws.c, shared with the user
	 * stream). */
	assert_int_equal(ig_luno_ws_url(IG_CFG_DEFAULT_VENUE_BASE_URL, "", "", u, sizeof(u), err, sizeof(err)), 0);
	assert_string_equal(u, IG_CFG_DEFAULT_STREAM_URL);
	assert_int_equal(ig_luno_ws_url("http://127.0.0.1:9000", "", "", u, sizeof(u), err, sizeof(err)), 0);
	assert_string_equal(u, "ws://127.0.0.1:9000");
	assert_int_equal(ig_luno_ws_url("http://127.0.0.1:9000", "ws://h:1", "", u, sizeof(u), err, sizeof(err)), 0);
	assert_string_equal(u, "ws://h:1");
	assert_int_equal(ig_luno_ws_url("http://[::1]:8080/x", "", "", u, sizeof(u), err, sizeof(err)), 0);
	assert_null(ig_luno_ws_url_problem(""));
	assert_null(ig_luno_ws_url_problem("wss://ws.luno.com"));
	assert_null(ig_luno_ws_url_problem("ws://[::1]:8080/x"));
	assert_non_null(ig_luno_ws_url_problem("ws://"));
	assert_non_null(ig_luno_ws_url_problem("ws://h:0"));
	assert_non_null(ig_luno_ws_url_problem("ws://h:99999"));
	assert_non_null(ig_luno_ws_url_problem("ws://h/a b"));
	assert_non_null(ig_luno_ws_url_problem("ws://h/?q"));

	for (int k = 0; k < 3; k++) {
		const char *y = k == 0 ? yaml_bad : k == 1 ? yaml_bad2 : yaml_ok;
		fd = mkstemp(path);
		assert_true(fd >= 0);
		f = fdopen(fd, "w");
		fputs(y, f);
		fclose(f);
		err[0] = '\0';
		if (k < 2) {
			assert_int_equal(ig_config_load(&cfg, path, NULL, 0, err, sizeof(err)), IG_ECONFIG);
			/* file:line:col and the key */
			assert_non_null(strstr(err, k == 0 ? ":5:" : ":2:"));
			assert_non_null(strstr(err, "venue.stream_url"));
			if (strstr(err, "pw@") != NULL)
				fail_msg("%s", err);
		} else {
			int rc = ig_config_load(&cfg, path, NULL, 0, err, sizeof(err));
			if (rc != 0)
				fail_msg("%s", err);
			assert_int_equal(cfg.feed.luno_endpoint, IG_LUNO_EP_STREAM);
			assert_int_equal(cfg.feed.stream_timeout_ms, 5000);
			assert_string_equal(cfg.venue.stream_url, "wss://ws.example.com:8443/prefix/");
		}
		unlink(path);
		memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	}
	ig_config_defaults(&cfg);
	assert_int_equal(cfg.feed.stream_timeout_ms, IG_CFG_DEFAULT_FEED_STREAM_TIMEOUT_MS);
	assert_string_equal(cfg.venue.stream_url, "");
}

/* The luno feed in stream mode: open from opts, events through
 * ig_luno_feed_next, stop -> EOF, the summary's counters, close. */
static void test_feed_stream_mode(void **state)
{
	struct ig_luno_feed f;
	struct ig_luno_feed_opts fo;
	struct ig_event ev;
	char err[256];
	int64_t due;
	int rc = 0;
	json_t *obj;
	(void)state;

	srv_start(SNAP10);
	memset(&fo, 0, sizeof(fo));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", S.port); /* mapped to ws:// */
	fo.stream = true;
	fo.base_url = url;
	fo.stream_url = "";
	fo.pair = "XBTZAR";
	fo.instrument_id = 1;
	fo.key_id_env = KEY_ENV;
	fo.secret_env = SECRET_ENV;
	if (ig_luno_feed_open(&f, &fo, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	for (int i = 0; i < WAIT_MS && (rc = ig_luno_feed_next(&f, 0, &ev, &due)) == 0; i++)
		sleep_ms(1);
	assert_int_equal(rc, 1);
	assert_int_equal(ev.hdr.type, IG_EV_QUOTE);
	assert_int_equal(ev.hdr.instrument_id, 1);
	assert_int_equal(ev.body.quote.ask_px, D("101"));
	obj = json_object();
	assert_int_equal(ig_luno_feed_stats_json(&f, obj), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(obj, "stream_resyncs"), "total")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(obj, "stream"), "quotes")), 1);
	assert_non_null(json_object_get(json_object_get(obj, "stream_resyncs"), "sequence"));
	json_decref(obj);
	ig_luno_feed_stop(&f);
	assert_int_equal(ig_luno_feed_next(&f, 0, &ev, &due), IG_EEOF);
	ig_luno_feed_log_stats(&f);
	ig_luno_feed_close(&f);
	srv_stop();
}

/* A full ring: the stream thread never blocks; the dropped quotes are
 * counted, and the latest top goes out once there is room. */
static void test_ring_full_repushes_top(void **state)
{
	struct ig_luno_stream_opts o;
	struct ig_luno_stream *s = NULL;
	struct ig_event ev;
	char err[256], m[512];
	static const char *const bids[] = { "99.6", "99.7", "99.8", "99.9", "99.95" };
	(void)state;

	srv_start(SNAP10);
	memset(&o, 0, sizeof(o));
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d", S.port);
	o.url = url;
	o.pairs[0] = "XBTZAR";
	o.instrument_ids[0] = 3;
	o.npairs = 1;
	o.key_id_env = KEY_ENV;
	o.secret_env = SECRET_ENV;
	o.timeout_ms = 0; /* the default: no silence check interferes */
	o.ring_size = 2;
	if (ig_luno_stream_open(&o, &s, err, sizeof(err)) != 0)
		fail_msg("open: %s", err);
	for (int i = 0; i < WAIT_MS && stats(s).quotes < 1; i++)
		sleep_ms(1);
	/* Five better bids, none read yet: the snapshot's quote and the
	 * first fill the ring, the other four are dropped. */
	for (int i = 0; i < 5; i++) {
		snprintf(m, sizeof(m),
			 "{\"sequence\":\"%d\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"N%d\","
			 "\"type\":\"BID\",\"price\":\"%s\",\"volume\":\"1\"},\"delete_update\":null,"
			 "\"status_update\":null,\"timestamp\":%lld}",
			 11 + i, i, bids[i], (long long)(T0 + 100 * (i + 1)));
		srv_send(m);
	}
	for (int i = 0; i < WAIT_MS && stats(s).quotes_dropped < 4; i++)
		sleep_ms(1);
	assert_int_equal(stats(s).quotes_dropped, 4);
	assert_int_equal(stats(s).quotes, 2);
	expect_quote(s, "99.5", "1.25", "101", "2.5", T0);
	expect_quote(s, "99.6", "1", "101", "2.5", T0 + 100);
	/* The book moved on to 99.95 meanwhile: that top comes next (its
	 * retry pushes it once there is room, with no further frame). */
	expect_quote(s, "99.95", "1", "101", "2.5", T0 + 500);
	assert_int_equal(stats(s).resyncs, 0);
	assert_false(ig_luno_stream_next(s, 0, &ev, &(int64_t){ 0 }) == 1);
	ig_luno_stream_close(s);
	srv_stop();
}

static void *engine_run_thread(void *p)
{
	struct ig_engine *e = p;
	return (void *)(intptr_t)ig_engine_run(e);
}

/* The whole engine on the stream: quotes reach the OMS (md_events), a gap
 * is a resync, and the summary (JSON and text) reports it. */
static void test_engine_summary(void **state)
{
	static struct ig_engine eng;
	static struct ig_config cfg;
	struct ig_engine_opts opts;
	char path[] = "/tmp/igt_stream_eng_XXXXXX", err[512], *text = NULL;
	size_t tlen = 0;
	pthread_t tid;
	void *ret;
	json_t *root;
	FILE *f;
	int fd, rc;
	(void)state;

	srv_start(SNAP10);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f,
		"engine:\n  threading: dedicated\n"
		"feed:\n  source: luno\n  luno_endpoint: stream\n  symbol: XBTZAR\n  heartbeat_ms: 100\n"
		"venue:\n  kind: paper\n  stream_url: \"ws://127.0.0.1:%d\"\n"
		"  key_id_env: " KEY_ENV "\n  secret_env: " SECRET_ENV "\n"
		"strategies:\n  - name: s\n    type: sma_cross\n    capital: \"1000000\"\n",
		S.port);
	fclose(f);
	rc = ig_config_load(&cfg, path, NULL, 0, err, sizeof(err));
	unlink(path);
	if (rc != 0)
		fail_msg("%s", err);
	memset(&opts, 0, sizeof(opts));
	rc = ig_engine_init(&eng, &cfg, &opts, err, sizeof(err));
	if (rc != 0)
		fail_msg("ig_engine_init: %s", err);
	assert_int_equal(pthread_create(&tid, NULL, engine_run_thread, &eng), 0);
	for (int i = 0; i < WAIT_MS && srv_get(&S.creds_ok) < 1; i++)
		sleep_ms(1);
	srv_send("{\"sequence\":\"11\",\"trade_updates\":null,\"create_update\":{\"order_id\":\"B2\","
		 "\"type\":\"BID\",\"price\":\"100.00\",\"volume\":\"0.5\"},\"delete_update\":null,"
		 "\"status_update\":null,\"timestamp\":1700000000100}");
	srv_send("{\"sequence\":\"13\",\"trade_updates\":null,\"create_update\":null,"
		 "\"delete_update\":{\"order_id\":\"B2\"},\"status_update\":null,\"timestamp\":1700000000300}");
	for (int i = 0; i < WAIT_MS && srv_get(&S.creds_ok) < 2; i++)
		sleep_ms(1);
	assert_int_equal(srv_get(&S.creds_ok), 2);
	sleep_ms(50);
	ig_engine_request_stop(&eng);
	assert_int_equal(pthread_join(tid, &ret), 0);
	assert_int_equal((int)(intptr_t)ret, 0);
	root = ig_engine_summary(&eng);
	assert_non_null(root);
	assert_true(json_integer_value(json_object_get(root, "md_events")) >= 3);
	{
		json_t *fd_ = json_object_get(root, "feed");
		json_t *rs = json_object_get(fd_, "stream_resyncs");
		assert_int_equal(json_integer_value(json_object_get(rs, "total")), 1);
		assert_int_equal(json_integer_value(json_object_get(rs, "sequence")), 1);
		assert_true(json_integer_value(json_object_get(json_object_get(fd_, "stream"), "quotes")) >= 3);
	}
	json_decref(root);
	f = open_memstream(&text, &tlen);
	ig_engine_print_summary(&eng, f);
	fclose(f);
	if (strstr(text, "feed: stream resyncs 1 (sequence 1)") == NULL)
		fail_msg("%s", text);
	free(text);
	ig_engine_destroy(&eng);
	srv_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_and_trades),
		cmocka_unit_test(test_wake_after_frame),
		cmocka_unit_test(test_gap_resyncs),
		cmocka_unit_test(test_server_close_resyncs),
		cmocka_unit_test(test_silence_resyncs),
		cmocka_unit_test(test_keepalives_keep_it_up),
		cmocka_unit_test(test_garbage_resyncs),
		cmocka_unit_test(test_connect_failure_backs_off),
		cmocka_unit_test(test_secret_never_logged),
		cmocka_unit_test(test_secret_tail_never_logged),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_feed_stream_mode),
		cmocka_unit_test(test_ring_full_repushes_top),
		cmocka_unit_test(test_engine_summary),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}

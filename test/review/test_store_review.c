/*
 * test_store_review.c - review findings on the history store (issue 14):
 * the recorder (src/store/recorder.c) driven with a fake backend that
 * records what it is asked, and journals written here with the journal
 * API, so each test sees exactly what the recorder does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "journal/journal.h"
#include "oms/oms.h"
#include "store/recorder.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- a fake backend ------------------------------------------------------ */

struct fake {
	int in_tx;             /* a transaction is open */
	int begins, commits, rollbacks, nested_begins;
	int equity, orders, denials, fills;
	int refuse_equity;     /* the next n put_equity answer IG_EINVAL */
	int level_seen;        /* ig_log_level() during the last put */
	int opens;             /* open() calls (atomic) */
	int fail_open;         /* the next n open() fail (atomic) */
	int fail_session;      /* while set, put_session fails (atomic) */
	int fail_commit;       /* the next n commit() fail (atomic) */
};

static struct fake fk;

static int f_open(void **h, const char *target, char *err, size_t errlen)
{
	(void)target;
	(void)err;
	(void)errlen;
	__atomic_fetch_add(&fk.opens, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&fk.fail_open, __ATOMIC_ACQUIRE) > 0) {
		__atomic_fetch_sub(&fk.fail_open, 1, __ATOMIC_RELEASE);
		snprintf(err, errlen, "fake: cannot open");
		*h = NULL;
		return IG_EIO;
	}
	*h = &fk;
	return 0;
}

static int f_begin(void *h, char *err, size_t errlen)
{
	(void)h;
	fk.begins++;
	if (fk.in_tx) {
		/* as SQLite: cannot start a transaction within a transaction */
		fk.nested_begins++;
		snprintf(err, errlen, "fake: a transaction is already open");
		return IG_EIO;
	}
	fk.in_tx = 1;
	return 0;
}

static int f_commit(void *h, char *err, size_t errlen)
{
	(void)h;
	if (!fk.in_tx) {
		snprintf(err, errlen, "fake: no transaction");
		return IG_EIO;
	}
	if (__atomic_load_n(&fk.fail_commit, __ATOMIC_ACQUIRE) > 0) {
		__atomic_fetch_sub(&fk.fail_commit, 1, __ATOMIC_RELEASE);
		snprintf(err, errlen, "fake: database is locked");
		return IG_EIO;
	}
	fk.in_tx = 0;
	fk.commits++;
	return 0;
}

static void f_rollback(void *h)
{
	(void)h;
	fk.in_tx = 0;
	fk.rollbacks++;
}

static int f_put_session(void *h, const struct ig_store_session *s)
{
	(void)h;
	(void)s;
	return __atomic_load_n(&fk.fail_session, __ATOMIC_ACQUIRE) ? IG_EIO : 0;
}

static int f_put_order(void *h, const struct ig_store_order *o)
{
	(void)h;
	(void)o;
	fk.orders++;
	fk.level_seen = (int)ig_log_level();
	return 0;
}

static int f_put_order_event(void *h, const struct ig_store_order_event *e)
{
	(void)h;
	(void)e;
	return 0;
}

static int f_put_fill(void *h, const struct ig_store_fill *f)
{
	(void)h;
	(void)f;
	fk.fills++;
	return 0;
}

static int f_put_equity(void *h, const struct ig_store_equity *q)
{
	(void)h;
	(void)q;
	fk.level_seen = (int)ig_log_level();
	if (fk.refuse_equity > 0) {
		fk.refuse_equity--;
		return IG_EINVAL;
	}
	fk.equity++;
	return 0;
}

static int f_put_denial(void *h, const struct ig_store_denial *d)
{
	(void)h;
	(void)d;
	fk.denials++;
	return 0;
}

static void f_close(void *h)
{
	(void)h;
	fk.in_tx = 0;
}

static const struct ig_store_ops fake_ops = {
	.name = "fake",
	.open = f_open,
	.begin = f_begin,
	.commit = f_commit,
	.rollback = f_rollback,
	.put_session = f_put_session,
	.put_order = f_put_order,
	.put_order_event = f_put_order_event,
	.put_fill = f_put_fill,
	.put_equity = f_put_equity,
	.put_denial = f_put_denial,
	.close = f_close,
};

/* ---- fixtures ------------------------------------------------------------ */

static struct ig_config cfg;
static char dir[64], jpath[128];
static const char *const syms[] = { "BTCUSD" };

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	snprintf(dir, sizeof(dir), "/tmp/ig_store_review_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(jpath, sizeof(jpath), "%s/run.journal", dir);
	ig_config_defaults(&cfg);
	snprintf(cfg.file, sizeof(cfg.file), "review.yaml");
	cfg.feed.source = IG_FEED_SYNTHETIC;
	cfg.engine.threading = IG_THREADING_DEDICATED;
	cfg.engine.strategy_threads = 2;
	cfg.nstrategies = 2;
	for (uint32_t i = 0; i < 2; i++) {
		snprintf(cfg.strategies[i].name, IG_CFG_NAME_MAX, "s%u", i);
		snprintf(cfg.strategies[i].type, IG_CFG_NAME_MAX, "sma_cross");
		cfg.strategies[i].thread = i;
		cfg.strategies[i].capital = INT64_C(1000000000000); /* 10,000 */
	}
	snprintf(cfg.store.daemon_id, sizeof(cfg.store.daemon_id), "review");
	cfg.store.equity_every_s = 1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

/* Writes a journal of n quotes, one per second of data time. */
static void write_quotes(const char *path, int n)
{
	struct ig_journal *j = calloc(1, sizeof(*j));
	struct ig_journal_opts jo;
	struct ig_journal_report rep;
	assert_non_null(j);
	memset(&jo, 0, sizeof(jo));
	assert_int_equal(ig_journal_open(j, path, &jo, &rep), 0);
	for (int i = 0; i < n; i++) {
		struct ig_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = IG_EV_QUOTE;
		ev.hdr.src = IG_STAGE_TICK;
		ev.hdr.strategy_id = IG_STRATEGY_NONE;
		ev.hdr.ts_event_ns = INT64_C(1700000000000000000) + (int64_t)i * INT64_C(1000000000);
		ev.body.quote.bid_px = INT64_C(10000000000000);
		ev.body.quote.ask_px = INT64_C(10001000000000);
		ev.body.quote.bid_qty = INT64_C(500000000);
		ev.body.quote.ask_qty = INT64_C(500000000);
		assert_int_equal(ig_journal_append_event(j, IG_JR_EVENT, &ev, NULL), 0);
	}
	assert_int_equal(ig_journal_close(j), 0);
	free(j);
}

static struct ig_recorder *make(bool sync, const char *journal)
{
	struct ig_recorder_opts ro;
	struct ig_recorder *r = NULL;
	char err[256];
	memset(&ro, 0, sizeof(ro));
	ro.ops = &fake_ops;
	ro.target = "fake";
	ro.cfg = &cfg;
	ro.symbols = syms;
	ro.ninstruments = 1;
	ro.run_epoch = 7;
	ro.started_at = 1;
	ro.journal = journal;
	ro.sync = sync;
	ro.no_session = true;
	assert_int_equal(ig_recorder_create(&r, &ro, err, sizeof(err)), 0);
	return r;
}

/* ---- findings ------------------------------------------------------------ */

/* A live catch-up replays the journal on the recorder's thread while the
 * engine trades. The replay must not silence the log of the whole process
 * (every other thread's warnings: refused fills, risk, venue errors) for
 * as long as it runs: only its own thread's. */
static void test_catchup_replay_keeps_process_log_level(void **state)
{
	struct ig_recorder *r;
	(void)state;
	write_quotes(jpath, 3);
	ig_log_set_level(IG_LOG_INFO);
	r = make(true, jpath);
	fk.level_seen = -99;
	assert_int_equal(ig_recorder_replay(r, jpath), 0);
	assert_true(fk.equity > 0);
	/* What any other thread saw while the replay ran. */
	assert_int_equal(fk.level_seen, IG_LOG_INFO);
	assert_int_equal(ig_log_level(), IG_LOG_INFO);
	assert_int_equal(ig_recorder_stop(r, 0), 0);
	ig_recorder_destroy(r);
	ig_log_set_level(IG_LOG_ERROR);
}

/* In sync mode (`history rebuild`) and in a catch-up, a row the backend
 * refuses (IG_EINVAL) is skipped. When it is the first of a transaction
 * the transaction is open all the same: the next row must not begin
 * another one (SQLite refuses a nested BEGIN, and the whole replay was
 * given up), and the last commit must not be skipped. */
static void test_refused_first_row_keeps_transaction(void **state)
{
	struct ig_recorder *r;
	struct ig_recorder_stats st;
	(void)state;
	write_quotes(jpath, 3); /* 3 periods x 2 strategies: 6 equity rows */
	r = make(true, jpath);
	fk.refuse_equity = 1;
	assert_int_equal(ig_recorder_replay(r, jpath), 0);
	assert_int_equal(fk.nested_begins, 0);
	assert_int_equal(fk.equity, 5);
	assert_int_equal(fk.in_tx, 0); /* committed */
	assert_int_equal(ig_recorder_stop(r, 0), 0);
	ig_recorder_stats(r, &st);
	assert_int_equal(st.rows, 5);
	ig_recorder_destroy(r);

	/* Every row of a transaction refused: it is still ended. */
	memset(&fk, 0, sizeof(fk));
	write_quotes(jpath, 1); /* appends one more period: 8 rows in all */
	r = make(true, jpath);
	fk.refuse_equity = 8;
	assert_int_equal(ig_recorder_replay(r, jpath), 0);
	assert_int_equal(fk.nested_begins, 0);
	assert_int_equal(fk.in_tx, 0);
	assert_int_equal(ig_recorder_stop(r, 0), 0);
	ig_recorder_destroy(r);
}

static void no_emit(struct ig_emit *self, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	(void)self;
	(void)dst;
	(void)idx;
	(void)ev;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* A live catch-up that fails (a journal the replay cannot read) must not
 * be retried in a tight loop: each try replays the whole journal on a
 * core the trading threads share, and logs a warning. It backs off. */
static void test_failed_catchup_backs_off(void **state)
{
	struct ig_oms *oms = calloc(1, sizeof(*oms));
	struct ig_emit out = { no_emit, IG_STAGE_OMS, false };
	struct ig_recorder *r;
	struct ig_recorder_stats st;
	struct ig_journal *j = calloc(1, sizeof(*j));
	struct ig_journal_opts jo;
	struct ig_journal_report rep;
	static const uint8_t junk[64] = { 1, 2, 3 };
	struct ig_recorder_opts ro;
	char err[256];
	uint64_t seen;
	int waited = 0;
	(void)state;

	/* A journal whose snapshot does not fit: every replay fails (IG_EPARSE). */
	assert_non_null(j);
	memset(&jo, 0, sizeof(jo));
	assert_int_equal(ig_journal_open(j, jpath, &jo, &rep), 0);
	assert_int_equal(ig_journal_append(j, IG_JR_SNAPSHOT, junk, sizeof(junk), NULL), 0);
	assert_int_equal(ig_journal_close(j), 0);
	free(j);

	assert_non_null(oms);
	assert_int_equal(ig_oms_init(oms, &cfg, 2), 0);
	memset(&ro, 0, sizeof(ro));
	ro.ops = &fake_ops;
	ro.target = "fake";
	ro.cfg = &cfg;
	ro.symbols = syms;
	ro.ninstruments = 1;
	ro.run_epoch = 7;
	ro.journal = jpath;
	ro.ring_size = 1;
	ro.no_session = true;
	assert_int_equal(ig_recorder_create(&r, &ro, err, sizeof(err)), 0);
	assert_int_equal(ig_recorder_attach(r, oms), 0);
	/* Equity samples into a ring of one, before the thread runs: dropped. */
	for (int i = 0; i < 3; i++) {
		struct ig_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = IG_EV_QUOTE;
		ev.hdr.src = IG_STAGE_TICK;
		ev.hdr.strategy_id = IG_STRATEGY_NONE;
		ev.hdr.ts_event_ns = INT64_C(1700000000000000000) + (int64_t)i * INT64_C(1000000000);
		ev.body.quote.bid_px = INT64_C(10000000000000);
		ev.body.quote.ask_px = INT64_C(10001000000000);
		ev.body.quote.bid_qty = INT64_C(500000000);
		ev.body.quote.ask_qty = INT64_C(500000000);
		ig_oms_handle(oms, &ev, &out);
	}
	ig_recorder_stats(r, &st);
	assert_true(st.dropped > 0);
	assert_int_equal(ig_recorder_start(r), 0);
	do {
		sleep_ms(5);
		ig_recorder_stats(r, &st);
	} while (st.catchups == 0 && ++waited < 2000);
	assert_true(st.catchups > 0);
	seen = st.catchups;
	sleep_ms(300);
	ig_recorder_stats(r, &st);
	/* A backoff of a second or more: at most one more try in 300 ms
	 * (a tight loop made thousands). */
	assert_true(st.catchups - seen <= 1);
	ig_recorder_stop(r, 0); /* gives up after a few tries at stop */
	ig_recorder_destroy(r);
	ig_oms_destroy(oms);
	free(oms);
}

struct stop_try {
	struct ig_recorder *r;
	int rc;
	int done; /* atomic */
};

static void *stop_thread(void *arg)
{
	struct stop_try *t = arg;
	t->rc = ig_recorder_stop(t->r, 0);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Review 2: a store that opens but refuses the session's start row (a
 * locked table, a permission on sessions, a full disk). The recorder
 * closes it and opens it again at once, with no backoff (a tight loop of
 * opens, each one a connection to a PostgreSQL server), and stop_tries
 * counts only failed opens: ig_recorder_stop (the daemon's exit) never
 * returns. */
static void test_session_row_refused_stop_ends(void **state)
{
	struct ig_recorder_opts ro;
	struct ig_recorder *r = NULL;
	struct stop_try t;
	pthread_t th;
	char err[256];
	int opens, waited_ms = 0, done;
	(void)state;

	memset(&ro, 0, sizeof(ro));
	ro.ops = &fake_ops;
	ro.target = "fake";
	ro.cfg = &cfg;
	ro.symbols = syms;
	ro.ninstruments = 1;
	ro.run_epoch = 7;
	ro.started_at = 1;
	ro.no_session = false; /* the daemon's case */
	__atomic_store_n(&fk.fail_session, 1, __ATOMIC_RELEASE);
	assert_int_equal(ig_recorder_create(&r, &ro, err, sizeof(err)), 0);
	assert_int_equal(ig_recorder_start(r), 0);
	sleep_ms(100);
	opens = __atomic_load_n(&fk.opens, __ATOMIC_RELAXED);
	memset(&t, 0, sizeof(t));
	t.r = r;
	assert_int_equal(pthread_create(&th, NULL, stop_thread, &t), 0);
	while (!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE) && waited_ms < 3000) {
		sleep_ms(50);
		waited_ms += 50;
	}
	done = __atomic_load_n(&t.done, __ATOMIC_ACQUIRE);
	/* Free the thread either way so the test ends. */
	__atomic_store_n(&fk.fail_session, 0, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ig_recorder_destroy(r);
	if (opens > 20)
		print_message("opens in the first 100 ms: %d (no backoff)\n", opens);
	assert_true(done);          /* the stop ends within 3 s ... */
	assert_int_equal(t.rc, IG_EIO); /* ... and says the store is incomplete */
	assert_true(opens <= 20);   /* and the live loop backs off */
}

/* Review 2: journal off (journal.enabled: false, store on: the engine
 * passes no journal). At stop a single transient failure (a commit that
 * hits "database is locked" once) drops the whole ring at once: without a
 * journal there is no catch-up, so every row of it is gone for good,
 * where the batch used to be retried (up to 5 times). */
static void test_stop_without_journal_retries_transient_failure(void **state)
{
	struct ig_oms *oms = calloc(1, sizeof(*oms));
	struct ig_emit out = { no_emit, IG_STAGE_OMS, false };
	struct ig_recorder_opts ro;
	struct ig_recorder *r = NULL;
	struct ig_recorder_stats st;
	char err[256];
	int rc;
	(void)state;

	assert_non_null(oms);
	assert_int_equal(ig_oms_init(oms, &cfg, 2), 0);
	memset(&ro, 0, sizeof(ro));
	ro.ops = &fake_ops;
	ro.target = "fake";
	ro.cfg = &cfg;
	ro.symbols = syms;
	ro.ninstruments = 1;
	ro.run_epoch = 7;
	ro.journal = NULL;
	ro.ring_size = 4096;
	ro.no_session = true;
	assert_int_equal(ig_recorder_create(&r, &ro, err, sizeof(err)), 0);
	assert_int_equal(ig_recorder_attach(r, oms), 0);
	for (int i = 0; i < 100; i++) {
		struct ig_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = IG_EV_QUOTE;
		ev.hdr.src = IG_STAGE_TICK;
		ev.hdr.strategy_id = IG_STRATEGY_NONE;
		ev.hdr.ts_event_ns = INT64_C(1700000000000000000) + (int64_t)i * INT64_C(1000000000);
		ev.body.quote.bid_px = INT64_C(10000000000000);
		ev.body.quote.ask_px = INT64_C(10001000000000);
		ev.body.quote.bid_qty = INT64_C(500000000);
		ev.body.quote.ask_qty = INT64_C(500000000);
		ig_oms_handle(oms, &ev, &out);
	}
	ig_recorder_stats(r, &st);
	assert_true(st.behind >= 100);
	assert_int_equal(st.dropped, 0);
	/* The store is down for the first open (retried after 100 ms), and
	 * the first commit after it hits a lock once. */
	__atomic_store_n(&fk.fail_open, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&fk.fail_commit, 1, __ATOMIC_RELEASE);
	assert_int_equal(ig_recorder_start(r), 0);
	sleep_ms(20);
	rc = ig_recorder_stop(r, 0); /* the first write happens while stopping */
	ig_recorder_stats(r, &st);
	print_message("stop rc %d, rows %llu, dropped %llu, behind %llu, commits %d\n", rc,
		      (unsigned long long)st.rows, (unsigned long long)st.dropped,
		      (unsigned long long)st.behind, fk.commits);
	ig_recorder_destroy(r);
	ig_oms_destroy(oms);
	free(oms);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(rc, 0);
}

struct pg_try {
	const char *target;
	int rc;
	int done; /* atomic */
};

static void *pg_open_thread(void *arg)
{
	struct pg_try *t = arg;
	void *h = NULL;
	char err[256];
	t->rc = ig_store_pg_ops.open(&h, t->target, err, sizeof(err));
	if (h != NULL)
		ig_store_pg_ops.close(h);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A PostgreSQL server that takes the connection and never answers (hung,
 * or a half-open path): opening the store must give up on its own, or
 * the recorder's thread hangs in it and ig_recorder_stop (the daemon's
 * exit) waits forever. The connection string sets no connect_timeout, as
 * most do. */
static void test_pg_open_gives_up_on_silent_server(void **state)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char target[128];
	struct pg_try t;
	pthread_t th;
	int waited_ms = 0;
	(void)state;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0); /* the kernel completes the handshake; no one answers */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	snprintf(target, sizeof(target), "host=127.0.0.1 port=%u dbname=ig user=ig sslmode=disable",
		 (unsigned)ntohs(a.sin_port));
	memset(&t, 0, sizeof(t));
	t.target = target;
	assert_int_equal(pthread_create(&th, NULL, pg_open_thread, &t), 0);
	/* A generous bound (the fix gives up after its connect_timeout); the
	 * listener is closed either way, which resets the connection and
	 * frees the thread. */
	while (!__atomic_load_n(&t.done, __ATOMIC_ACQUIRE) && waited_ms < 25000) {
		sleep_ms(50);
		waited_ms += 50;
	}
	{
		int done = __atomic_load_n(&t.done, __ATOMIC_ACQUIRE);
		close(fd);
		pthread_join(th, NULL);
		assert_true(done);
	}
	assert_int_equal(t.rc, IG_EIO);
}

/* The error of a failed open never holds the password, even cut short: a
 * long URI that libpq quotes whole, cut by the caller's buffer (the
 * recorder's is 256 bytes) in the middle of the password, left its first
 * characters in the message (the scrub looked for the whole password in
 * the cut text). */
static void test_pg_error_cut_in_password_scrubbed(void **state)
{
	char target[600], err[256];
	(void)state;
	for (int n = 1; n < 280; n++) {
		void *h = NULL;
		int k = snprintf(target, sizeof(target), "postgresql://");
		for (int i = 0; i < n; i++)
			target[k++] = 'u';
		snprintf(target + k, sizeof(target) - (size_t)k, ":Sup3rSecretPassw0rd@[::1/db");
		err[0] = '\0';
		assert_int_not_equal(ig_store_pg_ops.open(&h, target, err, sizeof(err)), 0);
		assert_null(h);
		if (strstr(err, "Sup3rS") != NULL)
			fail_msg("a user name of %d: part of the password in: %s", n, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_catchup_replay_keeps_process_log_level, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_first_row_keeps_transaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_catchup_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_row_refused_stop_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_without_journal_retries_transient_failure,
						setup, teardown),
		cmocka_unit_test(test_pg_open_gives_up_on_silent_server),
		cmocka_unit_test(test_pg_error_cut_in_password_scrubbed),
	};
	ig_log_set_level(IG_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

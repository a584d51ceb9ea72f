/*
 * bench_store.c - fills per second into the history store: SQLite and
 * PostgreSQL.
 *
 * Method
 * ------
 * One thread. Each repeat opens a fresh store in a temporary file (WAL,
 * synchronous=NORMAL: the backend's settings) and writes N fills (200 000,
 * 50 000 with --quick) through ig_store_sqlite_ops as the recorder does:
 * transactions of IG_RECORDER_BATCH_ROWS rows, each fill a distinct trade
 * id (so every insert is a real one), names and amounts as a paper run's.
 * The time covers the puts and commits, not the open. Figure, median over
 * the repeats:
 *   store.sqlite.fills_per_s
 * and, the same rows written a second time (every insert ignored on its
 * key, what a catch-up from the journal costs):
 *   store.sqlite.replay_fills_per_s
 * PostgreSQL the same way through ig_store_pg_ops (pipelined puts), into
 * the database of $IG_BENCH_PG_URL if set, else into a throwaway cluster
 * on 127.0.0.1 (the tests' test/store/pgtest.c: initdb in a temporary
 * directory, fsync off, removed at the end; skipped with a note when the
 * server binaries are missing): a fresh database per repeat.
 *   store.postgres.fills_per_s, store.postgres.replay_fills_per_s
 */
#include "bench.h"

#include "store/recorder.h"
#include "store/store.h"
#include "store/store_sqlite.h"

#include "../test/store/pgtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes n fills through ops in batches; returns fills/s, or -1 on a
 * store error. */
static double write_fills(const struct ig_store_ops *ops, void *h, uint64_t n)
{
	struct ig_store_fill f;
	int64_t t0;

	memset(&f, 0, sizeof(f));
	snprintf(f.daemon_id, sizeof(f.daemon_id), "bench");
	snprintf(f.strategy, sizeof(f.strategy), "sma_fast");
	snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
	snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
	f.liquidity = "taker";
	t0 = ig_clock_mono_ns();
	for (uint64_t i = 0; i < n; i++) {
		if (i % IG_RECORDER_BATCH_ROWS == 0 && ops->begin(h, NULL, 0) != 0)
			return -1;
		f.trade_id = i + 1;
		f.client_order_id = UINT64_C(0x0100000100000000) + i / 2;
		f.side = (i & 1) ? "sell" : "buy";
		f.qty = 50000000;
		f.price = 471825000000 + (int64_t)(i % 1000) * 1000000;
		f.fee = 235912500 + (int64_t)(i % 7);
		f.at = INT64_C(1504400000000000000) + (int64_t)i * 60000000000;
		f.seq = i + 1;
		if (ops->put_fill(h, &f) != 0)
			return -1;
		if ((i + 1) % IG_RECORDER_BATCH_ROWS == 0 || i + 1 == n)
			if (ops->commit(h, NULL, 0) != 0)
				return -1;
	}
	return (double)n / ((double)(ig_clock_mono_ns() - t0) / 1e9);
}

/* The PostgreSQL figures (see the top). Returns nothing; a missing
 * server is a note, a failing one a bench failure. */
static void bench_store_pg(struct bench_ctx *ctx, uint64_t n)
{
	double fresh[BENCH_MAX_REPEATS], again[BENCH_MAX_REPEATS];
	struct pgt_cluster cl;
	const char *url = getenv("IG_BENCH_PG_URL");
	char conninfo[512], err[512], name[32];
	bool own = url == NULL || url[0] == '\0';

	memset(&cl, 0, sizeof(cl));
	if (own && pgt_start(&cl, err, sizeof(err)) != 0) {
		printf("  store: PostgreSQL skipped (%s)\n", err);
		return;
	}
	for (uint32_t r = 0; r < ctx->repeats; r++) {
		void *h = NULL;
		if (own) {
			snprintf(name, sizeof(name), "bench_store_%u", r);
			if (pgt_createdb(&cl, name, conninfo, sizeof(conninfo), err, sizeof(err)) != 0) {
				bench_fail(ctx, "postgres: %s", err);
				goto out;
			}
		} else {
			snprintf(conninfo, sizeof(conninfo), "%s", url);
		}
		if (ig_store_pg_ops.open(&h, conninfo, err, sizeof(err)) != 0) {
			bench_fail(ctx, "postgres open: %s", err);
			goto out;
		}
		fresh[r] = write_fills(&ig_store_pg_ops, h, n);
		again[r] = write_fills(&ig_store_pg_ops, h, n);
		ig_store_pg_ops.close(h);
		if (fresh[r] < 0 || again[r] < 0) {
			bench_fail(ctx, "a postgres write failed");
			goto out;
		}
	}
	bench_result_median(ctx, "store.postgres.fills_per_s", fresh, ctx->repeats, "fills/s");
	bench_result_median(ctx, "store.postgres.replay_fills_per_s", again, ctx->repeats,
			    "fills/s");
out:
	if (own)
		pgt_destroy(&cl);
}

void bench_store(struct bench_ctx *ctx)
{
	double fresh[BENCH_MAX_REPEATS], again[BENCH_MAX_REPEATS];
	uint64_t n = ctx->quick ? 50000 : 200000;
	char path[64], err[256];

	for (uint32_t r = 0; r < ctx->repeats; r++) {
		void *h = NULL;
		int fd;
		snprintf(path, sizeof(path), "/tmp/ig-bench-store-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0) {
			bench_fail(ctx, "cannot make a temporary file");
			return;
		}
		close(fd);
		unlink(path);
		if (ig_store_sqlite_ops.open(&h, path, err, sizeof(err)) != 0) {
			bench_fail(ctx, "open: %s", err);
			bench_remove_sqlite(path);
			return;
		}
		fresh[r] = write_fills(&ig_store_sqlite_ops, h, n);
		again[r] = write_fills(&ig_store_sqlite_ops, h, n);
		ig_store_sqlite_ops.close(h);
		bench_remove_sqlite(path);
		if (fresh[r] < 0 || again[r] < 0) {
			bench_fail(ctx, "a write failed");
			return;
		}
	}
	bench_result_median(ctx, "store.sqlite.fills_per_s", fresh, ctx->repeats, "fills/s");
	bench_result_median(ctx, "store.sqlite.replay_fills_per_s", again, ctx->repeats, "fills/s");
	bench_store_pg(ctx, n);
}

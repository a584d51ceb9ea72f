/*
 * bench_journal.c - the journal: append throughput, and what durability
 * adds to the order path (issue 5).
 *
 * Method
 * ------
 * One thread, files in a fresh directory under build/ (the disk the
 * daemon's var/ would be on). Figures are medians over the repeats.
 *   journal.append_records_per_s  ig_journal_append_event of 128-byte
 *                   events into the buffered writer (1 MiB buffer, written
 *                   out as it fills; no fdatasync), 1 000 000 records
 *                   (200 000 with --quick), timed as one batch.
 *   journal.fdatasync_ns          one fdatasync after one appended record
 *                   (p50 and p99 of 300, 100 with --quick).
 *   journal.sync_order.{p50,p99}_ns  what `journal.sync: order` adds to an
 *                   order: the journal stage (jstage.h) gets an order
 *                   output, and the time from its arrival to its forward to
 *                   the executor is measured (the stage's own
 *                   order_wait_ns), one order per commit, as a quiet
 *                   market sends them: one fdatasync each.
 *   journal.sync_batch.{p50,p99}_ns  the same with `sync: batch`
 *                   (batch_ms 1, batch_records 64) and orders arriving
 *                   every 50 us (20 000 orders/s): each waits for its
 *                   group, then one fdatasync covers the group.
 *   journal.sync_batch_syncs_per_order  fdatasyncs per order under batch.
 */
#include "bench.h"

#include "config/config.h"
#include "journal/jstage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void drop(struct ig_emit *self, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	(void)self;
	(void)dst;
	(void)idx;
	(void)ev;
}

static void order_event(struct ig_event *ev, uint64_t n)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_ORDER;
	ev->hdr.flags = IG_EVF_J_OUTPUT;
	ev->hdr.strategy_id = 0;
	ev->body.order.client_id = UINT64_C(0x0001000100000000) | n;
	ev->body.order.qty = 1000000;
	ev->body.order.side = IG_SIDE_BUY;
}

static void spin_until(int64_t t)
{
	while (ig_clock_mono_ns() < t) {
	}
}

/* One run of the order path under `sync`; records p50 and p99 of the
 * stage's order wait into p50/p99 (ns) and syncs per order into spo. */
static int order_path(const char *dir, int sync, uint32_t orders, int64_t gap_ns, double *p50,
		      double *p99, double *spo)
{
	struct ig_cfg_journal jc;
	struct ig_jstage js;
	struct ig_emit out = { .fn = drop, .src = IG_STAGE_JOURNAL, .stamp = false };
	struct ig_event ev, intent;
	int64_t t;
	int rc;

	memset(&jc, 0, sizeof(jc));
	snprintf(jc.path, sizeof(jc.path), "%s/order-%d.journal", dir, sync);
	unlink(jc.path);
	jc.sync = sync;
	jc.batch_ms = 1;
	jc.batch_records = 64;
	jc.flush_ms = 100;
	rc = ig_jstage_open(&js, &jc, 1, 4096, NULL);
	if (rc != 0)
		return rc;
	t = ig_clock_mono_ns();
	for (uint32_t i = 0; i < orders; i++) {
		if (gap_ns > 0) {
			t += gap_ns;
			spin_until(t);
		}
		/* The intent record, then the order output, as the OMS sends them. */
		order_event(&intent, i + 1);
		intent.hdr.flags = 0;
		ig_jstage_handle(&js, &intent, &out);
		order_event(&ev, i + 1);
		ig_jstage_handle(&js, &ev, &out);
		ig_jstage_commit(&js, ig_clock_mono_ns(), false, &out);
	}
	while (ig_jstage_held(&js) > 0)
		ig_jstage_commit(&js, ig_clock_mono_ns(), false, &out);
	*p50 = (double)ig_hist_quantile(&js.order_wait_ns, 0.50);
	*p99 = (double)ig_hist_quantile(&js.order_wait_ns, 0.99);
	*spo = (double)js.syncs / (double)orders;
	rc = ig_jstage_close(&js);
	unlink(jc.path);
	return rc;
}

void bench_journal(struct bench_ctx *ctx)
{
	char dir[256];
	char path[300];
	double app[BENCH_MAX_REPEATS], fs50[BENCH_MAX_REPEATS], fs99[BENCH_MAX_REPEATS];
	double o50[BENCH_MAX_REPEATS], o99[BENCH_MAX_REPEATS], b50[BENCH_MAX_REPEATS],
		b99[BENCH_MAX_REPEATS], bspo[BENCH_MAX_REPEATS], ospo;
	uint64_t nrec = ctx->quick ? 200000 : 1000000;
	uint32_t nsync = ctx->quick ? 100 : 300;
	uint32_t norder = ctx->quick ? 200 : 1000;
	uint32_t reps = ctx->repeats;

	snprintf(dir, sizeof(dir), "build/bench-journal-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		bench_fail(ctx, "cannot create %s", dir);
		return;
	}
	snprintf(path, sizeof(path), "%s/append.journal", dir);
	for (uint32_t r = 0; r < reps; r++) {
		struct ig_journal j;
		struct ig_journal_opts o;
		struct ig_event ev;
		struct ig_hist h;
		int64_t t0;

		memset(&o, 0, sizeof(o));
		unlink(path);
		if (ig_journal_open(&j, path, &o, NULL) != 0) {
			bench_fail(ctx, "cannot open %s", path);
			return;
		}
		order_event(&ev, 1);
		t0 = ig_clock_mono_ns();
		for (uint64_t i = 0; i < nrec; i++) {
			ev.body.order.client_id = i;
			ig_journal_append_event(&j, IG_JR_ORDER_ACCEPTED, &ev, NULL);
		}
		ig_journal_flush(&j);
		app[r] = (double)nrec * 1e9 / (double)(ig_clock_mono_ns() - t0);
		ig_hist_init(&h);
		for (uint32_t i = 0; i < nsync; i++) {
			int64_t s0;
			ig_journal_append_event(&j, IG_JR_ORDER_ACCEPTED, &ev, NULL);
			s0 = ig_clock_mono_ns();
			ig_journal_sync(&j);
			ig_hist_record(&h, ig_clock_mono_ns() - s0);
		}
		fs50[r] = (double)ig_hist_quantile(&h, 0.50);
		fs99[r] = (double)ig_hist_quantile(&h, 0.99);
		ig_journal_close(&j);
		unlink(path);
		if (order_path(dir, IG_JOURNAL_SYNC_ORDER, norder, 0, &o50[r], &o99[r], &ospo) != 0 ||
		    order_path(dir, IG_JOURNAL_SYNC_BATCH, norder * 10, 50000, &b50[r], &b99[r],
			       &bspo[r]) != 0) {
			bench_fail(ctx, "journal stage could not run in %s", dir);
			return;
		}
	}
	rmdir(dir);
	bench_result_median(ctx, "journal.append_records_per_s", app, reps, "records/s");
	bench_result_median(ctx, "journal.fdatasync.p50_ns", fs50, reps, "ns");
	bench_result_median(ctx, "journal.fdatasync.p99_ns", fs99, reps, "ns");
	bench_result_median(ctx, "journal.sync_order.p50_ns", o50, reps, "ns");
	bench_result_median(ctx, "journal.sync_order.p99_ns", o99, reps, "ns");
	bench_result_median(ctx, "journal.sync_batch.p50_ns", b50, reps, "ns");
	bench_result_median(ctx, "journal.sync_batch.p99_ns", b99, reps, "ns");
	bench_result_median(ctx, "journal.sync_batch_syncs_per_order", bspo, reps, "syncs");
}

/* summary.c - the run summary: JSON (design.md §6a) and a human table. */
#include "app/engine.h"

#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <jansson.h>
#include <string.h>

static json_t *money(int64_t v)
{
	char buf[IG_FIXED_STRLEN];
	ig_fixed_format(v, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *hist_json(const struct ig_hist *h)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->count, "p50",
			 (json_int_t)ig_hist_quantile(h, 0.50), "p90",
			 (json_int_t)ig_hist_quantile(h, 0.90), "p99",
			 (json_int_t)ig_hist_quantile(h, 0.99), "p999",
			 (json_int_t)ig_hist_quantile(h, 0.999), "max", (json_int_t)h->max);
}

static const char *threading_name(int t)
{
	return t == IG_THREADING_SHARED ? "shared" : t == IG_THREADING_INLINE ? "inline" : "dedicated";
}

static json_t *hexid(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
	return json_string(buf);
}

/* journal{...} and recovery{...} of the summary (engine.h). */
static void journal_json(const struct ig_engine *e, json_t *root)
{
	const struct ig_jstage *js = &e->journal;
	const struct ig_oms *o = &e->oms;
	const struct ig_replay_info *ri = &e->replay;
	char line[256];
	json_t *rec;

	json_object_set_new(root, "state_hash", hexid(e->state_hash));
	json_object_set_new(root, "kill_switch", json_boolean(o->kill_switch));
	json_object_set_new(root, "trading_state",
			    json_string(ig_trading_state_name((enum ig_trading_state)o->trading_state)));
	if (!e->journal_on)
		return;
	json_object_set_new(
		root, "journal",
		json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "path",
			  e->cfg->journal.path, "sync",
			  e->cfg->journal.sync == IG_JOURNAL_SYNC_BATCH ? "batch" : "order", "records",
			  (json_int_t)js->records, "bytes", (json_int_t)js->j.stats.bytes, "syncs",
			  (json_int_t)js->syncs, "orders_forwarded", (json_int_t)js->orders,
			  "orders_turned_back", (json_int_t)js->failed_orders, "rotations",
			  (json_int_t)js->j.stats.rotations, "sync_ns", hist_json(&js->sync_ns),
			  "order_wait_ns", hist_json(&js->order_wait_ns), "error", (json_int_t)js->err));
	ig_journal_report_format(&ri->rep, line, sizeof(line));
	rec = json_pack("{s:b, s:I, s:I, s:I, s:s, s:s, s:f, s:o, s:I}", "recovered", e->recovering,
			"replayed_records", (json_int_t)ri->rep.records, "replayed_inputs",
			(json_int_t)ri->applied, "snapshots", (json_int_t)ri->snapshots, "journal_tail",
			ig_journal_stop_name(ri->rep.stop), "journal_report", line, "replay_ms",
			(double)ri->elapsed_ns / 1e6, "replayed_state_hash", hexid(ri->state_hash),
			"run_epoch", (json_int_t)e->opts.epoch);
	if (e->recovering) {
		json_t *diff = json_object();
		char name[32];
		for (uint32_t k = 0; k < e->ninstruments; k++) {
			snprintf(name, sizeof(name), "%s_base", e->symbols[k]);
			json_object_set_new(diff, name, money(o->recon_diff_base[k]));
		}
		json_object_set_new(diff, "counter", money(o->recon_diff_counter));
		json_object_set_new(rec, "reconciled", json_boolean(o->reconciled));
		json_object_set_new(rec, "reconcile_passes", json_integer(o->recon_passes));
		json_object_set_new(rec, "reconcile_error",
				    json_string(ig_recon_error_name((enum ig_recon_error)o->recon_error)));
		json_object_set_new(rec, "why_closed", json_string(o->recon_why));
		json_object_set_new(rec, "orders_looked_up", json_integer(o->recon_resolved));
		json_object_set_new(rec, "fills_found", json_integer(o->recon_fills));
		json_object_set_new(rec, "adopted", json_integer(o->recon_adopted));
		json_object_set_new(rec, "foreign_orders", json_integer(o->recon_foreign));
		json_object_set_new(rec, "balance_mismatch", json_boolean(o->recon_mismatch));
		json_object_set_new(rec, "balance_diff", diff);
	} else {
		json_object_set_new(rec, "fresh_start_compacted",
				    json_integer((json_int_t)e->fresh_compacted));
	}
	json_object_set_new(root, "recovery", rec);
}

int ig_engine_write_summary(const struct ig_engine *e, const char *path)
{
	json_t *root = json_object(), *strats = json_array(), *hops = json_object();
	double dur = (double)(e->t_end_ns - e->t_start_ns) / 1e9;
	int rc;

	for (uint32_t i = 0; i < e->oms.nstrategies; i++) {
		const struct ig_oms_strategy *s = &e->oms.s[i];
		struct ig_oms_totals t;
		json_t *rj = json_object();
		ig_oms_totals(&e->oms, i, &t);
		for (int r = 1; r < IG_RJ__COUNT; r++)
			if (s->rejects[r] > 0)
				json_object_set_new(rj, ig_reject_reason_name((enum ig_reject_reason)r),
						    json_integer((json_int_t)s->rejects[r]));
		json_array_append_new(
			strats,
			json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, "
				  "s:I}",
				  "name", e->cfg->strategies[i].name, "type", e->cfg->strategies[i].type,
				  "orders", (json_int_t)s->orders, "fills", (json_int_t)s->fills,
				  "rejects", rj, "position", money(t.qty), "avg_price", money(t.avg_px),
				  "realized_pnl", money(t.realized), "unrealized_pnl", money(t.unrealized),
				  "fees", money(t.fees), "fees_base", money(t.fees_base), "cash",
				  money(s->cash), "equity",
				  money(ig_oms_equity(&e->oms, i)), "capital", money(s->capital),
				  "refused_fills", (json_int_t)s->refused_fills, "illegal_transitions",
				  (json_int_t)s->om.illegal));
		/* Acting SDK calls the strategy made outside a callback. */
		{
			uint64_t misuse = 0;
			for (uint32_t h = 0; h < e->nthreads; h++)
				misuse += ig_strategy_host_misuse(&e->hosts[h], (uint16_t)i);
			json_object_set_new(json_array_get(strats, json_array_size(strats) - 1),
					    "ctx_misuse", json_integer((json_int_t)misuse));
		}
	}
	for (uint32_t a = 0; a < e->nagents; a++)
		for (uint32_t i = 0; i < e->agents[a].nin; i++) {
			const struct ig_input *in = &e->agents[a].in[i];
			char name[48];
			if (e->agents[a].stage == IG_STAGE_STRATEGY)
				snprintf(name, sizeof(name), "%s%u", in->name, e->agents[a].idx);
			else
				snprintf(name, sizeof(name), "%s", in->name);
			json_object_set_new(hops, name, hist_json(&in->hop_ns));
		}
	json_object_set_new(root, "strategies", strats);
	json_object_set_new(root, "events", json_integer((json_int_t)e->events));
	json_object_set_new(root, "md_events", json_integer((json_int_t)e->md_events));
	json_object_set_new(root, "duration_s", json_real(dur));
	json_object_set_new(root, "events_per_s",
			    json_real(dur > 0 ? (double)e->md_events / dur : 0.0));
	json_object_set_new(root, "cpu_cores", json_real(dur > 0 ? (double)e->cpu_ns / 1e9 / dur : 0.0));
	json_object_set_new(root, "threading", json_string(threading_name(e->cfg->engine.threading)));
	json_object_set_new(root, "backpressure_events", json_integer((json_int_t)e->backpressure));
	json_object_set_new(root, "backpressure_max_spill", json_integer((json_int_t)e->spill_max));
	json_object_set_new(root, "drained_after_stop", json_integer((json_int_t)e->drained_after_stop));
	json_object_set_new(root, "cancels_outstanding",
			    json_integer((json_int_t)e->cancels_outstanding));
	json_object_set_new(root, "feed",
			    json_pack("{s:I, s:I}", "rows", (json_int_t)e->feed.rows, "bad_rows",
				      (json_int_t)e->feed.bad_rows));
	json_object_set_new(root, "log_dropped", json_integer((json_int_t)ig_log_dropped()));
	json_object_set_new(root, "latency",
			    json_pack("{s:o, s:o}", "tick_to_order_ns", hist_json(&e->exec.tick_to_order),
				      "hops_ns", hops));
	journal_json(e, root);
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return rc == 0 ? 0 : IG_EIO;
}

void ig_engine_print_summary(const struct ig_engine *e, FILE *out)
{
	double dur = (double)(e->t_end_ns - e->t_start_ns) / 1e9;
	const struct ig_hist *h = &e->exec.tick_to_order;

	fprintf(out, "\n=== Ingenium run summary (%s) ===\n", threading_name(e->cfg->engine.threading));
	fprintf(out, "market data events: %llu in %.3f s (%.0f events/s), stage events: %llu, cpu: %.2f cores\n",
		(unsigned long long)e->md_events, dur, dur > 0 ? (double)e->md_events / dur : 0.0,
		(unsigned long long)e->events, dur > 0 ? (double)e->cpu_ns / 1e9 / dur : 0.0);
	if (e->feed.bad_rows > 0)
		fprintf(out, "feed: %llu malformed rows skipped\n", (unsigned long long)e->feed.bad_rows);
	fprintf(out, "tick-to-order: n=%llu p50=%lld ns p99=%lld ns p99.9=%lld ns max=%lld ns\n",
		(unsigned long long)h->count, (long long)ig_hist_quantile(h, 0.5),
		(long long)ig_hist_quantile(h, 0.99), (long long)ig_hist_quantile(h, 0.999),
		(long long)h->max);
	if (e->journal_on)
		fprintf(out, "journal: %llu records, %llu syncs, %llu orders made durable before sending"
			     " (wait p50=%lld ns p99=%lld ns)%s\n",
			(unsigned long long)e->journal.records, (unsigned long long)e->journal.syncs,
			(unsigned long long)e->journal.orders,
			(long long)ig_hist_quantile(&e->journal.order_wait_ns, 0.5),
			(long long)ig_hist_quantile(&e->journal.order_wait_ns, 0.99),
			e->journal.err != 0 ? "; JOURNAL FAILED: orders were turned back" : "");
	if (e->cancels_outstanding > 0)
		fprintf(out, "cancels outstanding at stop: %u (those orders may be live at the venue; "
			     "see the log)\n",
			e->cancels_outstanding);
	if (e->recovering)
		fprintf(out, "recovery: replayed %llu records in %.1f ms; %s%s\n",
			(unsigned long long)e->replay.rep.records, (double)e->replay.elapsed_ns / 1e6,
			e->oms.reconciled ? "reconciled with the venue" : "NOT reconciled: ",
			e->oms.reconciled ? "" : e->oms.recon_why);
	fprintf(out, "%-16s %7s %7s %14s %14s %14s %12s %16s\n", "strategy", "orders", "fills",
		"position", "realized", "unrealized", "fees", "cash");
	for (uint32_t i = 0; i < e->oms.nstrategies; i++) {
		const struct ig_oms_strategy *s = &e->oms.s[i];
		struct ig_oms_totals t;
		char q[IG_FIXED_STRLEN], r[IG_FIXED_STRLEN], u[IG_FIXED_STRLEN], f[IG_FIXED_STRLEN],
			c[IG_FIXED_STRLEN];
		ig_oms_totals(&e->oms, i, &t);
		ig_fixed_format(t.qty, q, sizeof(q));
		ig_fixed_format(t.realized, r, sizeof(r));
		ig_fixed_format(t.unrealized, u, sizeof(u));
		ig_fixed_format(t.fees, f, sizeof(f));
		ig_fixed_format(s->cash, c, sizeof(c));
		fprintf(out, "%-16s %7llu %7llu %14s %14s %14s %12s %16s\n", e->cfg->strategies[i].name,
			(unsigned long long)s->orders, (unsigned long long)s->fills, q, r, u, f, c);
		for (int k = 1; k < IG_RJ__COUNT; k++)
			if (s->rejects[k] > 0)
				fprintf(out, "    denied/rejected %-24s %llu\n",
					ig_reject_reason_name((enum ig_reject_reason)k),
					(unsigned long long)s->rejects[k]);
	}
}

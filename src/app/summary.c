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

struct strat_totals {
	int64_t qty, avg_px, realized, unrealized, fees;
};

static void totals(const struct ig_oms_strategy *s, struct strat_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
		const struct ig_pos *p = &s->pos[k];
		t->qty += p->qty;
		if (p->qty != 0)
			t->avg_px = p->avg_px;
		t->realized += p->realized_pnl;
		t->unrealized += ig_pos_unrealized(p);
		t->fees += p->fees;
	}
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

int ig_engine_write_summary(const struct ig_engine *e, const char *path)
{
	json_t *root = json_object(), *strats = json_array(), *hops = json_object();
	double dur = (double)(e->t_end_ns - e->t_start_ns) / 1e9;
	int rc;

	for (uint32_t i = 0; i < e->oms.nstrategies; i++) {
		const struct ig_oms_strategy *s = &e->oms.s[i];
		struct strat_totals t;
		json_t *rj = json_object();
		totals(s, &t);
		for (int r = 1; r < IG_RJ__COUNT; r++)
			if (s->rejects[r] > 0)
				json_object_set_new(rj, ig_reject_reason_name((enum ig_reject_reason)r),
						    json_integer((json_int_t)s->rejects[r]));
		json_array_append_new(
			strats,
			json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
				  "name", e->cfg->strategies[i].name, "type", e->cfg->strategies[i].type,
				  "orders", (json_int_t)s->orders, "fills", (json_int_t)s->fills,
				  "rejects", rj, "position", money(t.qty), "avg_price", money(t.avg_px),
				  "realized_pnl", money(t.realized), "unrealized_pnl", money(t.unrealized),
				  "fees", money(t.fees), "cash", money(s->cash), "equity",
				  money(ig_oms_equity(&e->oms, i)), "capital", money(s->capital),
				  "refused_fills", (json_int_t)s->refused_fills, "illegal_transitions",
				  (json_int_t)s->om.illegal));
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
	json_object_set_new(root, "feed",
			    json_pack("{s:I, s:I}", "rows", (json_int_t)e->feed.rows, "bad_rows",
				      (json_int_t)e->feed.bad_rows));
	json_object_set_new(root, "log_dropped", json_integer((json_int_t)ig_log_dropped()));
	json_object_set_new(root, "latency",
			    json_pack("{s:o, s:o}", "tick_to_order_ns", hist_json(&e->exec.tick_to_order),
				      "hops_ns", hops));
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
	fprintf(out, "%-16s %7s %7s %14s %14s %14s %12s %16s\n", "strategy", "orders", "fills",
		"position", "realized", "unrealized", "fees", "cash");
	for (uint32_t i = 0; i < e->oms.nstrategies; i++) {
		const struct ig_oms_strategy *s = &e->oms.s[i];
		struct strat_totals t;
		char q[IG_FIXED_STRLEN], r[IG_FIXED_STRLEN], u[IG_FIXED_STRLEN], f[IG_FIXED_STRLEN],
			c[IG_FIXED_STRLEN];
		totals(s, &t);
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

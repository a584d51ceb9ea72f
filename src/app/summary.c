/* summary.c - the run summary: one JSON document composed from every
 * stage's stats (stage.h) and the engine's own counters, written as is or
 * printed as a human table. Reads no stage's fields. */
#include "app/engine.h"

#include "core/log.h"
#include "ingenium/error.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char *threading_name(int t)
{
	return t == IG_THREADING_SHARED ? "shared" : t == IG_THREADING_INLINE ? "inline" : "dedicated";
}

/* Moves each strategy host's "strategy_ctx" entry into the "strategies"
 * entry of the same name (the OMS's), so one object per strategy carries
 * both sides. */
static void merge_strategy_ctx(json_t *root)
{
	json_t *ctx = json_object_get(root, "strategy_ctx");
	json_t *strats = json_object_get(root, "strategies");
	size_t i;
	json_t *s;

	if (ctx == NULL)
		return;
	json_array_foreach(strats, i, s) {
		json_t *c = json_object_get(ctx, json_string_value(json_object_get(s, "name")));
		if (c != NULL)
			json_object_update(s, c);
	}
	json_object_del(root, "strategy_ctx");
}

json_t *ig_engine_summary(const struct ig_engine *e)
{
	const struct ig_graph *g = ig_driver_graph(&e->drv);
	double dur = (double)(e->t_end_ns - e->t_start_ns) / 1e9;
	json_t *root = json_object(), *hops = json_object(), *lat;
	int rc = root == NULL || hops == NULL;

	for (uint32_t i = 0; i < g->nnodes && rc == 0; i++)
		if (g->node[i].ops->stats != NULL)
			rc = g->node[i].ops->stats(g->node[i].self, root);
	if (rc == 0)
		rc = ig_driver_hops_json(&e->drv, hops);
	lat = rc == 0 ? ig_stats_object(root, "latency") : NULL;
	if (lat == NULL) {
		json_decref(hops);
		json_decref(root);
		return NULL;
	}
	json_object_set_new(lat, "hops_ns", hops);
	merge_strategy_ctx(root);
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
	json_object_set_new(root, "log_dropped", json_integer((json_int_t)ig_log_dropped()));
	if (e->recorder != NULL)
		ig_recorder_stats_json(e->recorder, root);
	return root;
}

int ig_engine_write_summary(const struct ig_engine *e, const char *path)
{
	json_t *root = ig_engine_summary(e);
	int rc;

	if (root == NULL)
		return IG_EIO;
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return rc == 0 ? 0 : IG_EIO;
}

/* Lookups in the summary document: a missing key reads as 0 / "". */
static long long num(const json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		size_t n = (size_t)(dot - path) < sizeof(key) - 1 ? (size_t)(dot - path) : sizeof(key) - 1;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path = dot + 1;
	}
	o = json_object_get(o, path);
	return json_is_integer(o) ? (long long)json_integer_value(o)
	       : json_is_boolean(o) ? (long long)json_is_true(o)
				   : (long long)json_number_value(o);
}

static double real(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

/* The Luno stream's line: its resyncs by reason (the nonzero ones) and
 * what the ring dropped. */
static void print_stream(FILE *out, const json_t *feed)
{
	const json_t *rs = json_object_get(feed, "stream_resyncs");
	const char *key;
	json_t *v;
	bool first = true;

	fprintf(out, "feed: stream resyncs %lld", num(rs, "total"));
	json_object_foreach((json_t *)(uintptr_t)rs, key, v) {
		if (strcmp(key, "total") == 0 || json_integer_value(v) == 0)
			continue;
		fprintf(out, "%s%s %lld", first ? " (" : ", ", key, (long long)json_integer_value(v));
		first = false;
	}
	fprintf(out, "%s, quotes %lld, trades %lld, dropped quotes %lld, trades %lld\n",
		first ? "" : ")", num(feed, "stream.quotes"), num(feed, "stream.trades"),
		num(feed, "stream.quotes_dropped"), num(feed, "stream.trades_dropped"));
}

void ig_engine_print_summary(const struct ig_engine *e, FILE *out)
{
	json_t *root = ig_engine_summary(e);
	const json_t *jr, *rec, *strats;
	size_t i;
	json_t *s;

	if (root == NULL) {
		fprintf(out, "\n=== Ingenium run summary: out of memory ===\n");
		return;
	}
	fprintf(out, "\n=== Ingenium run summary (%s) ===\n", str(root, "threading"));
	fprintf(out, "market data events: %llu in %.3f s (%.0f events/s), stage events: %llu, cpu: %.2f cores\n",
		(unsigned long long)num(root, "md_events"), real(root, "duration_s"),
		real(root, "events_per_s"), (unsigned long long)num(root, "events"),
		real(root, "cpu_cores"));
	if (num(root, "feed.bad_rows") > 0)
		fprintf(out, "feed: %llu malformed rows skipped\n",
			(unsigned long long)num(root, "feed.bad_rows"));
	if (json_object_get(json_object_get(root, "feed"), "stream_resyncs") != NULL)
		print_stream(out, json_object_get(root, "feed"));
	if (json_object_get(root, "store") != NULL)
		fprintf(out, "store: %s, %llu rows, %llu dropped, %llu behind, %llu errors\n",
			str(json_object_get(root, "store"), "kind"), (unsigned long long)num(root, "store.rows"),
			(unsigned long long)num(root, "store.dropped"),
			(unsigned long long)num(root, "store.behind"),
			(unsigned long long)num(root, "store.errors"));
	fprintf(out, "tick-to-order: n=%llu p50=%lld ns p99=%lld ns p99.9=%lld ns max=%lld ns\n",
		(unsigned long long)num(root, "latency.tick_to_order_ns.count"),
		num(root, "latency.tick_to_order_ns.p50"), num(root, "latency.tick_to_order_ns.p99"),
		num(root, "latency.tick_to_order_ns.p999"), num(root, "latency.tick_to_order_ns.max"));
	if ((jr = json_object_get(root, "journal")) != NULL)
		fprintf(out, "journal: %llu records, %llu syncs, %llu orders made durable before sending"
			     " (wait p50=%lld ns p99=%lld ns)%s\n",
			(unsigned long long)num(jr, "records"), (unsigned long long)num(jr, "syncs"),
			(unsigned long long)num(jr, "orders_forwarded"), num(jr, "order_wait_ns.p50"),
			num(jr, "order_wait_ns.p99"),
			num(jr, "error") != 0 ? "; JOURNAL FAILED: orders were turned back" : "");
	if (num(root, "cancels_outstanding") > 0)
		fprintf(out, "cancels outstanding at stop: %llu (those orders may be live at the venue; "
			     "see the log)\n",
			(unsigned long long)num(root, "cancels_outstanding"));
	rec = json_object_get(root, "recovery");
	if (rec != NULL && num(rec, "recovered"))
		fprintf(out, "recovery: replayed %llu records in %.1f ms; %s%s\n",
			(unsigned long long)num(rec, "replayed_records"), real(rec, "replay_ms"),
			num(rec, "reconciled") ? "reconciled with the venue" : "NOT reconciled: ",
			num(rec, "reconciled") ? "" : str(rec, "why_closed"));
	fprintf(out, "%-16s %7s %7s %14s %14s %14s %12s %16s\n", "strategy", "orders", "fills",
		"position", "realized", "unrealized", "fees", "cash");
	strats = json_object_get(root, "strategies");
	json_array_foreach(strats, i, s) {
		const char *reason;
		json_t *n;
		fprintf(out, "%-16s %7llu %7llu %14s %14s %14s %12s %16s\n", str(s, "name"),
			(unsigned long long)num(s, "orders"), (unsigned long long)num(s, "fills"),
			str(s, "position"), str(s, "realized_pnl"), str(s, "unrealized_pnl"),
			str(s, "fees"), str(s, "cash"));
		/* By reason, in the order the stage listed them. */
		json_object_foreach(json_object_get(s, "rejects"), reason, n)
			fprintf(out, "    denied/rejected %-24s %llu\n", reason,
				(unsigned long long)json_integer_value(n));
		/* Operator controls, only when there were any. */
		if (strcmp(str(s, "state"), "paused") == 0)
			fprintf(out, "    PAUSED by the operator\n");
		json_object_foreach(json_object_get(s, "controls"), reason, n)
			if (json_integer_value(n) > 0)
				fprintf(out, "    control %-32s %llu\n", reason,
					(unsigned long long)json_integer_value(n));
	}
	if (num(root, "controls.kill_switch") > 0)
		fprintf(out, "kill switch controls applied: %llu\n",
			(unsigned long long)num(root, "controls.kill_switch"));
	json_decref(root);
}

/* engine.c - pipeline assembly, threaded and inline drivers (see engine.h). */
#include "app/engine.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BATCH 256
static int inline_setup(struct ig_engine *e, bool stamp);
static void inline_emit(struct ig_emit *em, enum ig_stage dst, uint32_t idx, struct ig_event *ev);

#define SPILL_RETRY_NS 20000 /* re-try a spilling outbox after 20 us */

/* ---------------------------------------------------------------- setup */

static int open_journal(struct ig_engine *e, char *err, size_t errlen);

/* Recovery, part one (engine.h): replays the journal into the OMS if
 * journal.recover says so, and picks the run epoch. Returns 0 or an IG_E*
 * with err set. */
static int replay_journal(struct ig_engine *e, char *err, size_t errlen)
{
	const struct ig_cfg_journal *jc = &e->cfg->journal;
	struct ig_replay_info *ri = &e->replay;
	char line[256];
	int rc;

	e->recovering = jc->recover == IG_RECOVER_ON ||
			(jc->recover == IG_RECOVER_AUTO && e->cfg->venue.kind != IG_VENUE_PAPER);
	ig_recover_account_of(e->cfg,
			      e->cfg->venue.kind != IG_VENUE_PAPER ? getenv(e->cfg->venue.key_id_env)
								   : NULL,
			      &e->account);
	if (!e->recovering) {
		/* A fresh start reads the journal only for its size (it is
		 * compacted away) and its last epoch (not to be reused). */
		rc = ig_recover_scan(jc->path, ri);
		if (rc != 0) {
			snprintf(err, errlen, "%s: cannot read (%s)", jc->path, ig_strerror(rc));
			return rc;
		}
		e->opts.epoch = ig_recover_epoch(e->opts.epoch, ri);
		return 0;
	}
	rc = ig_recover_replay(jc->path, &e->oms, &e->account, ri);
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot recover from the journal (%s)", jc->path,
			 rc == IG_EPARSE ? "a snapshot does not fit this build or config" : ig_strerror(rc));
		return rc;
	}
	if (ri->rep.stop != IG_JOURNAL_CLEAN) {
		ig_journal_report_format(&ri->rep, line, sizeof(line));
		ig_log_warn("journal %s: %s", jc->path, line);
	}
	if (ri->account_changed > 0) {
		/* Its books are another account's: replaying them here would
		 * reconcile one account's orders against another's. Key ids
		 * are shown by their first 4 characters only. */
		bool same_key = strcmp(ri->account_key_id, e->account.key_id) == 0;
		snprintf(err, errlen,
			 "%s: the journal was written for another venue account (%s, from seq %llu; "
			 "journal key id %.4s..., this run: %s key id %.4s...): refusing to recover; "
			 "start fresh with journal.recover: off, or use another journal.path",
			 jc->path, same_key ? "another venue or base_url" : "another API key",
			 (unsigned long long)ri->account_seq, ri->account_key_id,
			 e->cfg->venue.kind == IG_VENUE_PAPER ? "paper" : e->cfg->venue.base_url,
			 e->account.key_id);
		return IG_ESTATE;
	}
	if (ri->config_changed > 0) {
		snprintf(err, errlen,
			 "%s: the journal was written with other strategies (renamed, reordered or "
			 "removed; appending is allowed): refusing to recover; restore the config that "
			 "wrote it",
			 jc->path);
		return IG_ESTATE;
	}
	if (ri->diverged > 0) {
		/* The books would not be the ones the venue traded against. */
		snprintf(err, errlen,
			 "%s: replay diverged from the run that wrote the journal (%llu orders or cancels "
			 "differ, the first at seq %llu): was the config changed (strategies, risk limits)? "
			 "refusing to recover; restore the config that wrote it",
			 jc->path, (unsigned long long)ri->diverged, (unsigned long long)ri->diverged_seq);
		return IG_ESTATE;
	}
	ig_log_info("journal %s: replayed %llu records (%llu inputs, %llu snapshots) in %.1f ms; "
		    "state hash %016llx",
		    jc->path, (unsigned long long)ri->rep.records, (unsigned long long)ri->applied,
		    (unsigned long long)ri->snapshots, (double)ri->elapsed_ns / 1e6,
		    (unsigned long long)ri->state_hash);
	e->opts.epoch = ig_recover_epoch(e->opts.epoch, ri);
	return 0;
}

/* Bytes of every segment of the journal at path. */
static uint64_t journal_bytes(const struct ig_replay_info *ri)
{
	return ri->rep.bytes_good + ri->rep.bytes_dropped;
}

/* Recovery, part two: opens the writer (after compaction, if due), writes
 * the SESSION record, and hands the venue the unfinished orders. */
static int open_journal(struct ig_engine *e, char *err, size_t errlen)
{
	const struct ig_cfg_journal *jc = &e->cfg->journal;
	struct ig_event ev;
	uint32_t held = (e->cfg->engine.ring_size ? e->cfg->engine.ring_size : IG_CFG_DEFAULT_RING_SIZE) * 4;
	bool compact = e->replay.rep.records > 0 &&
		       (!e->recovering ||
			(jc->compact_bytes > 0 && journal_bytes(&e->replay) > (uint64_t)jc->compact_bytes));
	void *snap = NULL;
	long snap_len = 0;
	int rc;

	if (compact) {
		/* The books as replayed (or, starting fresh, as built), before
		 * the run-scoped fields are reset. */
		size_t cap = ig_oms_snapshot_size(&e->oms);
		snap = malloc(cap);
		if (snap == NULL)
			return IG_ENOMEM;
		snap_len = ig_oms_snapshot_write(&e->oms, snap, cap);
	}
	if (e->recovering)
		ig_oms_after_replay(&e->oms);
	else
		ig_oms_session_start(&e->oms, false);
	rc = ig_jstage_open(&e->journal, jc, e->opts.epoch, held, NULL);
	if (rc != 0) {
		free(snap);
		snprintf(err, errlen, "%s: journal.path: cannot open the journal (%s)", jc->path,
			 ig_strerror(rc));
		return rc;
	}
	if (compact && snap_len > 0) {
		rc = ig_journal_compact(&e->journal.j, snap, (uint32_t)snap_len, NULL);
		free(snap);
		if (rc != 0) {
			ig_jstage_close(&e->journal);
			snprintf(err, errlen, "%s: cannot compact the journal (%s)", jc->path,
				 ig_strerror(rc));
			return rc;
		}
		if (!e->recovering) {
			e->fresh_compacted = e->replay.rep.records;
			ig_log_info("journal %s: journal.recover is off for this venue: starting fresh "
				    "(%llu old records compacted away)",
				    jc->path, (unsigned long long)e->replay.rep.records);
		} else {
			ig_log_info("journal %s: compacted %llu records into a snapshot", jc->path,
				    (unsigned long long)e->replay.rep.records);
		}
	} else {
		free(snap);
	}
	e->journal_on = true;
	e->oms.journal = true;
	/* A kill switch engaged before the crash stays engaged: the signal
	 * flag the OMS agent compares with starts where the books are. */
	e->kill_switch = e->oms.kill_switch;
	if (e->oms.kill_switch)
		ig_log_warn("recovery: the kill switch is engaged (SIGUSR2 clears it)");
	/* The run starts: its epoch and wall-clock start, as an input record
	 * (replay notes it; the OMS ignores it). */
	ig_recover_session(&e->oms, &ev, e->opts.epoch, e->recovering, &e->account,
			   ig_clock_real_ns());
	ig_jstage_handle(&e->journal, &ev, NULL);
	ig_jstage_commit(&e->journal, ig_clock_mono_ns(), true, NULL);
	if (e->journal.err != 0) {
		ig_jstage_close(&e->journal);
		snprintf(err, errlen, "%s: cannot write the journal", jc->path);
		return IG_EIO;
	}
	if (e->recovering) {
		struct ig_recover_order *orders = calloc(IG_MAX_STRATEGIES * IG_OM_CAPACITY,
							 sizeof(*orders));
		struct ig_recover rc_in;
		uint32_t n;
		if (orders == NULL) {
			ig_jstage_close(&e->journal);
			snprintf(err, errlen, "recovery: out of memory");
			return IG_ENOMEM;
		}
		n = ig_recover_orders(&e->oms, orders, IG_MAX_STRATEGIES * IG_OM_CAPACITY, &rc_in);
		rc_in.have_journal = e->replay.rep.records > 0;
		/* No since from the local clock: a clock ahead of the venue's
		 * would lose fills made before the crash; the venue reads from
		 * its own times (Luno: the recovered orders' creation). */
		rc_in.timeout_ms = jc->reconcile_timeout_ms;
		ig_log_info("recovery: %u open orders to look up at the venue; trading opens once "
			    "reconciled", n);
		rc = ig_exec_recover(&e->exec, &rc_in, e->ninstruments);
		free(orders);
		if (rc != 0) {
			ig_jstage_close(&e->journal);
			snprintf(err, errlen, "venue: recovery could not start (%s)", ig_strerror(rc));
			return rc;
		}
	}
	return 0;
}

static int instrument_of(const char *symbol, void *arg)
{
	struct ig_engine *e = arg;
	for (uint16_t i = 0; i < e->ninstruments; i++)
		if (strcmp(e->symbols[i], symbol) == 0)
			return i;
	return -1;
}

static int add_instrument(struct ig_engine *e, const char *symbol)
{
	int id = instrument_of(symbol, e);
	if (id >= 0)
		return id;
	if (e->ninstruments >= IG_MAX_INSTRUMENTS)
		return -1;
	snprintf(e->symbols[e->ninstruments], IG_CFG_NAME_MAX, "%s", symbol);
	e->symbol_names[e->ninstruments] = e->symbols[e->ninstruments];
	return e->ninstruments++;
}

int ig_engine_init(struct ig_engine *e, const struct ig_config *cfg,
		   const struct ig_engine_opts *opts, char *err, size_t errlen)
{
	int rc;
	uint32_t h = 0;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->opts = *opts;
	e->nthreads = cfg->engine.strategy_threads ? cfg->engine.strategy_threads : 1;
	if (e->nthreads > IG_MAX_STRATEGY_THREADS) {
		snprintf(err, errlen, "%s: engine.strategy_threads: at most %d", cfg->file,
			 IG_MAX_STRATEGY_THREADS);
		return IG_ECONFIG;
	}
	/* The feed's symbol is instrument 0. Strategies may only trade what
	 * the feed carries (one feed, one symbol, in this version). */
	add_instrument(e, cfg->feed.symbol);
	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		const struct ig_cfg_strategy *s = &cfg->strategies[i];
		e->strategy_names[i] = s->name;
		for (uint32_t k = 0; k < s->nsymbols; k++) {
			int id = instrument_of(s->symbols[k], e);
			if (id < 0) {
				snprintf(err, errlen,
					 "%s:%d:%d: strategies.%u.symbols.%u: \"%s\" is not carried by the feed (feed.symbol is \"%s\")",
					 cfg->file, s->line, s->col, i, k, s->symbols[k], cfg->feed.symbol);
				return IG_ECONFIG;
			}
			e->strat_mask[id] |= 1u << s->thread;
		}
	}
	ig_log_set_names(e->strategy_names, cfg->nstrategies, e->symbol_names, e->ninstruments);

	rc = ig_feed_open(&e->feed, cfg, 0, err, errlen);
	if (rc != 0)
		return rc;
	/* The OMS first: recovery rebuilds it and picks the run epoch the
	 * strategies' client ids carry. */
	rc = ig_oms_init(&e->oms, cfg, e->nthreads);
	if (rc != 0) {
		ig_feed_close(&e->feed);
		return rc;
	}
	e->oms.status_lines = opts->status_lines;
	e->oms.data_clock = cfg->engine.threading == IG_THREADING_INLINE;
	if (cfg->journal.enabled) {
		rc = replay_journal(e, err, errlen);
		if (rc != 0)
			goto out_oms;
	}
	for (h = 0; h < e->nthreads; h++) {
		rc = ig_strategy_host_init(&e->hosts[h], cfg, h, e->opts.epoch, instrument_of, e, err,
					   errlen);
		if (rc != 0)
			goto out_hosts;
	}
	for (h = 0; h < e->nthreads; h++)
		for (uint32_t i = 0; i < e->hosts[h].n; i++)
			if (e->hosts[h].ctx[i]->type->on_timer != NULL)
				e->timer_mask |= 1u << h;
	/* The inline queue is also used by the threaded driver's final drain. */
	rc = inline_setup(e, false);
	if (rc != 0)
		goto out_hosts;
	rc = ig_exec_init(&e->exec, cfg);
	if (rc != 0) {
		snprintf(err, errlen, "%s: venue.kind: the venue could not be set up (see the log)",
			 cfg->file);
		goto out_hosts;
	}
	if (cfg->journal.enabled) {
		rc = open_journal(e, err, errlen);
		if (rc != 0)
			goto out_exec;
	}
	return 0;

out_exec:
	ig_exec_destroy(&e->exec);
out_hosts:
	free(e->q);
	e->q = NULL;
	while (h-- > 0)
		ig_strategy_host_destroy(&e->hosts[h]);
out_oms:
	ig_oms_destroy(&e->oms);
	ig_feed_close(&e->feed);
	return rc;
}

void ig_engine_destroy(struct ig_engine *e)
{
	if (e->journal_on && e->journal.is_open)
		ig_jstage_close(&e->journal);
	ig_exec_destroy(&e->exec);
	ig_oms_destroy(&e->oms);
	for (uint32_t h = 0; h < e->nthreads; h++)
		ig_strategy_host_destroy(&e->hosts[h]);
	ig_feed_close(&e->feed);
	for (uint32_t a = 0; a < e->nagents; a++)
		for (uint32_t b = 0; b < e->agents[a].nbox; b++)
			ig_outbox_destroy(&e->agents[a].box[b]);
	for (uint32_t r = 0; r < e->nrings; r++)
		ig_ring_destroy(&e->rings[r]);
	free(e->agents);
	free(e->threads);
	free(e->q);
	e->agents = NULL;
	e->threads = NULL;
	e->q = NULL;
	e->nagents = e->nrings = 0;
}

void ig_engine_request_stop(struct ig_engine *e)
{
	__atomic_store_n(&e->stop_requested, true, __ATOMIC_RELEASE);
	/* The agents exist only once `started` is published (release, after
	 * build_threaded); before that the flag alone is enough, since the
	 * tick agent reads it on its first duty cycle. */
	if (__atomic_load_n(&e->started, __ATOMIC_ACQUIRE))
		ig_waiter_notify(&e->agents[0].thread->waiter);
}

/* ------------------------------------------------------------ routing */

/* Routes one market-data or timer event from the tick stage. */
static void tick_route(struct ig_engine *e, struct ig_event *ev, struct ig_emit *out)
{
	uint16_t k = ev->hdr.instrument_id;
	/* Timers go only where something uses them: threads with an on_timer
	 * strategy, and the OMS when it prints status lines. */
	uint32_t mask = ev->hdr.type == IG_EV_CONTROL ? (uint32_t)((1ull << e->nthreads) - 1)
			: ev->hdr.type == IG_EV_TIMER ? e->timer_mask
			: (k < IG_MAX_INSTRUMENTS ? e->strat_mask[k] : 0);

	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	for (uint32_t t = 0; t < e->nthreads; t++)
		if (mask & (1u << t))
			ig_emit(out, IG_STAGE_STRATEGY, t, ev);
	if (ev->hdr.type != IG_EV_TIMER || e->oms.status_lines)
		ig_emit(out, IG_STAGE_OMS, 0, ev);
	if (ev->hdr.type != IG_EV_TIMER && ev->hdr.type != IG_EV_CONTROL && ig_exec_wants_md(&e->exec))
		ig_emit(out, IG_STAGE_EXEC, 0, ev);
}

static void make_control(struct ig_event *ev, enum ig_control_cmd cmd)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_CONTROL;
	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	ev->body.control.cmd = (uint16_t)cmd;
}

static void make_timer(struct ig_event *ev, int64_t now_ns, uint64_t count, int64_t data_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_TIMER;
	ev->hdr.ts_origin_ns = now_ns;
	ev->hdr.ts_event_ns = data_ns;
	ev->body.timer.now_ns = now_ns;
	ev->body.timer.count = count;
}

/* Dispatches one event to the stage handler it is addressed to. */
static void dispatch(struct ig_engine *e, enum ig_stage dst, uint32_t idx, const struct ig_event *ev,
		     struct ig_emit *out)
{
	switch (dst) {
	case IG_STAGE_STRATEGY:
		ig_strategy_host_handle(&e->hosts[idx], ev, out);
		break;
	case IG_STAGE_OMS:
		ig_oms_handle(&e->oms, ev, out);
		break;
	case IG_STAGE_EXEC:
		ig_exec_handle(&e->exec, ev, out);
		break;
	case IG_STAGE_JOURNAL:
		ig_jstage_handle(&e->journal, ev, out);
		/* Inline there is no duty cycle to batch over: what is held goes
		 * now (a deterministic run cannot wait for a clock), other
		 * records are written and synced every flush_ms. The journal
		 * thread commits once per batch instead. */
		if (out->fn == inline_emit)
			ig_jstage_commit(&e->journal, ig_clock_mono_ns(), ig_jstage_held(&e->journal) > 0,
					 out);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------- inline driver */

struct ig_inline_item {
	struct ig_event ev;
	uint8_t dst;
	uint8_t idx;
};

#define IG_INLINE_Q 65536u

/* The inline driver's FIFO. Owner: the thread running the inline driver. */
struct ig_inline_q {
	struct ig_emit emit[IG_STAGE__COUNT]; /* one per producing stage, for src stamping */
	struct ig_engine *eng;
	uint32_t head, tail;
	struct ig_inline_item items[IG_INLINE_Q];
};

static struct ig_inline_q *q_of(struct ig_emit *em)
{
	/* emit[] is the first member; em points at emit[src]. */
	return (struct ig_inline_q *)(void *)(em - em->src);
}

static void inline_emit(struct ig_emit *em, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct ig_inline_q *q = q_of(em);
	struct ig_inline_item *it;

	if (q->head - q->tail == IG_INLINE_Q) {
		/* A cascade of 64K events from one input is a bug in a stage;
		 * refuse loudly rather than drop silently. */
		ig_log_error("inline queue overflow: stage cascade over %u events", IG_INLINE_Q);
		abort();
	}
	it = &q->items[q->head++ & (IG_INLINE_Q - 1)];
	it->ev = *ev;
	it->dst = (uint8_t)dst;
	it->idx = (uint8_t)idx;
}

static void inline_drain(struct ig_engine *e)
{
	struct ig_inline_q *q = e->q;
	while (q->tail != q->head) {
		/* Handled in place: emits append at head, far from this slot
		 * (the queue never wraps onto an item being handled). */
		struct ig_inline_item *it = &q->items[q->tail++ & (IG_INLINE_Q - 1)];
		e->events++;
		dispatch(e, (enum ig_stage)it->dst, it->idx, &it->ev, &q->emit[it->dst]);
	}
	/* Empty: restart at the front so the queue stays in a few hot lines
	 * instead of walking its whole array. */
	q->head = q->tail = 0;
}

static int inline_setup(struct ig_engine *e, bool stamp)
{
	if (e->q != NULL)
		return 0;
	e->q = aligned_alloc(IG_CACHELINE, (sizeof(struct ig_inline_q) + IG_CACHELINE - 1) /
						   IG_CACHELINE * IG_CACHELINE);
	if (e->q == NULL)
		return IG_ENOMEM;
	e->q->head = e->q->tail = 0;
	e->q->eng = e;
	for (int s = 0; s < IG_STAGE__COUNT; s++) {
		e->q->emit[s].fn = inline_emit;
		e->q->emit[s].src = (uint8_t)s;
		e->q->emit[s].stamp = stamp;
	}
	return 0;
}

static int run_inline(struct ig_engine *e)
{
	struct ig_event ev;
	int64_t hb_ns = e->cfg->feed.heartbeat_ms * 1000000, next_hb = 0, due;
	uint64_t hb_count = 0;
	int rc;

	/* Deterministic: data time drives timers; nothing reads the clock
	 * except latency measurement, which no result depends on. */
	e->feed.speed = 0;
	e->feed.rate = 0;
	/* A venue's recovery answer (paper's is immediate) comes first. */
	ig_exec_poll(&e->exec, ig_clock_mono_ns(), &e->q->emit[IG_STAGE_EXEC]);
	inline_drain(e);
	for (;;) {
		if (__atomic_load_n(&e->stop_requested, __ATOMIC_ACQUIRE))
			break;
		rc = ig_feed_next(&e->feed, 0, &ev, &due);
		if (rc != 1)
			break;
		ev.hdr.ts_origin_ns = e->exec.measure ? ig_clock_mono_ns() : 0;
		e->md_events++;
		if (hb_ns > 0 && ev.hdr.ts_event_ns >= next_hb) {
			struct ig_event t;
			if (next_hb != 0) {
				make_timer(&t, ev.hdr.ts_origin_ns, ++hb_count, ev.hdr.ts_event_ns);
				tick_route(e, &t, &e->q->emit[IG_STAGE_TICK]);
			}
			next_hb = ev.hdr.ts_event_ns + hb_ns;
		}
		tick_route(e, &ev, &e->q->emit[IG_STAGE_TICK]);
		inline_drain(e);
	}
	make_control(&ev, IG_CTL_FEED_END);
	tick_route(e, &ev, &e->q->emit[IG_STAGE_TICK]);
	inline_drain(e);
	return 0;
}

/* ----------------------------------------------------- threaded driver */

static struct ig_stage_agent *agent_of(struct ig_emit *em)
{
	return (struct ig_stage_agent *)(void *)em;
}

static void threaded_emit(struct ig_emit *em, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct ig_stage_agent *a = agent_of(em);
	struct ig_outbox *ob = a->route[dst][idx];
	ig_outbox_put(ob, ev);
}

static uint32_t flush_all(struct ig_stage_agent *a)
{
	uint32_t pending = 0;
	for (uint32_t b = 0; b < a->nbox; b++)
		pending += ig_outbox_flush(&a->box[b]);
	return pending;
}

static void notify_all(struct ig_stage_agent *a)
{
	for (uint32_t b = 0; b < a->nbox; b++)
		ig_outbox_notify(&a->box[b]);
}

static uint32_t pending_all(const struct ig_stage_agent *a)
{
	uint32_t pending = 0;
	for (uint32_t b = 0; b < a->nbox; b++)
		pending += ig_outbox_pending(&a->box[b]);
	return pending;
}

static int consume(struct ig_stage_agent *a, struct ig_input *in)
{
	struct ig_event ev;
	int n = 0;
	int64_t now;

	while (n < BATCH) {
		if (!in->feedback && n > 0 && pending_all(a) > 0)
			break;
		if (!ig_ring_pop_ev(in->ring, &ev))
			break;
		now = ig_clock_mono_ns();
		ig_hist_record(&in->hop_ns, now - ev.hdr.ts_emit_ns);
		in->events++;
		dispatch(a->eng, a->stage, a->idx, &ev, &a->emit);
		n++;
	}
	return n;
}

/* True when the OMS agent has a kill switch signal to apply: the wanted
 * state differs from the OMS's, or SIGUSR1 came again while engaged (the
 * cancels of what is still open go again). OMS agent thread. */
static bool kill_switch_due(const struct ig_engine *e)
{
	bool want = __atomic_load_n(&e->kill_switch, __ATOMIC_ACQUIRE);
	return want != e->oms.kill_switch ||
	       (want && __atomic_load_n(&e->kill_engages, __ATOMIC_ACQUIRE) != e->kill_engages_seen);
}

static int stage_do_work(void *self)
{
	struct ig_stage_agent *a = self;
	int work = 0;
	uint32_t pending = flush_all(a);

	if (a->stage == IG_STAGE_OMS && kill_switch_due(a->eng)) {
		/* Signals reach the OMS only through these flags: the handler
		 * runs here, on the OMS's own thread. */
		struct ig_engine *e = a->eng;
		e->kill_engages_seen = __atomic_load_n(&e->kill_engages, __ATOMIC_ACQUIRE);
		ig_oms_kill_switch(&e->oms, __atomic_load_n(&e->kill_switch, __ATOMIC_ACQUIRE), &a->emit);
		work++;
	}
	if (a->stage == IG_STAGE_EXEC)
		work += ig_exec_poll(&a->eng->exec, ig_clock_mono_ns(), &a->emit);
	for (uint32_t i = 0; i < a->nin; i++)
		if (a->in[i].feedback)
			work += consume(a, &a->in[i]);
	if (pending == 0 && pending_all(a) == 0) {
		for (uint32_t i = 0; i < a->nin; i++)
			if (!a->in[i].feedback)
				work += consume(a, &a->in[i]);
	} else {
		a->stalls++;
	}
	if (a->stage == IG_STAGE_JOURNAL)
		work += ig_jstage_commit(&a->eng->journal, ig_clock_mono_ns(), false, &a->emit);
	notify_all(a);
	if (a->stage == IG_STAGE_OMS && ig_oms_done(&a->eng->oms) &&
	    !__atomic_load_n(&a->eng->done, __ATOMIC_RELAXED))
		__atomic_store_n(&a->eng->done, true, __ATOMIC_RELEASE);
	return work;
}

static bool stage_has_work(void *self)
{
	struct ig_stage_agent *a = self;
	if (a->stage == IG_STAGE_OMS && kill_switch_due(a->eng))
		return true;
	for (uint32_t i = 0; i < a->nin; i++)
		if (ig_ring_readable(a->in[i].ring))
			return true;
	return false;
}

static int64_t stage_deadline(void *self)
{
	struct ig_stage_agent *a = self;
	if (pending_all(a) > 0)
		return ig_clock_mono_ns() + SPILL_RETRY_NS;
	if (a->stage == IG_STAGE_JOURNAL)
		return ig_jstage_deadline_ns(&a->eng->journal);
	return a->stage == IG_STAGE_EXEC ? ig_exec_deadline_ns(&a->eng->exec) : INT64_MAX;
}

static int tick_do_work(void *self)
{
	struct ig_stage_agent *a = self;
	struct ig_engine *e = a->eng;
	int64_t now = ig_clock_mono_ns(), hb_ns = e->cfg->feed.heartbeat_ms * 1000000;
	struct ig_event ev;
	int work = 0;

	if (flush_all(a) > 0) {
		a->stalls++;
		notify_all(a);
		return 0; /* back-pressure: do not read the feed */
	}
	if (a->feed_done)
		return 0;
	if (hb_ns > 0 && now >= a->next_hb_ns) {
		if (a->next_hb_ns != 0) {
			make_timer(&ev, now, ++a->hb_count, 0);
			tick_route(e, &ev, &a->emit);
			work++;
		}
		a->next_hb_ns = now + hb_ns;
	}
	a->due_ns = INT64_MAX;
	while (work < BATCH) {
		int rc;
		if (__atomic_load_n(&e->stop_requested, __ATOMIC_ACQUIRE)) {
			rc = IG_EEOF;
		} else {
			rc = ig_feed_next(&e->feed, now, &ev, &a->due_ns);
		}
		if (rc == 1) {
			ev.hdr.ts_origin_ns = ig_clock_mono_ns();
			e->md_events++;
			tick_route(e, &ev, &a->emit);
			work++;
			if (pending_all(a) > 0)
				break;
			continue;
		}
		if (rc == 0)
			break;
		/* End of feed, or stop requested: start the shutdown token. */
		make_control(&ev, IG_CTL_FEED_END);
		tick_route(e, &ev, &a->emit);
		a->feed_done = true;
		work++;
		break;
	}
	notify_all(a);
	return work;
}

static bool tick_has_work(void *self)
{
	struct ig_stage_agent *a = self;
	return __atomic_load_n(&a->eng->stop_requested, __ATOMIC_ACQUIRE) && !a->feed_done;
}

static int64_t tick_deadline(void *self)
{
	struct ig_stage_agent *a = self;
	int64_t d = a->due_ns;
	/* A spill first: the shutdown token itself may wait in it after the
	 * feed is done, and nobody else wakes this thread to flush it. */
	if (pending_all(a) > 0)
		return ig_clock_mono_ns() + SPILL_RETRY_NS;
	if (a->feed_done)
		return INT64_MAX;
	if (a->eng->cfg->feed.heartbeat_ms > 0 && a->next_hb_ns < d)
		d = a->next_hb_ns;
	return d;
}

/* Agent and hop names: "tick", "strategy", "oms", "exec", "journal". */
static const char *stage_name(enum ig_stage st)
{
	switch (st) {
	case IG_STAGE_TICK:
		return "tick";
	case IG_STAGE_STRATEGY:
		return "strategy";
	case IG_STAGE_OMS:
		return "oms";
	case IG_STAGE_JOURNAL:
		return "journal";
	default:
		return "exec";
	}
}

/* Creates a ring from producer agent p to consumer agent c and wires the
 * outbox and input. */
static int connect(struct ig_engine *e, struct ig_stage_agent *p, struct ig_stage_agent *c,
		   bool feedback)
{
	struct ig_ring *r;
	struct ig_outbox *ob;
	struct ig_input *in;
	uint32_t size = e->cfg->engine.ring_size ? e->cfg->engine.ring_size : IG_CFG_DEFAULT_RING_SIZE;
	int rc;

	if (e->nrings >= IG_ENGINE_MAX_RINGS || p->nbox >= IG_AGENT_MAX_OUTBOXES ||
	    c->nin >= IG_AGENT_MAX_INPUTS)
		return IG_ELIMIT;
	r = &e->rings[e->nrings];
	if ((rc = ig_ring_init(r, size, sizeof(struct ig_event))) != 0)
		return rc;
	e->nrings++;
	ob = &p->box[p->nbox];
	if ((rc = ig_outbox_init(ob, r, size * 4)) != 0)
		return rc;
	p->nbox++;
	p->route[c->stage][c->idx] = ob;
	in = &c->in[c->nin++];
	in->ring = r;
	in->feedback = feedback;
	ig_hist_init(&in->hop_ns);
	snprintf(in->name, sizeof(in->name), "%s->%s", stage_name(p->stage), stage_name(c->stage));
	return 0;
}

static void agent_setup(struct ig_stage_agent *a, struct ig_engine *e, enum ig_stage st,
			uint32_t idx)
{
	memset(a, 0, sizeof(*a));
	a->emit.fn = threaded_emit;
	a->emit.src = (uint8_t)st;
	a->emit.stamp = true;
	a->eng = e;
	a->stage = st;
	a->idx = idx;
	a->due_ns = INT64_MAX;
}

static struct ig_agent agent_iface(struct ig_stage_agent *a)
{
	struct ig_agent ag;
	memset(&ag, 0, sizeof(ag));
	ag.self = a;
	if (a->stage == IG_STAGE_TICK) {
		ag.name = "tick";
		ag.do_work = tick_do_work;
		ag.has_work = tick_has_work;
		ag.deadline_ns = tick_deadline;
	} else {
		ag.name = stage_name(a->stage);
		ag.do_work = stage_do_work;
		ag.has_work = stage_has_work;
		ag.deadline_ns = stage_deadline;
	}
	return ag;
}

static int build_threaded(struct ig_engine *e)
{
	const struct ig_cfg_engine *ec = &e->cfg->engine;
	uint32_t n = e->nthreads;
	struct ig_stage_agent *tick, *oms, *exec, *jrnl = NULL;
	int rc;

	uint32_t na = n + 3 + (e->journal_on ? 1 : 0);
	size_t agents_sz = (na * sizeof(struct ig_stage_agent) + IG_CACHELINE - 1) / IG_CACHELINE *
			   IG_CACHELINE;
	size_t threads_sz = (na * sizeof(struct ig_agent_thread) + IG_CACHELINE - 1) / IG_CACHELINE *
			    IG_CACHELINE;

	/* nagents counts set-up agents only once they exist and are zeroed:
	 * ig_engine_destroy walks that many, also after a failure here. */
	e->agents = aligned_alloc(IG_CACHELINE, agents_sz);
	e->threads = aligned_alloc(IG_CACHELINE, threads_sz);
	if (e->agents == NULL || e->threads == NULL)
		return IG_ENOMEM;
	memset(e->agents, 0, agents_sz);
	memset(e->threads, 0, threads_sz);
	e->nagents = na;
	tick = &e->agents[0];
	oms = &e->agents[n + 1];
	exec = &e->agents[n + 2];
	agent_setup(tick, e, IG_STAGE_TICK, 0);
	for (uint32_t k = 0; k < n; k++)
		agent_setup(&e->agents[1 + k], e, IG_STAGE_STRATEGY, k);
	agent_setup(oms, e, IG_STAGE_OMS, 0);
	agent_setup(exec, e, IG_STAGE_EXEC, 0);
	if (e->journal_on) {
		jrnl = &e->agents[n + 3];
		agent_setup(jrnl, e, IG_STAGE_JOURNAL, 0);
	}

	/* Feedback inputs first: they are consumed before forward ones. The
	 * OMS reads marks before intents, so its marks lag the strategies'
	 * view as little as possible. */
	if ((rc = connect(e, exec, oms, true)) != 0 || (rc = connect(e, tick, oms, false)) != 0)
		return rc;
	for (uint32_t k = 0; k < n; k++) {
		struct ig_stage_agent *s = &e->agents[1 + k];
		if ((rc = connect(e, oms, s, true)) != 0 || (rc = connect(e, tick, s, false)) != 0 ||
		    (rc = connect(e, s, oms, false)) != 0)
			return rc;
	}
	if (jrnl != NULL) {
		/* Everything for the executor passes the journal (jstage.h). */
		if ((rc = connect(e, oms, jrnl, false)) != 0 || (rc = connect(e, jrnl, exec, false)) != 0)
			return rc;
	} else if ((rc = connect(e, oms, exec, false)) != 0) {
		return rc;
	}
	if (ig_exec_wants_md(&e->exec) && (rc = connect(e, tick, exec, false)) != 0)
		return rc;

	/* Threads. */
	e->nthreads_run = 0;
	if (ec->threading == IG_THREADING_SHARED) {
		uint32_t w = ec->workers ? ec->workers : 1;
		uint32_t rest = n + 2; /* strategies, oms, exec (the journal has its own thread) */
		if (w > rest)
			w = rest;
		if (!ec->tick_shares_worker) {
			/* A thread that runs only the tick agent is woken by
			 * nothing but its source's clock: it blocks on the source
			 * (parks until the next event is due), whatever the wait
			 * strategy of the workers. */
			ig_agent_thread_init(&e->threads[e->nthreads_run], "ig-tick",
					     IG_WAIT_ADAPTIVE, ec->cpu_tick);
			e->threads[e->nthreads_run++].park_to_deadline = true;
		}
		for (uint32_t i = 0; i < w; i++) {
			char name[16];
			snprintf(name, sizeof(name), "ig-worker%u", i % 100u);
			ig_agent_thread_init(&e->threads[e->nthreads_run++], name,
					     (enum ig_wait_kind)ec->wait,
					     i < IG_MAX_STRATEGY_THREADS ? ec->cpu_workers[i] : -1);
		}
		{
			uint32_t base = ec->tick_shares_worker ? 0 : 1;
			/* Own thread, or worker 0 when tick_shares_worker. */
			tick->thread = &e->threads[0];
			/* Contiguous groups in pipeline order. */
			for (uint32_t i = 0; i < rest; i++) {
				uint32_t g = i * w / rest;
				e->agents[1 + i].thread = &e->threads[base + g];
			}
		}
	} else {
		ig_agent_thread_init(&e->threads[e->nthreads_run], "ig-tick", IG_WAIT_ADAPTIVE,
				     ec->cpu_tick);
		e->threads[e->nthreads_run].park_to_deadline = true;
		tick->thread = &e->threads[e->nthreads_run++];
		for (uint32_t k = 0; k < n; k++) {
			char name[16];
			snprintf(name, sizeof(name), "ig-strat%u", k % 100u);
			ig_agent_thread_init(&e->threads[e->nthreads_run], name,
					     (enum ig_wait_kind)ec->wait, ec->cpu_strategy[k]);
			e->agents[1 + k].thread = &e->threads[e->nthreads_run++];
		}
		ig_agent_thread_init(&e->threads[e->nthreads_run], "ig-oms", (enum ig_wait_kind)ec->wait,
				     ec->cpu_oms);
		oms->thread = &e->threads[e->nthreads_run++];
		ig_agent_thread_init(&e->threads[e->nthreads_run], "ig-exec",
				     (enum ig_wait_kind)ec->wait, ec->cpu_exec);
		exec->thread = &e->threads[e->nthreads_run++];
	}
	if (jrnl != NULL) {
		/* The journal thread blocks in fdatasync by design: never on a
		 * thread that runs another stage. */
		ig_agent_thread_init(&e->threads[e->nthreads_run], "ig-journal",
				     (enum ig_wait_kind)ec->wait, -1);
		jrnl->thread = &e->threads[e->nthreads_run++];
	}
	/* Agents onto their threads, in pipeline order; each outbox wakes the
	 * thread of the agent consuming its ring. */
	for (uint32_t a = 0; a < e->nagents; a++) {
		struct ig_agent ag = agent_iface(&e->agents[a]);
		if ((rc = ig_agent_thread_add(e->agents[a].thread, &ag)) != 0)
			return rc;
	}
	for (uint32_t a = 0; a < e->nagents; a++) {
		struct ig_stage_agent *p = &e->agents[a];
		for (uint32_t b = 0; b < p->nbox; b++) {
			for (uint32_t c = 0; c < e->nagents; c++)
				for (uint32_t i = 0; i < e->agents[c].nin; i++)
					if (e->agents[c].in[i].ring == p->box[b].ring)
						p->box[b].waiter = &e->agents[c].thread->waiter;
		}
	}
	return 0;
}

/* After join: everything left in rings and spills is handled inline. */
static void final_drain(struct ig_engine *e)
{
	bool any = true;
	uint64_t before = e->events;

	while (any) {
		any = false;
		for (uint32_t a = 0; a < e->nagents; a++) {
			struct ig_stage_agent *p = &e->agents[a];
			for (uint32_t b = 0; b < p->nbox; b++) {
				struct ig_outbox *ob = &p->box[b];
				while (ob->spill_tail != ob->spill_head) {
					struct ig_event *ev = &ob->spill[ob->spill_tail++ & (ob->spill_cap - 1)];
					/* Spills are behind their ring: drain the ring first. */
					struct ig_event r;
					for (uint32_t c = 0; c < e->nagents; c++)
						for (uint32_t i = 0; i < e->agents[c].nin; i++)
							if (e->agents[c].in[i].ring == ob->ring)
								while (ig_ring_pop_ev(ob->ring, &r))
									inline_emit(&e->q->emit[p->stage],
										    e->agents[c].stage,
										    e->agents[c].idx, &r);
					any = true;
					for (uint32_t c = 0; c < e->nagents; c++)
						for (uint32_t i = 0; i < e->agents[c].nin; i++)
							if (e->agents[c].in[i].ring == ob->ring)
								inline_emit(&e->q->emit[p->stage],
									    e->agents[c].stage,
									    e->agents[c].idx, ev);
				}
			}
		}
		for (uint32_t c = 0; c < e->nagents; c++) {
			struct ig_stage_agent *a = &e->agents[c];
			for (uint32_t i = 0; i < a->nin; i++) {
				struct ig_event ev;
				while (ig_ring_pop_ev(a->in[i].ring, &ev)) {
					inline_emit(&e->q->emit[ev.hdr.src], a->stage, a->idx, &ev);
					any = true;
				}
			}
		}
		inline_drain(e);
	}
	e->drained_after_stop = e->events - before;
}

static int run_threaded(struct ig_engine *e)
{
	int rc = build_threaded(e);
	sigset_t set;

	if (rc != 0)
		return rc;
	/* Trading threads never take signals: the main thread waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	__atomic_store_n(&e->started, true, __ATOMIC_RELEASE);
	for (uint32_t t = 0; t < e->nthreads_run; t++) {
		if ((rc = ig_agent_thread_start(&e->threads[t])) != 0) {
			for (uint32_t u = 0; u < t; u++)
				ig_agent_thread_stop(&e->threads[u]);
			for (uint32_t u = 0; u < t; u++)
				ig_agent_thread_join(&e->threads[u]);
			return rc;
		}
	}
	while (!__atomic_load_n(&e->done, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM) {
			ig_log_info("signal %d: stopping the feed and draining", sig);
			ig_engine_request_stop(e);
		} else if (sig == SIGUSR1 || sig == SIGUSR2) {
			struct ig_stage_agent *oms = &e->agents[e->nthreads + 1];
			__atomic_store_n(&e->kill_switch, sig == SIGUSR1, __ATOMIC_RELEASE);
			if (sig == SIGUSR1)
				__atomic_add_fetch(&e->kill_engages, 1, __ATOMIC_RELEASE);
			ig_log_warn("%s: kill switch %s requested", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2",
				    sig == SIGUSR1 ? "engage" : "clear");
			ig_waiter_notify(&oms->thread->waiter);
		}
	}
	for (uint32_t t = 0; t < e->nthreads_run; t++)
		ig_agent_thread_stop(&e->threads[t]);
	for (uint32_t t = 0; t < e->nthreads_run; t++)
		ig_agent_thread_join(&e->threads[t]);
	for (uint32_t a = 0; a < e->nagents; a++) {
		for (uint32_t b = 0; b < e->agents[a].nbox; b++) {
			e->backpressure += e->agents[a].box[b].spilled;
			if (e->agents[a].box[b].spill_max > e->spill_max)
				e->spill_max = e->agents[a].box[b].spill_max;
		}
		for (uint32_t i = 0; i < e->agents[a].nin; i++)
			e->events += e->agents[a].in[i].events;
	}
	final_drain(e);
	return 0;
}

static int64_t process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ig_engine_run(struct ig_engine *e)
{
	int rc;
	int64_t cpu0 = process_cpu_ns();

	e->t_start_ns = ig_clock_mono_ns();
	if (e->cfg->engine.threading == IG_THREADING_INLINE)
		rc = run_inline(e);
	else
		rc = run_threaded(e);
	if (e->journal_on && e->q != NULL) {
		/* Whatever the journal still holds is written and synced. */
		ig_jstage_commit(&e->journal, ig_clock_mono_ns(), true, &e->q->emit[IG_STAGE_JOURNAL]);
		inline_drain(e);
		ig_jstage_commit(&e->journal, ig_clock_mono_ns(), true, &e->q->emit[IG_STAGE_JOURNAL]);
	}
	e->state_hash = ig_oms_state_hash(&e->oms);
	e->cancels_outstanding = ig_oms_cancels_outstanding(&e->oms);
	e->t_end_ns = ig_clock_mono_ns();
	e->cpu_ns = process_cpu_ns() - cpu0;
	return rc;
}

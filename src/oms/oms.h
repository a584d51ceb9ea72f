/*
 * oms.h - the OMS/risk stage: per-strategy order and position managers, the
 * risk engine, and the truth about every order and fill.
 *
 * Design
 * ------
 * One struct ig_oms_strategy per configured strategy holds its order
 * manager (order.h), its positions per instrument (position.h), its cash,
 * its effective risk limits and counters. Intents from strategies pass the
 * risk check (risk.h) and go to the executor, or are denied with a reason
 * that travels back to the strategy as IG_EV_REJECT. Venue reports
 * (updates, fills, rejects) move orders through the one transition table
 * and are mirrored to the strategy, followed by an IG_EV_POSITION after
 * each fill. A fill is applied once: it must belong to a live order, carry
 * a trade id above the order's last applied one, and not overfill it;
 * anything else is refused, logged and counted.
 *
 * Conditional orders (stop-market, stop-limit, take-profit, trailing stop,
 * and the stop-loss attached to an entry) are emulated here from the marks,
 * so they work on any venue: they pass risk when placed, wait ARMED in
 * state ACCEPTED, and when triggered pass the full risk check again at the
 * price they will trade at and go to the executor under the same client id
 * as a market (or, for stop-limit, limit) order; one that fails ends
 * DENIED with a reject to the strategy. A stop-loss
 * attached to an entry (order.sl_px) becomes, at each fill of the entry, a
 * reduce-only stop-market child for the filled quantity.
 *
 * Cancel-replace: an order with `replaces` set passes risk, is held, and
 * the old order is cancelled; the new one is released (after the same
 * release check) only when the venue confirms the cancel, and is cancelled
 * itself if the old one fills first.
 *
 * Trading states ACTIVE / REDUCING / HALTED are kept per strategy and
 * globally. A daily realized loss beyond risk.daily_loss_limit moves the
 * strategy to REDUCING; a drawdown beyond risk.max_drawdown_pct to REDUCING
 * or HALTED (risk.drawdown_action). The kill switch (SIGUSR1, or an
 * IG_CTL_KILL_SWITCH event) cancels every open order and lets only
 * reductions through until it is cleared (SIGUSR2 or the event with arg 0).
 *
 * Tax: risk.tax_rate_pct of net realized gains (realized PnL less fees,
 * when positive) is owed; it is reported, not taken from cash.
 *
 * Journal. With oms->journal set, every input that can change
 * the books (marks, intents, cancels, venue reports, controls,
 * reconciliation results; not timers) goes to IG_STAGE_JOURNAL first, as
 * it arrived, and everything for the executor goes there too (flag
 * IG_EVF_J_OUTPUT): the journal stage forwards it once the records before
 * it are durable. Order updates and trading-state changes follow as
 * IG_EVF_J_DERIVED records, for the reader. The handler is a pure function
 * of its inputs (it reads no clock that changes state), so replaying the
 * input records into a fresh OMS rebuilds it bit for bit: see
 * ig_oms_state_hash() and src/journal/recover.h.
 *
 * Reconciliation. While oms->reconciled is false (recovery has not yet
 * heard from the venue, or the venue disagreed) new intents are denied
 * with not_reconciled; cancels, and orders already on the books, go on.
 * IG_EV_RECONCILE results are applied here: the first one with balances
 * records the account's baseline (what the account holds beyond our
 * books); later ones compare venue balance with baseline + our position
 * (and cash for instrument 0's counter asset) and report any difference.
 *
 * Shutdown is a token: FEED_END arrives from the tick stage and from every
 * strategy thread; then the OMS sends it to the executor, and when the
 * executor echoes it back every report before it has been applied and
 * ig_oms_done() turns true.
 *
 * Owner: the OMS thread (or the inline driver). Pure stage handler.
 */
#ifndef IG_OMS_OMS_H
#define IG_OMS_OMS_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "oms/order.h"
#include "oms/position.h"
#include "oms/risk.h"

/* Trading states, per strategy and global. Cancels are never blocked. */
enum ig_trading_state {
	IG_TS_ACTIVE = 0, /* everything risk allows */
	IG_TS_REDUCING,   /* only orders that reduce the position */
	IG_TS_HALTED,     /* no new orders */
};

const char *ig_trading_state_name(enum ig_trading_state s);

/* Operator controls counted per strategy (ig_oms_strategy.ctl_applied,
 * the summary's `controls`), in this order. */
enum ig_oms_ctl_kind {
	IG_OMS_CK_PAUSE = 0,
	IG_OMS_CK_RESUME,
	IG_OMS_CK_CANCEL_ALL,
	IG_OMS_CK_RESET,
	IG_OMS_CK_PARAMS,
	IG_OMS_CTL_KINDS
};

/* The outcome of an operator control (ig_oms_control; the request's
 * result in oms_stage.h). */
enum ig_oms_ctl_status {
	IG_OMS_CTL_PENDING = 0, /* not applied yet (oms_stage.h only) */
	IG_OMS_CTL_OK,          /* applied and journaled */
	IG_OMS_CTL_NO_CHANGE,   /* valid, but there was nothing to do (already paused, not
				 * paused, no breach to reset, kill switch already clear);
				 * not journaled */
	IG_OMS_CTL_NOT_FOUND,   /* no such strategy index */
	IG_OMS_CTL_INVALID,     /* unknown command, or one that needs a strategy */
	IG_OMS_CTL_EXPIRED,     /* oms_stage.h only: the result was overwritten by a later
				 * request's (ask sooner) */
	IG_OMS_CTL_REFUSED,     /* params: the strategy refused them (its log says why) */
	IG_OMS_CTL_BUSY,        /* params: the strategy has not answered the last change yet */
};

/* Names for logs and JSON ("ok", "no_change", ...). Static strings. */
const char *ig_oms_ctl_status_name(enum ig_oms_ctl_status s);

#define IG_OMS_RECENT 16        /* intents remembered for duplicate detection */
#define IG_OMS_MAX_CONDITIONAL 256 /* armed conditional orders per strategy */
#define IG_OMS_MAX_PARAMS IG_CFG_MAX_PARAMS /* declared params a strategy type may have */
_Static_assert(IG_OMS_MAX_PARAMS <= 32, "param_set is a 32-bit mask");

struct ig_recent_intent {
	int64_t ts_ns;
	int64_t px;
	int64_t qty;
	int64_t stop_px;
	int64_t trail;
	uint8_t side;
	uint8_t type;
	uint16_t instrument_id;
};

struct ig_oms_strategy {
	struct ig_order_mgr om;
	struct ig_pos pos[IG_MAX_INSTRUMENTS];
	int64_t cash;                         /* 1e-8 quote */
	int64_t capital;                      /* starting cash, 1e-8 */
	int64_t open_buy_qty[IG_MAX_INSTRUMENTS];  /* 1e-8 */
	int64_t open_sell_qty[IG_MAX_INSTRUMENTS]; /* 1e-8 */
	int64_t open_buy_notional;            /* cash reserved for open buys, 1e-8 */
	struct ig_cfg_risk lim;               /* effective limits */
	struct ig_bucket bucket;              /* per-strategy order rate */
	uint32_t thread;                      /* its strategy thread */
	uint64_t orders;                      /* intents sent to the venue */
	uint64_t fills;
	uint64_t rejects[IG_RJ__COUNT];       /* by reason, risk and venue */
	uint64_t refused_fills;               /* duplicate, unknown or overfilling */
	uint64_t cancels;
	uint8_t trading_state;                /* enum ig_trading_state */
	uint8_t breach_reason;                /* enum ig_reject_reason that set it */
	int64_t equity;                       /* cash + positions at mark, 1e-8 */
	int64_t equity_hwm;                   /* high-water mark of equity, 1e-8 */
	int64_t drawdown_pct;                 /* current drawdown from the HWM, percent 1e-8 */
	int64_t max_drawdown_seen_pct;        /* worst drawdown so far, percent 1e-8 */
	int64_t day;                          /* data day (UTC) of the daily-loss window */
	int64_t day_start_net_pnl;            /* realized - fees at the start of the day, 1e-8 */
	int64_t tax;                          /* tax owed on net realized gains, 1e-8 */
	struct ig_recent_intent recent[IG_OMS_RECENT]; /* ring */
	uint32_t recent_n;
	uint32_t child_seq;                   /* OMS-made ids (stop-loss children) */
	uint32_t armed[IG_OMS_MAX_CONDITIONAL]; /* pool index + 1 of armed conditional orders */
	uint32_t narmed;
	uint32_t held[IG_OMS_MAX_CONDITIONAL];  /* pool index + 1 of held replacements */
	uint32_t nheld;
	uint64_t triggered;                   /* conditional orders released */
	bool paused;                          /* IG_CTL_PAUSE: new intents denied `paused` */
	/* Params in force (the strategy's IG_CTL_PARAMS_APPLIED): bit i of
	 * param_set says param i of the type's declaration has the value
	 * param_val[i] (kept so a recovery hands the strategy the values it
	 * last ran with). */
	uint32_t param_set;
	int64_t param_val[IG_OMS_MAX_PARAMS];
	/* Run-scoped (not hashed): a params change sent to the strategy and
	 * not answered yet. */
	bool params_inflight;
	/* Run-scoped (not hashed, not snapshotted; cleared at each session
	 * start): operator controls applied to this strategy in this run. */
	uint32_t ctl_applied[IG_OMS_CTL_KINDS];
};

struct ig_mark {
	int64_t px;           /* 1e-8, 0 = none */
	int64_t ts_event_ns;  /* data time */
	int64_t ts_origin_ns; /* monotonic ingress time */
	int64_t ask_px;       /* best ask (trade/bar: its price), 1e-8; run-scoped: not
			       * hashed or snapshotted, cleared at each session start */
};

struct ig_oms;

/* An observer of the books (ig_oms_set_observer): called on the OMS's
 * thread with a market-data event before its mark is applied (the books
 * are still valued at the previous marks), and with each applied fill
 * (instrument_id set) after the position and cash moved. It may read the
 * OMS through its accessor functions, never change it. */
typedef void (*ig_oms_observer_fn)(void *arg, const struct ig_oms *oms, const struct ig_event *ev);

/* A tap on the order flow (ig_oms_set_tap): called on the OMS's thread
 * with each order update (ev an IG_EV_ORDER_UPDATE, r the order in its new
 * state), each applied fill (IG_EV_FILL, r the order) and each risk
 * denial (IG_EV_REJECT with by_venue 0; r the order when one existed,
 * else NULL). It must not change the OMS, wait or allocate. */
typedef void (*ig_oms_tap_fn)(void *arg, const struct ig_oms *oms, const struct ig_event *ev,
			      const struct ig_order_rec *r);

#define IG_OMS_HOOKS 4 /* observers, and taps, at most */

struct ig_oms_tap_slot {
	ig_oms_tap_fn fn;
	void *arg;
};

struct ig_oms_observer_slot {
	ig_oms_observer_fn fn;
	void *arg;
};

struct ig_oms {
	const struct ig_config *cfg;
	uint32_t nstrategies;
	struct ig_oms_strategy *s;            /* nstrategies */
	struct ig_mark marks[IG_MAX_INSTRUMENTS];
	struct ig_bucket global_bucket;       /* all strategies: one venue */
	uint32_t feed_end_needed;             /* tick + strategy threads */
	uint32_t feed_end_seen;
	bool exec_drained;                    /* FEED_END echoed by the executor */
	bool status_lines;                    /* log a status line each second */
	bool data_clock;                      /* stale data by data time (inline) or ingress time */
	int64_t last_status_ns;               /* monotonic */
	uint64_t events;                      /* events handled */
	uint64_t md_events;
	uint64_t last_status_events;
	uint64_t unknown_reports;             /* reports for orders we do not know */
	uint8_t trading_state;                /* global enum ig_trading_state */
	bool kill_switch;                     /* engaged: cancel all, reductions only */
	uint64_t kill_cancels;                /* cancels sent by the kill switch */
	uint64_t last_trade_seq[IG_MAX_INSTRUMENTS]; /* highest venue trade id applied */
	int64_t baseline_base[IG_MAX_INSTRUMENTS];   /* account base asset beyond our books, 1e-8 */
	int64_t baseline_counter;             /* instrument 0's counter asset beyond our cash, 1e-8 */
	bool baseline_set[IG_MAX_INSTRUMENTS];
	uint64_t adopted;                     /* orders adopted from the venue */
	int64_t first_session_ns;             /* CLOCK_REALTIME start of the journal's first run */
	/* Run-scoped (not book state: not hashed, not snapshotted, reset by
	 * ig_oms_after_replay). */
	struct ig_emit *cur_out;              /* the emitter of the handle call in progress */
	/* Slot 0: ig_oms_set_observer / ig_oms_set_tap; 1..: ig_oms_add_*.
	 * nobservers / ntaps count the slots in use (0: nothing is called). */
	struct ig_oms_observer_slot observers[IG_OMS_HOOKS];
	struct ig_oms_tap_slot taps[IG_OMS_HOOKS];
	uint8_t nobservers;
	uint8_t ntaps;
	bool journal;                         /* emit journal records (IG_STAGE_JOURNAL) */
	bool quiet_orders;                    /* no per-order/fill/reject log lines */
	bool announce;                        /* send recovered positions to the strategies */
	int64_t day_next_ns;                  /* no strategy's UTC day rolls at a mark of an
					       * earlier data time (days only move forward);
					       * INT64_MIN: unknown (init, snapshot, session) */
	bool reconciled;                      /* new intents allowed (see above) */
	bool halt_on_mismatch;                /* a balance difference keeps trading closed */
	int64_t balance_tolerance;            /* differences up to this are not reported, 1e-8 */
	int64_t market_buy_bps;               /* venue.market_buy_ioc_bps, >= 0: a market buy's worst price */
	uint8_t recon_error;                  /* enum ig_recon_error of the last pass */
	bool recon_mismatch;                  /* the last pass found a difference */
	bool recon_done;                      /* a pass has reported (ok or not) */
	uint32_t recon_passes;
	uint32_t recon_foreign;               /* open orders on the account that are not ours */
	uint32_t recon_adopted;
	uint32_t recon_fills;
	uint32_t recon_resolved;
	int64_t recon_diff_base[IG_MAX_INSTRUMENTS]; /* venue - ours, 1e-8 */
	int64_t recon_diff_counter;
	int64_t recon_venue_base[IG_MAX_INSTRUMENTS];
	int64_t recon_venue_counter;
	char recon_why[160];                  /* why trading is closed, "" when open */
	uint32_t ctl_kill_switch;             /* run-scoped: kill switch controls applied */
	uint8_t ctl_status;                   /* run-scoped: outcome of the last control event
					       * handled (enum ig_oms_ctl_status) */
	uint16_t verdict_sid;                 /* run-scoped: strategy whose params verdict is
					       * waiting for ig_oms_params_verdict, or
					       * IG_STRATEGY_NONE */
	uint8_t verdict_status;               /* its outcome (OK or REFUSED) */
};

/* Builds the per-strategy managers. Returns 0 or IG_ENOMEM (nothing to
 * undo). cfg must outlive the OMS. */
int ig_oms_init(struct ig_oms *oms, const struct ig_config *cfg, uint32_t strategy_threads);
void ig_oms_destroy(struct ig_oms *oms);

/* The stage handler. */
void ig_oms_handle(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out);

/* True once the shutdown token has made its round trip. */
static inline bool ig_oms_done(const struct ig_oms *oms)
{
	return oms->exec_drained;
}

/* 64-bit hash of the book state: every order record, position, cash,
 * counter, limit state and mark; not the run-scoped fields. Equal hashes
 * mean a replay rebuilt the same books. */
uint64_t ig_oms_state_hash(const struct ig_oms *oms);

/* Snapshot of the book state (the same fields the hash covers), for
 * journal compaction. ig_oms_snapshot_size() gives the bytes;
 * ig_oms_snapshot_write() fills buf (cap >= size) and returns the bytes
 * written or IG_ERANGE. ig_oms_snapshot_read() restores one into an OMS
 * built from the same config; returns 0, or IG_EPARSE (wrong version,
 * size or strategy count: oms unchanged... or, past the header checks,
 * partly overwritten; the caller then rebuilds it). */
size_t ig_oms_snapshot_size(const struct ig_oms *oms);
long ig_oms_snapshot_write(const struct ig_oms *oms, void *buf, size_t cap);
int ig_oms_snapshot_read(struct ig_oms *oms, const void *buf, size_t len);

/* A run starts (and, in a replay, each SESSION record): clears what
 * belongs to the previous run (shutdown token counts, status counters,
 * mark ingress times, which are another run's monotonic clock) and, if the
 * run recovers, closes trading until reconciled. */
void ig_oms_session_start(struct ig_oms *oms, bool recovering);

/* After a replay: ig_oms_session_start(oms, true), and the strategies are
 * told their recovered positions at the first event. */
void ig_oms_after_replay(struct ig_oms *oms);

/* True if the OMS will tell the strategies their recovered positions and
 * open orders at its first event, ending with IG_CTL_RECOVERED for each
 * (after ig_oms_after_replay, until then). Main thread, before the run. */
bool ig_oms_will_announce(const struct ig_oms *oms);

/* One strategy's books summed over its instruments (avg_px: that of the
 * last instrument it holds). For reports. */
struct ig_oms_totals {       /* a public value type: filled by ig_oms_totals */
	int64_t qty;        /* 1e-8 */
	int64_t avg_px;     /* 1e-8 */
	int64_t realized;   /* 1e-8 quote */
	int64_t unrealized; /* at the marks, 1e-8 quote */
	int64_t fees;       /* 1e-8 quote (base fees valued at their fills' prices) */
	int64_t fees_base;  /* of which charged in base, 1e-8 base */
	int64_t cash;       /* 1e-8 quote */
	uint64_t orders;    /* intents sent to the venue */
	uint64_t fills;
	uint32_t open_orders; /* live and not terminal */
};
void ig_oms_totals(const struct ig_oms *oms, uint32_t strategy, struct ig_oms_totals *t);

/* Settings the engine (or a command replaying the journal) makes after
 * ig_oms_init and before any thread starts; main thread. status_lines:
 * log a status line each second. data_clock: stale data by data time
 * (inline) instead of ingress time. journal: emit journal records
 * (IG_STAGE_JOURNAL). quiet_orders: no INFO line per order, fill, denial
 * or venue reject (`ingenium backtest` without -v; warnings and the
 * summary's counts are unchanged). */
void ig_oms_set_status_lines(struct ig_oms *oms, bool on);
void ig_oms_set_data_clock(struct ig_oms *oms, bool on);
void ig_oms_set_journal(struct ig_oms *oms, bool on);
void ig_oms_set_quiet_orders(struct ig_oms *oms, bool on);

/* Returns true if the OMS logs a status line each second (the tick then
 * routes timers to it). */
bool ig_oms_status_lines(const struct ig_oms *oms);

/* Returns true if the kill switch is engaged in the books. */
bool ig_oms_kill_switch_engaged(const struct ig_oms *oms);

/* Returns the number of strategies (the config's). */
uint32_t ig_oms_nstrategies(const struct ig_oms *oms);

/* At stop: logs every order whose cancel went to the venue and was never
 * confirmed (it may still be live there), by client id. Returns how many.
 * The OMS's thread, or after it stopped. */
uint32_t ig_oms_cancels_outstanding(const struct ig_oms *oms);

/* Strategy equity at the marks: cash + sum of position values. */
int64_t ig_oms_equity(const struct ig_oms *oms, uint32_t strategy);

/* A strategy's cash, 1e-8 quote. */
int64_t ig_oms_cash(const struct ig_oms *oms, uint32_t strategy);

/* The fills a strategy's books have taken, all runs of its journal
 * together: inside a tap on a fill, that fill's place in the order they
 * were applied (1, 2, ...), the same live and in a replay. */
uint64_t ig_oms_fills(const struct ig_oms *oms, uint32_t strategy);

/* The books' identity: the wall-clock start (Unix ns) of the journal's
 * first run, kept by snapshots and replays (a fresh start begins new
 * books: a new value); 0 without a journal. With ig_oms_fills it orders
 * every fill the books ever took. */
int64_t ig_oms_books_ns(const struct ig_oms *oms);

/* A strategy's position in instrument k, 1e-8 (0 for k out of range). */
int64_t ig_oms_position(const struct ig_oms *oms, uint32_t strategy, uint16_t k);

/* A strategy's starting cash (strategies[].capital), 1e-8 quote. */
int64_t ig_oms_capital(const struct ig_oms *oms, uint32_t strategy);

/* Sets (or, fn NULL, clears) the first observer (ig_oms_observer_fn
 * above), e.g. the backtest report collector; observers added with
 * ig_oms_add_observer stay. Main thread, before the run. */
void ig_oms_set_observer(struct ig_oms *oms, ig_oms_observer_fn fn, void *arg);

/* Sets (or, fn NULL, clears) the first order-flow tap (ig_oms_tap_fn
 * above), e.g. the API's event ring; taps added with ig_oms_add_tap stay.
 * Main thread, before the run. */
void ig_oms_set_tap(struct ig_oms *oms, ig_oms_tap_fn fn, void *arg);

/* Adds an observer or a tap beside the first (e.g. the history store's
 * recorder), called after it, in the order added. Returns 0, or
 * IG_ELIMIT when IG_OMS_HOOKS - 1 are already added. Main thread, before
 * the run. */
int ig_oms_add_observer(struct ig_oms *oms, ig_oms_observer_fn fn, void *arg);
int ig_oms_add_tap(struct ig_oms *oms, ig_oms_tap_fn fn, void *arg);

/* Engages (on = true) or clears the kill switch, as an IG_CTL_KILL_SWITCH
 * control event would: engaging cancels every open order of every
 * strategy. Emits through out. OMS thread. */
void ig_oms_kill_switch(struct ig_oms *oms, bool on, struct ig_emit *out);

/* Applies an operator control from outside the handler (the OMS stage's
 * request mailbox): cmd is IG_CTL_KILL_SWITCH (arg 1 engage, 0 clear;
 * strategy ignored), IG_CTL_PAUSE, IG_CTL_RESUME, IG_CTL_CANCEL_ALL or
 * IG_CTL_RESET, for strategy (an index) or IG_STRATEGY_NONE (every
 * strategy). A control that changes something goes through
 * ig_oms_handle() as an IG_EV_CONTROL event with hdr.strategy_id =
 * strategy, so it is journaled as an input and a replay applies it at the
 * same point. Returns its outcome: IG_OMS_CTL_OK (applied),
 * IG_OMS_CTL_NO_CHANGE (nothing to do: not journaled; engaging the kill
 * switch again is never that, it sends the cancels again),
 * IG_OMS_CTL_NOT_FOUND (strategy out of range) or IG_OMS_CTL_INVALID.
 * data_ns stamps the event (0: none; the day never rolls on a control).
 * OMS thread. */
enum ig_oms_ctl_status ig_oms_control(struct ig_oms *oms, uint16_t cmd, uint16_t strategy,
				      int64_t arg, int64_t data_ns, struct ig_emit *out);

/* Sends new param values pc (IG_CTL_PARAMS; pc->n entries, indexes
 * below IG_OMS_MAX_PARAMS, checked against the declarations by the
 * caller) to strategy (an index): through ig_oms_handle() as an
 * IG_EV_CONTROL event, so it is journaled as an input, forwarded to the
 * strategy's thread. The strategy answers with IG_CTL_PARAMS_APPLIED
 * (then, and only then, the OMS holds the values in force: a recovery
 * hands them to the strategy again) or IG_CTL_PARAMS_REFUSED, both
 * journaled inputs too; ig_oms_params_verdict() tells the OMS stage.
 * Returns IG_OMS_CTL_OK (sent), IG_OMS_CTL_BUSY (the last change has no
 * answer yet), IG_OMS_CTL_NOT_FOUND (strategy out of range) or
 * IG_OMS_CTL_INVALID (n out of 1..IG_PARAMS_MAX, an index out of range).
 * OMS thread. */
enum ig_oms_ctl_status ig_oms_params(struct ig_oms *oms, uint16_t strategy,
				     const struct ig_params_change *pc, int64_t data_ns,
				     struct ig_emit *out);

/* The strategy's answer to the last params change the handler saw, if
 * one came since the last call: returns true with *strategy and *st
 * (IG_OMS_CTL_OK applied, IG_OMS_CTL_REFUSED) and forgets it. Cheap: the
 * OMS stage asks after each event. OMS thread. */
bool ig_oms_params_verdict(struct ig_oms *oms, uint16_t *strategy, enum ig_oms_ctl_status *st);

/* Returns true if strategy i is paused (IG_CTL_PAUSE). */
bool ig_oms_paused(const struct ig_oms *oms, uint32_t strategy);

#endif

/*
 * luno_venue.h - the Luno venue: orders over the Luno REST API with libcurl, on
 * the executor thread, never blocking it.
 *
 * Design
 * ------
 * One libcurl multi handle with IG_LUNO_SLOTS reusable easy handles
 * (keep-alive: connections stay in the multi's cache between requests;
 * CURLOPT_NOSIGNAL; connect and total timeouts from the config). submit()
 * and cancel() only queue work; poll(), called on every executor duty
 * cycle, drives curl_multi_perform / curl_multi_info_read, handles the
 * completed requests and starts queued ones. Nothing waits on a socket.
 *
 * Request queue. Every call goes through one queue and one budget
 * (luno_budget.h, shared with the luno market-data poller). The queue
 * starts requests by class, then age:
 *   cancel < submit < in-doubt lookup < markets < listtrades < status
 * Order traffic (the first four) may spend the whole budget; periodic polls
 * (listtrades, status) leave `poll_reserve` calls free for it. A periodic
 * poll that has waited more than two status periods moves up ahead of
 * cancels and drops its reserve (but never twice in a row), so a steady
 * stream of orders or cancels cannot starve the reading of fills and
 * statuses (which is what finishes a cancel), nor the polls the orders.
 *
 * Order records. Each order the OMS sends gets a record (fixed table of
 * IG_LUNO_MAX_ORDERS) keyed by the engine's client id, which also names
 * its strategy, instrument and side, so a venue trade found by
 * client_order_id (or order_id) maps back to its owner. The client id goes
 * to Luno as client_order_id = "ig-%016llx": Luno refuses a repeat with
 * HTTP 409, which makes it the idempotency key. Record states:
 *
 *   QUEUED    submit waiting for the budget (a cancel now is local)
 *   SENDING   submit in flight
 *   OPEN      accepted: the venue's order id is known
 *   IN_DOUBT  outcome unknown (5xx, timeout, reset, malformed 2xx, 409):
 *             resolved only by GET /api/exchange/3/order?client_order_id=;
 *             found -> ACCEPTED, not found once `in_doubt_window_ms` has
 *             passed since the last attempt that may have reached Luno (a
 *             429 or an unopened connection does not count) -> REJECTED.
 *             Never sent again.
 *   UNPLACED  reported never placed (REJECTED, or for a recovered order
 *             REJECTED/CANCELED): still looked up every 8 status periods
 *             (a failed lookup too)
 *             for 30 in-doubt windows (at least 10 minutes), and its trades
 *             still map to it; if it shows up after all it is adopted back
 *             (ORDER_UPDATE ACCEPTED with IG_EVF_ADOPT, filled 0, leaves
 *             all) and its fills follow, never skipped. busy() does not
 *             wait for it.
 *
 * A submit whose connection never opened (refused, unresolvable) was not
 * sent: it is retried up to max_send_attempts times, then rejected. HTTP
 * 429 means "not processed": the same request goes again after the backoff.
 *
 * Fills. Every status_ms the venue reads GET /api/1/listtrades?pair=&
 * after_seq=<last sequence seen> (while it has live orders) and asks for
 * the status of the orders that need it: in doubt, cancel sent, IOC/FOK/
 * market, and resting GTC orders at a slower round-robin pace that keeps
 * them to a quarter of the budget. Each new trade is one IG_EV_FILL with
 * trade_id = its sequence (so the OMS applies it once), px = price, qty =
 * volume, fee = fee_counter + round(fee_base * price) (exchange-sim charges
 * in counter; a base fee is converted at the trade price), liquidity =
 * taker when is_buy matches our side. A trade of an order we know is
 * applied when its sequence is above that order's own cursor (the last
 * sequence applied to it), wherever the instrument's cursor is: Luno may
 * list a trade late, below a sequence already read, and a match between two
 * of our orders is listed once per side under one sequence (each side is a
 * fill); a trade of no known order at or below the instrument's cursor is
 * skipped. A page served twice fills nothing twice. When Luno's status
 * reports an order more filled than the trades applied to it for
 * REREAD_PERIODS (4) status periods, its trades are read again from its own
 * cursor (the instrument's cursor when it was sent, if it has none).
 *
 * The probe. With no cursor and no since, the venue first asks, at init,
 * for the account's latest trade on the pair (sort_desc, limit 1), and no
 * submit on the pair goes before the answer: that trade's sequence is then
 * below every trade of ours, and becomes the cursor (after_seq), exactly,
 * whatever anyone's clock says (no trade at all: read from the start). A
 * failed probe is sent again, backing off from one status period (doubling,
 * up to 32); after 16 status periods (at least two request timeouts)
 * submits stop waiting and every trade on the pair is read from the start
 * (slow for a long history, but nothing is missed); a late answer is then
 * ignored. A probe answered after our first submit could be one of our own
 * trades, with an earlier one of ours below it: hence the wait. A trade of
 * a client_order_id we do not know is counted as foreign and skipped, but
 * only once no submit of ours is still without an order id (it could be
 * that order's).
 *
 * Cancels. POST /api/1/stoporder once the order id is known. A failure
 * (5xx, transport, a 4xx that does not say the order is finished, a 2xx
 * without success) sends it again after one status period, doubling per
 * failure up to 32 periods, for as long as Luno has not reported the order
 * COMPLETE: a cancel is never abandoned (an error is logged after 5
 * failures). A second cancel of the same order (the strategy again, the
 * kill switch, the graceful stop) re-arms one waiting on its backoff: it
 * goes one status period after the last stoporder of that order, never
 * sooner, never while one is in flight, and not at all once Luno accepted
 * it or said the order is not open (then its status and trades settle it),
 * so repeated cancels cannot spend the budget. An answer saying the order
 * is no longer open is final: never sent again (unless its status still
 * says open); the order is settled from its status and trades.
 *
 * Terminal states. FILLED is the OMS's own conclusion from the fills. When
 * Luno says COMPLETE and the trades we applied add up to its `base`, the
 * unfilled rest is reported CANCELED (EXPIRED for an unfilled FOK). A
 * CANCELED is therefore never ahead of a fill.
 *
 * Market orders. A SELL is POST /api/1/marketorder with base_volume = qty:
 * exact. A BUY has a reference price ref = the order's px if set, else the
 * latest ask the executor saw (the venue asks for market data); with
 * neither it is rejected (no_mark). Then, by market_buy_ioc_bps:
 *   >= 0 (default 50)  POST /api/1/postorder BID, time_in_force IOC, volume
 *                      = qty, price = ref * (1 + bps/10000): exactly qty at
 *                      most, at a bounded price; what the book cannot fill
 *                      now is reported CANCELED.
 *   -1                 POST /api/1/marketorder with counter_volume = qty *
 *                      ref (rounded down at the price scale), as Luno sizes
 *                      market buys. The base bought then depends on where
 *                      the book is when it executes: less than qty is
 *                      reported CANCELED; more than qty (the ask fell after
 *                      the quote) cannot be reported, because the OMS
 *                      refuses a fill beyond an order's quantity: it is
 *                      clamped to qty, logged as an error and counted
 *                      (stats.overfills), and the books then differ from
 *                      the venue by the excess. A run against exchange-sim
 *                      with faults showed exactly that, hence the default.
 *
 * Rounding. Prices go out at the pair's price scale, bids rounded down and
 * asks up (never worse than the strategy asked); volumes at the volume
 * scale, rounded down. Scales come from the options or, when -1, from GET
 * /api/exchange/1/markets before the first order on that pair.
 *
 * Secrets. The key id and secret are read from the environment at init
 * (the variable names come from the config); init fails, naming the
 * variable, when either is unset or empty. They go to libcurl only as
 * CURLOPT_USERNAME/PASSWORD. Any text that reaches a log line from outside
 * (server error messages, curl errors) is scrubbed of both and of the
 * basic-auth token, and base_url may not carry credentials.
 *
 * Recovery. recover() (once, before the first poll) seeds a record for
 * each order the journal left unfinished, with its fills, cursor and
 * cancel request, in state IN_DOUBT marked "recovered": it is only looked
 * up by client_order_id, never sent. Found -> OPEN (ACCEPTED is emitted
 * only if the OMS had it SUBMITTED or IN_DOUBT), and from there the usual
 * logic runs: a cancel the OMS had asked for is sent again, COMPLETE
 * reports the rest CANCELED once the trades add up. Not found is final
 * only once in_doubt_window_ms has passed since recover() and the trade
 * catch-up is complete (a trade would prove it exists): then ORDER_UPDATE
 * REJECTED (IG_RJ_VENUE), or CANCELED for an order the OMS had
 * acknowledged (REJECTED is no longer legal for it; an error is logged).
 * The pass, driven by poll() through the same queue and budget (its
 * requests rank as order traffic), then:
 *   - sets each listtrades cursor to the journal's last_trade_seq and
 *     reads pages until one is not full: every trade since is one
 *     IG_EV_FILL, once. With no cursor on a pair, never from the local
 *     clock: the catch-up waits until every
 *     recovered order on the pair has been looked up, then reads since the
 *     earliest creation_timestamp Luno reports for those it found (Luno's
 *     clock; an order's trades are not older), from the start if one has
 *     none, or from the probe if none was found or none was recovered (no
 *     fill of ours can then be missing: an order the journal lacks is
 *     adopted with its earlier fills in the balances). Without a journal
 *     the cursor stays as at init (the probe);
 *   - after that, per pair: GET /api/1/listorders?state=PENDING (paged by
 *     created_before). An order with an "ig-" client_order_id that has no
 *     record is ADOPTED: a record OPEN with its order id, strategy =
 *     IG_CID_STRATEGY(client id), side from BID/ASK, px = limit_price; the OMS hears
 *     ORDER_UPDATE ACCEPTED with IG_EVF_ADOPT (prev INITIALIZED, filled 0,
 *     leaves = limit_volume - base). The record mirrors that: qty = the
 *     leaves, and its cursor starts at the catch-up's end, so only later
 *     trades are fills (what it filled before is in the balances). A
 *     trade that lands between the catch-up's last page and the listorders
 *     answer is counted in its base and could be reported once more; fills
 *     are clamped at the record's qty, so never beyond it. Any other open
 *     order is FOREIGN: counted, logged once, never touched. With more
 *     than a page of open orders, orders created in the same millisecond
 *     as a page's oldest may be missed (strict created_before);
 *   - GET /api/1/balance: each instrument's base and counter assets (from
 *     /markets base_currency/counter_currency when the venue reads it, else
 *     a 6-letter pair split 3+3, "XBTZAR" -> XBT, ZAR), the sum of
 *     `balance` over the accounts of that asset, exact.
 * When all of it is done, one IG_EV_RECONCILE per instrument (error OK,
 * have_balances 1, last = 1 on the last), emitted after every fill and
 * update of the pass. If it is not done within the recovery timeout, one
 * IG_EV_RECONCILE (instrument 0, error UNREACHABLE or MALFORMED after such
 * failures, else TIMEOUT; have_balances 0, last 1, the counts so far summed)
 * goes out once; the pass keeps retrying (every status_ms) and reports OK
 * when it completes. busy() is true while the pass runs.
 *
 * User stream (venue.user_stream: true; luno_user.h). A thread holds a
 * websocket to <stream base>/api/1/userstream. It is a TRIGGER, never a
 * second source of fills (Luno's order_fill_update has no trade
 * sequence): an order_fill marks its pair "trades may be new", an
 * order_status COMPLETE marks its order "changed", and the executor is
 * woken; poll() then reads listtrades after the cursor (once no
 * listtrades of the pair is queued or in flight, so a read that started
 * before the trade is followed by one after it) and the status of each
 * marked order that is OPEN (a mark on an order whose id is not known
 * yet waits for it). Fills stay keyed by trade sequence as above, so
 * nothing applies twice. While the stream is healthy (LIVE: connected
 * and a message after the credentials; a message or keep-alive within
 * venue.stream_timeout_ms) and caught up, the status round sends no
 * listtrades and no status of OPEN orders, except one round in
 * STREAM_AUDIT_ROUNDS (a slow audit); lookups, probes, markets, re-reads,
 * submits, cancels and the recovery pass are unchanged. Every new live
 * connection is a catch-up: every pair's trades after its cursor and
 * the status of every OPEN order are read over REST while polling goes
 * on; polling stops only once none of those reads is queued or in
 * flight. A stream that turns unhealthy (dropped, silent, refused) puts
 * the venue back to polling at once. Counters: catch-ups, fallbacks,
 * polls saved, reads triggered (log_stats, with the stream's own).
 *
 * Owner: the executor thread (every function here), except that the budget
 * is the Luno instance's (luno.h), shared with the feed (atomics).
 */
#ifndef IG_LUNO_LUNO_VENUE_H
#define IG_LUNO_LUNO_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/hist.h"
#include "luno/luno_budget.h"
#include "luno/luno_http.h"
#include "luno/luno_json.h"
#include "api/snapshot.h"
#include "exec/venue.h"

struct ig_luno_instance; /* luno.h */

#define IG_LUNO_MAX_ORDERS 1024   /* live order records */
#define IG_LUNO_RECENT 1024       /* finished orders remembered for late trades */
#define IG_LUNO_QUEUE (2 * IG_LUNO_MAX_ORDERS + 6 * IG_MAX_INSTRUMENTS + 2)
#define IG_LUNO_SLOTS 4           /* concurrent HTTP requests */
#define IG_LUNO_TRADES_PAGE 100   /* listtrades limit */
#define IG_LUNO_ORDERS_PAGE 100   /* listorders limit */
#define IG_LUNO_BODY_MAX (256 * 1024) /* largest reply accepted, bytes */
#define IG_LUNO_URL_MAX 512
#define IG_LUNO_SECRET_MAX 256

/* Everything the venue needs; ig_luno_opts_from_config() fills it from the
 * config, tests fill it directly. Strings are copied at init. */
struct ig_luno_opts {
	const char *base_url;       /* default IG_CFG_DEFAULT_VENUE_BASE_URL */
	const char *key_id_env;     /* name of the env variable with the key id */
	const char *secret_env;     /* name of the env variable with the secret */
	const char *pairs[IG_MAX_INSTRUMENTS]; /* Luno pair per instrument id */
	uint32_t npairs;
	int price_scale[IG_MAX_INSTRUMENTS];  /* decimals; -1 = from /markets */
	int volume_scale[IG_MAX_INSTRUMENTS]; /* decimals; -1 = from /markets */
	int64_t connect_timeout_ms; /* default IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS */
	int64_t timeout_ms;         /* total per request; default IG_CFG_DEFAULT_TIMEOUT_MS */
	int64_t status_ms;          /* listtrades / status cadence; default IG_CFG_DEFAULT_HEARTBEAT_MS */
	int64_t in_doubt_window_ms; /* not-found is final only after the last send + this; default timeout_ms + 2000 */
	int64_t market_buy_ioc_bps; /* market BUY as BID IOC at ref + bps (default 50); -1: marketorder counter_volume */
	int64_t io_poll_us;         /* poll spacing while HTTP is in flight; default 200 */
	int64_t max_send_attempts;  /* for submits whose connection never opened; default 3 */
	int64_t poll_reserve;       /* budget calls periodic polls leave free; -1 = burst / 3 */
	struct ig_luno_budget *budget; /* shared budget; NULL = an own one: */
	int64_t requests_per_min;   /*   its calls a minute; default IG_CFG_DEFAULT_REQUESTS_PER_MIN */
	int64_t backoff_base_ms;    /*   its first 429 backoff; default 500 */
	int64_t since_ms;           /* listtrades since= (Unix ms); 0 = from Luno's latest trade */
	bool user_stream;           /* the user stream triggers the reads (see "User stream") */
	const char *stream_url;     /* ws(s):// stream base; NULL or "" = from base_url */
	int64_t stream_timeout_ms;  /* default IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS */
	int64_t stream_backoff_ms;  /* first reconnect wait; default 500 */
};

/* Counters for the closing note. Owner: executor thread. */
struct ig_luno_stats {
	uint64_t requests;          /* HTTP requests started */
	uint64_t submits;           /* postorder/marketorder sent (incl. retries) */
	uint64_t cancels;           /* stoporder sent */
	uint64_t lookups;           /* exchange/3/order sent (in-doubt and status) */
	uint64_t trade_polls;       /* listtrades sent */
	uint64_t http_2xx;          /* responses by status class */
	uint64_t http_3xx;
	uint64_t http_4xx;
	uint64_t http_5xx;
	uint64_t transport_errors;  /* no HTTP status: refused, reset, timed out */
	uint64_t timeouts;          /* of which timed out */
	uint64_t http_429;
	uint64_t retries;           /* requests sent again (429, unsent, failed cancel) */
	uint64_t cancel_failing;    /* cancel failures past the fifth attempt of an order */
	uint64_t budget_waits;      /* times the queue had to wait for the budget */
	uint64_t malformed;         /* replies that did not parse */
	uint64_t accepted;
	uint64_t rejected;          /* venue rejects (incl. in-doubt not found) */
	uint64_t canceled;
	uint64_t expired;
	uint64_t in_doubt;          /* orders whose outcome was unknown */
	uint64_t in_doubt_found;    /*   resolved: found by lookup -> ACCEPTED */
	uint64_t in_doubt_by_trade; /*   resolved: a trade showed it exists */
	uint64_t in_doubt_not_found;/*   resolved: not found after the window -> REJECTED */
	uint64_t unplaced_found;    /*   of which found later after all: adopted back */
	uint64_t duplicate_409;     /* ErrDuplicateClientOrderID answers */
	uint64_t fills;             /* IG_EV_FILL emitted */
	uint64_t duplicate_trades;  /* trades skipped: already seen, or of a finished order */
	uint64_t unlisted_fills;    /* orders whose status shows more filled than their listed
				     * trades after REREAD_MAX re-reads (logged as errors) */
	uint64_t foreign_trades;    /* trades of orders this venue never sent */
	uint64_t overfills;         /* market-buy trades clamped to the order's qty */
	uint64_t recovered;         /* recovery: journal orders seeded by recover() */
	uint64_t recover_found;     /*   of which found at Luno (lookup or trade) */
	uint64_t recover_not_found; /*   of which not found after the window -> REJECTED */
	uint64_t adopted;           /* open orders of ours the journal lacked */
	uint64_t foreign_orders;    /* open orders on the account that are not ours */
	uint64_t recon_fills;       /* fills emitted while the pass ran */
	uint64_t recon_passes;      /* passes completed (IG_RECON_OK reported) */
	/* User stream (venue side; the connection's own counters are the
	 * stream's, luno_user.h). */
	uint64_t stream_catchups;   /* REST catch-ups after a (re)connect */
	uint64_t stream_saved;      /* listtrades / status polls not sent: the stream was healthy */
	uint64_t stream_trade_reads;/* listtrades a stream message triggered */
	uint64_t stream_status_reads;/* order status reads a stream message triggered */
	uint64_t stream_fallbacks;  /* times the stream turned unhealthy and polling resumed */
	struct ig_hist rtt_ns;      /* REST round trip (curl total time), ns */
	int64_t last_rtt_ns;        /* the last request's round trip, ns */
	uint64_t http_code[IG_SNAP_HTTP__COUNT]; /* failed replies by code (api/snapshot.h) */
	uint32_t bad_streak;        /* replies in a row that were 5xx, 429 or transport errors */
	struct ig_hist order_rtt_ns; /* of which order submits (postorder, marketorder):
				      * the summary's venue.round_trip_ns */
};

/* Venue-side order record. Owner: executor thread. */
struct ig_luno_rec {
	uint64_t client_id;        /* 0 = free */
	uint64_t venue_id;         /* numeric form of order_id for the OMS */
	char order_id[IG_LUNO_ID_MAX]; /* Luno's id, "" until known */
	int64_t qty;               /* as the OMS sent it, 1e-8 */
	int64_t px;                /* limit price (or market-buy reference), 1e-8 */
	int64_t ref_px;            /* market buy: price that sized counter_volume, 1e-8 */
	int64_t filled_qty;        /* emitted in fills, 1e-8 */
	int64_t venue_base;        /* base of all venue trades applied (before clamping), 1e-8 */
	int64_t status_base;       /* base filled per the last status, 1e-8 */
	int64_t sent_ns;           /* last send attempt, CLOCK_MONOTONIC */
	int64_t next_lookup_ns;    /* in doubt: next lookup not before */
	int64_t last_status_ns;    /* last status answer */
	int64_t next_cancel_ns;    /* a failed cancel goes again not before this */
	int64_t cancel_sent_ns;    /* the last stoporder went out; 0 = none */
	int64_t unplaced_until_ns; /* UNPLACED: looked for until then */
	int64_t ts_origin_ns;      /* of the order event */
	int64_t ts_event_ns;
	uint64_t last_seq;         /* last trade sequence applied */
	int64_t created_ms;        /* Luno's creation_timestamp (Unix ms, Luno's clock); 0 unknown */
	bool looked;               /* recovered: a lookup answered (found or not found) */
	uint64_t seq_floor;        /* the instrument's cursor when the record was made: every
				    * trade of the order is above it */
	int64_t gap_since_ns;      /* Luno's base has been above venue_base since; 0 = no gap;
				    * -1 = given up after REREAD_MAX re-reads (reported) */
	uint16_t strategy_id;
	uint16_t instrument_id;
	uint8_t side;              /* enum ig_side */
	uint8_t type;              /* IG_ORD_MARKET or IG_ORD_LIMIT */
	uint8_t tif;               /* enum ig_tif */
	uint8_t flags;             /* IG_ORDF_* */
	uint8_t state;             /* QUEUED, SENDING, OPEN, IN_DOUBT, UNPLACED (luno_venue.c) */
	uint8_t send_attempts;     /* unsent attempts so far */
	uint8_t cancel_attempts;
	uint8_t rereads;           /* trade re-reads for it (the first is logged as a warning) */
	bool announced;            /* IN_DOUBT was emitted */
	bool complete;             /* Luno said COMPLETE */
	bool cancel_wanted;        /* the OMS asked to cancel */
	bool cancel_done;          /* Luno accepted the stoporder */
	bool cancel_gone;          /* Luno answered the stoporder: the order is not open */
	bool rq_submit;            /* a submit is queued or in flight */
	bool rq_cancel;            /* a cancel is queued or in flight */
	bool rq_lookup;            /* a lookup/status is queued or in flight */
	bool cancel_sent;          /* a stoporder went out */
	bool recovered;            /* seeded by recover(): looked up, never sent */
	bool quiet;                /* recovered: the OMS had it past SUBMITTED/IN_DOUBT, so
				    * found emits no ACCEPTED */
	bool acked;                /* recovered: the OMS had it acknowledged, so not found
				    * is CANCELED (REJECTED is not legal for it) */
	bool rcv_pending;          /* recovered: not yet resolved (the pass waits) */
	bool rcv_gone;             /* recovered: not found after the window; final once
				    * the trade catch-up is complete */
	bool stream_dirty;         /* the user stream says it changed: read its status once it
				    * is OPEN and no lookup is in flight */
	bool catchup;              /* stream catch-up: its status not yet read since the
				    * connection went live */
};

struct ig_luno_req {
	uint8_t kind;              /* luno_venue.c enum */
	uint16_t instrument_id;
	uint32_t rec;              /* record index + 1, 0 = none */
	uint64_t client_id;        /* the record's client id when queued */
	uint64_t seq;              /* queue order */
	int64_t not_before_ns;
	int64_t queued_ns;         /* when it was first queued */
	bool reread;               /* listtrades: a re-read from an order's own cursor */
	bool probe;                /* listtrades: the probe (the account's latest trade) */
};

struct ig_luno_inst {
	char pair[IG_LUNO_PAIR_MAX];
	int price_scale;           /* -1 until known */
	int volume_scale;
	bool invalid;              /* /markets does not list it */
	bool rq_markets;
	bool rq_trades;
	bool more_trades;          /* last page was full */
	bool rq_orders;            /* recovery: a listorders is queued or in flight */
	bool have_markets;         /* /markets answered for it */
	int64_t next_markets_ns;
	int64_t since_ms;          /* listtrades since= (Unix ms); 0 = not sent */
	bool probe;                /* the first listtrades asks for the latest trade only
				    * (sort_desc, limit 1): last_seq = its sequence; submits
				    * on the pair wait for it (see "Fills") */
	uint8_t probe_fails;       /* failed probes so far (backoff) */
	int64_t probe_until_ns;    /* submits wait for the probe until then at most */
	bool rcv_since_wait;       /* recovery, no journal cursor: the catch-up waits for
				    * the recovered orders' creation times (since=) */
	uint64_t last_seq;         /* trades cursor: highest sequence applied */
	bool reread;               /* the next listtrades re-reads from reread_seq: an order's
				    * trades fall short of its status (see on_trades) */
	uint64_t reread_seq;       /* after_seq of the re-read; 0 = from since / the start */
	char base_asset[IG_LUNO_ASSET_MAX];    /* "" until known (3+3 split or /markets) */
	char counter_asset[IG_LUNO_ASSET_MAX];
	/* Recovery pass, this instrument. */
	bool rcv_trades_done;      /* the listtrades catch-up reached a short page */
	bool rcv_orders_done;      /* listorders read to the end */
	int64_t rcv_trades_next_ns;/* next catch-up attempt not before */
	int64_t rcv_orders_next_ns;
	int64_t rcv_orders_before; /* listorders created_before for the next page; 0 = first */
	int64_t rcv_base_balance;  /* 1e-8 */
	int64_t rcv_counter_balance;
	uint32_t rcv_resolved;
	uint32_t rcv_adopted;
	uint32_t rcv_foreign;
	uint32_t rcv_fills;
	bool stream_dirty;         /* the user stream says trades may be new: read after the
				    * cursor once no listtrades is queued or in flight */
	bool catchup;              /* stream catch-up: not yet read to a short page since the
				    * connection went live */
	int64_t stream_not_before_ns; /* the next triggered read not before: one per status period */
	int64_t bid_px;            /* latest market data, 1e-8 */
	int64_t ask_px;
};

struct ig_luno_slot {
	void *easy;                /* CURL * */
	bool busy;
	struct ig_luno_req req;
	struct ig_luno_body rx;    /* the reply, IG_LUNO_BODY_MAX at most */
	char url[IG_LUNO_URL_MAX];
	char post[IG_LUNO_URL_MAX];
	char errbuf[256];          /* CURL_ERROR_SIZE */
};

/* The recovery pass (recover() to the IG_RECON_OK report). */
struct ig_luno_rcv {
	bool active;               /* a pass is running */
	bool reported;             /* the not-OK report went out */
	bool balances_done;
	bool rq_balance;           /* a balance request is queued or in flight */
	uint8_t error;             /* enum ig_recon_error of the last failure; OK = none */
	int64_t started_ns;        /* recover() time, CLOCK_MONOTONIC */
	int64_t deadline_ns;       /* started + the recovery timeout */
	int64_t balance_next_ns;   /* next balance attempt not before */
	uint64_t balance_seq[IG_MAX_INSTRUMENTS]; /* trade cursors when the balances were read */
	uint32_t balance_reads;    /* balance reads this pass */
};

struct ig_luno {
	char base_url[IG_CFG_PATH_MAX];
	char key_id[IG_LUNO_SECRET_MAX];
	char secret[IG_LUNO_SECRET_MAX];
	char auth_b64[IG_LUNO_SECRET_MAX * 2]; /* base64("key:secret"), for scrubbing */
	struct ig_luno_inst inst[IG_MAX_INSTRUMENTS];
	uint32_t ninst;
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	int64_t status_ns;
	int64_t in_doubt_window_ns;
	int64_t market_buy_ioc_bps;
	int64_t io_poll_ns;
	int64_t max_send_attempts;
	int64_t poll_reserve;
	int64_t since_ms;
	struct ig_luno_budget *budget; /* the instance's (shared with the feed) or &own_budget */
	struct ig_luno_budget own_budget;
	struct ig_luno_instance *instance; /* made by the registry's create(), lent to the feed (op_peer): released at destroy */
	void *multi;               /* CURLM * */
	struct ig_luno_slot slots[IG_LUNO_SLOTS];
	uint32_t nbusy;
	struct ig_luno_rec *recs;  /* IG_LUNO_MAX_ORDERS */
	uint32_t nrecs;            /* high-water index in use */
	uint32_t live;
	uint64_t *recent;          /* IG_LUNO_RECENT finished client ids (ring) */
	uint32_t recent_head;
	struct ig_luno_req *queue; /* IG_LUNO_QUEUE, unordered; picked by class then seq */
	uint32_t nq;
	uint64_t next_seq;
	struct ig_luno_trade *page; /* IG_LUNO_TRADES_PAGE scratch */
	struct ig_luno_order_status *opage; /* IG_LUNO_ORDERS_PAGE scratch */
	struct ig_luno_rcv rcv;
	int64_t next_status_ns;
	int64_t budget_retry_ns;   /* the budget said "not before"; 0 = not waiting */
	bool promoted_last;        /* the last request started was an aged poll */
	uint64_t rng;              /* jitter */
	/* User stream (NULL when venue.user_stream is off). */
	struct ig_luno_user *user;
	uint64_t user_seen;        /* the stream's signal count when last taken */
	uint64_t user_gen;         /* the live generation caught up (or catching up) */
	bool stream_on;            /* healthy and caught up: the steady polls stop */
	bool catching_up;          /* a new connection: REST reads before stream_on */
	int64_t catchup_ns;        /* when it went live: catch-up reads are queued after it */
	uint32_t stream_rounds;    /* status rounds skipped while stream_on (audit pace) */
	struct ig_luno_stats stats;
};

/* The venue interface (venue.h); the venue pointer is a struct ig_luno *. */
extern const struct ig_venue_ops ig_luno_ops;

/* The registry entry (venues.c); its peer op hands the engine's Luno feed
 * the venue's Luno instance (luno.h). */
extern const struct ig_venue_type ig_luno_venue_type;

/* Defaults for every option (no pairs). */
void ig_luno_opts_default(struct ig_luno_opts *o);

/* Options from the config: venue.* keys; instrument 0 is feed.symbol (one
 * feed, one symbol in this version); no budget: the registry's create()
 * gives the Luno instance's (luno.h), shared with the engine's luno feed.
 * Pointers into cfg must outlive init. */
void ig_luno_opts_from_config(struct ig_luno_opts *o, const struct ig_config *cfg);

/*
 * Sets up the venue on caller-owned memory: reads the key id and secret
 * from the environment, allocates every table and the curl handles.
 * curl_global_init() must already have run (main thread, before threads).
 * Returns 0, or IG_ECONFIG (err says which option or variable) or IG_ENOMEM;
 * on failure nothing is left to undo. Call on the executor thread, or
 * before it starts.
 */
int ig_luno_init(struct ig_luno *v, const struct ig_luno_opts *o, char *err, size_t errlen);

/* Frees everything and wipes the credentials. Outstanding requests are
 * abandoned (call while busy() is false to lose nothing). */
void ig_luno_destroy(struct ig_luno *v);

/* The venue entry points, also reachable through ig_luno_ops. Executor
 * thread only. */
void ig_luno_submit(struct ig_luno *v, const struct ig_event *order, struct ig_emit *out);
void ig_luno_cancel(struct ig_luno *v, const struct ig_event *cancel, struct ig_emit *out);
void ig_luno_market_data(struct ig_luno *v, const struct ig_event *md, struct ig_emit *out);
int ig_luno_poll(struct ig_luno *v, int64_t now_ns, struct ig_emit *out);
int64_t ig_luno_deadline_ns(const struct ig_luno *v);
/* Seeds the journal's unfinished orders and starts the recovery pass (see
 * "Recovery" above); the pass runs in poll(). Call once, before the first
 * poll. Returns 0; IG_ESTATE if a pass was already started; IG_ELIMIT if
 * the order table could not hold every order (those that fit are
 * recovered, the rest logged). */
int ig_luno_recover(struct ig_luno *v, const struct ig_recover *rc);
/* True while an order's outcome is still open: a submit or cancel queued
 * or in flight, or an order in doubt; and while a recovery pass runs. */
bool ig_luno_busy(const struct ig_luno *v);

/* True when the user stream has signalled something poll() has not taken
 * yet (the executor's has_work). */
bool ig_luno_has_work(const struct ig_luno *v);

/* The function the user stream calls to wake the executor (venue.h
 * set_wake). Main thread, before or while the threads run. */
void ig_luno_set_wake(struct ig_luno *v, void (*fn)(void *), void *arg);

/* Logs the counters as one line (for the closing note). */
void ig_luno_log_stats(const struct ig_luno *v);

/* The client_order_id for a client id: "ig-%016llx". buf >= 20 bytes. */
void ig_luno_client_order_id(uint64_t client_id, char *buf, size_t cap);

/* Parses ig_luno_client_order_id's form ("ig-%016llx") back. Returns the
 * client id, or 0 if s (may be NULL) is not one of ours. */
uint64_t ig_luno_client_id_parse(const char *s);

/* The numeric venue order id the OMS sees for Luno's order id: the number
 * itself when it is all digits (exchange-sim), else a 64-bit FNV-1a hash;
 * never 0. */
uint64_t ig_luno_venue_id(const char *order_id);

#endif

/*
 * indicators.h - incremental technical indicators for strategies (part of
 * the strategy SDK).
 *
 * Design
 * ------
 * Every indicator is a struct the strategy embeds in its own state block
 * (fields are private: read them only through the functions) and a family
 * of functions ig_<indicator>_<verb>:
 *
 *   ig_X_init(x, params...)  checks the params and allocates the window,
 *                            once. Returns 0, IG_EINVAL (a bad param, or
 *                            x == NULL; x is then left zeroed) or IG_ENOMEM.
 *                            Call it from the strategy's init (main thread).
 *   ig_X_update(x, input)    adds one observation: O(1) (the rolling
 *                            min/max: amortised O(1)), no allocation, no
 *                            locks, never blocks. Returns 0, or IG_EINVAL
 *                            for bad input or an x that was never
 *                            initialised (x is then unchanged: nothing is
 *                            lost, the next good input carries on).
 *   ig_X_ready(x)            true once the value is defined (the warm-up of
 *                            each indicator is stated with it).
 *   ig_X_value(x) etc.       the current value; 0 while not ready.
 *   ig_X_free(x)             frees what init allocated and zeroes x. Safe
 *                            on a zeroed struct, after a failed init, and
 *                            twice. The struct itself is the caller's.
 *
 * One style for all: the library allocates (malloc) the window in init and
 * frees it in free; indicators without a window allocate nothing but still
 * have init and free, so every indicator is used the same way. Call init
 * once per struct (init over a live struct leaks its window: free first).
 * A strategy calls ig_X_init in its init callback and ig_X_free in its
 * destroy callback.
 *
 * Inputs are int64 fixed-point 1e-8 (fixed.h), as the engine's events carry
 * them. Results:
 *   - exact int64 1e-8 where the definition allows: SMA, WMA and rolling
 *     VWAP are exact sums (128-bit inside the library, so no overflow for any
 *     int64 input and any period up to IG_IND_MAX_PERIOD) rounded once to
 *     1e-8, halves away from zero, as ig_fixed_round_wide does; the rolling
 *     min/max are the inputs themselves;
 *   - double elsewhere (EMA, RSI, MACD, Bollinger, ATR, stochastic), in the
 *     input's whole units: a price of 61235000000 (1e-8) is 612.35. Never
 *     feed a double back into money; compare it, or convert with care.
 * Periods are counts of updates (bars, trades or quotes: whatever the
 * strategy feeds), between 1 and IG_IND_MAX_PERIOD.
 *
 * An indicator is not thread-safe; it lives on its strategy's thread.
 */
#ifndef INGENIUM_INDICATORS_H
#define INGENIUM_INDICATORS_H

#include <stdbool.h>
#include <stdint.h>

#include "ingenium/error.h"

/* Longest period any indicator accepts (16,777,216 updates). */
#define IG_IND_MAX_PERIOD (INT64_C(1) << 24)

/* ---------------------------------------------------------------- SMA --- */

/* Simple moving average of the last n values: sum / n, exact, rounded once
 * to 1e-8 (halves away from zero). Ready after n values. */
struct ig_sma {
	int64_t *win;      /* ring of the last n values (init allocates) */
	int64_t n;
	uint64_t seen;     /* values added */
	uint32_t head;     /* ring slot of the next value */
	uint64_t sum_w[2]; /* exact 128-bit sum of the window (opaque words) */
};

/* Returns 0, IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD) or IG_ENOMEM. */
int ig_sma_init(struct ig_sma *s, int64_t n);
/* Adds v (1e-8). Returns 0, or IG_EINVAL if s is not initialised. */
int ig_sma_update(struct ig_sma *s, int64_t v);
/* True once n values have been added. */
bool ig_sma_ready(const struct ig_sma *s);
/* The mean of the last n values (1e-8, rounded), or 0 while not ready. */
int64_t ig_sma_value(const struct ig_sma *s);
/* Frees the window; s is zeroed. */
void ig_sma_free(struct ig_sma *s);

/* ---------------------------------------------------------------- EMA --- */

/* Exponential moving average, alpha = 2 / (n + 1):
 *   EMA = alpha * v + (1 - alpha) * EMA_prev.
 * Seeding: the first value is the SMA of the first n values (ready after n
 * values); each later value applies the formula. Double. */
struct ig_ema {
	int64_t n;
	uint64_t seen;
	double alpha;
	double seed_sum;   /* sum of the first n values while warming up */
	double value;
};

/* Returns 0 or IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD). Allocates
 * nothing. */
int ig_ema_init(struct ig_ema *e, int64_t n);
/* Adds v (1e-8). Returns 0, or IG_EINVAL if e is not initialised. */
int ig_ema_update(struct ig_ema *e, int64_t v);
/* Adds a double (whole units: another indicator's output, say). Returns 0,
 * or IG_EINVAL if v is not finite or e is not initialised. */
int ig_ema_update_f(struct ig_ema *e, double v);
/* True once n values have been added. */
bool ig_ema_ready(const struct ig_ema *e);
/* The EMA in whole units, or 0 while not ready. */
double ig_ema_value(const struct ig_ema *e);
/* Nothing to free; e is zeroed. */
void ig_ema_free(struct ig_ema *e);

/* ---------------------------------------------------------------- WMA --- */

/* Linearly weighted moving average of the last n values, the newest with
 * weight n, the oldest with weight 1: sum(w_i * v_i) / (n (n + 1) / 2),
 * exact, rounded once to 1e-8 (halves away from zero). Ready after n
 * values. */
struct ig_wma {
	struct ig_sma sma;   /* the window and its plain sum */
	uint64_t num_w[2];   /* exact 128-bit weighted sum (opaque words) */
};

/* Returns 0, IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD) or IG_ENOMEM. */
int ig_wma_init(struct ig_wma *w, int64_t n);
/* Adds v (1e-8). Returns 0, or IG_EINVAL if w is not initialised. */
int ig_wma_update(struct ig_wma *w, int64_t v);
/* True once n values have been added. */
bool ig_wma_ready(const struct ig_wma *w);
/* The WMA (1e-8, rounded), or 0 while not ready. */
int64_t ig_wma_value(const struct ig_wma *w);
/* Frees the window; w is zeroed. */
void ig_wma_free(struct ig_wma *w);

/* ---------------------------------------------------------------- RSI --- */

/* Relative strength index, Wilder's smoothing. From price changes
 * d = px - px_prev: gain = max(d, 0), loss = max(-d, 0). The first averages
 * are the plain means of the first n gains and losses (n + 1 prices, so
 * ready after n + 1 prices); then avg = (avg_prev * (n - 1) + x) / n.
 * RSI = 100 - 100 / (1 + avg_gain / avg_loss), in [0, 100]; when avg_loss
 * is 0 (no losses, a constant series included) RSI is 100. Double. */
struct ig_rsi {
	int64_t n;
	uint64_t seen;     /* prices added */
	int64_t prev_px;
	double avg_gain;   /* sums while warming up, then averages */
	double avg_loss;
};

/* Returns 0 or IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD). Allocates
 * nothing. */
int ig_rsi_init(struct ig_rsi *r, int64_t n);
/* Adds a price (1e-8). Returns 0, or IG_EINVAL if r is not initialised. */
int ig_rsi_update(struct ig_rsi *r, int64_t px);
/* True once n + 1 prices have been added. */
bool ig_rsi_ready(const struct ig_rsi *r);
/* RSI in [0, 100], or 0 while not ready. */
double ig_rsi_value(const struct ig_rsi *r);
/* Nothing to free; r is zeroed. */
void ig_rsi_free(struct ig_rsi *r);

/* --------------------------------------------------------------- MACD --- */

/* MACD (classically fast 12, slow 26, signal 9). line = EMA_fast(px) -
 * EMA_slow(px), both EMAs seeded as ig_ema is (the SMA of their first
 * fast / slow prices, both counted from the first price), so the line is
 * defined from the slow-th price. signal = EMA_signal(line), seeded with
 * the SMA of the first `signal` line values: defined from price
 * slow + signal - 1 (26 + 9 - 1 = 34th). histogram = line - signal.
 * Double, whole units. */
struct ig_macd {
	struct ig_ema fast;
	struct ig_ema slow;
	struct ig_ema signal;
	double line;
};

/* Returns 0 or IG_EINVAL (a period < 1 or > IG_IND_MAX_PERIOD, or
 * fast >= slow). Allocates nothing. */
int ig_macd_init(struct ig_macd *m, int64_t fast, int64_t slow, int64_t signal);
/* Adds a price (1e-8). Returns 0, or IG_EINVAL if m is not initialised. */
int ig_macd_update(struct ig_macd *m, int64_t px);
/* True once the line is defined (slow prices). */
bool ig_macd_ready(const struct ig_macd *m);
/* True once the signal and histogram are defined (slow + signal - 1). */
bool ig_macd_signal_ready(const struct ig_macd *m);
/* The MACD line, or 0 while not ready. */
double ig_macd_line(const struct ig_macd *m);
/* The signal line, or 0 while not signal-ready. */
double ig_macd_signal(const struct ig_macd *m);
/* line - signal, or 0 while not signal-ready. */
double ig_macd_hist(const struct ig_macd *m);
/* Nothing to free; m is zeroed. */
void ig_macd_free(struct ig_macd *m);

/* ---------------------------------------------------------- Bollinger --- */

/* Bollinger bands over the last n prices: middle = SMA, upper/lower =
 * middle +/- k * sigma, sigma the population standard deviation (divided by
 * n). The sums of the prices and of their squares are exact integers
 * (128 and 192 bits inside), so sigma is exactly 0 for a constant window
 * and has no cancellation error; only the final sqrt and division are
 * double. Ready after n prices. */
struct ig_bollinger {
	struct ig_sma sma;   /* the window and its exact sum */
	uint64_t sq_w[3];    /* exact 192-bit sum of squares (opaque words) */
	double k;
};

/* Returns 0, IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD, k not finite or
 * k <= 0) or IG_ENOMEM. */
int ig_bollinger_init(struct ig_bollinger *b, int64_t n, double k);
/* Adds a price (1e-8). Returns 0, or IG_EINVAL if b is not initialised. */
int ig_bollinger_update(struct ig_bollinger *b, int64_t px);
/* True once n prices have been added. */
bool ig_bollinger_ready(const struct ig_bollinger *b);
/* Each returns its value in whole units, or 0 while not ready. */
double ig_bollinger_middle(const struct ig_bollinger *b);
double ig_bollinger_upper(const struct ig_bollinger *b);
double ig_bollinger_lower(const struct ig_bollinger *b);
double ig_bollinger_stddev(const struct ig_bollinger *b);
/* upper - lower = 2 k sigma (0 for a constant window). */
double ig_bollinger_width(const struct ig_bollinger *b);
/* Frees the window; b is zeroed. */
void ig_bollinger_free(struct ig_bollinger *b);

/* ---------------------------------------------------------------- ATR --- */

/* Average true range, Wilder. TR = max(high - low, |high - close_prev|,
 * |low - close_prev|); the first bar has no previous close, so its TR is
 * high - low. The first ATR is the mean of the first n TRs (ready after n
 * bars); then ATR = (ATR_prev * (n - 1) + TR) / n. Double, whole units. */
struct ig_atr {
	int64_t n;
	uint64_t seen;       /* bars added */
	int64_t prev_close_px;
	double value;        /* sum of TRs while warming up, then the ATR */
};

/* Returns 0 or IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD). Allocates
 * nothing. */
int ig_atr_init(struct ig_atr *a, int64_t n);
/* Adds a bar (1e-8). Returns 0, or IG_EINVAL (high_px < low_px, or a not
 * initialised; a is unchanged). */
int ig_atr_update(struct ig_atr *a, int64_t high_px, int64_t low_px, int64_t close_px);
/* True once n bars have been added. */
bool ig_atr_ready(const struct ig_atr *a);
/* The ATR in whole units, or 0 while not ready. */
double ig_atr_value(const struct ig_atr *a);
/* Nothing to free; a is zeroed. */
void ig_atr_free(struct ig_atr *a);

/* -------------------------------------------- rolling min/max, Donchian --- */

/* Highest high and lowest low of the last n bars (the Donchian channel),
 * exact: two monotonic deques, amortised O(1) per bar. For the rolling
 * max/min of one series pass the value as both high and low. Ready after
 * n bars. */
struct ig_donchian {
	int64_t *mem;        /* one block: both deques (init allocates) */
	int64_t n;
	uint64_t seen;       /* bars added */
	uint32_t hi_head, hi_len; /* deque of (index, high), highs decreasing */
	uint32_t lo_head, lo_len; /* deque of (index, low), lows increasing */
};

/* Returns 0, IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD) or IG_ENOMEM. */
int ig_donchian_init(struct ig_donchian *d, int64_t n);
/* Adds a bar (1e-8). Returns 0, or IG_EINVAL (high_px < low_px, or d not
 * initialised; d is unchanged). */
int ig_donchian_update(struct ig_donchian *d, int64_t high_px, int64_t low_px);
/* True once n bars have been added. */
bool ig_donchian_ready(const struct ig_donchian *d);
/* The highest high of the last n bars (1e-8), or 0 while not ready. */
int64_t ig_donchian_high_px(const struct ig_donchian *d);
/* The lowest low of the last n bars (1e-8), or 0 while not ready. */
int64_t ig_donchian_low_px(const struct ig_donchian *d);
/* (high + low) / 2, rounded to 1e-8 halves away from zero; 0 while not
 * ready. */
int64_t ig_donchian_mid_px(const struct ig_donchian *d);
/* Frees the deques; d is zeroed. */
void ig_donchian_free(struct ig_donchian *d);

/* --------------------------------------------------------- stochastic --- */

/* Stochastic oscillator over bars: %K = 100 (close - LL) / (HH - LL), HH
 * and LL the highest high and lowest low of the last n bars (ready after n
 * bars; when HH == LL, %K is 50: the close is both the high and the low).
 * %D = SMA of the last d %K values (ready after n + d - 1 bars). Both in
 * [0, 100], double. */
struct ig_stoch {
	struct ig_donchian hl;
	double *kwin;        /* ring of the last d %K values (init allocates) */
	int64_t d;
	uint64_t kseen;      /* %K values computed */
	uint32_t khead;
	double ksum;         /* sum of the ring (re-summed at each wrap) */
	double k;
};

/* Returns 0, IG_EINVAL (n or d < 1 or > IG_IND_MAX_PERIOD) or IG_ENOMEM. */
int ig_stoch_init(struct ig_stoch *s, int64_t n, int64_t d);
/* Adds a bar (1e-8). Returns 0, or IG_EINVAL (not low <= close <= high, or
 * s not initialised; s is unchanged). */
int ig_stoch_update(struct ig_stoch *s, int64_t high_px, int64_t low_px, int64_t close_px);
/* True once %K is defined (n bars). */
bool ig_stoch_k_ready(const struct ig_stoch *s);
/* True once %D is defined (n + d - 1 bars). */
bool ig_stoch_d_ready(const struct ig_stoch *s);
/* %K in [0, 100], or 0 while not ready. */
double ig_stoch_k(const struct ig_stoch *s);
/* %D in [0, 100], or 0 while not ready. */
double ig_stoch_d(const struct ig_stoch *s);
/* Frees the windows; s is zeroed. */
void ig_stoch_free(struct ig_stoch *s);

/* ------------------------------------------------------- rolling VWAP --- */

/* Volume-weighted average price of the last n trades (or bars):
 * sum(px * qty) / sum(qty), exact 128-bit sums, rounded once to 1e-8
 * (halves away from zero). Ready after n updates, provided the window's
 * quantity is not 0. */
struct ig_vwap {
	int64_t *win;        /* ring of (px, qty) pairs (init allocates) */
	int64_t n;
	uint64_t seen;
	uint32_t head;
	uint64_t pq_w[2];    /* exact sum of px * qty, 1e-16 (opaque words) */
	uint64_t q_w[2];     /* exact sum of qty, 1e-8 (opaque words) */
};

/* Returns 0, IG_EINVAL (n < 1 or n > IG_IND_MAX_PERIOD) or IG_ENOMEM. */
int ig_vwap_init(struct ig_vwap *v, int64_t n);
/* Adds a trade (px, qty in 1e-8). Returns 0, IG_EINVAL (qty < 0, or v not
 * initialised) or IG_EOVERFLOW (the window's sum of px * qty would leave
 * the 128-bit range, beyond 1.7e22 in money; needs absurd inputs); v is
 * unchanged on error. */
int ig_vwap_update(struct ig_vwap *v, int64_t px, int64_t qty);
/* True once n trades have been added and their total qty is not 0. */
bool ig_vwap_ready(const struct ig_vwap *v);
/* The VWAP (1e-8, rounded), or 0 while not ready. */
int64_t ig_vwap_px(const struct ig_vwap *v);
/* Frees the window; v is zeroed. */
void ig_vwap_free(struct ig_vwap *v);

/* ---------------------------------------------------------- crossover --- */

/* Crossover of two series a and b (fast and slow averages, say). The state
 * is the last strict relation between them. An update where a > b after a
 * last strict relation a < b is a cross above; a < b after a > b, a cross
 * below. Equal values (and NaN) keep the last relation: touching is not a
 * cross, and crossing through equality is reported once, at the first
 * update strictly on the other side. The first strict relation is not a
 * cross. */
enum ig_cross_dir {
	IG_CROSS_BELOW = -1,
	IG_CROSS_NONE = 0,
	IG_CROSS_ABOVE = 1,
};

struct ig_cross {
	int side;            /* +1 a above b, -1 below, 0 not known yet */
};

/* Returns 0, or IG_EINVAL if c is NULL. Allocates nothing. */
int ig_cross_init(struct ig_cross *c);
/* Compares a and b (any one unit). Returns IG_CROSS_ABOVE, IG_CROSS_BELOW
 * or IG_CROSS_NONE. */
enum ig_cross_dir ig_cross_update(struct ig_cross *c, double a, double b);
/* The same for fixed-point values (exact comparison). */
enum ig_cross_dir ig_cross_update_fixed(struct ig_cross *c, int64_t a, int64_t b);
/* The last strict relation: +1 a above b, -1 below, 0 none yet. */
int ig_cross_side(const struct ig_cross *c);
/* Nothing to free; c is zeroed. */
void ig_cross_free(struct ig_cross *c);

#endif

/*
 * indicators.c - incremental technical indicators (include/ingenium/
 * indicators.h).
 *
 * The exact sums live in the public structs as opaque uint64_t words (the
 * public header has no __int128, since plugins compile with -Wpedantic);
 * here they are copied to and from ig_i128 with memcpy (the words are only
 * storage) or, for the 192-bit sum of squares, handled as little-endian
 * words (w[0] lowest).
 *
 * Bounds (periods <= 2^24, inputs int64): a window sum is below
 * 2^24 * 2^63 = 2^87, a WMA's weighted sum below n(n+1)/2 * 2^63 < 2^110, a
 * sum of squares below 2^24 * 2^126 = 2^150, n * that and a squared sum
 * below 2^174: 128 bits for the first two, 192/256 for the last ones. Only
 * the VWAP's sum of px * qty can overflow 128 bits, and is checked.
 */
#include "ingenium/indicators.h"

#include "ingenium/fixed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 ig__u128;

static bool period_ok(int64_t n)
{
	return n >= 1 && n <= IG_IND_MAX_PERIOD;
}

static ig_i128 ld128(const uint64_t w[2])
{
	ig_i128 v;
	memcpy(&v, w, sizeof v);
	return v;
}

static void st128(uint64_t w[2], ig_i128 v)
{
	memcpy(w, &v, sizeof v);
}

/* num / den (den > 0), rounded to the nearest integer, halves away from
 * zero: the rule of ig_fixed_round_wide. The result must fit int64 (it is
 * always a mean of int64 values here). */
static int64_t div_round(ig_i128 num, ig_i128 den)
{
	ig_i128 q = num / den;
	ig_i128 r = num % den;

	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	return (int64_t)q;
}

/* v (1e-8 units, exact) as a double in whole units. */
static double units(ig_i128 v)
{
	return (double)v / (double)IG_FIXED_SCALE;
}

/* ------------------------------------------------------------------ SMA */

int ig_sma_init(struct ig_sma *s, int64_t n)
{
	if (s == NULL)
		return IG_EINVAL;
	memset(s, 0, sizeof *s);
	if (!period_ok(n))
		return IG_EINVAL;
	s->win = calloc((size_t)n, sizeof *s->win);
	if (s->win == NULL)
		return IG_ENOMEM;
	s->n = n;
	return 0;
}

/* Slides the window: stores v, returns through *old the value that left
 * (0 while the window is filling; the caller checks s->seen). */
static void sma_push(struct ig_sma *s, int64_t v, int64_t *old)
{
	ig_i128 sum = ld128(s->sum_w);

	*old = s->win[s->head];
	if (s->seen >= (uint64_t)s->n)
		sum -= *old;
	else
		*old = 0;
	sum += v;
	s->win[s->head] = v;
	if (++s->head == (uint32_t)s->n)
		s->head = 0;
	s->seen++;
	st128(s->sum_w, sum);
}

int ig_sma_update(struct ig_sma *s, int64_t v)
{
	int64_t old;

	if (s == NULL || s->win == NULL)
		return IG_EINVAL;
	sma_push(s, v, &old);
	return 0;
}

bool ig_sma_ready(const struct ig_sma *s)
{
	return s != NULL && s->win != NULL && s->seen >= (uint64_t)s->n;
}

int64_t ig_sma_value(const struct ig_sma *s)
{
	if (!ig_sma_ready(s))
		return 0;
	return div_round(ld128(s->sum_w), s->n);
}

void ig_sma_free(struct ig_sma *s)
{
	if (s == NULL)
		return;
	free(s->win);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ EMA */

int ig_ema_init(struct ig_ema *e, int64_t n)
{
	if (e == NULL)
		return IG_EINVAL;
	memset(e, 0, sizeof *e);
	if (!period_ok(n))
		return IG_EINVAL;
	e->n = n;
	e->alpha = 2.0 / ((double)n + 1.0);
	return 0;
}

int ig_ema_update_f(struct ig_ema *e, double v)
{
	if (e == NULL || e->n < 1 || !isfinite(v))
		return IG_EINVAL;
	if (e->seen < (uint64_t)e->n) {
		e->seed_sum += v;
		if (++e->seen == (uint64_t)e->n)
			e->value = e->seed_sum / (double)e->n;
		return 0;
	}
	e->value += e->alpha * (v - e->value);
	e->seen++;
	return 0;
}

int ig_ema_update(struct ig_ema *e, int64_t v)
{
	return ig_ema_update_f(e, ig_fixed_to_double(v));
}

bool ig_ema_ready(const struct ig_ema *e)
{
	return e != NULL && e->n >= 1 && e->seen >= (uint64_t)e->n;
}

double ig_ema_value(const struct ig_ema *e)
{
	return ig_ema_ready(e) ? e->value : 0.0;
}

void ig_ema_free(struct ig_ema *e)
{
	if (e != NULL)
		memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------------ WMA */

int ig_wma_init(struct ig_wma *w, int64_t n)
{
	int rc;

	if (w == NULL)
		return IG_EINVAL;
	memset(w, 0, sizeof *w);
	rc = ig_sma_init(&w->sma, n);
	return rc;
}

/*
 * T = sum of weight * value, the newest weighted n. Adding v shifts every
 * weight down by one (T -= S, the plain sum of the window before v) and
 * gives v weight n; the value leaving had weight 1 and leaves with S. While
 * the window fills, S is the sum of everything so far and T carries weights
 * n - k + i, which are 1..n exactly when the window is full.
 */
int ig_wma_update(struct ig_wma *w, int64_t v)
{
	ig_i128 t;
	int64_t old;

	if (w == NULL || w->sma.win == NULL)
		return IG_EINVAL;
	t = ld128(w->num_w) - ld128(w->sma.sum_w) + (ig_i128)w->sma.n * v;
	sma_push(&w->sma, v, &old);
	st128(w->num_w, t);
	return 0;
}

bool ig_wma_ready(const struct ig_wma *w)
{
	return w != NULL && ig_sma_ready(&w->sma);
}

int64_t ig_wma_value(const struct ig_wma *w)
{
	ig_i128 n;

	if (!ig_wma_ready(w))
		return 0;
	n = w->sma.n;
	return div_round(ld128(w->num_w), n * (n + 1) / 2);
}

void ig_wma_free(struct ig_wma *w)
{
	if (w == NULL)
		return;
	ig_sma_free(&w->sma);
	memset(w, 0, sizeof *w);
}

/* ------------------------------------------------------------------ RSI */

int ig_rsi_init(struct ig_rsi *r, int64_t n)
{
	if (r == NULL)
		return IG_EINVAL;
	memset(r, 0, sizeof *r);
	if (!period_ok(n))
		return IG_EINVAL;
	r->n = n;
	return 0;
}

int ig_rsi_update(struct ig_rsi *r, int64_t px)
{
	double d, gain, loss, n;

	if (r == NULL || r->n < 1)
		return IG_EINVAL;
	if (r->seen == 0) {
		r->prev_px = px;
		r->seen = 1;
		return 0;
	}
	d = units((ig_i128)px - r->prev_px);
	gain = d > 0 ? d : 0.0;
	loss = d < 0 ? -d : 0.0;
	n = (double)r->n;
	if (r->seen <= (uint64_t)r->n) {
		/* Warm-up: sums of the first n changes, then their means. */
		r->avg_gain += gain;
		r->avg_loss += loss;
		if (r->seen == (uint64_t)r->n) {
			r->avg_gain /= n;
			r->avg_loss /= n;
		}
	} else {
		r->avg_gain = (r->avg_gain * (n - 1.0) + gain) / n;
		r->avg_loss = (r->avg_loss * (n - 1.0) + loss) / n;
	}
	r->prev_px = px;
	r->seen++;
	return 0;
}

bool ig_rsi_ready(const struct ig_rsi *r)
{
	return r != NULL && r->n >= 1 && r->seen > (uint64_t)r->n;
}

double ig_rsi_value(const struct ig_rsi *r)
{
	if (!ig_rsi_ready(r))
		return 0.0;
	if (r->avg_loss == 0.0)
		return 100.0;
	return 100.0 - 100.0 / (1.0 + r->avg_gain / r->avg_loss);
}

void ig_rsi_free(struct ig_rsi *r)
{
	if (r != NULL)
		memset(r, 0, sizeof *r);
}

/* ----------------------------------------------------------------- MACD */

int ig_macd_init(struct ig_macd *m, int64_t fast, int64_t slow, int64_t signal)
{
	if (m == NULL)
		return IG_EINVAL;
	memset(m, 0, sizeof *m);
	if (!period_ok(fast) || !period_ok(slow) || !period_ok(signal) || fast >= slow)
		return IG_EINVAL;
	(void)ig_ema_init(&m->fast, fast);
	(void)ig_ema_init(&m->slow, slow);
	(void)ig_ema_init(&m->signal, signal);
	return 0;
}

int ig_macd_update(struct ig_macd *m, int64_t px)
{
	if (m == NULL || m->slow.n < 1)
		return IG_EINVAL;
	(void)ig_ema_update(&m->fast, px);
	(void)ig_ema_update(&m->slow, px);
	if (!ig_ema_ready(&m->slow))
		return 0;
	m->line = m->fast.value - m->slow.value;
	(void)ig_ema_update_f(&m->signal, m->line);
	return 0;
}

bool ig_macd_ready(const struct ig_macd *m)
{
	return m != NULL && ig_ema_ready(&m->slow);
}

bool ig_macd_signal_ready(const struct ig_macd *m)
{
	return m != NULL && ig_ema_ready(&m->signal);
}

double ig_macd_line(const struct ig_macd *m)
{
	return ig_macd_ready(m) ? m->line : 0.0;
}

double ig_macd_signal(const struct ig_macd *m)
{
	return ig_macd_signal_ready(m) ? m->signal.value : 0.0;
}

double ig_macd_hist(const struct ig_macd *m)
{
	return ig_macd_signal_ready(m) ? m->line - m->signal.value : 0.0;
}

void ig_macd_free(struct ig_macd *m)
{
	if (m != NULL)
		memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ Bollinger */

/* Little-endian multi-word unsigned arithmetic for the sum of squares. */

/* a[0..na) += b[0..nb), nb <= na; the carry out of a[na-1] is dropped. */
static void words_add(uint64_t *a, int na, const uint64_t *b, int nb)
{
	ig__u128 c = 0;

	for (int i = 0; i < na; i++) {
		c += (ig__u128)a[i] + (i < nb ? b[i] : 0);
		a[i] = (uint64_t)c;
		c >>= 64;
	}
}

/* a[0..na) -= b[0..nb), nb <= na, a >= b. */
static void words_sub(uint64_t *a, int na, const uint64_t *b, int nb)
{
	uint64_t borrow = 0;

	for (int i = 0; i < na; i++) {
		uint64_t bi = i < nb ? b[i] : 0;
		uint64_t d = a[i] - bi - borrow;
		borrow = (a[i] < bi || (a[i] == bi && borrow)) ? 1 : 0;
		a[i] = d;
	}
}

/* out[0..na+nb) = a * b. */
static void words_mul(const uint64_t *a, int na, const uint64_t *b, int nb, uint64_t *out)
{
	memset(out, 0, (size_t)(na + nb) * sizeof *out);
	for (int i = 0; i < na; i++) {
		ig__u128 c = 0;
		for (int j = 0; j < nb; j++) {
			c += (ig__u128)a[i] * b[j] + out[i + j];
			out[i + j] = (uint64_t)c;
			c >>= 64;
		}
		out[i + nb] = (uint64_t)c;
	}
}

static double words_to_double(const uint64_t *a, int na)
{
	double v = 0.0;

	for (int i = na - 1; i >= 0; i--)
		v = v * 18446744073709551616.0 + (double)a[i];
	return v;
}

/* |v| as two words. */
static void abs_words(ig_i128 v, uint64_t w[2])
{
	ig__u128 u = v < 0 ? (ig__u128)0 - (ig__u128)v : (ig__u128)v;
	w[0] = (uint64_t)u;
	w[1] = (uint64_t)(u >> 64);
}

int ig_bollinger_init(struct ig_bollinger *b, int64_t n, double k)
{
	int rc;

	if (b == NULL)
		return IG_EINVAL;
	memset(b, 0, sizeof *b);
	if (!isfinite(k) || k <= 0.0 || !period_ok(n))
		return IG_EINVAL;
	rc = ig_sma_init(&b->sma, n);
	if (rc != 0)
		return rc;
	b->k = k;
	return 0;
}

int ig_bollinger_update(struct ig_bollinger *b, int64_t px)
{
	uint64_t sq[2];
	int64_t old;
	bool full;

	if (b == NULL || b->sma.win == NULL)
		return IG_EINVAL;
	full = b->sma.seen >= (uint64_t)b->sma.n;
	sma_push(&b->sma, px, &old);
	abs_words((ig_i128)px * px, sq);
	words_add(b->sq_w, 3, sq, 2);
	if (full) {
		abs_words((ig_i128)old * old, sq);
		words_sub(b->sq_w, 3, sq, 2);
	}
	return 0;
}

bool ig_bollinger_ready(const struct ig_bollinger *b)
{
	return b != NULL && ig_sma_ready(&b->sma);
}

/* sigma in 1e-8 units: sqrt(n * S2 - S1^2) / n, the numerator exact. */
static double boll_sigma_raw(const struct ig_bollinger *b)
{
	uint64_t nw[1] = { (uint64_t)b->sma.n };
	uint64_t s1[2], a[4], s1sq[4];

	words_mul(b->sq_w, 3, nw, 1, a);
	abs_words(ld128(b->sma.sum_w), s1);
	words_mul(s1, 2, s1, 2, s1sq);
	words_sub(a, 4, s1sq, 4); /* >= 0 (Cauchy-Schwarz) */
	return sqrt(words_to_double(a, 4)) / (double)b->sma.n;
}

double ig_bollinger_middle(const struct ig_bollinger *b)
{
	if (!ig_bollinger_ready(b))
		return 0.0;
	return (double)ld128(b->sma.sum_w) / (double)b->sma.n / (double)IG_FIXED_SCALE;
}

double ig_bollinger_stddev(const struct ig_bollinger *b)
{
	if (!ig_bollinger_ready(b))
		return 0.0;
	return boll_sigma_raw(b) / (double)IG_FIXED_SCALE;
}

double ig_bollinger_upper(const struct ig_bollinger *b)
{
	if (!ig_bollinger_ready(b))
		return 0.0;
	return ig_bollinger_middle(b) + b->k * ig_bollinger_stddev(b);
}

double ig_bollinger_lower(const struct ig_bollinger *b)
{
	if (!ig_bollinger_ready(b))
		return 0.0;
	return ig_bollinger_middle(b) - b->k * ig_bollinger_stddev(b);
}

double ig_bollinger_width(const struct ig_bollinger *b)
{
	if (!ig_bollinger_ready(b))
		return 0.0;
	return 2.0 * b->k * ig_bollinger_stddev(b);
}

void ig_bollinger_free(struct ig_bollinger *b)
{
	if (b == NULL)
		return;
	ig_sma_free(&b->sma);
	memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ ATR */

int ig_atr_init(struct ig_atr *a, int64_t n)
{
	if (a == NULL)
		return IG_EINVAL;
	memset(a, 0, sizeof *a);
	if (!period_ok(n))
		return IG_EINVAL;
	a->n = n;
	return 0;
}

int ig_atr_update(struct ig_atr *a, int64_t high_px, int64_t low_px, int64_t close_px)
{
	ig_i128 tr;
	double n;

	if (a == NULL || a->n < 1 || high_px < low_px)
		return IG_EINVAL;
	tr = (ig_i128)high_px - low_px;
	if (a->seen > 0) {
		ig_i128 up = (ig_i128)high_px - a->prev_close_px;
		ig_i128 down = (ig_i128)a->prev_close_px - low_px;
		if (up > tr)
			tr = up;
		if (down > tr)
			tr = down;
	}
	n = (double)a->n;
	if (a->seen < (uint64_t)a->n) {
		a->value += units(tr);
		if (a->seen + 1 == (uint64_t)a->n)
			a->value /= n;
	} else {
		a->value = (a->value * (n - 1.0) + units(tr)) / n;
	}
	a->prev_close_px = close_px;
	a->seen++;
	return 0;
}

bool ig_atr_ready(const struct ig_atr *a)
{
	return a != NULL && a->n >= 1 && a->seen >= (uint64_t)a->n;
}

double ig_atr_value(const struct ig_atr *a)
{
	return ig_atr_ready(a) ? a->value : 0.0;
}

void ig_atr_free(struct ig_atr *a)
{
	if (a != NULL)
		memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------- Donchian */

/*
 * Two deques of (index, value) in rings of capacity n inside one block:
 * [hi_idx n][hi_px n][lo_idx n][lo_px n]. The max deque keeps values
 * strictly decreasing from front to back (a new high removes every older
 * value <= it, which can never be the max again), the min deque strictly
 * increasing; the front expires when it is n bars old. Each bar is pushed
 * and popped at most once: amortised O(1).
 */
enum { DQ_HI = 0, DQ_LO = 2 };

static int64_t *dq_idx(const struct ig_donchian *d, int which)
{
	return d->mem + (size_t)which * (size_t)d->n;
}

static int64_t *dq_val(const struct ig_donchian *d, int which)
{
	return d->mem + (size_t)(which + 1) * (size_t)d->n;
}

static void dq_push(struct ig_donchian *d, int which, uint32_t *head, uint32_t *len, int64_t v)
{
	int64_t *idx = dq_idx(d, which), *val = dq_val(d, which);
	uint32_t n = (uint32_t)d->n;
	int64_t now = (int64_t)d->seen;
	uint32_t slot;

	/* Expire the front first (indices before now - n + 1), so the deque
	 * holds at most n - 1 entries and the new one fits in the ring. */
	while (*len > 0 && idx[*head] <= now - d->n) {
		if (++*head == n)
			*head = 0;
		(*len)--;
	}
	while (*len > 0) {
		uint32_t back = *head + *len - 1;
		if (back >= n)
			back -= n;
		if (which == DQ_HI ? val[back] > v : val[back] < v)
			break;
		(*len)--;
	}
	slot = *head + *len;
	if (slot >= n)
		slot -= n;
	idx[slot] = now;
	val[slot] = v;
	(*len)++;
}

int ig_donchian_init(struct ig_donchian *d, int64_t n)
{
	if (d == NULL)
		return IG_EINVAL;
	memset(d, 0, sizeof *d);
	if (!period_ok(n))
		return IG_EINVAL;
	d->mem = calloc((size_t)n * 4, sizeof *d->mem);
	if (d->mem == NULL)
		return IG_ENOMEM;
	d->n = n;
	return 0;
}

int ig_donchian_update(struct ig_donchian *d, int64_t high_px, int64_t low_px)
{
	if (d == NULL || d->mem == NULL || high_px < low_px)
		return IG_EINVAL;
	dq_push(d, DQ_HI, &d->hi_head, &d->hi_len, high_px);
	dq_push(d, DQ_LO, &d->lo_head, &d->lo_len, low_px);
	d->seen++;
	return 0;
}

bool ig_donchian_ready(const struct ig_donchian *d)
{
	return d != NULL && d->mem != NULL && d->seen >= (uint64_t)d->n;
}

int64_t ig_donchian_high_px(const struct ig_donchian *d)
{
	return ig_donchian_ready(d) ? dq_val(d, DQ_HI)[d->hi_head] : 0;
}

int64_t ig_donchian_low_px(const struct ig_donchian *d)
{
	return ig_donchian_ready(d) ? dq_val(d, DQ_LO)[d->lo_head] : 0;
}

int64_t ig_donchian_mid_px(const struct ig_donchian *d)
{
	if (!ig_donchian_ready(d))
		return 0;
	return div_round((ig_i128)ig_donchian_high_px(d) + ig_donchian_low_px(d), 2);
}

void ig_donchian_free(struct ig_donchian *d)
{
	if (d == NULL)
		return;
	free(d->mem);
	memset(d, 0, sizeof *d);
}

/* ----------------------------------------------------------- stochastic */

int ig_stoch_init(struct ig_stoch *s, int64_t n, int64_t d)
{
	int rc;

	if (s == NULL)
		return IG_EINVAL;
	memset(s, 0, sizeof *s);
	if (!period_ok(n) || !period_ok(d))
		return IG_EINVAL;
	rc = ig_donchian_init(&s->hl, n);
	if (rc != 0)
		return rc;
	s->kwin = calloc((size_t)d, sizeof *s->kwin);
	if (s->kwin == NULL) {
		ig_donchian_free(&s->hl);
		return IG_ENOMEM;
	}
	s->d = d;
	return 0;
}

int ig_stoch_update(struct ig_stoch *s, int64_t high_px, int64_t low_px, int64_t close_px)
{
	ig_i128 hh, ll;
	double k;

	if (s == NULL || s->kwin == NULL || high_px < low_px || close_px < low_px ||
	    close_px > high_px)
		return IG_EINVAL;
	(void)ig_donchian_update(&s->hl, high_px, low_px);
	if (!ig_donchian_ready(&s->hl))
		return 0;
	hh = ig_donchian_high_px(&s->hl);
	ll = ig_donchian_low_px(&s->hl);
	k = hh == ll ? 50.0 : 100.0 * ((double)(close_px - ll) / (double)(hh - ll));
	s->k = k;
	if (s->kseen >= (uint64_t)s->d)
		s->ksum -= s->kwin[s->khead];
	s->kwin[s->khead] = k;
	s->ksum += k;
	s->kseen++;
	if (++s->khead == (uint32_t)s->d) {
		/* Re-sum once per d values (amortised O(1)), so the rounding
		 * of the running sum cannot drift. */
		s->khead = 0;
		if (s->kseen >= (uint64_t)s->d) {
			double sum = 0.0;
			for (int64_t i = 0; i < s->d; i++)
				sum += s->kwin[i];
			s->ksum = sum;
		}
	}
	return 0;
}

bool ig_stoch_k_ready(const struct ig_stoch *s)
{
	return s != NULL && s->kwin != NULL && s->kseen >= 1;
}

bool ig_stoch_d_ready(const struct ig_stoch *s)
{
	return s != NULL && s->kwin != NULL && s->kseen >= (uint64_t)s->d;
}

double ig_stoch_k(const struct ig_stoch *s)
{
	return ig_stoch_k_ready(s) ? s->k : 0.0;
}

double ig_stoch_d(const struct ig_stoch *s)
{
	return ig_stoch_d_ready(s) ? s->ksum / (double)s->d : 0.0;
}

void ig_stoch_free(struct ig_stoch *s)
{
	if (s == NULL)
		return;
	ig_donchian_free(&s->hl);
	free(s->kwin);
	memset(s, 0, sizeof *s);
}

/* ----------------------------------------------------------------- VWAP */

int ig_vwap_init(struct ig_vwap *v, int64_t n)
{
	if (v == NULL)
		return IG_EINVAL;
	memset(v, 0, sizeof *v);
	if (!period_ok(n))
		return IG_EINVAL;
	v->win = calloc((size_t)n * 2, sizeof *v->win);
	if (v->win == NULL)
		return IG_ENOMEM;
	v->n = n;
	return 0;
}

int ig_vwap_update(struct ig_vwap *v, int64_t px, int64_t qty)
{
	ig_i128 pq, q, delta;
	int64_t *slot;

	if (v == NULL || v->win == NULL || qty < 0)
		return IG_EINVAL;
	slot = v->win + 2 * (size_t)v->head;
	pq = ld128(v->pq_w);
	q = ld128(v->q_w);
	/* |px * qty| < 2^126, so the difference of two fits in 128 bits. */
	delta = (ig_i128)px * qty;
	if (v->seen >= (uint64_t)v->n) {
		delta -= (ig_i128)slot[0] * slot[1];
		q -= slot[1];
	}
	if (__builtin_add_overflow(pq, delta, &pq))
		return IG_EOVERFLOW;
	q += qty;
	slot[0] = px;
	slot[1] = qty;
	if (++v->head == (uint32_t)v->n)
		v->head = 0;
	v->seen++;
	st128(v->pq_w, pq);
	st128(v->q_w, q);
	return 0;
}

bool ig_vwap_ready(const struct ig_vwap *v)
{
	return v != NULL && v->win != NULL && v->seen >= (uint64_t)v->n && ld128(v->q_w) > 0;
}

int64_t ig_vwap_px(const struct ig_vwap *v)
{
	if (!ig_vwap_ready(v))
		return 0;
	/* (1e-16) / (1e-8) = 1e-8. */
	return div_round(ld128(v->pq_w), ld128(v->q_w));
}

void ig_vwap_free(struct ig_vwap *v)
{
	if (v == NULL)
		return;
	free(v->win);
	memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------ crossover */

int ig_cross_init(struct ig_cross *c)
{
	if (c == NULL)
		return IG_EINVAL;
	c->side = 0;
	return 0;
}

static enum ig_cross_dir cross_step(struct ig_cross *c, int side)
{
	int prev;

	if (c == NULL || side == 0)
		return IG_CROSS_NONE; /* equal (or NaN): keep the last relation */
	prev = c->side;
	c->side = side;
	if (prev == -1 && side == 1)
		return IG_CROSS_ABOVE;
	if (prev == 1 && side == -1)
		return IG_CROSS_BELOW;
	return IG_CROSS_NONE;
}

enum ig_cross_dir ig_cross_update(struct ig_cross *c, double a, double b)
{
	return cross_step(c, a > b ? 1 : a < b ? -1 : 0);
}

enum ig_cross_dir ig_cross_update_fixed(struct ig_cross *c, int64_t a, int64_t b)
{
	return cross_step(c, a > b ? 1 : a < b ? -1 : 0);
}

int ig_cross_side(const struct ig_cross *c)
{
	return c != NULL ? c->side : 0;
}

void ig_cross_free(struct ig_cross *c)
{
	if (c != NULL)
		c->side = 0;
}

/* collector.c - the report collector: round trips, equity samples,
 * incremental statistics, the CSV streams (see report.h). */
#include "report/report.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S INT64_C(1000000000)
#define NS_PER_DAY (INT64_C(86400) * NS_PER_S)
#define NAME_MAX_ 64

struct trip {
	bool open;
	int8_t dir;             /* +1 long, -1 short */
	int64_t entry_ts;
	int64_t entry_qty, entry_notional; /* fills that added to the position */
	int64_t exit_qty, exit_notional;   /* fills that reduced it */
	int64_t flow;           /* cash flow: the pnl when closed */
	int64_t fees;           /* cash fees + base fees valued in quote */
	uint64_t bars;          /* prices of the instrument seen while open */
};

struct strat {
	char name[NAME_MAX_];
	int64_t capital;
	uint16_t home;
	int chart_k;            /* first instrument traded, -1 none yet */
	int64_t pos[IG_MAX_INSTRUMENTS];
	uint32_t nopen;         /* instruments with a nonzero position */
	struct trip trip[IG_MAX_INSTRUMENTS];
	int64_t exposed_ns;     /* tick data: time with a position */
	bool touched;           /* a round trip opened or closed since the last sample */
	uint64_t nsamples, exposed_samples;
	int64_t fees;

	/* equity */
	bool has_sample;
	int64_t first_ts, last_ts;
	int64_t first_eq, last_eq, last_cash;
	int64_t peak;           /* running max of the samples */
	uint64_t zero_idx;      /* index of the last sample at the peak (drawdown 0) */
	int64_t zero_ts;
	double ep_dd;           /* deepest drawdown since that sample, fraction */
	uint64_t episodes;
	double sum_ep_dd;       /* fractions */
	double max_dd;          /* fraction */
	int64_t max_dd_ns;

	/* daily returns (UTC days with samples) */
	int64_t day, day_eq, day_prev_close;
	uint64_t days;          /* UTC days with samples */
	uint64_t nret;          /* day returns: days - 1 */
	bool day_bad;           /* a return was not finite (a day closed at 0) */
	bool day_nonpos;        /* some 1 + r <= 0 */
	double d_log, d_mean, d_m2, d_down2;

	/* monthly returns */
	int32_t month;
	int64_t month_eq, month_prev_close;
	struct ig__report_month *months;
	uint32_t nmonths, cap_months;

	/* round trips */
	uint64_t ntrades, wins;
	int64_t sum_pnl;
	double pnl_mean, pnl_m2;
	double best, worst;     /* trade returns, fractions */
	double sum_ret, sum_pos_ret, sum_neg_ret, sum_log_ret;
	bool ret_nonpos;        /* some 1 + return <= 0 */

	struct ig__report_series eq;
	struct ig__report_marker *mk;
	uint32_t nmk;
	uint64_t mk_stride, mk_seen;
};

struct ig_report {
	uint32_t ns;
	struct strat *s;
	uint16_t ninst;
	char symbols[IG_MAX_INSTRUMENTS][NAME_MAX_];
	int64_t first_px[IG_MAX_INSTRUMENTS], last_px[IG_MAX_INSTRUMENTS];
	struct ig__report_series price[IG_MAX_INSTRUMENTS];
	bool have_ts;
	int64_t first_ts, last_ts; /* of prices */
	int64_t annual_days;
	double rf;              /* annual risk-free rate, fraction */
	bool ticks;             /* quotes or trades seen: exposure is a share of time */
	uint32_t cap;
	FILE *equity_csv, *trades_csv;
	bool io_error;
	bool finished;
};

/* ------------------------------------------------------------- helpers */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void ig__report_iso8601(int64_t ts_ns, char *buf, size_t cap)
{
	int64_t days = floor_div(ts_ns, NS_PER_DAY);
	int64_t rem = ts_ns - days * NS_PER_DAY;
	int64_t y;
	unsigned m, d;
	int64_t sec = rem / NS_PER_S, frac = rem % NS_PER_S;

	civil(days, &y, &m, &d);
	if (frac == 0)
		snprintf(buf, cap, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", (long long)y, m, d,
			 (long long)(sec / 3600), (long long)(sec / 60 % 60), (long long)(sec % 60));
	else
		snprintf(buf, cap, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ", (long long)y, m, d,
			 (long long)(sec / 3600), (long long)(sec / 60 % 60), (long long)(sec % 60),
			 (long long)frac);
}

static int32_t month_of(int64_t ts_ns)
{
	int64_t y;
	unsigned m, d;
	civil(floor_div(ts_ns, NS_PER_DAY), &y, &m, &d);
	return (int32_t)(y * 12 + (int64_t)m - 1);
}

/* a * num / den, rounded half away from zero (num, den > 0, num <= den). */
static int64_t part(int64_t a, int64_t num, int64_t den)
{
	ig_i128 p = (ig_i128)a * num;
	ig_i128 h = den / 2;
	return (int64_t)(p >= 0 ? (p + h) / den : (p - h) / den);
}

static double money(int64_t v)
{
	return ig_fixed_to_double(v);
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* ---------------------------------------------------------- the series */

int ig__report_series_add(struct ig__report_series *sr, uint32_t cap, int64_t ts_ns, int64_t v,
			  double dd_pct)
{
	if (sr->p == NULL) {
		sr->p = malloc(cap * sizeof(*sr->p));
		if (sr->p == NULL)
			return IG_ENOMEM;
		sr->cap = cap;
		sr->stride = 1;
	}
	if (sr->in_bucket == 0 || dd_pct > sr->cur.dd_pct)
		sr->cur.dd_pct = dd_pct;
	sr->cur.ts_ns = ts_ns;
	sr->cur.v = v;
	if (++sr->in_bucket < sr->stride)
		return 0;
	ig__report_series_flush(sr);
	return 0;
}

void ig__report_series_flush(struct ig__report_series *sr)
{
	if (sr->p == NULL || sr->in_bucket == 0)
		return;
	if (sr->n == sr->cap) {
		/* Full: merge neighbours (the later point's value, the deeper
		 * drawdown) and double the bucket size. */
		uint32_t j = 0;
		for (uint32_t i = 0; i + 1 < sr->n; i += 2, j++) {
			struct ig__report_point a = sr->p[i], b = sr->p[i + 1];
			sr->p[j] = b;
			if (a.dd_pct > b.dd_pct)
				sr->p[j].dd_pct = a.dd_pct;
		}
		if (sr->n % 2)
			sr->p[j++] = sr->p[sr->n - 1];
		sr->n = j;
		sr->stride *= 2;
	}
	sr->p[sr->n++] = sr->cur;
	sr->in_bucket = 0;
}

static void marker_add(struct strat *st, uint32_t cap, int64_t ts, int64_t px, uint8_t kind)
{
	if (st->mk == NULL)
		return;
	if (st->mk_seen++ % st->mk_stride != 0)
		return;
	if (st->nmk == cap) {
		uint32_t j = 0;
		for (uint32_t i = 0; i < st->nmk; i += 2)
			st->mk[j++] = st->mk[i];
		st->nmk = j;
		st->mk_stride *= 2;
	}
	st->mk[st->nmk++] = (struct ig__report_marker){ ts, px, kind };
}

/* --------------------------------------------------------------- setup */

int ig_report_new(struct ig_report **out, const struct ig_report_opts *o, char *err, size_t errlen)
{
	struct ig_report *r;
	char path[1024];

	*out = NULL;
	if (o->nstrategies == 0 || o->nstrategies > IG_MAX_STRATEGIES || o->ninstruments == 0 ||
	    o->ninstruments > IG_MAX_INSTRUMENTS || o->annual_days <= 0 || o->chart_points < 16) {
		snprintf(err, errlen, "report: invalid options");
		return IG_EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->s = calloc(o->nstrategies, sizeof(*r->s))) == NULL) {
		free(r);
		snprintf(err, errlen, "report: out of memory");
		return IG_ENOMEM;
	}
	r->ns = o->nstrategies;
	r->ninst = o->ninstruments;
	r->annual_days = o->annual_days;
	r->rf = ig_fixed_to_double(o->risk_free_pct) / 100.0;
	r->cap = o->chart_points;
	for (uint16_t k = 0; k < o->ninstruments; k++)
		snprintf(r->symbols[k], NAME_MAX_, "%s", o->symbols[k]);
	for (uint32_t i = 0; i < r->ns; i++) {
		struct strat *st = &r->s[i];
		snprintf(st->name, NAME_MAX_, "%s", o->strategy_names[i]);
		st->capital = o->capital[i];
		st->home = o->home != NULL && o->home[i] < o->ninstruments ? o->home[i] : 0;
		st->chart_k = -1;
		st->mk = malloc(2 * (size_t)r->cap * sizeof(*st->mk));
		st->mk_stride = 1;
		if (st->mk == NULL) {
			ig_report_free(r);
			snprintf(err, errlen, "report: out of memory");
			return IG_ENOMEM;
		}
	}
	if (o->dir != NULL) {
		snprintf(path, sizeof(path), "%s/equity.csv", o->dir);
		r->equity_csv = fopen(path, "w");
		if (r->equity_csv == NULL)
			goto io;
		fputs("ts,strategy,equity,cash,position\n", r->equity_csv);
		snprintf(path, sizeof(path), "%s/trades.csv", o->dir);
		r->trades_csv = fopen(path, "w");
		if (r->trades_csv == NULL)
			goto io;
		fputs("strategy,symbol,entry_ts,exit_ts,side,qty,entry_px,exit_px,pnl,fees,return_pct,"
		      "bars_held\n",
		      r->trades_csv);
	}
	*out = r;
	return 0;
io:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	ig_report_free(r);
	return IG_EIO;
}

void ig_report_free(struct ig_report *r)
{
	if (r == NULL)
		return;
	if (r->equity_csv != NULL)
		fclose(r->equity_csv);
	if (r->trades_csv != NULL)
		fclose(r->trades_csv);
	for (uint32_t i = 0; i < r->ns; i++) {
		free(r->s[i].months);
		free(r->s[i].eq.p);
		free(r->s[i].mk);
	}
	for (uint16_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
		free(r->price[k].p);
	free(r->s);
	free(r);
}

/* -------------------------------------------------------------- prices */

void ig_report_price(struct ig_report *r, uint16_t k, int64_t ts_ns, int64_t px)
{
	if (k >= r->ninst || px <= 0)
		return;
	if (r->have_ts && ts_ns > r->last_ts) {
		int64_t dt = ts_ns - r->last_ts;
		for (uint32_t i = 0; i < r->ns; i++)
			if (r->s[i].nopen > 0)
				r->s[i].exposed_ns += dt;
	}
	if (!r->have_ts) {
		r->first_ts = ts_ns;
		r->have_ts = true;
	}
	if (ts_ns > r->last_ts)
		r->last_ts = ts_ns;
	if (r->first_px[k] == 0)
		r->first_px[k] = px;
	r->last_px[k] = px;
	for (uint32_t i = 0; i < r->ns; i++)
		if (r->s[i].trip[k].open)
			r->s[i].trip[k].bars++;
	if (ig__report_series_add(&r->price[k], r->cap, ts_ns, px, 0) != 0)
		r->io_error = true;
}

void ig_report_set_ticks(struct ig_report *r)
{
	r->ticks = true;
}

/* --------------------------------------------------------- round trips */

/* The trip's return, a fraction: dir * (exit VWAP / entry VWAP - 1) -
 * fees / entry notional; 0 when the trip has no entry or exit fill (a
 * position the collector never saw open). */
static double trip_return(const struct trip *t)
{
	double entry, exit_;

	if (t->entry_qty <= 0 || t->exit_qty <= 0 || t->entry_notional <= 0)
		return 0;
	entry = money(t->entry_notional) / money(t->entry_qty);
	exit_ = money(t->exit_notional) / money(t->exit_qty);
	return (double)t->dir * (exit_ / entry - 1.0) - money(t->fees) / money(t->entry_notional);
}

static void trip_close(struct ig_report *r, uint32_t s, uint16_t k, int64_t ts, int64_t px)
{
	struct strat *st = &r->s[s];
	struct trip *t = &st->trip[k];
	int64_t entry_px = 0, exit_px = 0;
	double ret = trip_return(t), pnl = money(t->flow), d;

	if (t->entry_qty > 0)
		ig_fixed_div(t->entry_notional, t->entry_qty, &entry_px);
	if (t->exit_qty > 0)
		ig_fixed_div(t->exit_notional, t->exit_qty, &exit_px);
	st->ntrades++;
	st->touched = true;
	if (t->flow > 0)
		st->wins++;
	st->sum_pnl += t->flow;
	d = pnl - st->pnl_mean;
	st->pnl_mean += d / (double)st->ntrades;
	st->pnl_m2 += d * (pnl - st->pnl_mean);
	if (st->ntrades == 1 || ret > st->best)
		st->best = ret;
	if (st->ntrades == 1 || ret < st->worst)
		st->worst = ret;
	st->sum_ret += ret;
	if (ret > 0)
		st->sum_pos_ret += ret;
	else if (ret < 0)
		st->sum_neg_ret += ret;
	if (1.0 + ret > 0)
		st->sum_log_ret += log1p(ret);
	else
		st->ret_nonpos = true;
	marker_add(st, 2 * r->cap, ts, px, 2);
	if (r->trades_csv != NULL) {
		char a[40], b[40], q[IG_FIXED_STRLEN], ep[IG_FIXED_STRLEN], xp[IG_FIXED_STRLEN],
			pl[IG_FIXED_STRLEN], fe[IG_FIXED_STRLEN];
		ig__report_iso8601(t->entry_ts, a, sizeof(a));
		ig__report_iso8601(ts, b, sizeof(b));
		ig_fixed_format(t->entry_qty, q, sizeof(q));
		ig_fixed_format(entry_px, ep, sizeof(ep));
		ig_fixed_format(exit_px, xp, sizeof(xp));
		ig_fixed_format(t->flow, pl, sizeof(pl));
		ig_fixed_format(t->fees, fe, sizeof(fe));
		if (fprintf(r->trades_csv, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%.6f,%llu\n", st->name,
			    r->symbols[k], a, b, t->dir > 0 ? "long" : "short", q, ep, xp, pl, fe, ret * 100.0,
			    (unsigned long long)t->bars) < 0)
			r->io_error = true;
	}
	memset(t, 0, sizeof(*t));
}

static void trip_open(struct ig_report *r, uint32_t s, uint16_t k, int64_t ts, int8_t dir, int64_t px)
{
	struct strat *st = &r->s[s];
	struct trip *t = &st->trip[k];

	memset(t, 0, sizeof(*t));
	t->open = true;
	t->dir = dir;
	t->entry_ts = ts;
	st->touched = true;
	if (st->chart_k < 0)
		st->chart_k = k;
	marker_add(st, 2 * r->cap, ts, px, dir > 0 ? 0 : 1);
}

/* Books part of a fill into the open trip: qty, notional, cash fee, base
 * fee value; entry when it adds to the position. */
static void trip_add(struct trip *t, bool entry, int side, int64_t qty, int64_t notional,
		     int64_t fee_cash, int64_t fee_base_value)
{
	if (entry) {
		t->entry_qty += qty;
		t->entry_notional += notional;
	} else {
		t->exit_qty += qty;
		t->exit_notional += notional;
	}
	t->flow += (side == IG_SIDE_BUY ? -notional : notional) - fee_cash;
	t->fees += fee_cash + fee_base_value;
}

void ig_report_fill(struct ig_report *r, uint32_t s, uint16_t k, int64_t ts_ns, int side,
		    int64_t px, int64_t qty, int64_t fee_cash, int64_t fee_base_value,
		    int64_t pos_after)
{
	struct strat *st;
	int64_t before, notional = 0;

	if (s >= r->ns || k >= r->ninst || qty <= 0)
		return;
	st = &r->s[s];
	before = st->pos[k];
	ig_fixed_mul(px, qty, &notional);
	st->fees += fee_cash + fee_base_value;
	if (before == 0 && pos_after == 0)
		return; /* nothing held before or after: no round trip */
	if (before == 0) {
		trip_open(r, s, k, ts_ns, pos_after > 0 ? 1 : -1, px);
		trip_add(&st->trip[k], true, side, qty, notional, fee_cash, fee_base_value);
	} else if (pos_after == 0 || (pos_after > 0) == (before > 0)) {
		if (!st->trip[k].open) /* a position the collector never saw open */
			trip_open(r, s, k, ts_ns, before > 0 ? 1 : -1, px);
		trip_add(&st->trip[k], abs64(pos_after) > abs64(before), side, qty, notional, fee_cash,
			 fee_base_value);
		if (pos_after == 0)
			trip_close(r, s, k, ts_ns, px);
	} else {
		/* A flip: the part that reaches 0 closes, the rest opens. */
		int64_t num = abs64(before), den = abs64(before) + abs64(pos_after);
		int64_t q1 = part(qty, num, den), n1 = part(notional, num, den);
		int64_t f1 = part(fee_cash, num, den), b1 = part(fee_base_value, num, den);
		if (!st->trip[k].open)
			trip_open(r, s, k, ts_ns, before > 0 ? 1 : -1, px);
		trip_add(&st->trip[k], false, side, q1, n1, f1, b1);
		trip_close(r, s, k, ts_ns, px);
		trip_open(r, s, k, ts_ns, pos_after > 0 ? 1 : -1, px);
		trip_add(&st->trip[k], true, side, qty - q1, notional - n1, fee_cash - f1,
			 fee_base_value - b1);
	}
	if ((before != 0) != (pos_after != 0)) {
		if (pos_after != 0)
			st->nopen++;
		else
			st->nopen--;
	}
	st->pos[k] = pos_after;
}

/* -------------------------------------------------------------- equity */

/* Ends the UTC day in progress: its last equity gives the day's return
 * against the previous day with samples (the first day has none). */
static void day_close(struct strat *st)
{
	double ret, d;

	st->days++;
	if (st->days == 1) {
		st->day_prev_close = st->day_eq;
		return;
	}
	ret = money(st->day_eq) / money(st->day_prev_close) - 1.0;
	st->day_prev_close = st->day_eq;
	if (!isfinite(ret)) {
		st->day_bad = true;
		return;
	}
	st->nret++;
	d = ret - st->d_mean;
	st->d_mean += d / (double)st->nret;
	st->d_m2 += d * (ret - st->d_mean);
	if (ret < 0)
		st->d_down2 += ret * ret;
	if (1.0 + ret > 0)
		st->d_log += log1p(ret);
	else
		st->day_nonpos = true;
}

static void month_close(struct strat *st)
{
	struct ig__report_month m = { st->month, 0 };

	if (st->month_prev_close > 0)
		m.ret = money(st->month_eq) / money(st->month_prev_close) - 1.0;
	st->month_prev_close = st->month_eq;
	if (st->nmonths == st->cap_months) {
		uint32_t cap = st->cap_months ? st->cap_months * 2 : 16;
		struct ig__report_month *p = realloc(st->months, cap * sizeof(*p));
		if (p == NULL)
			return; /* the table loses a month; the stats do not */
		st->months = p;
		st->cap_months = cap;
	}
	st->months[st->nmonths++] = m;
}

/* A drawdown episode: from the sample at zero_idx (drawdown 0) to the
 * sample at ts (drawdown 0 again, or the last sample). */
static void episode_close(struct strat *st, int64_t ts)
{
	st->episodes++;
	st->sum_ep_dd += st->ep_dd;
	if (ts - st->zero_ts > st->max_dd_ns)
		st->max_dd_ns = ts - st->zero_ts;
}

void ig_report_equity(struct ig_report *r, uint32_t s, int64_t ts_ns, int64_t equity, int64_t cash,
		      int64_t position)
{
	struct strat *st;
	int64_t day;
	int32_t month;
	double dd = 0;
	uint64_t idx;

	if (s >= r->ns)
		return;
	st = &r->s[s];
	day = floor_div(ts_ns, NS_PER_DAY);
	month = month_of(ts_ns);
	idx = st->nsamples++;
	if (st->touched || st->nopen > 0)
		st->exposed_samples++;
	st->touched = false;
	if (!st->has_sample) {
		st->has_sample = true;
		st->first_ts = ts_ns;
		st->first_eq = equity;
		st->peak = equity;
		st->day = day;
		st->month = month;
		st->month_prev_close = st->capital;
	} else {
		if (day != st->day) {
			day_close(st);
			st->day = day;
		}
		if (month != st->month) {
			month_close(st);
			st->month = month;
		}
	}
	st->day_eq = equity;
	st->month_eq = equity;
	st->last_ts = ts_ns;
	st->last_eq = equity;
	st->last_cash = cash;
	if (equity >= st->peak) {
		/* drawdown 0: ends an episode if there was a sample in between */
		if (idx > st->zero_idx + 1)
			episode_close(st, ts_ns);
		st->peak = equity;
		st->zero_idx = idx;
		st->zero_ts = ts_ns;
		st->ep_dd = 0;
	} else if (st->peak > 0) {
		double f = 1.0 - money(equity) / money(st->peak);
		dd = f * 100.0;
		if (f > st->ep_dd)
			st->ep_dd = f;
		if (f > st->max_dd)
			st->max_dd = f;
	}
	if (ig__report_series_add(&st->eq, r->cap, ts_ns, equity, dd) != 0)
		r->io_error = true;
	if (r->equity_csv != NULL) {
		char t[40], e[IG_FIXED_STRLEN], c[IG_FIXED_STRLEN], p[IG_FIXED_STRLEN];
		ig__report_iso8601(ts_ns, t, sizeof(t));
		ig_fixed_format(equity, e, sizeof(e));
		ig_fixed_format(cash, c, sizeof(c));
		ig_fixed_format(position, p, sizeof(p));
		if (fprintf(r->equity_csv, "%s,%s,%s,%s,%s\n", t, st->name, e, c, p) < 0)
			r->io_error = true;
	}
}

uint16_t ig_report_chart_instrument(const struct ig_report *r, uint32_t s)
{
	return r->s[s].chart_k >= 0 ? (uint16_t)r->s[s].chart_k : r->s[s].home;
}

/* -------------------------------------------------------------- finish */

#define SET(st, name, val)                              \
	do {                                            \
		(st)->name = (val);                     \
		(st)->defined |= UINT64_C(1) << IG_RS_##name; \
	} while (0)

static void set_double(struct ig_report_stats *st, enum ig_report_stat id, double *field, double v)
{
	if (!isfinite(v))
		return;
	*field = v;
	st->defined |= UINT64_C(1) << id;
}

#define SETD(st, name, val) set_double((st), IG_RS_##name, &(st)->name, (val))

/* The geometric mean of n returns from the sum of log(1 + r): exp(sum / n)
 * - 1; 0 when some 1 + r <= 0. */
static double gmean(double sum_log, double n, bool nonpos)
{
	return nonpos ? 0.0 : expm1(sum_log / n);
}

static void stats_of(const struct ig_report *r, const struct strat *s, struct ig_report_stats *o)
{
	uint16_t home = s->home;
	int64_t eq = s->has_sample ? s->last_eq : s->capital;
	int64_t e0 = s->has_sample ? s->first_eq : s->capital;
	double n = (double)s->ntrades, ann = (double)r->annual_days;
	double a_ret = NAN;

	memset(o, 0, sizeof(*o));
	/* doubles start undefined (NaN), as the defined mask says */
	o->return_pct = o->return_ann_pct = o->buy_hold_return_pct = o->cagr_pct = NAN;
	o->max_drawdown_pct = o->avg_drawdown_pct = o->win_rate_pct = o->best_trade_pct = NAN;
	o->worst_trade_pct = o->avg_trade_pct = o->profit_factor = o->expectancy_pct = NAN;
	o->sqn = o->sharpe = o->sortino = o->calmar = o->volatility_ann_pct = NAN;
	o->exposure_pct = NAN;

	SET(o, equity_initial, s->capital);
	SET(o, equity_final, eq);
	SET(o, equity_peak, s->has_sample ? s->peak : s->capital);
	SET(o, cash_final, s->has_sample ? s->last_cash : s->capital);
	SET(o, fees, s->fees);
	SET(o, trades, (int64_t)s->ntrades);
	{
		int64_t open = 0;
		for (uint16_t i = 0; i < r->ninst; i++)
			open += s->trip[i].open;
		SET(o, open_trades, open);
	}
	SET(o, duration_s, s->has_sample ? (s->last_ts - s->first_ts) / NS_PER_S : 0);
	if (e0 > 0)
		SETD(o, return_pct, money(eq - e0) / money(e0) * 100.0);
	if (r->first_px[home] > 0)
		SETD(o, buy_hold_return_pct,
		     money(r->last_px[home] - r->first_px[home]) / money(r->first_px[home]) * 100.0);
	if (s->has_sample) {
		SETD(o, max_drawdown_pct, s->max_dd > 0 ? -s->max_dd * 100.0 : 0.0);
		if (s->episodes > 0) {
			SETD(o, avg_drawdown_pct, -s->sum_ep_dd / (double)s->episodes * 100.0);
			SET(o, max_drawdown_duration_s, s->max_dd_ns / NS_PER_S);
		}
	}
	if (s->has_sample && e0 > 0 && s->last_ts > s->first_ts) {
		double years = (double)(s->last_ts - s->first_ts) / (double)NS_PER_DAY / ann;
		double ratio = money(eq) / money(e0);
		if (ratio == 0)
			SETD(o, cagr_pct, -100.0);
		else if (ratio > 0)
			SETD(o, cagr_pct, (pow(ratio, 1.0 / years) - 1.0) * 100.0);
	}
	if (s->days > 0 && !s->day_bad) {
		/* the first day counts as a return of 0 in the geometric mean */
		double g = gmean(s->d_log, (double)s->days, s->day_nonpos);
		double vol = NAN;
		a_ret = expm1(ann * log1p(g));
		SETD(o, return_ann_pct, a_ret * 100.0);
		if (s->nret >= 2) {
			/* (var + (1+g)^2)^N - (1+g)^(2N), as (1+g)^(2N) * (exp(N *
			 * log(1 + var / (1+g)^2)) - 1): the same value without the
			 * cancellation of two large powers */
			double var = s->d_m2 / (double)(s->nret - 1), g1 = (1.0 + g) * (1.0 + g);
			vol = sqrt(pow(g1, ann) * expm1(ann * log1p(var / g1)));
			SETD(o, volatility_ann_pct, vol * 100.0);
		}
		if (vol > 0)
			SETD(o, sharpe, (a_ret * 100.0 - r->rf * 100.0) / (vol * 100.0));
		if (s->nret > 0 && s->d_down2 > 0)
			SETD(o, sortino,
			     (a_ret - r->rf) / (sqrt(s->d_down2 / (double)s->nret) * sqrt(ann)));
		if (s->max_dd > 0)
			SETD(o, calmar, a_ret / s->max_dd);
	}
	if (s->ntrades > 0) {
		int64_t sum = s->sum_pnl, nn = (int64_t)s->ntrades;
		SETD(o, win_rate_pct, (double)s->wins / n * 100.0);
		SETD(o, best_trade_pct, s->best * 100.0);
		SETD(o, worst_trade_pct, s->worst * 100.0);
		SETD(o, avg_trade_pct, gmean(s->sum_log_ret, n, s->ret_nonpos) * 100.0);
		SET(o, expectancy, (sum >= 0 ? sum + nn / 2 : sum - nn / 2) / nn);
		SETD(o, expectancy_pct, s->sum_ret / n * 100.0);
		if (s->sum_neg_ret < 0)
			SETD(o, profit_factor, s->sum_pos_ret / -s->sum_neg_ret);
		if (s->ntrades >= 2) {
			double sd = sqrt(s->pnl_m2 / (n - 1));
			if (sd > 0)
				SETD(o, sqn, sqrt(n) * s->pnl_mean / sd);
		}
	}
	if (r->ticks) {
		if (r->have_ts && r->last_ts > r->first_ts)
			SETD(o, exposure_pct,
			     (double)s->exposed_ns / (double)(r->last_ts - r->first_ts) * 100.0);
	} else if (s->nsamples > 0) {
		SETD(o, exposure_pct, (double)s->exposed_samples / (double)s->nsamples * 100.0);
	}
}

int ig_report_finish(struct ig_report *r, struct ig_report_stats *st)
{
	if (!r->finished) {
		r->finished = true;
		for (uint32_t i = 0; i < r->ns; i++) {
			struct strat *s = &r->s[i];
			if (s->has_sample) {
				day_close(s);
				month_close(s);
				/* the last sample ends an episode even if not recovered */
				if (s->nsamples - 1 > s->zero_idx + 1)
					episode_close(s, s->last_ts);
			}
			ig__report_series_flush(&s->eq);
		}
		for (uint16_t k = 0; k < r->ninst; k++)
			ig__report_series_flush(&r->price[k]);
		if (r->equity_csv != NULL && fclose(r->equity_csv) != 0)
			r->io_error = true;
		if (r->trades_csv != NULL && fclose(r->trades_csv) != 0)
			r->io_error = true;
		r->equity_csv = r->trades_csv = NULL;
	}
	for (uint32_t i = 0; i < r->ns; i++)
		stats_of(r, &r->s[i], &st[i]);
	return r->io_error ? IG_EIO : 0;
}

/* ----------------------------------------------------------- accessors */

uint32_t ig__report_nstrategies(const struct ig_report *r)
{
	return r->ns;
}

const char *ig__report_name(const struct ig_report *r, uint32_t s)
{
	return r->s[s].name;
}

const struct ig__report_series *ig__report_equity_series(const struct ig_report *r, uint32_t s)
{
	return &r->s[s].eq;
}

const struct ig__report_series *ig__report_price_series(const struct ig_report *r, uint32_t s,
							const char **symbol)
{
	uint16_t k = ig_report_chart_instrument(r, s);
	*symbol = r->symbols[k];
	return &r->price[k];
}

const struct ig__report_marker *ig__report_markers(const struct ig_report *r, uint32_t s,
						   uint32_t *n)
{
	*n = r->s[s].nmk;
	return r->s[s].mk;
}

const struct ig__report_month *ig__report_months(const struct ig_report *r, uint32_t s,
						 uint32_t *n)
{
	*n = r->s[s].nmonths;
	return r->s[s].months;
}

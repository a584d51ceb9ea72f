/* csv.c - CSV market data: header detection, row parsing, preloading. */
#include "feed/feed.h"

#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_COLS 16
#define COL_NAME_MAX 24 /* header names kept for messages (longer ones are cut) */
#define MAX_KINDS 32    /* distinct (column, problem) pairs warned about once each */

enum col_role {
	COL_NONE = 0,
	COL_TS,
	COL_BID,
	COL_ASK,
	COL_BID_QTY,
	COL_ASK_QTY,
	COL_PRICE,
	COL_QTY,
	COL_OPEN,
	COL_HIGH,
	COL_LOW,
	COL_CLOSE,
	COL_VOLUME,
	COL__COUNT
};

static const struct {
	const char *name;
	enum col_role role;
} col_names[] = {
	{ "ts", COL_TS },           { "ts_unix", COL_TS },       { "timestamp", COL_TS },
	{ "time", COL_TS },         { "utc_time", COL_TS },      { "bid", COL_BID },
	{ "bid_px", COL_BID },      { "bid_close", COL_BID },    { "ask", COL_ASK },
	{ "ask_px", COL_ASK },      { "ask_close", COL_ASK },    { "bid_qty", COL_BID_QTY },
	{ "bid_size", COL_BID_QTY },{ "last_bid_size", COL_BID_QTY }, { "ask_qty", COL_ASK_QTY },
	{ "ask_size", COL_ASK_QTY },{ "last_ask_size", COL_ASK_QTY }, { "price", COL_PRICE },
	{ "px", COL_PRICE },        { "amount", COL_QTY },       { "qty", COL_QTY },
	{ "size", COL_QTY },        { "open", COL_OPEN },        { "high", COL_HIGH },
	{ "low", COL_LOW },         { "close", COL_CLOSE },      { "volume", COL_VOLUME },
};

struct cell {
	const char *p;
	size_t len;
};

/* Splits line[0..len) at commas into at most MAX_COLS cells; trims spaces
 * and a trailing CR. Returns the number of cells. */
static int split(const char *line, size_t len, struct cell *cells)
{
	int n = 0;
	size_t start = 0;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	for (size_t i = 0; i <= len && n < MAX_COLS; i++) {
		if (i == len || line[i] == ',') {
			size_t a = start, b = i;
			while (a < b && line[a] == ' ')
				a++;
			while (b > a && line[b - 1] == ' ')
				b--;
			cells[n].p = line + a;
			cells[n].len = b - a;
			n++;
			start = i + 1;
		}
	}
	return n;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	/* Howard Hinnant's days-from-civil, proleptic Gregorian. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int parse_uint(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	if (len == 0 || len > 19)
		return IG_ESYNTAX;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ESYNTAX;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return IG_ERANGE;
	}
	*out = v;
	return 0;
}

int ig_feed_parse_ts(const char *s, size_t len, int64_t *out_ns)
{
	int64_t v, y, mo, d, h, mi, sec, frac_ns = 0;

	if (len >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ')) {
		/* YYYY-MM-DDTHH:MM:SS[.fff][Z] */
		if (parse_uint(s, 4, &y) || parse_uint(s + 5, 2, &mo) || parse_uint(s + 8, 2, &d) ||
		    parse_uint(s + 11, 2, &h) || s[13] != ':' || parse_uint(s + 14, 2, &mi) ||
		    s[16] != ':' || parse_uint(s + 17, 2, &sec))
			return IG_ESYNTAX;
		size_t i = 19;
		if (i < len && s[i] == '.') {
			int64_t scale = 100000000;
			size_t first = ++i;
			/* Digits past the 9th (below 1 ns) are checked and dropped. */
			for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
				frac_ns += (s[i] - '0') * scale;
				scale /= 10;
			}
			if (i == first)
				return IG_ESYNTAX; /* a point without digits */
		}
		if (i < len && s[i] == 'Z')
			i++;
		if (i != len || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
			return IG_ESYNTAX;
		v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
		if (__builtin_mul_overflow(v, 1000000000, &v) || __builtin_add_overflow(v, frac_ns, &v))
			return IG_ERANGE;
		*out_ns = v;
		return 0;
	}
	/* Unix time: seconds, ms, us or ns by magnitude; seconds may have a
	 * fraction. */
	{
		int64_t fx;
		if (ig_fixed_parse_round(s, len, &fx) == 0 && fx >= 0 && memchr(s, '.', len) != NULL) {
			/* fractional seconds: fx is seconds * 1e8 */
			if (fx > INT64_MAX / 10)
				return IG_ERANGE;
			*out_ns = fx * 10;
			return 0;
		}
	}
	{
		int rc = parse_uint(s, len, &v);
		int64_t mul;
		if (rc != 0)
			return rc;
		mul = v < INT64_C(100000000000)      ? 1000000000 /* < 1e11: seconds */
		      : v < INT64_C(100000000000000) ? 1000000    /* ms */
		      : v < INT64_C(100000000000000000) ? 1000    /* us */
							: 1;      /* ns */
		if (__builtin_mul_overflow(v, mul, &v))
			return IG_ERANGE;
		*out_ns = v;
		return 0;
	}
}

struct layout {
	int kind;
	int col[COL__COUNT]; /* column index per role, -1 = absent */
	int ncols;
	char name[MAX_COLS][COL_NAME_MAX]; /* header text per column, for messages */
};

/* What is wrong with a row: the cell (index into the row; may be past the
 * header's columns) and why. why is a static string, so (col, why) names
 * the kind of problem. */
struct row_err {
	int col;
	const char *why;
};

/* Formats the name of column c for a message: the header's name, or
 * "field N" (1-based) past the header. Returns buf. */
static const char *col_name(const struct layout *lay, int c, char *buf, size_t cap)
{
	if (c >= 0 && c < lay->ncols && lay->name[c][0] != '\0')
		snprintf(buf, cap, "%s", lay->name[c]);
	else
		snprintf(buf, cap, "field %d", c + 1);
	return buf;
}

static int detect(struct cell *cells, int n, struct layout *lay)
{
	for (int r = 0; r < COL__COUNT; r++)
		lay->col[r] = -1;
	lay->ncols = n;
	for (int i = 0; i < n; i++) {
		size_t l = cells[i].len < COL_NAME_MAX - 1 ? cells[i].len : COL_NAME_MAX - 1;
		memcpy(lay->name[i], cells[i].p, l);
		lay->name[i][l] = '\0';
		for (size_t k = 0; k < sizeof(col_names) / sizeof(col_names[0]); k++) {
			if (strlen(col_names[k].name) == cells[i].len &&
			    strncasecmp(col_names[k].name, cells[i].p, cells[i].len) == 0) {
				if (lay->col[col_names[k].role] < 0)
					lay->col[col_names[k].role] = i;
			}
		}
	}
	if (lay->col[COL_TS] < 0)
		return IG_EPARSE;
	if (lay->col[COL_BID] >= 0 && lay->col[COL_ASK] >= 0) {
		lay->kind = IG_CSV_QUOTES;
		return 0;
	}
	if (lay->col[COL_OPEN] >= 0 && lay->col[COL_HIGH] >= 0 && lay->col[COL_LOW] >= 0 &&
	    lay->col[COL_CLOSE] >= 0) {
		lay->kind = IG_CSV_BARS;
		return 0;
	}
	if (lay->col[COL_PRICE] >= 0) {
		lay->kind = IG_CSV_TRADES;
		return 0;
	}
	return IG_EPARSE;
}

enum sign_rule {
	POSITIVE, /* prices */
	NON_NEG,  /* sizes and volumes */
};

/* Parses the money cell of role r into *out; an absent optional column
 * gives dflt. Float artefacts with any number of decimals round to 1e-8,
 * but every character of the cell is checked (ig_fixed_parse_round_long):
 * an exponent or junk is "not a number", never cut off. Returns 0, or 1
 * with *e set. */
static int money(const struct layout *lay, const struct cell *cells, int n, enum col_role r,
		 bool required, int64_t dflt, enum sign_rule sign, int64_t *out, struct row_err *e)
{
	int c = lay->col[r], rc;

	if (c < 0) {
		if (required) { /* detect() guarantees the required ones */
			*e = (struct row_err){ -1, "missing column" };
			return 1;
		}
		*out = dflt;
		return 0;
	}
	if (c >= n || cells[c].len == 0) {
		*e = (struct row_err){ c, "missing field" };
		return 1;
	}
	rc = ig_fixed_parse_round_long(cells[c].p, cells[c].len, out);
	if (rc != 0) {
		*e = (struct row_err){ c, rc == IG_ERANGE ? "out of range" : "not a number" };
		return 1;
	}
	if (sign == POSITIVE && *out <= 0) {
		*e = (struct row_err){ c, "not positive" };
		return 1;
	}
	if (sign == NON_NEG && *out < 0) {
		*e = (struct row_err){ c, "negative" };
		return 1;
	}
	return 0;
}

/* Parses one data row into ev. Returns 0, or 1 with *e saying which cell
 * is wrong and why. */
static int parse_row(const struct layout *lay, const struct cell *cells, int n,
		     struct ig_event *ev, int64_t prev_ts, struct row_err *e)
{
	int64_t ts;
	int tc = lay->col[COL_TS];

	if (n < lay->ncols) {
		*e = (struct row_err){ n, "missing field" };
		return 1;
	}
	if (n > lay->ncols) {
		*e = (struct row_err){ lay->ncols, "more fields than the header" };
		return 1;
	}
	if (ig_feed_parse_ts(cells[tc].p, cells[tc].len, &ts) != 0) {
		*e = (struct row_err){ tc, "bad timestamp" };
		return 1;
	}
	if (ts < prev_ts) {
		*e = (struct row_err){ tc, "timestamp goes backwards" };
		return 1;
	}
	memset(ev, 0, sizeof(*ev));
	ev->hdr.ts_event_ns = ts;
	switch (lay->kind) {
	case IG_CSV_QUOTES: {
		struct ig_quote *q = &ev->body.quote;
		ev->hdr.type = IG_EV_QUOTE;
		if (money(lay, cells, n, COL_BID, true, 0, POSITIVE, &q->bid_px, e) ||
		    money(lay, cells, n, COL_ASK, true, 0, POSITIVE, &q->ask_px, e) ||
		    money(lay, cells, n, COL_BID_QTY, false, IG_FIXED(1), NON_NEG, &q->bid_qty, e) ||
		    money(lay, cells, n, COL_ASK_QTY, false, IG_FIXED(1), NON_NEG, &q->ask_qty, e))
			return 1;
		if (q->bid_px > q->ask_px) {
			*e = (struct row_err){ lay->col[COL_BID], "above ask (crossed quote)" };
			return 1;
		}
		return 0;
	}
	case IG_CSV_TRADES: {
		struct ig_trade *t = &ev->body.trade;
		ev->hdr.type = IG_EV_TRADE;
		if (money(lay, cells, n, COL_PRICE, true, 0, POSITIVE, &t->px, e) ||
		    money(lay, cells, n, COL_QTY, false, IG_FIXED(1), NON_NEG, &t->qty, e))
			return 1;
		return 0;
	}
	default: {
		struct ig_bar *b = &ev->body.bar;
		ev->hdr.type = IG_EV_BAR;
		if (money(lay, cells, n, COL_OPEN, true, 0, POSITIVE, &b->open_px, e) ||
		    money(lay, cells, n, COL_HIGH, true, 0, POSITIVE, &b->high_px, e) ||
		    money(lay, cells, n, COL_LOW, true, 0, POSITIVE, &b->low_px, e) ||
		    money(lay, cells, n, COL_CLOSE, true, 0, POSITIVE, &b->close_px, e) ||
		    money(lay, cells, n, COL_VOLUME, false, 0, NON_NEG, &b->volume, e))
			return 1;
		if (b->high_px < b->low_px) {
			*e = (struct row_err){ lay->col[COL_HIGH], "below low" };
			return 1;
		}
		if (b->open_px < b->low_px || b->open_px > b->high_px) {
			*e = (struct row_err){ lay->col[COL_OPEN], "outside [low, high]" };
			return 1;
		}
		if (b->close_px < b->low_px || b->close_px > b->high_px) {
			*e = (struct row_err){ lay->col[COL_CLOSE], "outside [low, high]" };
			return 1;
		}
		b->period_ns = prev_ts > 0 && ts > prev_ts && ts - prev_ts <= INT64_C(86400000000000)
				       ? ts - prev_ts
				       : INT64_C(60000000000);
		return 0;
	}
	}
}

/* Kinds of bad row already reported in a non-strict load. */
struct kinds {
	struct row_err seen[MAX_KINDS];
	int n;
};

/* Returns true the first time (col, why) is seen (false once the table is
 * full, so a file with endless kinds cannot flood the log). */
static bool first_of_kind(struct kinds *k, const struct row_err *e)
{
	for (int i = 0; i < k->n; i++)
		if (k->seen[i].col == e->col && k->seen[i].why == e->why)
			return false;
	if (k->n == MAX_KINDS)
		return false;
	k->seen[k->n++] = *e;
	return true;
}

/* Reads the whole file into a NUL-terminated heap buffer. */
static int slurp(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	long sz;

	if (fp == NULL) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return e == ENOENT ? IG_ENOENT : IG_EIO;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (sz = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(fp);
		return IG_EIO;
	}
	*buf = malloc((size_t)sz + 1);
	if (*buf == NULL) {
		fclose(fp);
		return IG_ENOMEM;
	}
	if (fread(*buf, 1, (size_t)sz, fp) != (size_t)sz) {
		snprintf(err, errlen, "%s: short read", path);
		free(*buf);
		fclose(fp);
		return IG_EIO;
	}
	(*buf)[sz] = '\0';
	*len = (size_t)sz;
	fclose(fp);
	return 0;
}

/* A CSV file, preloaded. Owner: the tick thread. */
struct csv_src {
	struct ig_event *events; /* preloaded rows */
	uint64_t nevents;
	int kind;                /* enum ig_csv_kind */
};

/* Reads and checks the whole file into c; counts f->rows and f->bad_rows.
 * Returns 0 or an IG_E* with err set (c->events is then NULL). */
static int csv_load(struct ig_feed *f, struct csv_src *c, const struct ig_cfg_feed *cfg,
		    char *err, size_t errlen)
{
	char *buf;
	size_t len, lines = 0, off = 0;
	struct layout lay = { 0 };
	struct kinds kinds = { .n = 0 };
	struct cell cells[MAX_COLS];
	int rc, lineno = 0;
	bool have_header = false;
	int64_t prev_ts = 0;

	if ((rc = slurp(cfg->path, &buf, &len, err, errlen)) != 0)
		return rc;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	c->events = aligned_alloc(IG_CACHELINE, (lines + 1) * sizeof(struct ig_event));
	if (c->events == NULL) {
		free(buf);
		return IG_ENOMEM;
	}
	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t llen = nl ? (size_t)(nl - (buf + off)) : len - off;
		const char *line = buf + off;
		int n;

		off += llen + 1;
		lineno++;
		if (llen == 0 || (llen == 1 && line[0] == '\r') || line[0] == '#')
			continue;
		n = split(line, llen, cells);
		if (!have_header) {
			if (detect(cells, n, &lay) != 0) {
				snprintf(err, errlen,
					 "%s:%d: unrecognised CSV header (want ts + bid/ask, "
					 "price/amount, or open/high/low/close/volume)",
					 cfg->path, lineno);
				free(buf);
				free(c->events);
				c->events = NULL;
				return IG_EPARSE;
			}
			have_header = true;
			continue;
		}
		f->rows++;
		struct row_err re;
		if (parse_row(&lay, cells, n, &c->events[c->nevents], prev_ts, &re) != 0) {
			char cname[COL_NAME_MAX + 16];
			f->bad_rows++;
			col_name(&lay, re.col, cname, sizeof(cname));
			if (cfg->strict) {
				if (re.col == lay.ncols && n > lay.ncols)
					snprintf(err, errlen,
						 "%s:%d: %s: %s (%d) (feed.strict is on)", cfg->path,
						 lineno, cname, re.why, lay.ncols);
				else
					snprintf(err, errlen, "%s:%d: %s: %s (feed.strict is on)",
						 cfg->path, lineno, cname, re.why);
				free(buf);
				free(c->events);
				c->events = NULL;
				return IG_EPARSE;
			}
			if (first_of_kind(&kinds, &re))
				ig_log_warn("%s:%d: %s: %s; row skipped (later rows with this "
					    "problem are only counted)",
					    cfg->path, lineno, cname, re.why);
			continue;
		}
		prev_ts = c->events[c->nevents].hdr.ts_event_ns;
		c->nevents++;
	}
	free(buf);
	if (!have_header) {
		snprintf(err, errlen, "%s: empty file (no CSV header)", cfg->path);
		free(c->events);
		c->events = NULL;
		return IG_EPARSE;
	}
	c->kind = lay.kind;
	if (f->bad_rows > 0)
		ig_log_warn("%s: %llu of %llu rows skipped as malformed", cfg->path,
			    (unsigned long long)f->bad_rows, (unsigned long long)f->rows);
	return 0;
}

/* Opens feed.path (the venue plays no part). Returns 0 or an IG_E* with
 * err set. */
static int csv_open(struct ig_feed *f, const struct ig_config *cfg, const struct ig_venue_type *vt,
		    void *venue_ctx, char *err, size_t errlen)
{
	struct csv_src *c = calloc(1, sizeof(*c));
	int rc;

	(void)vt;
	(void)venue_ctx;
	if (c == NULL) {
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	rc = csv_load(f, c, &cfg->feed, err, errlen);
	if (rc != 0) {
		free(c->events);
		free(c);
		return rc;
	}
	for (uint64_t i = 0; i < c->nevents; i++)
		c->events[i].hdr.instrument_id = f->instrument_id;
	f->src = c;
	return 0;
}

static int csv_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	const struct csv_src *c = f->src;
	const struct ig_event *src;

	if (f->pos >= c->nevents)
		return IG_EEOF;
	src = &c->events[f->pos];
	if (f->speed == 0 && f->rate > 0) {
		/* Fixed event rate, whatever the data's timestamps. */
		if (!ig__feed_rate_due(f, now_ns, due_ns))
			return 0;
	} else if (f->speed > 0) {
		if (f->pos == 0) {
			f->t0_data_ns = src->hdr.ts_event_ns;
			f->t0_wall_ns = now_ns;
		} else {
			int64_t due = f->t0_wall_ns + (src->hdr.ts_event_ns - f->t0_data_ns) / f->speed;
			if (due > now_ns) {
				*due_ns = due;
				return 0;
			}
		}
	}
	*ev = *src;
	f->pos++;
	return 1;
}

static uint64_t csv_size(const struct ig_feed *f)
{
	const struct csv_src *c = f->src;
	return c->nevents;
}

static void csv_close(void *src)
{
	struct csv_src *c = src;
	free(c->events);
	free(c);
}

static const struct ig_feed_ops csv_ops = {
	.next = csv_next,
	.size = csv_size,
	.close = csv_close,
};

const struct ig_feed_type ig_csv_feed_type = {
	.name = "csv",
	.live = false,
	.needs_path = true,
	.open = csv_open,
	.ops = &csv_ops,
};

const struct ig_event *ig_feed_csv_events(const struct ig_feed *f)
{
	const struct csv_src *c = f->type == &ig_csv_feed_type ? f->src : NULL;
	return c != NULL ? c->events : NULL;
}

int ig_feed_csv_kind(const struct ig_feed *f)
{
	const struct csv_src *c = f->type == &ig_csv_feed_type ? f->src : NULL;
	return c != NULL ? c->kind : -1;
}

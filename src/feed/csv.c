/* csv.c - CSV market data: header detection, row parsing, streaming reads. */
#include "feed/feed.h"

#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_COLS 16
#define COL_NAME_MAX 24 /* header names kept for messages (longer ones are cut) */
#define MAX_KINDS 32    /* distinct (column, problem) pairs warned about once each */
#define TS_CELL_MAX 96  /* a date and a time cell joined */

enum col_role {
	COL_NONE = 0,
	COL_TS,
	COL_DATE,
	COL_TIME,
	COL_BID,
	COL_ASK,
	COL_BID_QTY,
	COL_ASK_QTY,
	COL_PRICE,
	COL_QTY,
	COL_SIDE,
	COL_OPEN,
	COL_HIGH,
	COL_LOW,
	COL_CLOSE,
	COL_ADJ_CLOSE,
	COL_VOLUME,
	COL_SYMBOL,
	COL__COUNT
};

/* Header names detected without feed.columns (matched without case). */
static const struct {
	const char *name;
	enum col_role role;
} col_names[] = {
	{ "ts", COL_TS },           { "ts_unix", COL_TS },       { "timestamp", COL_TS },
	{ "time", COL_TS },         { "utc_time", COL_TS },      { "open_time", COL_TS },
	{ "date", COL_DATE },       { "bid", COL_BID },          { "bid_px", COL_BID },
	{ "bid_close", COL_BID },   { "ask", COL_ASK },          { "ask_px", COL_ASK },
	{ "ask_close", COL_ASK },   { "bid_qty", COL_BID_QTY },  { "bid_size", COL_BID_QTY },
	{ "last_bid_size", COL_BID_QTY }, { "ask_qty", COL_ASK_QTY }, { "ask_size", COL_ASK_QTY },
	{ "last_ask_size", COL_ASK_QTY }, { "price", COL_PRICE }, { "px", COL_PRICE },
	{ "amount", COL_QTY },      { "qty", COL_QTY },          { "size", COL_QTY },
	{ "side", COL_SIDE },       { "open", COL_OPEN },        { "high", COL_HIGH },
	{ "low", COL_LOW },         { "close", COL_CLOSE },      { "adj close", COL_ADJ_CLOSE },
	{ "adj_close", COL_ADJ_CLOSE }, { "adjclose", COL_ADJ_CLOSE }, { "volume", COL_VOLUME },
	{ "symbol", COL_SYMBOL },
};

/* feed.columns keys (the config checks them) to roles. */
static const struct {
	const char *key;
	enum col_role role;
} col_keys[] = {
	{ "ts", COL_TS },         { "date", COL_DATE },   { "time", COL_TIME },
	{ "open", COL_OPEN },     { "high", COL_HIGH },   { "low", COL_LOW },
	{ "close", COL_CLOSE },   { "adj_close", COL_ADJ_CLOSE }, { "volume", COL_VOLUME },
	{ "px", COL_PRICE },      { "qty", COL_QTY },     { "side", COL_SIDE },
	{ "bid", COL_BID },       { "ask", COL_ASK },     { "bid_qty", COL_BID_QTY },
	{ "ask_qty", COL_ASK_QTY }, { "symbol", COL_SYMBOL },
};

struct cell {
	const char *p;
	size_t len;
};

/* Splits line[0..len) at commas into at most MAX_COLS cells; trims spaces
 * and a trailing CR. Returns the number of cells (1 for an empty line). */
static int split(const char *line, size_t len, struct cell *cells)
{
	const char *p = line, *end;
	int n = 0;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	end = line + len;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *a = p, *b = comma != NULL ? comma : end;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		cells[n].p = a;
		cells[n].len = (size_t)(b - a);
		n++;
		if (comma == NULL || n == MAX_COLS)
			return n;
		p = comma + 1;
	}
}

/* How one file is read: column roles, and what its rows mean. */
struct layout {
	int kind;
	int col[COL__COUNT]; /* column index per role, -1 = absent */
	int ncols;
	bool headerless;     /* a kline export without a header */
	char name[MAX_COLS][COL_NAME_MAX]; /* header text per column, for messages */
	/* from the config */
	const char *ts_format;
	bool adjust;         /* feed.adjust: adj_close */
	int fixed_inst;      /* the file's instrument, or -1: the symbol column */
	char (*syms)[IG_CFG_NAME_MAX]; /* the feed's symbols (instrument order) */
	uint32_t nsyms;
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

static bool cell_is(const struct cell *c, const char *name)
{
	return strlen(name) == c->len && strncasecmp(name, c->p, c->len) == 0;
}

/* Writes the header cells, comma-separated, into buf (for messages). */
static void header_text(const struct cell *cells, int n, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && used + 1 < cap; i++) {
		int w = snprintf(buf + used, cap - used, "%s%.*s", i ? "," : "",
				 (int)(cells[i].len > 40 ? 40 : cells[i].len), cells[i].p);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* Applies feed.columns to the header cells. Returns 0, or IG_EPARSE with
 * err naming the config position and key of a column not in the header. */
static int map_columns(const struct ig_config *cfg, const char *path, int lineno,
		       const struct cell *cells, int n, struct layout *lay, char *err,
		       size_t errlen)
{
	const struct ig_cfg_feed *fc = &cfg->feed;

	for (uint32_t k = 0; k < fc->ncolumns; k++) {
		const struct ig_cfg_feed_column *m = &fc->columns[k];
		enum col_role role = COL_NONE;
		int at = -1;
		for (size_t r = 0; r < sizeof(col_keys) / sizeof(col_keys[0]); r++)
			if (strcmp(col_keys[r].key, m->key) == 0)
				role = col_keys[r].role;
		for (int i = 0; i < n && at < 0; i++)
			if (cell_is(&cells[i], m->name))
				at = i;
		if (role == COL_NONE || at < 0) {
			char hdr[256];
			header_text(cells, n, hdr, sizeof(hdr));
			if (m->line > 0)
				snprintf(err, errlen,
					 "%s:%d:%d: feed.columns.%s: column \"%s\" is not in the "
					 "header of %s (%s:%d: %s)",
					 cfg->file, m->line, m->col, m->key, m->name, path, path, lineno,
					 hdr);
			else
				snprintf(err, errlen,
					 "--set feed.columns.%s: column \"%s\" is not in the header "
					 "of %s (%s:%d: %s)",
					 m->key, m->name, path, path, lineno, hdr);
			return IG_EPARSE;
		}
		lay->col[role] = at;
	}
	return 0;
}

/* Reads the header (or, with no header, a kline export's first row) into
 * lay. Returns 0 (*data_row: the line is data, not a header), or IG_EPARSE
 * with err set. */
static int detect(const struct ig_config *cfg, const char *path, int lineno, struct cell *cells,
		  int n, struct layout *lay, bool *data_row, char *err, size_t errlen)
{
	bool mapped[COL__COUNT] = { false };
	int64_t ts;

	*data_row = false;
	for (int r = 0; r < COL__COUNT; r++)
		lay->col[r] = -1;
	lay->ncols = n;
	if (n >= 6 && cells[0].len > 0 && cells[0].p[0] >= '0' && cells[0].p[0] <= '9' &&
	    ig_feed_parse_ts(cells[0].p, cells[0].len, &ts) == 0) {
		/* No header: an exchange kline export (Binance-style). */
		static const char *const kl[] = { "open_time", "open", "high", "low", "close",
						  "volume" };
		if (cfg->feed.ncolumns > 0) {
			snprintf(err, errlen,
				 "%s:%d: feed.columns: the file has no header (a kline export is "
				 "read by position)", path, lineno);
			return IG_EPARSE;
		}
		for (int i = 0; i < n; i++)
			snprintf(lay->name[i], COL_NAME_MAX, "%s", i < 6 ? kl[i] : "");
		lay->col[COL_TS] = 0;
		lay->col[COL_OPEN] = 1;
		lay->col[COL_HIGH] = 2;
		lay->col[COL_LOW] = 3;
		lay->col[COL_CLOSE] = 4;
		lay->col[COL_VOLUME] = 5;
		lay->kind = IG_CSV_BARS;
		lay->headerless = true;
		*data_row = true;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		size_t l = cells[i].len < COL_NAME_MAX - 1 ? cells[i].len : COL_NAME_MAX - 1;
		memcpy(lay->name[i], cells[i].p, l);
		lay->name[i][l] = '\0';
	}
	if (map_columns(cfg, path, lineno, cells, n, lay, err, errlen) != 0)
		return IG_EPARSE;
	for (int r = 0; r < COL__COUNT; r++)
		mapped[r] = lay->col[r] >= 0;
	for (int i = 0; i < n; i++) {
		bool taken = false;
		for (int r = 0; r < COL__COUNT; r++)
			taken |= mapped[r] && lay->col[r] == i;
		if (taken)
			continue;
		for (size_t k = 0; k < sizeof(col_names) / sizeof(col_names[0]); k++) {
			enum col_role r = col_names[k].role;
			if (!mapped[r] && lay->col[r] < 0 && cell_is(&cells[i], col_names[k].name))
				lay->col[r] = i;
		}
	}
	/* Date and time: a mapped pair, or a "date" column with a "time" one
	 * (two cells joined by a space); a date alone is the timestamp. */
	if (lay->col[COL_DATE] >= 0 && lay->col[COL_TIME] < 0 && !mapped[COL_TS] &&
	    lay->col[COL_TS] >= 0 && cell_is(&cells[lay->col[COL_TS]], "time")) {
		lay->col[COL_TIME] = lay->col[COL_TS];
		lay->col[COL_TS] = -1;
	}
	if (lay->col[COL_TS] < 0 && lay->col[COL_DATE] >= 0 && lay->col[COL_TIME] < 0) {
		lay->col[COL_TS] = lay->col[COL_DATE];
		lay->col[COL_DATE] = -1;
	}
	if (lay->col[COL_TS] >= 0) {
		lay->col[COL_DATE] = -1;
		lay->col[COL_TIME] = -1;
	}
	if (lay->col[COL_TS] < 0 && (lay->col[COL_DATE] < 0 || lay->col[COL_TIME] < 0))
		goto unrecognised;
	if (lay->col[COL_BID] >= 0 && lay->col[COL_ASK] >= 0)
		lay->kind = IG_CSV_QUOTES;
	else if (lay->col[COL_OPEN] >= 0 && lay->col[COL_HIGH] >= 0 && lay->col[COL_LOW] >= 0 &&
		 lay->col[COL_CLOSE] >= 0)
		lay->kind = IG_CSV_BARS;
	else if (lay->col[COL_PRICE] >= 0)
		lay->kind = IG_CSV_TRADES;
	else
		goto unrecognised;
	return 0;
unrecognised:
	snprintf(err, errlen,
		 "%s:%d: unrecognised CSV header (want ts + bid/ask, price/amount, or "
		 "open/high/low/close/volume; or name the columns with feed.columns)",
		 path, lineno);
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

/* The row's timestamp (one cell, or date + time joined by a space) by
 * feed.ts_format. Returns 0, or 1 with *e set. */
static int row_ts(const struct layout *lay, const struct cell *cells, int64_t *ts,
		  struct row_err *e)
{
	int tc = lay->col[COL_TS];

	if (tc >= 0) {
		if (ig_feed_parse_ts_fmt(lay->ts_format, cells[tc].p, cells[tc].len, ts) != 0)
			goto bad;
		return 0;
	}
	{
		const struct cell *d = &cells[lay->col[COL_DATE]], *t = &cells[lay->col[COL_TIME]];
		char buf[TS_CELL_MAX];
		tc = lay->col[COL_DATE];
		if (d->len + t->len + 1 >= sizeof(buf))
			goto bad;
		memcpy(buf, d->p, d->len);
		buf[d->len] = ' ';
		memcpy(buf + d->len + 1, t->p, t->len);
		if (ig_feed_parse_ts_fmt(lay->ts_format, buf, d->len + 1 + t->len, ts) != 0)
			goto bad;
		return 0;
	}
bad:
	*e = (struct row_err){ tc, "bad timestamp" };
	return 1;
}

/* x * adj / close rounded once to 1e-8, halves away from zero (all three
 * are positive). Returns 0, or IG_ERANGE if it does not fit. */
static int adjust_px(int64_t x, int64_t adj, int64_t close, int64_t *out)
{
	ig_i128 num = (ig_i128)x * adj;
	ig_i128 q = (2 * num + close) / (2 * (ig_i128)close);
	if (q > INT64_MAX)
		return IG_ERANGE;
	*out = (int64_t)q;
	return 0;
}

/* Parses one data row into ev. prev_ts is the file's previous row (time
 * must not go backwards), prev_inst_ts the previous row of the same
 * instrument (a bar's period). Returns 0, or 1 with *e saying which cell
 * is wrong and why. */
static int parse_row(const struct layout *lay, const struct cell *cells, int n,
		     struct ig_event *ev, int64_t prev_ts, const int64_t *prev_inst_ts,
		     struct row_err *e)
{
	int64_t ts;
	int inst = lay->fixed_inst;

	if (n < lay->ncols) {
		*e = (struct row_err){ n, "missing field" };
		return 1;
	}
	if (n > lay->ncols) {
		*e = (struct row_err){ lay->ncols, "more fields than the header" };
		return 1;
	}
	if (row_ts(lay, cells, &ts, e) != 0)
		return 1;
	if (ts < prev_ts) {
		*e = (struct row_err){ lay->col[COL_TS] >= 0 ? lay->col[COL_TS] : lay->col[COL_DATE],
				       "timestamp goes backwards" };
		return 1;
	}
	if (inst < 0) {
		const struct cell *sc = &cells[lay->col[COL_SYMBOL]];
		for (uint32_t k = 0; k < lay->nsyms && inst < 0; k++)
			if (strlen(lay->syms[k]) == sc->len &&
			    memcmp(lay->syms[k], sc->p, sc->len) == 0)
				inst = (int)k;
		if (inst < 0) {
			*e = (struct row_err){ lay->col[COL_SYMBOL], "symbol not in feed.symbols" };
			return 1;
		}
	}
	memset(ev, 0, sizeof(*ev));
	ev->hdr.ts_event_ns = ts;
	ev->hdr.instrument_id = (uint16_t)inst;
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
		int sc = lay->col[COL_SIDE];
		ev->hdr.type = IG_EV_TRADE;
		if (money(lay, cells, n, COL_PRICE, true, 0, POSITIVE, &t->px, e) ||
		    money(lay, cells, n, COL_QTY, false, IG_FIXED(1), NON_NEG, &t->qty, e))
			return 1;
		t->aggressor = IG_SIDE_NONE;
		if (sc >= 0 && cells[sc].len > 0) {
			const struct cell *c = &cells[sc];
			if (cell_is(c, "buy") || cell_is(c, "b") || cell_is(c, "bid"))
				t->aggressor = IG_SIDE_BUY;
			else if (cell_is(c, "sell") || cell_is(c, "s") || cell_is(c, "ask"))
				t->aggressor = IG_SIDE_SELL;
			else {
				*e = (struct row_err){ sc, "not buy or sell" };
				return 1;
			}
		}
		return 0;
	}
	default: {
		struct ig_bar *b = &ev->body.bar;
		int64_t prev = prev_inst_ts[inst];
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
		if (lay->adjust) {
			int64_t adj, close = b->close_px;
			if (money(lay, cells, n, COL_ADJ_CLOSE, true, 0, POSITIVE, &adj, e))
				return 1;
			if (adjust_px(b->open_px, adj, close, &b->open_px) ||
			    adjust_px(b->high_px, adj, close, &b->high_px) ||
			    adjust_px(b->low_px, adj, close, &b->low_px) ||
			    adjust_px(b->close_px, adj, close, &b->close_px)) {
				*e = (struct row_err){ lay->col[COL_ADJ_CLOSE], "adjusted price out of range" };
				return 1;
			}
			if (b->low_px <= 0) {
				*e = (struct row_err){ lay->col[COL_ADJ_CLOSE],
						       "adjusted price rounds to 0" };
				return 1;
			}
		}
		b->period_ns = prev > 0 && ts > prev && ts - prev <= INT64_C(86400000000000)
				       ? ts - prev
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

/* ------------------------------------------------------------ reading */

#define CSV_BUF_DEFAULT ((size_t)128 * 1024)

/* The read buffer of each file opened from now on (test hook). */
static size_t csv_buf_bytes = CSV_BUF_DEFAULT;

void ig__feed_csv_set_buffer(size_t bytes)
{
	csv_buf_bytes = bytes > 0 ? bytes : CSV_BUF_DEFAULT;
}

/* A buffered reader of one file, refilled with pread(2) when it runs out
 * of whole lines. A line longer than the buffer grows it (so memory is
 * bounded by the longest line, not by the file); the pre-pass grows it to
 * fit every line, so the streaming pass, over the same bytes, never
 * allocates. */
struct reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start, end;       /* unread bytes: buf[start..end) */
	uint64_t off;            /* file offset of buf[end] */
	uint64_t limit;          /* read no byte at or past this offset */
	bool eof;
	int err;                 /* errno of a failed read, 0 */
};

/* Returns the file offset of the next unread byte. */
static uint64_t rd_tell(const struct reader *r)
{
	return r->off - (r->end - r->start);
}

/* Drops what is buffered and reads on from off, up to limit. */
static void rd_seek(struct reader *r, uint64_t off, uint64_t limit)
{
	r->start = r->end = 0;
	r->off = off;
	r->limit = limit;
	r->eof = false;
	r->err = 0;
}

/* Moves the unread bytes to the front and reads more behind them (growing
 * the buffer when a line fills it). Returns 1 if bytes were added, 0 at
 * the end (or the limit), IG_EIO (r->err set) or IG_ENOMEM. */
static int rd_fill(struct reader *r)
{
	size_t room;
	ssize_t got;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->off >= r->limit) {
		r->eof = true;
		return 0;
	}
	if (r->end == r->cap) {
		char *nb = realloc(r->buf, r->cap * 2);
		if (nb == NULL)
			return IG_ENOMEM;
		r->buf = nb;
		r->cap *= 2;
	}
	room = r->cap - r->end;
	if (r->limit - r->off < room)
		room = (size_t)(r->limit - r->off);
	do
		got = pread(r->fd, r->buf + r->end, room, (off_t)r->off);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		r->err = errno;
		r->eof = true;
		return IG_EIO;
	}
	if (got == 0) {
		r->eof = true;
		return 0;
	}
	r->end += (size_t)got;
	r->off += (uint64_t)got;
	return 1;
}

/* The next line, without its '\n' (a last line may lack one); *line stays
 * valid until the next call. Returns 1, 0 at the end, IG_EIO or
 * IG_ENOMEM. */
static int rd_line(struct reader *r, const char **line, size_t *len)
{
	size_t scanned = 0; /* bytes after start known to hold no '\n' */

	for (;;) {
		char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);
		if (nl != NULL) {
			*line = r->buf + r->start;
			*len = (size_t)(nl - *line);
			r->start += *len + 1;
			return 1;
		}
		scanned = r->end - r->start;
		if (r->eof)
			break;
		int rc = rd_fill(r);
		if (rc < 0)
			return rc;
	}
	if (r->start == r->end)
		return 0;
	*line = r->buf + r->start;
	*len = r->end - r->start;
	r->start = r->end;
	return 1;
}

/* A line with no data: empty, a lone CR, or a '#' comment. */
static bool skip_line(const char *line, size_t len)
{
	return len == 0 || (len == 1 && line[0] == '\r') || line[0] == '#';
}

/* ------------------------------------------------------------ the source */

/* One file: its layout, what the pre-pass found, and its streaming
 * cursor. */
struct csv_file {
	char path[IG_CFG_PATH_MAX];
	struct layout lay;
	struct reader rd;
	int kind;                /* enum ig_csv_kind */
	uint64_t nevents;        /* rows in the window (the pre-pass) */
	uint64_t emitted;        /* of them, produced so far */
	/* the cursor: where the next line starts and the row state there */
	int lineno;
	int64_t prev_ts;
	int64_t prev_inst_ts[IG_MAX_INSTRUMENTS];
	/* Per instrument of the file, its bars' period: the shortest positive
	 * gap between two of its bars in the whole file (the pre-pass), so a
	 * missing bar or a window's first bar does not make a bar look
	 * longer than it is; 0 = fewer than two bars (the row's own guess). */
	int64_t bar_period_ns[IG_MAX_INSTRUMENTS];
	struct ig_event head;    /* the next event, parsed (have_head) */
	bool have_head;
	bool done;
};

/* The CSV source: its files, merged at next(). Owner: the tick thread. */
struct csv_src {
	struct csv_file files[IG_CFG_MAX_FEED_FILES];
	uint32_t nfiles;
	uint64_t nevents;        /* over every file */
	int64_t from_ns, to_ns;  /* the window */
	uint16_t inst0;          /* the feed's first instrument id */
	char syms[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	uint32_t nsyms;
	char ts_format[IG_CFG_TS_FORMAT_MAX];
};

/* What one file needs from the config. */
struct file_spec {
	const char *path;
	int fixed_inst;          /* its instrument, or -1: the symbol column */
};

/* The pre-pass: reads the file c->path once, storing no row: detects the
 * layout, checks every row (counting f->rows and f->bad_rows, warning once
 * per kind; with strict the first bad row fails), counts the rows in
 * [s->from_ns, s->to_ns) and leaves c's cursor at the first of them, with
 * the row state the streaming pass needs there. Returns 0 or an IG_E* with
 * err set. */
static int csv_scan(struct ig_feed *f, struct csv_src *s, struct csv_file *c,
		    const struct ig_config *cfg, char *err, size_t errlen)
{
	const char *path = c->path;
	struct layout *lay = &c->lay;
	struct kinds kinds = { .n = 0 };
	struct cell cells[MAX_COLS];
	int rc, lineno = 0;
	bool have_header = false;
	int64_t prev_ts = 0, prev_inst_ts[IG_MAX_INSTRUMENTS] = { 0 };
	uint64_t rows0 = f->rows, bad0 = f->bad_rows, resume_off = 0;
	const char *line;
	size_t llen;

	for (;;) {
		uint64_t line_off = rd_tell(&c->rd);
		struct row_err re;
		struct ig_event ev;
		int n;

		rc = rd_line(&c->rd, &line, &llen);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (rc == IG_ENOMEM)
				snprintf(err, errlen, "%s: out of memory", path);
			else
				snprintf(err, errlen, "%s: cannot read: %s", path, strerror(c->rd.err));
			return rc;
		}
		lineno++;
		if (skip_line(line, llen))
			continue;
		n = split(line, llen, cells);
		if (!have_header) {
			bool data_row;
			rc = detect(cfg, path, lineno, cells, n, lay, &data_row, err, errlen);
			if (rc == 0 && lay->fixed_inst < 0 && lay->col[COL_SYMBOL] < 0) {
				snprintf(err, errlen,
					 "%s:%d: no symbol column (feed.symbols is set and the file "
					 "has no symbol of its own: add a symbol column, map one "
					 "with feed.columns.symbol, or give the file a symbol in "
					 "feed.path)", path, lineno);
				rc = IG_EPARSE;
			}
			if (rc == 0 && lay->adjust &&
			    (lay->kind != IG_CSV_BARS || lay->col[COL_ADJ_CLOSE] < 0)) {
				snprintf(err, errlen,
					 "%s:%d: feed.adjust: adj_close needs bars with an adjusted "
					 "close column (Adj Close, or feed.columns.adj_close)", path,
					 lineno);
				rc = IG_EPARSE;
			}
			if (rc != 0)
				return rc;
			have_header = true;
			if (!data_row)
				continue;
		}
		f->rows++;
		if (parse_row(lay, cells, n, &ev, prev_ts, prev_inst_ts, &re) != 0) {
			char cname[COL_NAME_MAX + 16];
			f->bad_rows++;
			col_name(lay, re.col, cname, sizeof(cname));
			if (cfg->feed.strict) {
				if (re.col == lay->ncols && n > lay->ncols)
					snprintf(err, errlen,
						 "%s:%d: %s: %s (%d) (feed.strict is on)", path,
						 lineno, cname, re.why, lay->ncols);
				else
					snprintf(err, errlen, "%s:%d: %s: %s (feed.strict is on)",
						 path, lineno, cname, re.why);
				return IG_EPARSE;
			}
			if (first_of_kind(&kinds, &re))
				ig_log_warn("%s:%d: %s: %s; row skipped (later rows with this "
					    "problem are only counted)",
					    path, lineno, cname, re.why);
			continue;
		}
		{
			int64_t ts = ev.hdr.ts_event_ns, old_prev = prev_ts;
			uint16_t inst = ev.hdr.instrument_id;
			int64_t old_inst = prev_inst_ts[inst];

			prev_ts = ts;
			prev_inst_ts[inst] = ts;
			if (ev.hdr.type == IG_EV_BAR && old_inst > 0 && ts > old_inst &&
			    (c->bar_period_ns[inst] == 0 || ts - old_inst < c->bar_period_ns[inst]))
				c->bar_period_ns[inst] = ts - old_inst;
			/* The window: checked rows outside it are dropped, not bad. */
			if (ts < s->from_ns || ts >= s->to_ns)
				continue;
			if (c->nevents++ == 0) {
				/* The stream starts here, in the state before this row. */
				resume_off = line_off;
				c->lineno = lineno - 1;
				c->prev_ts = old_prev;
				memcpy(c->prev_inst_ts, prev_inst_ts, sizeof(prev_inst_ts));
				c->prev_inst_ts[inst] = old_inst;
			}
		}
	}
	if (!have_header) {
		snprintf(err, errlen, "%s: empty file (no CSV header)", path);
		return IG_EPARSE;
	}
	c->kind = lay->kind;
	if (f->bad_rows > bad0)
		ig_log_warn("%s: %llu of %llu rows skipped as malformed", path,
			    (unsigned long long)(f->bad_rows - bad0),
			    (unsigned long long)(f->rows - rows0));
	/* Stream what the pre-pass read, no further (a file that grows while
	 * it is replayed gives the events it was counted with). */
	rd_seek(&c->rd, resume_off, c->rd.off);
	c->done = c->nevents == 0;
	return 0;
}

/* Parses c's rows on from its cursor up to its next event in the window
 * into c->head. Returns true, or false when the file is done. */
static bool csv_advance(struct csv_src *s, struct csv_file *c)
{
	struct cell cells[MAX_COLS];
	const char *line;
	size_t llen;
	int rc = 0;

	while (c->emitted < c->nevents) {
		struct row_err re;
		int n;

		rc = rd_line(&c->rd, &line, &llen);
		if (rc <= 0)
			break;
		c->lineno++;
		if (skip_line(line, llen))
			continue;
		n = split(line, llen, cells);
		/* Bad rows were counted and reported by the pre-pass. */
		if (parse_row(&c->lay, cells, n, &c->head, c->prev_ts, c->prev_inst_ts, &re) != 0)
			continue;
		c->prev_ts = c->head.hdr.ts_event_ns;
		c->prev_inst_ts[c->head.hdr.instrument_id] = c->prev_ts;
		if (c->head.hdr.type == IG_EV_BAR && c->bar_period_ns[c->head.hdr.instrument_id] > 0)
			c->head.body.bar.period_ns = c->bar_period_ns[c->head.hdr.instrument_id];
		if (c->prev_ts < s->from_ns)
			continue;
		if (c->prev_ts >= s->to_ns)
			break;
		c->head.hdr.instrument_id = (uint16_t)(c->head.hdr.instrument_id + s->inst0);
		c->emitted++;
		c->have_head = true;
		return true;
	}
	if (c->emitted < c->nevents) {
		if (rc < 0)
			ig_log_error("%s:%d: cannot read: %s; the file's last %llu events are lost",
				     c->path, c->lineno, rc == IG_ENOMEM ? "out of memory"
							       : strerror(c->rd.err),
				     (unsigned long long)(c->nevents - c->emitted));
		else
			ig_log_error("%s:%d: the file changed during the run; its last %llu "
				     "events are lost", c->path, c->lineno,
				     (unsigned long long)(c->nevents - c->emitted));
	}
	c->done = true;
	return false;
}

static void csv_free(struct csv_src *c)
{
	for (uint32_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].rd.fd >= 0)
			close(c->files[i].rd.fd);
		free(c->files[i].rd.buf);
	}
	free(c);
}

/* The instrument of symbol in syms[0..n), or -1. */
static int sym_index(char (*syms)[IG_CFG_NAME_MAX], int n, const char *symbol)
{
	for (int i = 0; i < n; i++)
		if (strcmp(syms[i], symbol) == 0)
			return i;
	return -1;
}

/* Opens spec->path as file c of s and runs its pre-pass. Returns 0 or an
 * IG_E* with err set. */
static int csv_open_file(struct ig_feed *f, struct csv_src *s, struct csv_file *c,
			 const struct ig_config *cfg, const struct file_spec *spec, char *err,
			 size_t errlen)
{
	snprintf(c->path, sizeof(c->path), "%s", spec->path);
	c->lay.ts_format = s->ts_format;
	c->lay.adjust = cfg->feed.adjust == IG_ADJUST_ADJ_CLOSE;
	c->lay.fixed_inst = spec->fixed_inst;
	c->lay.syms = s->syms;
	c->lay.nsyms = s->nsyms;
	c->rd.fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (c->rd.fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", c->path, strerror(e));
		return e == ENOENT ? IG_ENOENT : IG_EIO;
	}
	c->rd.cap = csv_buf_bytes;
	c->rd.buf = malloc(c->rd.cap);
	if (c->rd.buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", c->path);
		return IG_ENOMEM;
	}
	rd_seek(&c->rd, 0, UINT64_MAX);
	return csv_scan(f, s, c, cfg, err, errlen);
}

/* Opens every file of cfg's feed into a new csv_src (*out), to stream the
 * events in [from_ns, to_ns). Returns 0 or an IG_E* with err set. */
static int csv_open_window(struct ig_feed *f, const struct ig_config *cfg, int64_t from_ns,
			   int64_t to_ns, struct csv_src **out, char *err, size_t errlen)
{
	const struct ig_cfg_feed *fc = &cfg->feed;
	struct csv_src *c = calloc(1, sizeof(*c));
	uint32_t nfiles = fc->nfiles > 0 ? fc->nfiles : 1;
	int nsyms;

	*out = NULL;
	if (c == NULL) {
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	nsyms = ig_feed_symbols(cfg, c->syms);
	if (nsyms < 0) {
		snprintf(err, errlen, "feed.symbols: more than %d symbols", IG_MAX_INSTRUMENTS);
		free(c);
		return IG_ECONFIG;
	}
	c->nsyms = (uint32_t)nsyms;
	snprintf(c->ts_format, sizeof(c->ts_format), "%s", fc->ts_format);
	c->from_ns = from_ns;
	c->to_ns = to_ns;
	c->inst0 = f->instrument_id;
	for (uint32_t i = 0; i < nfiles; i++) {
		struct file_spec spec;
		int rc;
		if (fc->nfiles > 0) {
			spec.path = fc->files[i].path;
			spec.fixed_inst = fc->files[i].symbol[0] != '\0'
						  ? sym_index(c->syms, nsyms, fc->files[i].symbol)
						  : -1;
		} else {
			spec.path = fc->path;
			spec.fixed_inst =
				fc->nsymbols == 0 ? sym_index(c->syms, nsyms, fc->symbol) : -1;
		}
		c->files[i].rd.fd = -1;
		c->nfiles = i + 1;
		rc = csv_open_file(f, c, &c->files[i], cfg, &spec, err, errlen);
		if (rc != 0) {
			csv_free(c);
			return rc;
		}
		c->nevents += c->files[i].nevents;
	}
	*out = c;
	return 0;
}

/* Opens feed.path (the venue plays no part). Returns 0 or an IG_E* with
 * err set. */
static int csv_open(struct ig_feed *f, const struct ig_config *cfg, const struct ig_venue_type *vt,
		    void *venue_ctx, char *err, size_t errlen)
{
	struct csv_src *c;
	int rc;

	(void)vt;
	(void)venue_ctx;
	rc = csv_open_window(f, cfg, cfg->feed.from_ns, cfg->feed.to_ns, &c, err, errlen);
	if (rc != 0)
		return rc;
	f->src = c;
	return 0;
}

static int csv_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	struct csv_src *c = f->src;
	struct csv_file *best = NULL;

	/* k-way merge of the files' heads, each parsed when it is needed:
	 * the earliest; ties to the file listed first. */
	for (uint32_t i = 0; i < c->nfiles; i++) {
		struct csv_file *cf = &c->files[i];
		if (!cf->have_head && (cf->done || !csv_advance(c, cf)))
			continue;
		if (best == NULL || cf->head.hdr.ts_event_ns < best->head.hdr.ts_event_ns)
			best = cf;
	}
	if (best == NULL)
		return IG_EEOF;
	if (!ig__feed_replay_due(f, best->head.hdr.ts_event_ns, now_ns, due_ns))
		return 0;
	*ev = best->head;
	best->have_head = false;
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
	csv_free(src);
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

int ig_feed_csv_kind(const struct ig_feed *f)
{
	const struct csv_src *c = f->type == &ig_csv_feed_type ? f->src : NULL;
	return c != NULL ? c->files[0].kind : -1;
}

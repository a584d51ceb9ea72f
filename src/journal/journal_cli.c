/*
 * journal_cli.c - `ingenium journal verify|dump`.
 *
 *   ingenium journal verify FILE          check every record of every segment
 *   ingenium journal dump FILE [--json]   one record per line
 *
 * FILE is the journal's base path (journal.path): its segments FILE,
 * FILE.1, FILE.2 ... are read from the lowest present (journal.h).
 *
 * Exit codes: 0 every record good; 1 damaged (the report, on stdout for
 * verify and on stderr for dump, says where and what was dropped); 2 usage
 * error, or no journal there, or a read failed.
 *
 * dump prints seq, type and payload length, then decodes the payload:
 * a struct ig_event (any record of 128 bytes) by its event type, the
 * trading-state and mark payloads, and anything else as its length, CRC32C
 * and first bytes in hex. Money is printed exactly (ig_fixed_format) and,
 * in JSON, as strings. Client ids are hex in text (strategy | epoch | seq
 * show as fields) and integers in JSON.
 */
#include "journal/journal.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/oms.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: ingenium journal verify FILE\n"
		     "       ingenium journal dump FILE [--json]\n"
		     "\n"
		     "FILE is the journal's base path; its rotated segments FILE.1, FILE.2 ...\n"
		     "are read in order. Exit 0 if every record is good, 1 if the journal is\n"
		     "damaged (a torn or corrupt record; the report says what was dropped),\n"
		     "2 if it cannot be read.\n");
}





static const char *ctl_name(unsigned t)
{
	static const char *const n[] = {"none",     "stop",          "kill_switch", "feed_end",
					"trading_state", "session", "recovered", "pause",
					"resume", "cancel_all", "reset", "params", "params_applied",
					"params_refused"};
	return t < sizeof(n) / sizeof(n[0]) ? n[t] : "unknown";
}

static const char *ts_name(unsigned s)
{
	return s <= IG_TS_HALTED ? ig_trading_state_name((enum ig_trading_state)s) : "unknown";
}

/* ---- text -------------------------------------------------------------- */

/* Appends to a line buffer; output past the end is dropped. */
struct line {
	char buf[1024];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
}

static void put_money(struct line *l, const char *key, int64_t v)
{
	char b[IG_FIXED_STRLEN];
	ig_fixed_format(v, b, sizeof(b));
	put(l, " %s=%s", key, b);
}

static void text_event(struct line *l, const struct ig_event *ev)
{
	const struct ig_event_hdr *h = &ev->hdr;

	put(l, " ev=%s", ig_event_type_name((enum ig_event_type)h->type));
	if (h->strategy_id == IG_STRATEGY_NONE)
		put(l, " strategy=none");
	else
		put(l, " strategy=%u", (unsigned)h->strategy_id);
	put(l, " instrument=%u ts_event_ns=%" PRId64, (unsigned)h->instrument_id, h->ts_event_ns);
	switch (h->type) {
	case IG_EV_ORDER: {
		const struct ig_order *o = &ev->body.order;
		put(l, " client_id=0x%016" PRIx64 " side=%s ord=%s tif=%s", o->client_id,
		    ig_side_name((enum ig_side)o->side), ig_ord_type_name((enum ig_ord_type)o->type),
		    ig_tif_name((enum ig_tif)o->tif));
		put_money(l, "px", o->px);
		put_money(l, "qty", o->qty);
		if (o->stop_px != 0)
			put_money(l, "stop_px", o->stop_px);
		if (o->trail != 0)
			put(l, " trail=%" PRId64, o->trail);
		if (o->sl_px != 0)
			put_money(l, "sl_px", o->sl_px);
		if (o->replaces != 0)
			put(l, " replaces=0x%016" PRIx64, o->replaces);
		if (o->flags != 0)
			put(l, " flags=0x%02x", (unsigned)o->flags);
		break;
	}
	case IG_EV_CANCEL:
		put(l, " client_id=0x%016" PRIx64, ev->body.cancel.client_id);
		if (h->flags & 1)
			put(l, " all=1");
		break;
	case IG_EV_ORDER_UPDATE: {
		const struct ig_order_update *u = &ev->body.update;
		put(l, " client_id=0x%016" PRIx64 " venue_order_id=%" PRIu64 " state=%s->%s side=%s",
		    u->client_id, u->venue_order_id, ig_ord_state_name((enum ig_ord_state)u->prev_state),
		    ig_ord_state_name((enum ig_ord_state)u->state), ig_side_name((enum ig_side)u->side));
		put_money(l, "filled", u->filled_qty);
		put_money(l, "leaves", u->leaves_qty);
		put_money(l, "avg_px", u->avg_px);
		put_money(l, "px", u->px);
		if (u->reason != IG_RJ_NONE)
			put(l, " reason=%s", ig_reject_reason_name((enum ig_reject_reason)u->reason));
		break;
	}
	case IG_EV_FILL: {
		const struct ig_fill *f = &ev->body.fill;
		put(l, " client_id=0x%016" PRIx64 " venue_order_id=%" PRIu64 " trade_id=%" PRIu64
		       " side=%s",
		    f->client_id, f->venue_order_id, f->trade_id, ig_side_name((enum ig_side)f->side));
		put_money(l, "px", f->px);
		put_money(l, "qty", f->qty);
		put_money(l, "fee", f->fee);
		put_money(l, "fee_base", f->fee_base);
		put(l, " liquidity=%s last=%u", ig_liquidity_name((enum ig_liquidity)f->liquidity), (unsigned)f->last);
		break;
	}
	case IG_EV_REJECT: {
		const struct ig_reject *r = &ev->body.reject;
		put(l, " client_id=0x%016" PRIx64 " side=%s", r->client_id,
		    ig_side_name((enum ig_side)r->side));
		put_money(l, "px", r->px);
		put_money(l, "qty", r->qty);
		put(l, " reason=%s by=%s", ig_reject_reason_name((enum ig_reject_reason)r->reason),
		    r->by_venue ? "venue" : "risk");
		break;
	}
	case IG_EV_POSITION: {
		const struct ig_position *p = &ev->body.position;
		put_money(l, "qty", p->qty);
		put_money(l, "avg_px", p->avg_px);
		put_money(l, "realized_pnl", p->realized_pnl);
		put_money(l, "fees", p->fees);
		put_money(l, "cash", p->cash);
		put(l, " trading_state=%s", ts_name(p->trading_state));
		break;
	}
	case IG_EV_QUOTE:
		put_money(l, "bid_px", ev->body.quote.bid_px);
		put_money(l, "bid_qty", ev->body.quote.bid_qty);
		put_money(l, "ask_px", ev->body.quote.ask_px);
		put_money(l, "ask_qty", ev->body.quote.ask_qty);
		break;
	case IG_EV_TRADE:
		put_money(l, "px", ev->body.trade.px);
		put_money(l, "qty", ev->body.trade.qty);
		break;
	case IG_EV_BAR:
		put_money(l, "close_px", ev->body.bar.close_px);
		put_money(l, "volume", ev->body.bar.volume);
		break;
	case IG_EV_TIMER:
		put(l, " count=%" PRIu64, ev->body.timer.count);
		break;
	case IG_EV_CONTROL:
		if (ev->body.control.cmd >= IG_CTL_PARAMS &&
		    ev->body.control.cmd <= IG_CTL_PARAMS_REFUSED) {
			const struct ig_params_change *pc = &ev->body.params;
			put(l, " cmd=%s", ctl_name(ev->body.control.cmd));
			for (unsigned i = 0; i < pc->n && i < IG_PARAMS_MAX; i++)
				put(l, " p%u=%" PRId64, (unsigned)pc->index[i], pc->value[i]);
			break;
		}
		put(l, " cmd=%s arg=%" PRId64, ctl_name(ev->body.control.cmd), ev->body.control.arg);
		break;
	case IG_EV_RECONCILE: {
		const struct ig_reconcile *rc = &ev->body.reconcile;
		put(l, " error=%s resolved=%" PRIu32 " fills=%" PRIu32 " adopted=%" PRIu32
		       " foreign=%" PRIu32,
		    ig_recon_error_name((enum ig_recon_error)rc->error), rc->resolved, rc->fills,
		    rc->adopted, rc->foreign);
		if (rc->have_balances) {
			put_money(l, "base_balance", rc->base_balance);
			put_money(l, "counter_balance", rc->counter_balance);
		}
		if (rc->last)
			put(l, " last=1");
		break;
	}
	default:
		break;
	}
}

static void text_hex(struct line *l, const struct ig_journal_record *r)
{
	const uint8_t *p = r->payload;
	uint32_t n = r->len < 32 ? r->len : 32;

	put(l, " crc32c=0x%08" PRIx32, ig_crc32c(0, r->payload, r->len));
	if (n > 0)
		put(l, " bytes=");
	for (uint32_t i = 0; i < n; i++)
		put(l, "%02x", (unsigned)p[i]);
	if (n < r->len)
		put(l, "...");
}

static void text_record(struct line *l, const struct ig_journal_record *r)
{
	put(l, "seq=%" PRIu64 " type=%s len=%" PRIu32, r->seq, ig_journal_type_name(r->type), r->len);
	if (r->flags & IG_JRF_OUTPUT)
		put(l, " out=1");
	if (r->flags & IG_JRF_DERIVED)
		put(l, " derived=1");
	if (r->len == sizeof(struct ig_event) && r->type != IG_JR_SNAPSHOT) {
		struct ig_event ev;
		ig_journal_record_event(r, &ev);
		text_event(l, &ev);
	} else if (r->type == IG_JR_TRADING_STATE &&
		   r->len == sizeof(struct ig_journal_trading_state)) {
		struct ig_journal_trading_state t;
		memcpy(&t, r->payload, sizeof(t));
		if (t.strategy_id == IG_STRATEGY_NONE)
			put(l, " strategy=global");
		else
			put(l, " strategy=%u", (unsigned)t.strategy_id);
		put(l, " state=%s->%s reason=%s kill_switch=%u ts_event_ns=%" PRId64,
		    ts_name(t.prev_state), ts_name(t.state),
		    ig_reject_reason_name((enum ig_reject_reason)t.reason), (unsigned)t.kill_switch,
		    t.ts_event_ns);
	} else if (r->type == IG_JR_MARK && r->len == sizeof(struct ig_journal_mark)) {
		struct ig_journal_mark m;
		memcpy(&m, r->payload, sizeof(m));
		put(l, " instrument=%u", (unsigned)m.instrument_id);
		put_money(l, "px", m.px);
		put(l, " ts_event_ns=%" PRId64, m.ts_event_ns);
	} else {
		text_hex(l, r);
	}
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *jmoney(int64_t v)
{
	char b[IG_FIXED_STRLEN];
	ig_fixed_format(v, b, sizeof(b));
	return json_string(b);
}

/* An unsigned id: an integer while it fits json_int_t, else a string. */
static json_t *jid(uint64_t v)
{
	char b[24];
	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	return json_string(b);
}

static void jset(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v);
}

static json_t *json_event(const struct ig_event *ev)
{
	const struct ig_event_hdr *h = &ev->hdr;
	json_t *o = json_object();

	jset(o, "type", json_string(ig_event_type_name((enum ig_event_type)h->type)));
	jset(o, "strategy_id",
	     h->strategy_id == IG_STRATEGY_NONE ? json_null() : json_integer(h->strategy_id));
	jset(o, "instrument_id", json_integer(h->instrument_id));
	jset(o, "src", json_integer(h->src));
	jset(o, "flags", json_integer(h->flags));
	jset(o, "ts_origin_ns", json_integer(h->ts_origin_ns));
	jset(o, "ts_event_ns", json_integer(h->ts_event_ns));
	jset(o, "ts_emit_ns", json_integer(h->ts_emit_ns));
	switch (h->type) {
	case IG_EV_ORDER: {
		const struct ig_order *x = &ev->body.order;
		jset(o, "client_id", jid(x->client_id));
		jset(o, "side", json_string(ig_side_name((enum ig_side)x->side)));
		jset(o, "ord_type", json_string(ig_ord_type_name((enum ig_ord_type)x->type)));
		jset(o, "tif", json_string(ig_tif_name((enum ig_tif)x->tif)));
		jset(o, "px", jmoney(x->px));
		jset(o, "qty", jmoney(x->qty));
		jset(o, "stop_px", jmoney(x->stop_px));
		jset(o, "trail", json_integer(x->trail));
		jset(o, "sl_px", jmoney(x->sl_px));
		jset(o, "replaces", jid(x->replaces));
		jset(o, "order_flags", json_integer(x->flags));
		break;
	}
	case IG_EV_CANCEL:
		jset(o, "client_id", jid(ev->body.cancel.client_id));
		break;
	case IG_EV_ORDER_UPDATE: {
		const struct ig_order_update *x = &ev->body.update;
		jset(o, "client_id", jid(x->client_id));
		jset(o, "venue_order_id", jid(x->venue_order_id));
		jset(o, "state", json_string(ig_ord_state_name((enum ig_ord_state)x->state)));
		jset(o, "prev_state", json_string(ig_ord_state_name((enum ig_ord_state)x->prev_state)));
		jset(o, "side", json_string(ig_side_name((enum ig_side)x->side)));
		jset(o, "filled_qty", jmoney(x->filled_qty));
		jset(o, "leaves_qty", jmoney(x->leaves_qty));
		jset(o, "avg_px", jmoney(x->avg_px));
		jset(o, "px", jmoney(x->px));
		jset(o, "reason",
		     json_string(ig_reject_reason_name((enum ig_reject_reason)x->reason)));
		break;
	}
	case IG_EV_FILL: {
		const struct ig_fill *x = &ev->body.fill;
		jset(o, "client_id", jid(x->client_id));
		jset(o, "venue_order_id", jid(x->venue_order_id));
		jset(o, "trade_id", jid(x->trade_id));
		jset(o, "side", json_string(ig_side_name((enum ig_side)x->side)));
		jset(o, "px", jmoney(x->px));
		jset(o, "qty", jmoney(x->qty));
		jset(o, "fee", jmoney(x->fee));
		jset(o, "fee_base", jmoney(x->fee_base));
		jset(o, "liquidity", json_string(ig_liquidity_name((enum ig_liquidity)x->liquidity)));
		jset(o, "last", json_boolean(x->last));
		break;
	}
	case IG_EV_REJECT: {
		const struct ig_reject *x = &ev->body.reject;
		jset(o, "client_id", jid(x->client_id));
		jset(o, "side", json_string(ig_side_name((enum ig_side)x->side)));
		jset(o, "px", jmoney(x->px));
		jset(o, "qty", jmoney(x->qty));
		jset(o, "reason",
		     json_string(ig_reject_reason_name((enum ig_reject_reason)x->reason)));
		jset(o, "by_venue", json_boolean(x->by_venue));
		break;
	}
	case IG_EV_POSITION: {
		const struct ig_position *x = &ev->body.position;
		jset(o, "qty", jmoney(x->qty));
		jset(o, "avg_px", jmoney(x->avg_px));
		jset(o, "realized_pnl", jmoney(x->realized_pnl));
		jset(o, "fees", jmoney(x->fees));
		jset(o, "cash", jmoney(x->cash));
		jset(o, "open_buy_qty", jmoney(x->open_buy_qty));
		jset(o, "open_sell_qty", jmoney(x->open_sell_qty));
		jset(o, "trading_state", json_string(ts_name(x->trading_state)));
		break;
	}
	case IG_EV_QUOTE:
		jset(o, "bid_px", jmoney(ev->body.quote.bid_px));
		jset(o, "bid_qty", jmoney(ev->body.quote.bid_qty));
		jset(o, "ask_px", jmoney(ev->body.quote.ask_px));
		jset(o, "ask_qty", jmoney(ev->body.quote.ask_qty));
		break;
	case IG_EV_TRADE:
		jset(o, "px", jmoney(ev->body.trade.px));
		jset(o, "qty", jmoney(ev->body.trade.qty));
		jset(o, "aggressor", json_string(ig_side_name((enum ig_side)ev->body.trade.aggressor)));
		break;
	case IG_EV_BAR:
		jset(o, "open_px", jmoney(ev->body.bar.open_px));
		jset(o, "high_px", jmoney(ev->body.bar.high_px));
		jset(o, "low_px", jmoney(ev->body.bar.low_px));
		jset(o, "close_px", jmoney(ev->body.bar.close_px));
		jset(o, "volume", jmoney(ev->body.bar.volume));
		jset(o, "period_ns", json_integer(ev->body.bar.period_ns));
		break;
	case IG_EV_TIMER:
		jset(o, "now_ns", json_integer(ev->body.timer.now_ns));
		jset(o, "count", jid(ev->body.timer.count));
		break;
	case IG_EV_CONTROL:
		jset(o, "cmd", json_string(ctl_name(ev->body.control.cmd)));
		if (ev->body.control.cmd >= IG_CTL_PARAMS &&
		    ev->body.control.cmd <= IG_CTL_PARAMS_REFUSED) {
			const struct ig_params_change *pc = &ev->body.params;
			json_t *a = json_array();
			for (unsigned i = 0; i < pc->n && i < IG_PARAMS_MAX && a != NULL; i++) {
				json_t *e = json_object();
				if (e == NULL)
					break;
				json_object_set_new(e, "index", json_integer(pc->index[i]));
				json_object_set_new(e, "value", json_integer(pc->value[i]));
				json_array_append_new(a, e);
			}
			jset(o, "params", a);
			break;
		}
		jset(o, "arg", json_integer(ev->body.control.arg));
		break;
	case IG_EV_RECONCILE: {
		const struct ig_reconcile *rc = &ev->body.reconcile;
		jset(o, "error", json_string(ig_recon_error_name((enum ig_recon_error)rc->error)));
		jset(o, "resolved", json_integer(rc->resolved));
		jset(o, "fills", json_integer(rc->fills));
		jset(o, "adopted", json_integer(rc->adopted));
		jset(o, "foreign", json_integer(rc->foreign));
		if (rc->have_balances) {
			jset(o, "base_balance", jmoney(rc->base_balance));
			jset(o, "counter_balance", jmoney(rc->counter_balance));
		}
		jset(o, "last", json_boolean(rc->last));
		break;
	}
	default:
		break;
	}
	return o;
}

static json_t *json_record(const struct ig_journal_record *r)
{
	json_t *o = json_object();

	jset(o, "seq", jid(r->seq));
	jset(o, "type", json_string(ig_journal_type_name(r->type)));
	jset(o, "len", json_integer(r->len));
	jset(o, "segment", json_integer(r->segment));
	jset(o, "offset", jid(r->offset));
	jset(o, "flags", json_integer(r->flags));
	if (r->flags != 0)
		jset(o, "kind", json_string(r->flags & IG_JRF_OUTPUT ? "output" : "derived"));
	if (r->len == sizeof(struct ig_event) && r->type != IG_JR_SNAPSHOT) {
		struct ig_event ev;
		ig_journal_record_event(r, &ev);
		jset(o, "event", json_event(&ev));
	} else if (r->type == IG_JR_TRADING_STATE &&
		   r->len == sizeof(struct ig_journal_trading_state)) {
		struct ig_journal_trading_state t;
		json_t *x = json_object();
		memcpy(&t, r->payload, sizeof(t));
		jset(x, "strategy_id",
		     t.strategy_id == IG_STRATEGY_NONE ? json_null() : json_integer(t.strategy_id));
		jset(x, "state", json_string(ts_name(t.state)));
		jset(x, "prev_state", json_string(ts_name(t.prev_state)));
		jset(x, "reason", json_string(ig_reject_reason_name((enum ig_reject_reason)t.reason)));
		jset(x, "kill_switch", json_boolean(t.kill_switch));
		jset(x, "ts_event_ns", json_integer(t.ts_event_ns));
		jset(o, "trading_state", x);
	} else if (r->type == IG_JR_MARK && r->len == sizeof(struct ig_journal_mark)) {
		struct ig_journal_mark m;
		json_t *x = json_object();
		memcpy(&m, r->payload, sizeof(m));
		jset(x, "instrument_id", json_integer(m.instrument_id));
		jset(x, "px", jmoney(m.px));
		jset(x, "ts_event_ns", json_integer(m.ts_event_ns));
		jset(o, "mark", x);
	} else {
		char hex[65];
		uint32_t n = r->len < 32 ? r->len : 32;
		const uint8_t *p = r->payload;
		for (uint32_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned)p[i]);
		hex[2 * n] = '\0';
		jset(o, "crc32c", json_integer(ig_crc32c(0, r->payload, r->len)));
		jset(o, "head_hex", json_string(hex));
	}
	return o;
}

/* ---- commands ---------------------------------------------------------- */

struct dump_ctx {
	bool json;
	const char *path;
	uint32_t segment; /* last segment announced (text) */
	bool announced;
};

static int dump_one(const struct ig_journal_record *r, void *arg)
{
	struct dump_ctx *c = arg;

	if (c->json) {
		json_t *o = json_record(r);
		char *s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (s == NULL)
			return IG_ENOMEM;
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
		return 0;
	}
	if (!c->announced || r->segment != c->segment) {
		char p[600];
		ig_journal_segment_path(c->path, r->segment, p, sizeof(p));
		printf("# segment %" PRIu32 " %s run_epoch=%" PRIu64 "\n", r->segment, p, r->run_epoch);
		c->segment = r->segment;
		c->announced = true;
	}
	{
		struct line l = {.len = 0};
		text_record(&l, r);
		if (l.len >= sizeof(l.buf))
			l.len = sizeof(l.buf) - 1;
		l.buf[l.len] = '\0';
		puts(l.buf);
	}
	return 0;
}

static int unreadable(const char *path, int rc)
{
	fprintf(stderr, "ingenium journal: %s: %s\n", path,
		rc == IG_ENOENT ? "no journal there (no such file)" : ig_strerror(rc));
	return 2;
}

static int cmd_verify(const char *path)
{
	struct ig_journal_report rep;
	char line[1024];
	int rc = ig_journal_verify(path, &rep);

	if (rc != 0)
		return unreadable(path, rc);
	ig_journal_report_format(&rep, line, sizeof(line));
	printf("%s: %s\n", path, line);
	return rep.stop == IG_JOURNAL_CLEAN ? 0 : 1;
}

static int cmd_dump(const char *path, bool json)
{
	struct dump_ctx c = {.json = json, .path = path};
	struct ig_journal_report rep;
	char line[1024];
	int rc = ig_journal_replay(path, dump_one, &c, &rep);

	fflush(stdout);
	if (rc != 0)
		return unreadable(path, rc);
	if (rep.stop != IG_JOURNAL_CLEAN) {
		ig_journal_report_format(&rep, line, sizeof(line));
		fprintf(stderr, "%s: %s\n", path, line);
		return 1;
	}
	return 0;
}

int ig_journal_main(int argc, char **argv)
{
	const char *path = NULL;
	bool json = false;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && strcmp(argv[1], "dump") == 0) {
			json = true;
		} else if (argv[i][0] != '-' && path == NULL) {
			path = argv[i];
		} else {
			fprintf(stderr, "ingenium journal: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(path);
	if (strcmp(argv[1], "dump") == 0)
		return cmd_dump(path, json);
	fprintf(stderr, "ingenium journal: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

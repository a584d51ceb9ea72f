/* host.c - strategy stage handler and the strategy ctx API. */
#include "strategy/host.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One per thread: its address identifies the calling thread (host.h, owner). */
static _Thread_local char thread_token;

static int symbol_id(const struct ig_strategy_host *h, const char *symbol)
{
	for (uint16_t i = 0; i < h->ninstruments; i++)
		if (h->symbols[i] != NULL && strcmp(h->symbols[i], symbol) == 0)
			return i;
	return IG_ENOTFOUND;
}

int ig_strategy_host_init(struct ig_strategy_host *h, const struct ig_config *cfg,
			  uint32_t thread_index, uint32_t epoch, const char *const *symbols,
			  uint16_t nsymbols, bool realtime, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->thread_index = thread_index;
	h->symbols = symbols;
	h->ninstruments = nsymbols > IG_MAX_INSTRUMENTS ? IG_MAX_INSTRUMENTS : nsymbols;
	h->realtime = realtime;
	h->next_due_ns = INT64_MAX;
	__atomic_store_n(&h->owner, (const void *)&thread_token, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		const struct ig_cfg_strategy *sc = &cfg->strategies[i];
		const struct ig_strategy_type *t;
		struct ig_strategy_ctx *c;
		char msg[256] = "";
		int rc;

		if (sc->thread != thread_index)
			continue;
		t = ig_strategy_resolve(sc);
		if (t == NULL) {
			char known[256];
			if (sc->plugin_path[0] != '\0')
				snprintf(err, errlen, "%s:%d:%d: strategies.%u.plugin: \"%s\" is not loaded",
					 cfg->file, sc->line, sc->col, i, sc->plugin_path);
			else
				snprintf(err, errlen,
					 "%s:%d:%d: strategies.%u.type: unknown strategy type \"%s\" (known: %s)",
					 cfg->file, sc->line, sc->col, i, sc->type,
					 ig_strategy_type_names(known, sizeof(known)));
			ig_strategy_host_destroy(h);
			return IG_ECONFIG;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL || (c->state = calloc(1, t->state_size ? t->state_size : 1)) == NULL) {
			free(c);
			ig_strategy_host_destroy(h);
			return IG_ENOMEM;
		}
		h->ctx[h->n++] = c;
		c->type = t;
		c->host = h;
		c->cfg = sc;
		c->id = (uint16_t)i;
		c->epoch = epoch;
		for (uint32_t k = 0; k < sc->nsymbols; k++) {
			int id = symbol_id(h, sc->symbols[k]);
			if (id < 0) {
				snprintf(err, errlen, "%s:%d:%d: strategies.%u.symbols.%u: unknown symbol \"%s\"",
					 cfg->file, sc->line, sc->col, i, k, sc->symbols[k]);
				ig_strategy_host_destroy(h);
				return IG_ECONFIG;
			}
			c->subscribed[id] = true;
		}
		for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
			c->pos[k].cash = sc->capital;
		rc = t->init != NULL ? t->init(c->state, c, sc, msg, sizeof(msg)) : 0;
		if (rc != 0) {
			/* Param errors come as "LINE:COL: strategies.N.params.KEY: ..."
			 * (or a complete "--set ..." message); others are bare. */
			if (msg[0] >= '0' && msg[0] <= '9')
				snprintf(err, errlen, "%s:%s", cfg->file, msg);
			else if (strncmp(msg, "--set", 5) == 0)
				snprintf(err, errlen, "%s", msg);
			else
				snprintf(err, errlen, "%s:%d:%d: strategies.%u.params: %s", cfg->file,
					 sc->line, sc->col, i, msg);
			ig_strategy_host_destroy(h);
			return IG_ECONFIG;
		}
		c->inited = true;
		if (t->on_params != NULL) {
			c->live_cfg = malloc(sizeof(*c->live_cfg));
			c->accepted_cfg = malloc(sizeof(*c->accepted_cfg));
			if (c->live_cfg == NULL || c->accepted_cfg == NULL) {
				ig_strategy_host_destroy(h);
				return IG_ENOMEM;
			}
			*c->live_cfg = *sc;
			*c->accepted_cfg = *sc;
		}
	}
	return 0;
}

void ig_strategy_host_destroy(struct ig_strategy_host *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		struct ig_strategy_ctx *c = h->ctx[i];
		if (c->inited && c->type->destroy != NULL)
			c->type->destroy(c->state);
		free(c->state);
		free(c->live_cfg);
		free(c->accepted_cfg);
		free(c);
		h->ctx[i] = NULL;
	}
	h->n = 0;
}

uint64_t ig_strategy_host_misuse(const struct ig_strategy_host *h, uint16_t strategy_id)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (h->ctx[i]->id == strategy_id)
			return h->ctx[i]->ctx_misuse;
	return 0;
}

/* Returns the slot of client_id (0: the first free slot), or NULL. A
 * search for an order stops once it has passed every slot in use. */
static struct ig_open_mirror *mirror_find(struct ig_strategy_ctx *c, uint64_t client_id)
{
	uint32_t seen = 0;
	if (client_id != 0 && c->nopen == 0)
		return NULL; /* none in use (the order's last fill freed it) */
	for (uint32_t i = 0; i < IG_CTX_MAX_OPEN; i++) {
		if (c->open[i].client_id == client_id)
			return &c->open[i];
		if (client_id != 0 && c->open[i].client_id != 0 && ++seen == c->nopen)
			return NULL;
	}
	return NULL;
}

/* Takes the free slot m for an open order. */
static void mirror_take(struct ig_strategy_ctx *c, struct ig_open_mirror *m, uint64_t client_id,
			int64_t leaves_qty, uint8_t side, uint16_t instrument_id)
{
	m->client_id = client_id;
	m->leaves_qty = leaves_qty;
	m->side = side;
	m->instrument_id = instrument_id;
	c->nopen++;
}

/* Frees the slot m. */
static void mirror_free(struct ig_strategy_ctx *c, struct ig_open_mirror *m)
{
	memset(m, 0, sizeof(*m));
	c->nopen--;
}

static void mirror_remove(struct ig_strategy_ctx *c, uint64_t client_id)
{
	struct ig_open_mirror *m = client_id != 0 ? mirror_find(c, client_id) : NULL;
	if (m != NULL)
		mirror_free(c, m);
}

/* Applies an OMS event to the strategy's mirror before its callback. */
static void mirror_apply(struct ig_strategy_ctx *c, const struct ig_event *ev)
{
	uint16_t in = ev->hdr.instrument_id;

	switch (ev->hdr.type) {
	case IG_EV_POSITION:
		if (in < IG_MAX_INSTRUMENTS)
			c->pos[in] = ev->body.position;
		break;
	case IG_EV_FILL: {
		struct ig_open_mirror *m =
			ev->body.fill.client_id != 0 ? mirror_find(c, ev->body.fill.client_id) : NULL;
		if (m != NULL) {
			m->leaves_qty -= ev->body.fill.qty;
			if (m->leaves_qty <= 0 || ev->body.fill.last)
				mirror_free(c, m);
		}
		break;
	}
	case IG_EV_REJECT:
		mirror_remove(c, ev->body.reject.client_id);
		break;
	case IG_EV_ORDER_UPDATE:
		if ((ev->hdr.flags & IG_EVF_ADOPT) && mirror_find(c, ev->body.update.client_id) == NULL &&
		    !(ev->body.update.state == IG_OS_FILLED || ev->body.update.state == IG_OS_CANCELED ||
		      ev->body.update.state == IG_OS_REJECTED || ev->body.update.state == IG_OS_EXPIRED ||
		      ev->body.update.state == IG_OS_DENIED)) {
			/* Recovered or adopted by the OMS: this strategy's own,
			 * though it did not send it in this run. */
			struct ig_open_mirror *m = mirror_find(c, 0);
			if (m == NULL) {
				c->mirror_overflow++;
				break;
			}
			mirror_take(c, m, ev->body.update.client_id, ev->body.update.leaves_qty,
				    ev->body.update.side, in);
			break;
		}
		switch (ev->body.update.state) {
		case IG_OS_FILLED:
		case IG_OS_CANCELED:
		case IG_OS_REJECTED:
		case IG_OS_EXPIRED:
		case IG_OS_DENIED:
			mirror_remove(c, ev->body.update.client_id);
			break;
		default:
			break;
		}
		break;
	default:
		break;
	}
}

static void call(struct ig_strategy_ctx *c, const struct ig_event *ev, struct ig_emit *out,
		 void (*fn)(void *, struct ig_strategy_ctx *, const struct ig_event *))
{
	if (fn == NULL)
		return;
	c->out = out;
	c->cur = ev;
	if (ev->hdr.ts_event_ns != 0)
		c->now_ns = ev->hdr.ts_event_ns;
	fn(c->state, c, ev);
	c->out = NULL;
	c->cur = NULL;
}

/* Calls a (state, ctx) hook (on_start, on_stop) with the ctx live: ev (may
 * be NULL) is the event that gives its orders their timestamps. */
static void call_hook(struct ig_strategy_ctx *c, const struct ig_event *ev, struct ig_emit *out,
		      void (*fn)(void *, struct ig_strategy_ctx *))
{
	if (fn == NULL)
		return;
	c->out = out;
	c->cur = ev;
	if (ev != NULL && ev->hdr.ts_event_ns != 0)
		c->now_ns = ev->hdr.ts_event_ns;
	fn(c->state, c);
	c->out = NULL;
	c->cur = NULL;
}

/* ---- timers ---- */

/* The host's clock for timers: CLOCK_REALTIME live, data time otherwise. */
static int64_t host_now(const struct ig_strategy_host *h)
{
	return h->realtime ? ig_clock_real_ns() : h->now_ns;
}

/* Recomputes the earliest armed timer of the host. */
static void timers_rescan(struct ig_strategy_host *h)
{
	int64_t next = INT64_MAX;
	for (uint32_t i = 0; i < h->n; i++)
		for (uint32_t k = 0; k < IG_CTX_MAX_TIMERS; k++) {
			const struct ig_ctx_timer *t = &h->ctx[i]->timers[k];
			if (t->id != 0 && t->armed && t->due_ns < next)
				next = t->due_ns;
		}
	h->next_due_ns = next;
}

/* Arms the every-timers set before there was a data time, at now. */
static void timers_arm(struct ig_strategy_host *h, int64_t now)
{
	for (uint32_t i = 0; i < h->n; i++)
		for (uint32_t k = 0; k < IG_CTX_MAX_TIMERS; k++) {
			struct ig_ctx_timer *t = &h->ctx[i]->timers[k];
			if (t->id != 0 && !t->armed) {
				t->due_ns = now > INT64_MAX - t->period_ns ? INT64_MAX : now + t->period_ns;
				t->armed = true;
			}
		}
	h->unarmed = false;
}

/* Fires, in time order, every timer due at or before now (before ev is
 * handled); ev gives their orders the causing tick's origin time. */
static void timers_run(struct ig_strategy_host *h, const struct ig_event *ev, struct ig_emit *out)
{
	int64_t now = host_now(h);

	if (now == 0)
		return; /* no data time yet */
	if (h->unarmed) {
		timers_arm(h, now);
		timers_rescan(h);
	}
	while (h->next_due_ns <= now) {
		struct ig_strategy_ctx *fc = NULL;
		struct ig_ctx_timer *ft = NULL;
		struct ig_event te;

		for (uint32_t i = 0; i < h->n; i++)
			for (uint32_t k = 0; k < IG_CTX_MAX_TIMERS; k++) {
				struct ig_ctx_timer *t = &h->ctx[i]->timers[k];
				if (t->id == 0 || !t->armed || t->due_ns > now)
					continue;
				if (ft == NULL || t->due_ns < ft->due_ns ||
				    (t->due_ns == ft->due_ns && fc == h->ctx[i] && t->id < ft->id)) {
					fc = h->ctx[i];
					ft = t;
				}
			}
		if (ft == NULL)
			break;
		memset(&te, 0, sizeof(te));
		te.hdr.type = IG_EV_TIMER;
		te.hdr.src = IG_STAGE_STRATEGY;
		te.hdr.strategy_id = fc->id;
		te.hdr.ts_origin_ns = ev->hdr.ts_origin_ns;
		/* Data time: the timer's own time; live: the data time as is. */
		te.hdr.ts_event_ns = h->realtime ? ev->hdr.ts_event_ns : ft->due_ns;
		te.body.timer.now_ns = ft->due_ns;
		te.body.timer.count = ++ft->count;
		te.body.timer.timer_id = ft->id;
		te.body.timer.tag = ft->tag;
		/* Next firing first, so the callback may cancel or reuse it. */
		if (ft->period_ns == 0) {
			memset(ft, 0, sizeof(*ft));
		} else if (ft->due_ns > INT64_MAX - ft->period_ns) {
			ft->due_ns = INT64_MAX;
		} else {
			ft->due_ns += ft->period_ns;
			if (h->realtime && ft->due_ns <= now) /* a stall: skip, do not burst */
				ft->due_ns = now + ft->period_ns - (now - ft->due_ns) % ft->period_ns;
		}
		timers_rescan(h);
		fc->timers_fired++;
		call(fc, &te, out, fc->type->on_timer);
	}
}

void ig_strategy_host_await_recovery(struct ig_strategy_host *h)
{
	h->awaiting = h->n > 0;
}

/* While a recovery holds the host: counts ev if it is a strategy's
 * IG_CTL_RECOVERED. Returns true while the host must still hold, i.e. not
 * every strategy here has had its own. */
static bool held(struct ig_strategy_host *h, const struct ig_event *ev)
{
	if (!h->awaiting)
		return false;
	if (ev->hdr.type == IG_EV_CONTROL && ev->body.control.cmd == IG_CTL_RECOVERED)
		for (uint32_t i = 0; i < h->n; i++)
			if (h->ctx[i]->id == ev->hdr.strategy_id)
				h->recovered++;
	if (h->recovered < h->n)
		return true;
	h->awaiting = false;
	return false;
}

/* Market data to every strategy here subscribed to its instrument. */
static void deliver_md(struct ig_strategy_host *h, const struct ig_event *ev, struct ig_emit *out)
{
	uint16_t k = ev->hdr.instrument_id;
	if (k >= IG_MAX_INSTRUMENTS)
		return;
	for (uint32_t i = 0; i < h->n; i++) {
		struct ig_strategy_ctx *c = h->ctx[i];
		const struct ig_strategy_type *t = c->type;
		if (!c->subscribed[k])
			continue;
		call(c, ev, out,
		     ev->hdr.type == IG_EV_QUOTE   ? t->on_quote
		     : ev->hdr.type == IG_EV_TRADE ? t->on_trade
						   : t->on_bar);
	}
}

static void host_handle(struct ig_strategy_host *h, const struct ig_event *ev, struct ig_emit *out);

/* Writes the text of value for declaration d (the inverse of how the
 * API parsed it, struct ig_params_change) into out. Returns false for a
 * kind that cannot change live, or an enum index out of range. */
static bool param_text(const struct ig_param_decl *d, int64_t value, char *out, size_t cap)
{
	const char *c, *bar;
	int64_t i = 0;

	switch (d->kind) {
	case IG_PARAM_INT:
		snprintf(out, cap, "%lld", (long long)value);
		return true;
	case IG_PARAM_DECIMAL:
		return ig_fixed_format(value, out, cap) > 0;
	case IG_PARAM_BOOL:
		snprintf(out, cap, "%s", value != 0 ? "true" : "false");
		return true;
	case IG_PARAM_ENUM:
		for (c = d->choices; c != NULL && value >= 0; c = bar + 1, i++) {
			bar = strchr(c, '|');
			if (i == value) {
				size_t n = bar != NULL ? (size_t)(bar - c) : strlen(c);
				snprintf(out, cap, "%.*s", (int)n, c);
				return true;
			}
			if (bar == NULL)
				break;
		}
		return false;
	case IG_PARAM_STRING:
	default:
		return false;
	}
}

/* Tells the OMS what became of the operator's change c->req (or of the
 * change in ev when it never became c->req): IG_CTL_PARAMS_APPLIED or
 * _REFUSED, echoing it; the OMS journals it and holds applied values in
 * force. */
static void params_verdict(struct ig_strategy_ctx *c, const struct ig_event *ev,
			   const struct ig_params_change *pc, bool applied, struct ig_emit *out)
{
	struct ig_event v = *ev;

	v.hdr.type = IG_EV_CONTROL;
	v.hdr.src = IG_STAGE_STRATEGY;
	v.hdr.flags = 0;
	v.hdr.strategy_id = c->id;
	v.body.params = *pc;
	v.body.params.cmd = applied ? IG_CTL_PARAMS_APPLIED : IG_CTL_PARAMS_REFUSED;
	if (!applied)
		c->params_refused++;
	ig_emit(out, IG_STAGE_OMS, 0, &v);
}

/* IG_CTL_PARAMS for c: writes the new values into its live copy of the
 * config, for on_params (now if the strategies have started and not
 * stopped, else after on_start). The values come from the OMS, which
 * forwards what it is given (a journal or snapshot of another build of
 * the type included): each is checked against the declaration here again
 * (index, kind, enum range, bounds), and a change with one bad value is
 * refused whole (its values belong together), logged, the values in
 * force kept. An operator's change (no IG_EVF_ADOPT) gets a verdict; a
 * recovery's hand-over of the values in force (IG_EVF_ADOPT) does not. */
static void params_change(struct ig_strategy_ctx *c, const struct ig_event *ev,
			  struct ig_emit *out)
{
	const struct ig_params_change *pc = &ev->body.params;
	const struct ig_param_decl *decls = c->type->params;
	bool request = !(ev->hdr.flags & IG_EVF_ADOPT);
	char text[IG_PARAMS_MAX][IG_PARAM_STR_MAX];
	uint32_t ndecl = 0;

	if (c->live_cfg == NULL || decls == NULL || pc->n < 1 || pc->n > IG_PARAMS_MAX) {
		/* the API refuses these; a journal of another build might not */
		if (request)
			params_verdict(c, ev, pc, false, out);
		return;
	}
	if (request && c->req_pending) {
		ig_log_error("strategy %s: params change refused: the last one is not applied yet",
			     c->cfg->name);
		params_verdict(c, ev, pc, false, out);
		return;
	}
	while (decls[ndecl].name != NULL)
		ndecl++;
	for (unsigned i = 0; i < pc->n; i++) {
		char msg[192];

		if (pc->index[i] >= ndecl) {
			ig_log_error("strategy %s: params change refused: param #%u is not declared by "
				     "type %s",
				     c->cfg->name, (unsigned)pc->index[i], c->type->name);
			if (request)
				params_verdict(c, ev, pc, false, out);
			return;
		}
		if (!param_text(&decls[pc->index[i]], pc->value[i], text[i], sizeof(text[i])) ||
		    ig__param_check(&decls[pc->index[i]], text[i], msg, sizeof(msg)) != 0) {
			ig_log_error("strategy %s: params change refused: %s = %lld does not fit its "
				     "declaration; the values in force stay",
				     c->cfg->name, decls[pc->index[i]].name, (long long)pc->value[i]);
			if (request)
				params_verdict(c, ev, pc, false, out);
			return;
		}
	}
	for (unsigned i = 0; i < pc->n; i++) {
		const struct ig_param_decl *d = &decls[pc->index[i]];

		for (uint32_t k = 0; k < c->live_cfg->nparams; k++) {
			struct ig_cfg_param *p = &c->live_cfg->params[k];
			if (strcmp(p->key, d->name) == 0) {
				_Static_assert(sizeof(p->value) == sizeof(text[i]), "same size");
				memcpy(p->value, text[i], sizeof(p->value));
				p->is_default = false;
				p->line = p->col = 0;
			}
		}
	}
	if (request) {
		c->req_pending = true;
		c->req = *pc;
	} else {
		c->params_pending = true;
	}
}

/* Calls on_params for every strategy of h with values it has not seen:
 * taken, they become the accepted ones; refused (a non-zero return),
 * the config copy goes back to the accepted ones. An operator's change
 * gets its verdict. After the stop, a change is refused unseen. */
static void params_deliver(struct ig_strategy_host *h, const struct ig_event *ev,
			   struct ig_emit *out)
{
	for (uint32_t i = 0; i < h->n; i++) {
		struct ig_strategy_ctx *c = h->ctx[i];
		int rc = IG_ESTATE;

		if (!c->params_pending && !c->req_pending)
			continue;
		if (!h->stopped) {
			c->out = out;
			c->cur = ev;
			rc = c->type->on_params(c->state, c, c->live_cfg);
			c->out = NULL;
			c->cur = NULL;
		}
		if (rc == 0) {
			*c->accepted_cfg = *c->live_cfg;
			c->params_applied++;
		} else {
			*c->live_cfg = *c->accepted_cfg;
			ig_log_error("strategy %s: params change refused by the strategy (%s); the "
				     "values in force stay",
				     c->cfg->name, h->stopped ? "stopped" : ig_strerror(rc));
		}
		if (c->req_pending)
			params_verdict(c, ev, &c->req, rc == 0, out);
		c->params_pending = c->req_pending = false;
	}
}

void ig_strategy_host_handle(struct ig_strategy_host *h, const struct ig_event *ev,
			     struct ig_emit *out)
{
	if (__atomic_load_n(&h->owner, __ATOMIC_RELAXED) != (const void *)&thread_token)
		/* The thread that runs the host from now on (the driver's). */
		__atomic_store_n(&h->owner, (const void *)&thread_token, __ATOMIC_RELAXED);
	if (ev->hdr.ts_event_ns > h->now_ns)
		h->now_ns = ev->hdr.ts_event_ns;
	/* Market data once started, with no timer to run first (none armed,
	 * or stopped): straight to the strategies, outside the big dispatch. */
	if ((ev->hdr.type == IG_EV_QUOTE || ev->hdr.type == IG_EV_TRADE ||
	     ev->hdr.type == IG_EV_BAR) && h->started &&
	    (h->stopped || (h->next_due_ns == INT64_MAX && !h->unarmed))) {
		deliver_md(h, ev, out);
		return;
	}
	host_handle(h, ev, out);
}

/* ig_strategy_host_handle past the owner and the data time. */
__attribute__((noinline)) static void host_handle(struct ig_strategy_host *h,
						  const struct ig_event *ev, struct ig_emit *out)
{
	const struct ig_strategy_type *t;

	if (!h->started && !held(h, ev)) {
		/* on_start: once, before any other callback, on this thread. */
		h->started = true;
		if (h->md_held > 0)
			ig_log_info("strategy thread %u: started after the recovery; %llu market-data "
				    "events and timers before it were not delivered",
				    h->thread_index, (unsigned long long)h->md_held);
		for (uint32_t i = 0; i < h->n; i++)
			call_hook(h->ctx[i], ev, out, h->ctx[i]->type->on_start);
		/* Params the recovery handed over, in force from here. */
		params_deliver(h, ev, out);
	}
	if (!h->started && ev->hdr.type != IG_EV_CONTROL) {
		/* Holding for the recovery: order events reach the mirrors
		 * only; market data and timers wait for nobody. */
		if (ev->hdr.type == IG_EV_QUOTE || ev->hdr.type == IG_EV_TRADE ||
		    ev->hdr.type == IG_EV_BAR || ev->hdr.type == IG_EV_TIMER) {
			h->md_held++;
			return;
		}
		for (uint32_t i = 0; i < h->n; i++)
			if (h->ctx[i]->id == ev->hdr.strategy_id)
				mirror_apply(h->ctx[i], ev);
		return;
	}
	/* No timer fires once on_stop has run: the feedback that still comes
	 * (the stop's cancel confirmations) must not place orders behind the
	 * shutdown token, after the OMS swept the venue. */
	if (!h->stopped && (h->next_due_ns != INT64_MAX || h->unarmed))
		timers_run(h, ev, out);

	switch (ev->hdr.type) {
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR:
		deliver_md(h, ev, out);
		return;
	case IG_EV_TIMER:
		for (uint32_t i = 0; i < h->n; i++)
			call(h->ctx[i], ev, out, h->ctx[i]->type->on_timer);
		return;
	case IG_EV_CONTROL:
		if (ev->body.control.cmd == IG_CTL_PARAMS) {
			for (uint32_t i = 0; i < h->n; i++)
				if (h->ctx[i]->id == ev->hdr.strategy_id)
					params_change(h->ctx[i], ev, out);
			if (h->started)
				params_deliver(h, ev, out);
			return;
		}
		if (ev->body.control.cmd == IG_CTL_FEED_END) {
			struct ig_event fwd = *ev;
			if (!h->stopped) {
				h->stopped = true;
				/* A host stopped while holding never started: no on_stop. */
				for (uint32_t i = 0; i < h->n && h->started; i++)
					call_hook(h->ctx[i], NULL, out, h->ctx[i]->type->on_stop);
			}
			fwd.hdr.strategy_id = IG_STRATEGY_NONE;
			fwd.body.control.arg = (int64_t)h->thread_index;
			ig_emit(out, IG_STAGE_OMS, 0, &fwd);
		}
		return;
	default:
		break;
	}
	/* Order events: to their own strategy. */
	for (uint32_t i = 0; i < h->n; i++) {
		struct ig_strategy_ctx *c = h->ctx[i];
		if (c->id != ev->hdr.strategy_id)
			continue;
		mirror_apply(c, ev);
		t = c->type;
		switch (ev->hdr.type) {
		case IG_EV_ORDER_UPDATE:
			call(c, ev, out, t->on_order_update);
			break;
		case IG_EV_FILL:
			call(c, ev, out, t->on_fill);
			break;
		case IG_EV_REJECT:
			call(c, ev, out, t->on_reject);
			break;
		default:
			break;
		}
		return;
	}
}

/* ---- ctx API (include/ingenium/strategy.h) ---- */

/* An acting call outside a callback, or from a thread other than the
 * host's (a second producer on the strategy -> OMS ring): counted, logged
 * once per strategy with the function's name. Returns true if the call
 * must not act. */
static bool misused(struct ig_strategy_ctx *c, const char *fn)
{
	bool own = __atomic_load_n(&c->host->owner, __ATOMIC_RELAXED) == (const void *)&thread_token;
	if (c->out != NULL && own)
		return false;
	/* Atomic: a foreign thread may count while the owner does. */
	__atomic_add_fetch(&c->ctx_misuse, 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&c->misuse_logged, true, __ATOMIC_RELAXED)) {
		ig_log_error("strategy %s: %s called outside a callback (init, after it returned, "
			     "or from another thread); ignored. Act from on_start or an event "
			     "callback, on the strategy's thread (counted as ctx_misuse)",
			     c->cfg->name, fn);
	}
	return true;
}

static bool order_valid(const struct ig_order *o)
{
	if (o->side != IG_SIDE_BUY && o->side != IG_SIDE_SELL)
		return false;
	if (o->qty <= 0 || o->type >= IG_ORD__COUNT || o->tif > IG_TIF_DAY)
		return false;
	if (o->type == IG_ORD_LIMIT || o->type == IG_ORD_STOP_LIMIT)
		if (o->px <= 0)
			return false;
	if (o->px < 0 || o->stop_px < 0 || o->trail < 0 || o->sl_px < 0)
		return false;
	return true;
}

static void init_event(struct ig_strategy_ctx *c, struct ig_event *ev, enum ig_event_type type,
		       uint16_t instrument_id)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.strategy_id = c->id;
	ev->hdr.instrument_id = instrument_id;
	if (c->cur != NULL) {
		ev->hdr.ts_origin_ns = c->cur->hdr.ts_origin_ns;
		ev->hdr.ts_event_ns = c->cur->hdr.ts_event_ns;
	}
}

uint64_t ig_ctx_submit(struct ig_strategy_ctx *c, uint16_t instrument_id, const struct ig_order *o)
{
	struct ig_event ev;
	struct ig_open_mirror *m;

	if (misused(c, "ig_ctx_submit"))
		return 0; /* outside a callback: nothing to emit through */
	c->seq++;
	init_event(c, &ev, IG_EV_ORDER, instrument_id);
	ev.body.order = *o;
	ev.body.order.client_id = IG_CID_MAKE(c->id, c->epoch, c->seq);
	if (instrument_id >= IG_MAX_INSTRUMENTS || !order_valid(o)) {
		/* Tell the strategy at once, as the OMS would. */
		struct ig_event rj;
		init_event(c, &rj, IG_EV_REJECT, instrument_id);
		rj.body.reject.client_id = ev.body.order.client_id;
		rj.body.reject.reason = IG_RJ_INVALID;
		rj.body.reject.side = o->side;
		rj.body.reject.qty = o->qty;
		rj.body.reject.px = o->px;
		if (c->type->on_reject != NULL)
			c->type->on_reject(c->state, c, &rj);
		return 0;
	}
	m = mirror_find(c, 0);
	if (m != NULL) {
		mirror_take(c, m, ev.body.order.client_id, o->qty, o->side, instrument_id);
	} else {
		c->mirror_overflow++;
	}
	c->intents++;
	ig_emit(c->out, IG_STAGE_OMS, 0, &ev);
	return ev.body.order.client_id;
}

uint64_t ig_ctx_market(struct ig_strategy_ctx *c, uint16_t instrument_id, enum ig_side side,
		       int64_t qty)
{
	struct ig_order o;
	if (misused(c, "ig_ctx_market"))
		return 0;
	memset(&o, 0, sizeof(o));
	o.side = (uint8_t)side;
	o.type = IG_ORD_MARKET;
	o.tif = IG_TIF_GTC;
	o.qty = qty;
	return ig_ctx_submit(c, instrument_id, &o);
}

uint64_t ig_ctx_limit(struct ig_strategy_ctx *c, uint16_t instrument_id, enum ig_side side,
		      int64_t px, int64_t qty, enum ig_tif tif)
{
	struct ig_order o;
	if (misused(c, "ig_ctx_limit"))
		return 0;
	memset(&o, 0, sizeof(o));
	o.side = (uint8_t)side;
	o.type = IG_ORD_LIMIT;
	o.tif = (uint8_t)tif;
	o.px = px;
	o.qty = qty;
	return ig_ctx_submit(c, instrument_id, &o);
}

void ig_ctx_cancel(struct ig_strategy_ctx *c, uint64_t client_id)
{
	struct ig_event ev;
	struct ig_open_mirror *m;

	if (misused(c, "ig_ctx_cancel"))
		return;
	m = mirror_find(c, client_id);
	init_event(c, &ev, IG_EV_CANCEL, m != NULL ? m->instrument_id : 0);
	ev.body.cancel.client_id = client_id;
	c->cancels++;
	ig_emit(c->out, IG_STAGE_OMS, 0, &ev);
}

const struct ig_position *ig_ctx_position(const struct ig_strategy_ctx *c, uint16_t instrument_id)
{
	static const struct ig_position none;
	if (instrument_id >= IG_MAX_INSTRUMENTS)
		return &none;
	return &c->pos[instrument_id];
}

int64_t ig_ctx_pending_qty(const struct ig_strategy_ctx *c, uint16_t instrument_id, enum ig_side side)
{
	int64_t q = 0;
	uint32_t seen = 0;
	for (uint32_t i = 0; i < IG_CTX_MAX_OPEN && seen < c->nopen; i++) {
		if (c->open[i].client_id == 0)
			continue;
		seen++;
		if (c->open[i].instrument_id == instrument_id && c->open[i].side == side)
			q += c->open[i].leaves_qty;
	}
	return q;
}

int64_t ig_ctx_now_ns(const struct ig_strategy_ctx *c)
{
	return c->now_ns;
}

const char *ig_ctx_name(const struct ig_strategy_ctx *c)
{
	return c->cfg->name;
}

uint16_t ig_ctx_strategy_id(const struct ig_strategy_ctx *c)
{
	return c->id;
}

int ig_ctx_instrument(const struct ig_strategy_ctx *c, const char *symbol)
{
	if (c == NULL || symbol == NULL)
		return IG_ENOTFOUND;
	return symbol_id(c->host, symbol);
}

const char *ig_ctx_symbol(const struct ig_strategy_ctx *c, uint16_t instrument_id)
{
	if (c == NULL || instrument_id >= c->host->ninstruments)
		return NULL;
	return c->host->symbols[instrument_id];
}

/* Sets a timer: the first at due_ns (armed) or, for an every-timer set
 * before any data time, at the first data time + period. Returns its id or
 * IG_ELIMIT. */
static int timer_set(struct ig_strategy_ctx *c, bool armed, int64_t due_ns, int64_t period_ns,
		     uint64_t tag)
{
	struct ig_strategy_host *h = c->host;

	for (uint32_t k = 0; k < IG_CTX_MAX_TIMERS; k++) {
		struct ig_ctx_timer *t = &c->timers[k];
		if (t->id != 0)
			continue;
		if (c->timer_seq >= (uint32_t)INT32_MAX)
			c->timer_seq = 0;
		t->id = ++c->timer_seq;
		t->armed = armed;
		t->due_ns = due_ns;
		t->period_ns = period_ns;
		t->tag = tag;
		t->count = 0;
		if (!armed)
			h->unarmed = true;
		else if (due_ns < h->next_due_ns)
			h->next_due_ns = due_ns;
		return (int)t->id;
	}
	return IG_ELIMIT;
}

int ig_ctx_timer_at(struct ig_strategy_ctx *c, int64_t ts_ns, uint64_t tag)
{
	if (misused(c, "ig_ctx_timer_at"))
		return IG_ESTATE;
	if (c->type->on_timer == NULL)
		return IG_EINVAL;
	return timer_set(c, true, ts_ns, 0, tag);
}

int ig_ctx_timer_every(struct ig_strategy_ctx *c, int64_t period_ms, uint64_t tag)
{
	int64_t now, period_ns;

	if (misused(c, "ig_ctx_timer_every"))
		return IG_ESTATE;
	if (c->type->on_timer == NULL || period_ms <= 0 || period_ms > INT64_MAX / 1000000)
		return IG_EINVAL;
	period_ns = period_ms * 1000000;
	/* Data time: the event being handled (a timer's own time inside
	 * on_timer); live: the wall clock. */
	now = c->host->realtime ? ig_clock_real_ns() : c->now_ns != 0 ? c->now_ns : c->host->now_ns;
	if (now == 0)
		return timer_set(c, false, 0, period_ns, tag);
	return timer_set(c, true, now > INT64_MAX - period_ns ? INT64_MAX : now + period_ns, period_ns,
			 tag);
}

int ig_ctx_timer_cancel(struct ig_strategy_ctx *c, int timer_id)
{
	if (misused(c, "ig_ctx_timer_cancel"))
		return IG_ESTATE;
	if (timer_id <= 0)
		return IG_ENOTFOUND;
	for (uint32_t k = 0; k < IG_CTX_MAX_TIMERS; k++) {
		if (c->timers[k].id == (uint32_t)timer_id) {
			memset(&c->timers[k], 0, sizeof(c->timers[k]));
			timers_rescan(c->host);
			return 0;
		}
	}
	return IG_ENOTFOUND;
}

void ig_ctx_log(struct ig_strategy_ctx *c, const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ig_log_info("%s: %s", c->cfg->name, buf);
}

/* ------------------------------------------------- stage ops (stage.h) */

static void host_stage_handle(void *self, const struct ig_event *ev, struct ig_emit *out)
{
	ig_strategy_host_handle(self, ev, out);
}

/* The strategy side of each strategy's summary entry, under
 * "strategy_ctx": {NAME: {...}}; the summary merges it into the OMS's
 * "strategies" entry of the same name. Returns 0 or IG_ENOMEM. */
static int host_stage_stats(const void *self, json_t *root)
{
	const struct ig_strategy_host *h = self;
	json_t *all = ig_stats_object(root, "strategy_ctx");
	int rc = all == NULL ? IG_ENOMEM : 0;

	for (uint32_t i = 0; i < h->n && rc == 0; i++) {
		const struct ig_strategy_ctx *c = h->ctx[i];
		if (json_object_set_new(
			all, c->cfg->name,
			json_pack("{s:I, s:I, s:I, s:I, s:I}", "intents", (json_int_t)c->intents,
				  "cancels_requested", (json_int_t)c->cancels, "timers_fired",
				  (json_int_t)c->timers_fired, "mirror_overflow",
				  (json_int_t)c->mirror_overflow, "ctx_misuse", (json_int_t)c->ctx_misuse)) != 0)
			rc = IG_ENOMEM;
	}
	return rc;
}

const struct ig_stage_ops ig_strategy_host_ops = {
	.name = "strategy",
	.handle = host_stage_handle,
	.stats = host_stage_stats,
};

bool ig_strategy_host_has_timers(const struct ig_strategy_host *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (h->ctx[i]->type->on_timer != NULL)
			return true;
	return false;
}

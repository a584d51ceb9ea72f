/*
 * server.c - exchange-sim's HTTP side: libmicrohttpd with a thread per
 * connection (so a held answer blocks only its own connection), HTTP basic
 * auth, the rate limit, latency and fault injection, the flow thread, and
 * start/stop, and --request-log. The exchange itself is in exchange.c; the
 * websocket streams (upgraded on this same port) in stream.c.
 *
 * Threads: MHD's listener and connection threads call on_request; the flow
 * thread ticks the synthetic market; all of them take the state mutex for
 * the exchange and the stats. Sleeps wait on wait_cv, so stop wakes them:
 * a held answer is sent at once when the server stops.
 */
#include "sim/sim_internal.h"

#include "ingenium/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BODY_MAX (64 * 1024)
#define WINDOW_NS INT64_C(60000000000)

static const char html_503[] =
	"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
	"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
	"</body>\r\n</html>\r\n";

/* Per request, owned by MHD's connection thread until on_completed. */
struct req_ctx {
	char *body;
	size_t len;
	bool too_big;
	int64_t t0_ns;    /* when the request arrived, mono ns */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps ms, or less if the server stops. Returns true when stopping. */
static bool nap(struct ig_sim_server *s, uint32_t ms)
{
	struct timespec ts;
	bool stopping;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->wait_mu);
	while (!s->stopping && ms > 0)
		if (pthread_cond_timedwait(&s->wait_cv, &s->wait_mu, &ts) == ETIMEDOUT)
			break;
	stopping = s->stopping;
	pthread_mutex_unlock(&s->wait_mu);
	return stopping;
}

/* A uniform draw in [0, 1) from the fault stream. Caller holds mu. */
static double uniform(struct ig_sim_server *s)
{
	return (double)(ig__sim_rng(&s->fault_rng) >> 11) * 0x1.0p-53;
}

/* Sliding 60 s window. Caller holds mu. Returns false (and the seconds
 * until a slot frees in *retry_s) when the request is over the limit. */
static bool admit(struct ig_sim_server *s, int64_t now, unsigned *retry_s)
{
	uint32_t lim = s->cfg.rate_limit;

	if (lim == 0)
		return true;
	while (s->rl_n > 0 && s->rl_ring[s->rl_head] <= now - WINDOW_NS) {
		s->rl_head = (s->rl_head + 1) % lim;
		s->rl_n--;
	}
	if (s->rl_n == lim) {
		int64_t wait = s->rl_ring[s->rl_head] + WINDOW_NS - now;
		*retry_s = (unsigned)((wait + 999999999) / 1000000000);
		return false;
	}
	s->rl_ring[(s->rl_head + s->rl_n) % lim] = now;
	s->rl_n++;
	return true;
}

/* Decodes %XX and '+' in place. Returns false on a bad escape. */
static bool url_decode(char *s)
{
	char *w = s;

	for (const char *r = s; *r != '\0'; r++) {
		if (*r == '+') {
			*w++ = ' ';
		} else if (*r == '%') {
			int v = 0;
			for (int i = 1; i <= 2; i++) {
				char c = r[i];
				v <<= 4;
				if (c >= '0' && c <= '9')
					v |= c - '0';
				else if (c >= 'a' && c <= 'f')
					v |= c - 'a' + 10;
				else if (c >= 'A' && c <= 'F')
					v |= c - 'A' + 10;
				else
					return false;
			}
			if (v == 0)
				return false;
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return true;
}

static void add_param(struct ig__sim_params *p, const char *k, const char *v)
{
	if (p->n == IG__SIM_MAX_PARAMS) {
		p->overflow = true;
		return;
	}
	p->kv[p->n].k = k;
	p->kv[p->n].v = v != NULL ? v : "";
	p->n++;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	add_param(cls, key, value);
	return MHD_YES;
}

/* Parses an application/x-www-form-urlencoded body in place. */
static bool parse_form(char *body, struct ig__sim_params *p)
{
	char *save = NULL;

	for (char *tok = strtok_r(body, "&", &save); tok != NULL; tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '=');
		const char *v = "";
		if (eq != NULL) {
			*eq = '\0';
			if (!url_decode(eq + 1))
				return false;
			v = eq + 1;
		}
		if (!url_decode(tok))
			return false;
		add_param(p, tok, v);
	}
	return true;
}

static enum ig__sim_auth authenticate(struct ig_sim_server *s, struct MHD_Connection *c)
{
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	enum ig__sim_auth a;

	if (user == NULL) {
		a = IG__SIM_AUTH_NONE;
	} else {
		a = strcmp(user, s->key_id) == 0 && pass != NULL && strcmp(pass, s->key_secret) == 0
			    ? IG__SIM_AUTH_OK
			    : IG__SIM_AUTH_BAD;
	}
	if (user != NULL)
		MHD_free(user);
	if (pass != NULL)
		MHD_free(pass);
	return a;
}

static void fault_reply(struct ig__sim_reply *r, bool is_503)
{
	if (is_503) {
		r->status = 503;
		r->content_type = "text/html";
		r->body = strdup(html_503);
	} else {
		ig__sim_error(r, 500, "ErrInternal", "Something went wrong. We're looking into it.");
	}
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct ig__sim_reply *r,
				  unsigned retry_after_s)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->body == NULL)
		return MHD_NO; /* out of memory: drop the connection */
	resp = MHD_create_response_from_buffer(strlen(r->body), r->body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(r->body);
		return MHD_NO;
	}
	r->body = NULL;
	MHD_add_response_header(resp, "Content-Type", r->content_type);
	if (retry_after_s > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%u", retry_after_s);
		MHD_add_response_header(resp, "Retry-After", v);
	}
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Appends {"method","path","status","ms","t_ns"} to --request-log, if set:
 * ms is the time from t0_ns (the request's arrival, CLOCK_MONOTONIC, which
 * is t_ns) to now. Returns nothing. */
static void log_request(struct ig_sim_server *s, const char *method, const char *url,
			unsigned status, int64_t t0_ns)
{
	json_t *j;
	char *line;

	if (s->request_log == NULL)
		return;
	j = json_pack("{s:s, s:s, s:i, s:f, s:I}", "method", method, "path", url, "status", (int)status,
		      "ms", (double)(mono_ns() - t0_ns) / 1e6, "t_ns", (json_int_t)t0_ns);
	line = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (line == NULL)
		return;
	pthread_mutex_lock(&s->log_mu);
	fprintf(s->request_log, "%s\n", line);
	fflush(s->request_log);
	pthread_mutex_unlock(&s->log_mu);
	free(line);
}

/* Logs the request, then sends r. Returns MHD's result. */
static enum MHD_Result finish(struct ig_sim_server *s, struct MHD_Connection *c,
			      struct ig__sim_reply *r, unsigned retry_after_s, const char *method,
			      const char *url, int64_t t0_ns)
{
	log_request(s, method, url, r->status, t0_ns);
	return send_reply(c, r, retry_after_s);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ig_sim_server *s = cls;
	struct req_ctx *rq = *con_cls;
	struct ig__sim_params p;
	struct ig__sim_reply r;
	enum ig__sim_auth auth;
	double u_fault, u_when, u_code, u_hold;
	unsigned retry_s = 0;
	bool admitted, order_entry = false;
	int64_t t0;

	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->t0_ns = mono_ns();
		*con_cls = rq;
		return MHD_YES;
	}
	t0 = rq->t0_ns;
	if (*upload_size > 0) {
		if (rq->len + *upload_size > BODY_MAX) {
			rq->too_big = true;
		} else {
			char *b = realloc(rq->body, rq->len + *upload_size + 1);
			if (b == NULL)
				return MHD_NO;
			memcpy(b + rq->len, upload, *upload_size);
			rq->len += *upload_size;
			b[rq->len] = '\0';
			rq->body = b;
		}
		*upload_size = 0;
		return MHD_YES;
	}

	/* The whole request is here. */
	if (strncmp(url, "/api/1/stream/", 14) == 0 || strcmp(url, "/api/1/userstream") == 0) {
		/* Streams: no rate limit, latency or faults (--ws-* faults). */
		unsigned st = 0;
		enum MHD_Result ret = ig__sim_stream_upgrade(s, c, method, url, &st) == MHD_YES
					      ? MHD_YES
					      : MHD_NO;
		log_request(s, method, url, st, t0);
		return ret;
	}
	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&s->mu);
	s->stats.requests++;
	admitted = admit(s, mono_ns(), &retry_s);
	if (!admitted)
		s->stats.rate_limited++;
	/* Four draws per request, always, so that the stream stays aligned. */
	u_fault = uniform(s);
	u_when = uniform(s);
	u_code = uniform(s);
	u_hold = uniform(s);
	pthread_mutex_unlock(&s->mu);

	if (s->cfg.latency_ms > 0)
		nap(s, s->cfg.latency_ms);
	if (!admitted) {
		ig__sim_error(&r, 429, "ErrTooManyRequests",
			      "You are exceeding the allowed request rate limit");
		return finish(s, c, &r, retry_s, method, url, t0);
	}
	if ((u_fault < s->cfg.fail_rate && u_when < 0.5) ||
	    (s->cfg.fail_path != NULL && strcmp(url, s->cfg.fail_path) == 0)) {
		/* Before processing: nothing happened. */
		pthread_mutex_lock(&s->mu);
		s->stats.faults_injected++;
		pthread_mutex_unlock(&s->mu);
		fault_reply(&r, u_code >= 0.5);
		return finish(s, c, &r, 0, method, url, t0);
	}

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &p);
	if (rq->too_big || (rq->body != NULL && !parse_form(rq->body, &p)) || p.overflow) {
		ig__sim_error(&r, 400, "ErrInvalidArguments",
			      rq->too_big ? "request body too large" : "malformed form parameters");
	} else {
		auth = authenticate(s, c);
		ig__sim_handle(s, method, url, &p, auth, &r, &order_entry);
	}

	if (u_fault < s->cfg.fail_rate) {
		/* After processing: done, but the client sees an error. */
		free(r.body);
		memset(&r, 0, sizeof(r));
		pthread_mutex_lock(&s->mu);
		s->stats.faults_injected++;
		s->stats.faults_after++;
		pthread_mutex_unlock(&s->mu);
		fault_reply(&r, u_code >= 0.5);
	} else if (order_entry && r.status == 200 && u_hold < s->cfg.timeout_after_accept) {
		pthread_mutex_lock(&s->mu);
		s->stats.held_replies++;
		pthread_mutex_unlock(&s->mu);
		nap(s, s->cfg.accept_delay_ms);
	}
	return finish(s, c, &r, 0, method, url, t0);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void *flow_main(void *arg)
{
	struct ig_sim_server *s = arg;

	while (!nap(s, s->cfg.flow_ms)) {
		int64_t t0 = mono_ns();
		pthread_mutex_lock(&s->mu);
		for (uint32_t k = 0; k < s->nmk; k++)
			ig__sim_flow_tick(&s->mk[k]);
		pthread_mutex_unlock(&s->mu);
		/* --log-flow: the tick as a line of the request log (its stream
		 * messages were queued by its end, t_ns + ms). */
		if (s->cfg.log_flow)
			log_request(s, "FLOW", "/sim/flow", 0, t0);
	}
	return NULL;
}

void ig_sim_cfg_defaults(struct ig_sim_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host = "127.0.0.1";
	cfg->seed = 1;
	cfg->pair = "XBTZAR";
	cfg->start_price = INT64_C(1000000) * 100000000;
	cfg->price_scale = 0;
	cfg->volume_scale = 6;
	cfg->min_volume = 50000;              /* 0.0005 */
	cfg->max_volume = INT64_C(10000000000); /* 100 */
	cfg->maker_fee_bps = 0;
	cfg->taker_fee_bps = 10;
	cfg->rate_limit = 300;
	cfg->accept_delay_ms = 15000;
	cfg->flow_ms = 50;
	cfg->ws_keepalive_ms = 5000;
}

/* Resolves host to an IPv4 address; refuses non-loopback without
 * allow_remote. */
static int resolve(const struct ig_sim_cfg *cfg, struct sockaddr_in *sa, char *err, size_t errlen)
{
	const char *h = cfg->host != NULL ? cfg->host : "127.0.0.1";

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(cfg->port);
	if (strcmp(h, "localhost") == 0)
		h = "127.0.0.1";
	if (inet_pton(AF_INET, h, &sa->sin_addr) != 1) {
		snprintf(err, errlen, "--listen %s: expected an IPv4 address such as 127.0.0.1", h);
		return IG_ECONFIG;
	}
	if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127 && !cfg->allow_remote) {
		snprintf(err, errlen,
			 "--listen %s: not a loopback address (exchange-sim binds to loopback; "
			 "pass --allow-remote to override)",
			 h);
		return IG_ECONFIG;
	}
	return 0;
}

static int check_cfg(const struct ig_sim_cfg *cfg, char *err, size_t errlen)
{
	int64_t lot = 1;

	for (int i = cfg->volume_scale; i < 8; i++)
		lot *= 10;
	if (cfg->key_id == NULL || cfg->key_id[0] == '\0' || cfg->key_secret == NULL ||
	    cfg->key_secret[0] == '\0') {
		snprintf(err, errlen, "an API key id and secret are required");
		return IG_ECONFIG;
	}
	if (strchr(cfg->key_id, ':') != NULL) {
		snprintf(err, errlen, "the key id may not contain ':'");
		return IG_ECONFIG;
	}
	if (!(cfg->fail_rate >= 0 && cfg->fail_rate <= 1) ||
	    !(cfg->timeout_after_accept >= 0 && cfg->timeout_after_accept <= 1)) {
		snprintf(err, errlen, "--fail-rate and --timeout-after-accept must be within 0..1");
		return IG_ECONFIG;
	}
	if (cfg->volume_scale < 0 || cfg->volume_scale > 8 || cfg->min_volume <= 0 ||
	    cfg->min_volume % lot != 0 || cfg->max_volume < cfg->min_volume ||
	    cfg->max_volume > INT64_C(1000000) * 100000000) {
		snprintf(err, errlen, "--min-volume must be positive, on the volume scale, and at "
				      "most the maximum volume (at most 1000000)");
		return IG_ECONFIG;
	}
	if (cfg->maker_fee_bps < 0 || cfg->maker_fee_bps > 10000 || cfg->taker_fee_bps < 0 ||
	    cfg->taker_fee_bps > 10000) {
		snprintf(err, errlen, "fees must be within 0..10000 bps");
		return IG_ECONFIG;
	}
	if (cfg->nbalances > IG_SIM_MAX_BALANCES) {
		snprintf(err, errlen, "too many --balance options (max %d)", IG_SIM_MAX_BALANCES);
		return IG_ECONFIG;
	}
	for (uint32_t i = 0; i < cfg->nbalances; i++) {
		if (cfg->balances[i].amount < 0) {
			snprintf(err, errlen, "--balance %s: must not be negative", cfg->balances[i].asset);
			return IG_ECONFIG;
		}
	}
	if (cfg->pair == NULL || strlen(cfg->pair) >= sizeof(((struct ig_sim_server *)0)->pairs)) {
		snprintf(err, errlen, "--pair: too long");
		return IG_ECONFIG;
	}
	return 0;
}

static void server_free(struct ig_sim_server *s)
{
	if (s->request_log != NULL)
		fclose(s->request_log);
	pthread_mutex_destroy(&s->log_mu);
	free(s->rl_ring);
	free(s->key_id);
	free(s->key_secret);
	free(s->state_path);
	pthread_cond_destroy(&s->wait_cv);
	pthread_mutex_destroy(&s->wait_mu);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int ig_sim_server_start(const struct ig_sim_cfg *cfg, struct ig_sim_server **out, uint16_t *port,
			char *err, size_t errlen)
{
	struct ig_sim_server *s;
	struct sockaddr_in sa;
	pthread_condattr_t ca;
	const union MHD_DaemonInfo *info;
	unsigned flags;
	int rc;

	*out = NULL;
	if ((rc = check_cfg(cfg, err, errlen)) != 0 || (rc = resolve(cfg, &sa, err, errlen)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out_oom;
	s->cfg = *cfg;
	snprintf(s->host, sizeof(s->host), "%s", cfg->host != NULL ? cfg->host : "127.0.0.1");
	snprintf(s->pairs, sizeof(s->pairs), "%s", cfg->pair);
	s->key_id = strdup(cfg->key_id);
	s->key_secret = strdup(cfg->key_secret);
	s->state_path = cfg->state_path != NULL ? strdup(cfg->state_path) : NULL;
	s->rl_ring = calloc(cfg->rate_limit > 0 ? cfg->rate_limit : 1, sizeof(*s->rl_ring));
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->wait_mu, NULL);
	pthread_mutex_init(&s->log_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wait_cv, &ca);
	pthread_condattr_destroy(&ca);
	/* No pointer in cfg may outlive the caller's strings. */
	s->cfg.host = s->host;
	s->cfg.pair = s->pairs;
	s->cfg.key_id = s->key_id;
	s->cfg.key_secret = s->key_secret;
	s->cfg.state_path = s->state_path;
	s->cfg.request_log = NULL; /* opened below; the path is not kept */
	if (s->key_id == NULL || s->key_secret == NULL || s->rl_ring == NULL ||
	    (cfg->state_path != NULL && s->state_path == NULL)) {
		server_free(s);
		goto out_oom;
	}
	{
		uint64_t st = cfg->seed ^ UINT64_C(0x5eed0fa017fa0175);
		s->fault_rng = ig__sim_rng(&st);
	}
	if (cfg->request_log != NULL && (s->request_log = fopen(cfg->request_log, "a")) == NULL) {
		snprintf(err, errlen, "--request-log %s: cannot open: %s", cfg->request_log,
			 strerror(errno));
		server_free(s);
		return IG_EIO;
	}
	if ((rc = ig__sim_exchange_init(s, err, errlen)) != 0) {
		server_free(s);
		return rc;
	}
	if ((rc = ig__sim_hub_start(s)) != 0) {
		snprintf(err, errlen, "cannot start the streams");
		goto out_exchange;
	}
	if (cfg->flow_ms > 0) {
		if (pthread_create(&s->flow_thread, NULL, flow_main, s) != 0) {
			snprintf(err, errlen, "cannot start the flow thread");
			rc = IG_ETHREAD;
			goto out_exchange;
		}
		s->flow_started = true;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_AUTO |
		MHD_ALLOW_UPGRADE;
	if (!cfg->quiet)
		flags |= MHD_USE_ERROR_LOG;
	s->mhd = MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
				  (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				  s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				  MHD_OPTION_END);
	if (s->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u", s->host, (unsigned)cfg->port);
		rc = IG_EIO;
		goto out_flow;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info != NULL ? info->port : cfg->port;
	*port = s->port;
	*out = s;
	return 0;

out_flow:
	if (s->flow_started) {
		pthread_mutex_lock(&s->wait_mu);
		s->stopping = true;
		pthread_cond_broadcast(&s->wait_cv);
		pthread_mutex_unlock(&s->wait_mu);
		pthread_join(s->flow_thread, NULL);
	}
out_exchange:
	ig__sim_hub_stop(s);
	ig__sim_hub_free(s);
	ig__sim_exchange_destroy(s);
	server_free(s);
	return rc;
out_oom:
	snprintf(err, errlen, "out of memory");
	return IG_ENOMEM;
}

int ig_sim_server_write_state(struct ig_sim_server *s, const char *path)
{
	char tmp[4096];
	json_t *j;
	int rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return IG_EIO;
	pthread_mutex_lock(&s->mu);
	j = ig__sim_state_json(s);
	pthread_mutex_unlock(&s->mu);
	if (j == NULL)
		return IG_ENOMEM;
	rc = json_dump_file(j, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0 ? 0 : IG_EIO;
	json_decref(j);
	if (rc != 0)
		remove(tmp);
	return rc;
}

int ig_sim_server_stop(struct ig_sim_server *s)
{
	int rc = 0;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&s->wait_mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->wait_cv);
	pthread_mutex_unlock(&s->wait_mu);
	if (s->flow_started)
		pthread_join(s->flow_thread, NULL);
	/* Closes every stream and waits for their threads, then joins the
	 * connection threads; held answers were just woken. */
	ig__sim_hub_stop(s);
	MHD_stop_daemon(s->mhd);
	ig__sim_hub_free(s);
	if (s->state_path != NULL)
		rc = ig_sim_server_write_state(s, s->state_path);
	ig__sim_exchange_destroy(s);
	server_free(s);
	return rc;
}

void ig_sim_server_flow_step(struct ig_sim_server *s, uint32_t n)
{
	pthread_mutex_lock(&s->mu);
	while (n-- > 0)
		for (uint32_t k = 0; k < s->nmk; k++)
			ig__sim_flow_tick(&s->mk[k]);
	pthread_mutex_unlock(&s->mu);
}

void ig_sim_server_stats(struct ig_sim_server *s, struct ig_sim_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}

bool ig_sim_server_sanity(struct ig_sim_server *s)
{
	bool ok;

	pthread_mutex_lock(&s->mu);
	ok = ig__sim_sanity_locked(s);
	pthread_mutex_unlock(&s->mu);
	return ok;
}

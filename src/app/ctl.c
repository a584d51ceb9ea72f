/* ctl.c - `ingenium ctl` (see ctl.h). */
#include "app/ctl.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_TOKEN_ENV "INGENIUM_API_TOKEN"
#define CTL_BODY_MAX (1u << 20)

static void ctl_usage(FILE *out)
{
	fprintf(out,
		"usage: ingenium ctl COMMAND --api URL [--token-env NAME] [--json]\n"
		"\n"
		"commands:\n"
		"  status            the daemon's state, a line per strategy\n"
		"  kill              engage the kill switch\n"
		"  unkill            clear the kill switch\n"
		"  pause NAME        deny new orders of strategy NAME\n"
		"  resume NAME       lift the pause\n"
		"  cancel-all NAME   cancel every open order of NAME\n"
		"  reset [NAME]      lift a drawdown / daily-loss breach (of NAME, or all)\n"
		"  params NAME KEY=VALUE...\n"
		"                    new values of NAME's declared params (up to 8)\n"
		"\n"
		"--api: the daemon's API, e.g. http://127.0.0.1:8080; the bearer token is read\n"
		"from the environment variable " CTL_TOKEN_ENV " (or NAME with --token-env).\n"
		"--json: status as the API's JSON. Exit: 0 ok, 1 the daemon refused (4xx/5xx),\n"
		"2 usage, no token or no connection.\n");
}

struct body {
	char *p;
	size_t len;
	bool over;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t k = size * n;
	char *q;

	if (b->len + k > CTL_BODY_MAX) {
		b->over = true;
		return 0;
	}
	q = realloc(b->p, b->len + k + 1);
	if (q == NULL)
		return 0;
	memcpy(q + b->len, p, k);
	b->p = q;
	b->len += k;
	b->p[b->len] = '\0';
	return k;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "?";
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Prints the status document as an operator's table. Returns 0, or -1 if
 * it is not a status document. */
static int print_status(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);
	json_t *strats = json_object_get(doc, "strategies");
	size_t i;
	json_t *s;

	if (doc == NULL || !json_is_array(strats)) {
		json_decref(doc);
		return -1;
	}
	printf("ingenium %s  up %llds  %s  trading %s  kill switch %s  venue %s%s\n",
	       jstr(doc, "version"), jint(doc, "uptime_s"), jstr(doc, "threading"),
	       jstr(doc, "trading_state"),
	       json_is_true(json_object_get(doc, "kill_switch")) ? "ENGAGED" : "off",
	       jstr(json_object_get(doc, "venue"), "kind"),
	       json_is_false(json_object_get(json_object_get(doc, "venue"), "reconciled"))
		       ? " (not reconciled)"
		       : "");
	printf("orders %lld  fills %lld  snapshot #%lld, %lld ms old\n", jint(doc, "orders"),
	       jint(doc, "fills"), jint(json_object_get(doc, "snapshot"), "seq"),
	       jint(json_object_get(doc, "snapshot"), "age_ms"));
	printf("%-20s %-8s %-22s %16s %16s %16s %7s %7s %5s\n", "strategy", "state", "position",
	       "equity", "realized", "unrealized", "orders", "fills", "open");
	json_array_foreach(strats, i, s) {
		char pos[160] = "";
		size_t k, n = 0;
		json_t *p;

		json_array_foreach(json_object_get(s, "positions"), k, p) {
			int w = snprintf(pos + n, sizeof(pos) - n, "%s%s %s", n ? "," : "",
					 jstr(p, "symbol"), jstr(p, "qty"));
			if (w < 0 || (size_t)w >= sizeof(pos) - n)
				break;
			n += (size_t)w;
		}
		printf("%-20s %-8s %-22s %16s %16s %16s %7lld %7lld %5lld\n", jstr(s, "name"),
		       jstr(s, "state"), pos, jstr(s, "equity"), jstr(s, "realized_pnl"),
		       jstr(s, "unrealized_pnl"), jint(s, "orders"), jint(s, "fills"),
		       jint(s, "open_orders"));
	}
	json_decref(doc);
	return 0;
}

int ig_ctl_main(int argc, char **argv)
{
	const char *cmd = NULL, *name = NULL, *api = NULL, *token_env = CTL_TOKEN_ENV;
	const char *method = "POST", *action = NULL, *tok;
	bool json = false, status = false;
	char url[1024], auth[512];
	struct body b = { NULL, 0, false };
	struct curl_slist *h = NULL;
	CURL *c;
	CURLcode cc;
	long code = 0;
	int rc;
	json_t *params = NULL; /* `params`: the body */
	char *body = NULL;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--api") == 0 && i + 1 < argc) {
			api = argv[++i];
		} else if (strcmp(o, "--token-env") == 0 && i + 1 < argc) {
			token_env = argv[++i];
		} else if (strcmp(o, "--json") == 0) {
			json = true;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			ctl_usage(stdout);
			return 0;
		} else if (o[0] == '-') {
			fprintf(stderr, "ingenium ctl: unknown option %s\n", o);
			ctl_usage(stderr);
			return 2;
		} else if (cmd == NULL) {
			cmd = o;
		} else if (name == NULL) {
			name = o;
		} else if (strcmp(cmd, "params") == 0) {
			const char *eq = strchr(o, '=');
			if (params == NULL)
				params = json_object();
			if (eq == NULL || eq == o || params == NULL) {
				fprintf(stderr, "ingenium ctl: params: \"%s\" is not KEY=VALUE\n", o);
				json_decref(params);
				return 2;
			}
			{
				/* Every KEY=VALUE goes into the body or the command
				 * fails: never a change half sent. */
				char key[128];
				json_t *v;
				if ((size_t)(eq - o) >= sizeof(key)) {
					fprintf(stderr, "ingenium ctl: params: key too long in \"%.40s...\"\n",
						o);
					json_decref(params);
					return 2;
				}
				snprintf(key, sizeof(key), "%.*s", (int)(eq - o), o);
				if (json_object_get(params, key) != NULL) {
					fprintf(stderr, "ingenium ctl: params: %s given twice\n", key);
					json_decref(params);
					return 2;
				}
				v = json_string(eq + 1);
				if (v == NULL || json_object_set_new(params, key, v) != 0) {
					fprintf(stderr,
						"ingenium ctl: params: \"%s\" is not valid UTF-8 text\n",
						o);
					json_decref(params);
					return 2;
				}
			}
		} else {
			fprintf(stderr, "ingenium ctl: unexpected argument %s\n", o);
			return 2;
		}
	}
	if (cmd == NULL || api == NULL) {
		fprintf(stderr, "ingenium ctl: %s\n", cmd == NULL ? "no command" : "--api URL is required");
		ctl_usage(stderr);
		json_decref(params);
		return 2;
	}
	if (strcmp(cmd, "status") == 0) {
		status = true;
		method = "GET";
	} else if (strcmp(cmd, "kill") == 0 || strcmp(cmd, "unkill") == 0) {
		if (cmd[0] == 'u')
			method = "DELETE";
	} else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
		   strcmp(cmd, "cancel-all") == 0) {
		action = cmd;
		if (name == NULL) {
			fprintf(stderr, "ingenium ctl: %s needs a strategy NAME\n", cmd);
			return 2;
		}
	} else if (strcmp(cmd, "reset") == 0) {
		action = cmd;
	} else if (strcmp(cmd, "params") == 0) {
		action = cmd;
		if (name == NULL || params == NULL) {
			fprintf(stderr, "ingenium ctl: params needs a strategy NAME and KEY=VALUE\n");
			json_decref(params);
			return 2;
		}
	} else {
		fprintf(stderr, "ingenium ctl: unknown command \"%s\"\n", cmd);
		ctl_usage(stderr);
		return 2;
	}
	if (name != NULL && action == NULL) {
		fprintf(stderr, "ingenium ctl: %s takes no NAME\n", cmd);
		return 2;
	}
	tok = getenv(token_env);
	if (tok == NULL || tok[0] == '\0') {
		fprintf(stderr, "ingenium ctl: the token variable %s is %s\n", token_env,
			tok == NULL ? "unset" : "empty");
		json_decref(params);
		return 2;
	}
	if (strlen(tok) + sizeof("Authorization: Bearer ") > sizeof(auth)) {
		fprintf(stderr, "ingenium ctl: the token in %s is too long\n", token_env);
		json_decref(params);
		return 2;
	}
	if (params != NULL) {
		body = json_dumps(params, JSON_COMPACT);
		json_decref(params);
		if (body == NULL) {
			fprintf(stderr, "ingenium ctl: out of memory\n");
			return 2;
		}
	}
	c = curl_easy_init();
	if (c == NULL) {
		fprintf(stderr, "ingenium ctl: cannot start libcurl\n");
		free(body);
		return 2;
	}
	{
		size_t alen = strlen(api);
		const char *sl = alen > 0 && api[alen - 1] == '/' ? "" : "/";
		int n;
		if (status) {
			n = snprintf(url, sizeof(url), "%s%sapi/v1/status", api, sl);
		} else if (action == NULL) {
			n = snprintf(url, sizeof(url), "%s%sapi/v1/kill-switch", api, sl);
		} else if (name == NULL) {
			n = snprintf(url, sizeof(url), "%s%sapi/v1/reset", api, sl);
		} else {
			char *esc = curl_easy_escape(c, name, 0);
			n = esc == NULL ? -1
					: snprintf(url, sizeof(url), "%s%sapi/v1/strategies/%s/%s", api,
						   sl, esc, action);
			curl_free(esc);
		}
		if (n < 0 || (size_t)n >= sizeof(url)) {
			fprintf(stderr, "ingenium ctl: --api URL too long\n");
			curl_easy_cleanup(c);
			free(body);
			return 2;
		}
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	h = curl_slist_append(h, auth);
	memset(auth, 0, sizeof(auth));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(method, "DELETE") == 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(body);
	if (cc != CURLE_OK) {
		/* curl's message names the host, never a header. */
		fprintf(stderr, "ingenium ctl: %s: %s\n", url, curl_easy_strerror(cc));
		free(b.p);
		return 2;
	}
	if (code >= 200 && code < 300) {
		if (!status || json || b.p == NULL || print_status(b.p) != 0)
			printf("%s\n", b.p != NULL ? b.p : "");
		rc = 0;
	} else {
		json_t *doc = b.p != NULL ? json_loads(b.p, 0, NULL) : NULL;
		const char *e = json_string_value(json_object_get(doc, "error"));
		fprintf(stderr, "ingenium ctl: %s %s: HTTP %ld: %s\n", method, url, code,
			e != NULL ? e : (b.p != NULL ? b.p : ""));
		if (b.p != NULL)
			printf("%s\n", b.p);
		json_decref(doc);
		rc = 1;
	}
	free(b.p);
	return rc;
}

/* html.c - report.html: one self-contained page, inline CSS and SVG, no
 * script, no network (see report.h). */
#include "report/report.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define W 960.0
#define H 220.0
#define PAD 48.0

static void esc(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		switch (s[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(s[i], f);
		}
	}
}

static void esc_str(FILE *f, const char *s)
{
	esc(f, s, strlen(s));
}

/* True if a YAML key (as written) names a secret: *secret*, *token*, *key*. */
static bool secret_key(const char *k, size_t n)
{
	char low[128];
	size_t m = n < sizeof(low) - 1 ? n : sizeof(low) - 1;
	for (size_t i = 0; i < m; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[m] = '\0';
	return strstr(low, "secret") != NULL || strstr(low, "token") != NULL ||
	       strstr(low, "key") != NULL;
}

/* The config text, escaped, with the values of secret-looking keys
 * replaced by [redacted] (block and flow style: every "key: value" pair on
 * a line is looked at). */
static void config_block(FILE *f, const char *text)
{
	const char *line = text;

	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		const char *p = line, *stop = line + len;
		while (p < stop) {
			/* the next "key:" on the line */
			const char *colon = memchr(p, ':', (size_t)(stop - p));
			const char *ks;
			if (colon == NULL || (colon + 1 < stop && colon[1] != ' ' && colon[1] != '\t')) {
				if (colon == NULL) {
					esc(f, p, (size_t)(stop - p));
					p = stop;
				} else {
					esc(f, p, (size_t)(colon + 1 - p));
					p = colon + 1;
				}
				continue;
			}
			ks = colon;
			while (ks > p && (isalnum((unsigned char)ks[-1]) || ks[-1] == '_' || ks[-1] == '-'))
				ks--;
			esc(f, p, (size_t)(colon + 1 - p));
			p = colon + 1;
			if (ks < colon && secret_key(ks, (size_t)(colon - ks))) {
				/* the value: to the next ',' or '}' in flow style, or the
				 * end of the line */
				const char *v = p;
				while (v < stop && *v != ',' && *v != '}' && *v != '#')
					v++;
				fputs(" [redacted]", f);
				p = v;
			}
		}
		fputc('\n', f);
		if (end == NULL)
			break;
		line = end + 1;
	}
}

/* A chart's frame. The x axis is sample order, not linear time: a gap in
 * the data (a weekend, a missing month) takes no room, as in the charts of
 * trading platforms; a time between two samples sits between them. */
struct frame {
	const struct ig__report_series *sr; /* the samples that place x */
	double v0, v1;
};

/* The fractional sample index of ts in sr (binary search; clamped). */
static double sample_pos(const struct ig__report_series *sr, int64_t ts)
{
	uint32_t lo = 0, hi;
	if (sr->n == 0 || ts <= sr->p[0].ts_ns)
		return 0;
	hi = sr->n - 1;
	if (ts >= sr->p[hi].ts_ns)
		return hi;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (sr->p[mid].ts_ns <= ts)
			lo = mid;
		else
			hi = mid;
	}
	return lo + (double)(ts - sr->p[lo].ts_ns) / (double)(sr->p[hi].ts_ns - sr->p[lo].ts_ns);
}

static double fx(const struct frame *fr, int64_t ts)
{
	if (fr->sr == NULL || fr->sr->n < 2)
		return PAD;
	return PAD + (W - 2 * PAD) * (sample_pos(fr->sr, ts) / (double)(fr->sr->n - 1));
}

static double fy(const struct frame *fr, double v)
{
	if (fr->v1 <= fr->v0)
		return H / 2;
	return H - 20 - (H - 40) * ((v - fr->v0) / (fr->v1 - fr->v0));
}

static void axis(FILE *f, const struct frame *fr, const char *unit)
{
	char a[40], b[40];
	ig__report_iso8601(fr->sr->p[0].ts_ns, a, sizeof(a));
	ig__report_iso8601(fr->sr->p[fr->sr->n - 1].ts_ns, b, sizeof(b));
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"ax\"/>"
		"<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\">%.8g%s</text>"
		"<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\">%.8g%s</text>"
		"<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\">%s</text>"
		"<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\" text-anchor=\"end\">%s</text>\n",
		PAD, H - 20, W - PAD, H - 20, 2.0, 24.0, fr->v1, unit, 2.0, H - 22, fr->v0, unit, PAD,
		H - 4, a, W - PAD, H - 4, b);
}

static void frame_of(const struct ig__report_series *sr, struct frame *fr, bool dd)
{
	memset(fr, 0, sizeof(*fr));
	if (sr->n == 0)
		return;
	fr->sr = sr;
	fr->v0 = dd ? -sr->p[0].dd_pct : ig_fixed_to_double(sr->p[0].v);
	fr->v1 = fr->v0;
	for (uint32_t i = 0; i < sr->n; i++) {
		double v = dd ? -sr->p[i].dd_pct : ig_fixed_to_double(sr->p[i].v);
		if (v < fr->v0)
			fr->v0 = v;
		if (v > fr->v1)
			fr->v1 = v;
	}
	if (dd)
		fr->v1 = 0;
}

static void curve(FILE *f, const char *cls, const char *title, const struct ig__report_series *sr,
		  bool dd, struct frame *out)
{
	struct frame fr;

	frame_of(sr, &fr, dd);
	if (out != NULL)
		*out = fr;
	fprintf(f, "<figure><figcaption>%s</figcaption>\n", title);
	fprintf(f, "<svg class=\"%s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
		   "role=\"img\">\n",
		cls, W, H, W, H);
	if (sr->n > 0) {
		axis(f, &fr, dd ? "%" : "");
		fprintf(f, "<polyline class=\"%s\" points=\"", dd ? "dd" : "ln");
		if (dd)
			fprintf(f, "%.1f,%.1f ", fx(&fr, sr->p[0].ts_ns), fy(&fr, 0));
		for (uint32_t i = 0; i < sr->n; i++) {
			double v = dd ? -sr->p[i].dd_pct : ig_fixed_to_double(sr->p[i].v);
			fprintf(f, "%.1f,%.1f ", fx(&fr, sr->p[i].ts_ns), fy(&fr, v));
		}
		if (dd)
			fprintf(f, "%.1f,%.1f", fx(&fr, sr->p[sr->n - 1].ts_ns), fy(&fr, 0));
		fputs("\"/>\n", f);
	} else {
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" class=\"lbl\">no data</text>\n", W / 2, H / 2);
	}
	fputs("</svg></figure>\n", f);
}

static void price_chart(FILE *f, const struct ig_report *r, uint32_t s)
{
	const char *sym;
	const struct ig__report_series *sr = ig__report_price_series(r, s, &sym);
	const struct ig__report_marker *mk;
	struct frame fr;
	uint32_t n;

	fputs("<figure><figcaption>Price ", f);
	esc_str(f, sym);
	fputs(" with entries (&#9650; long, &#9660; short) and exits (&#9679;)</figcaption>\n", f);
	fprintf(f, "<svg class=\"price\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
		   "role=\"img\">\n",
		W, H, W, H);
	frame_of(sr, &fr, false);
	if (sr->n > 0) {
		axis(f, &fr, "");
		fputs("<polyline class=\"px\" points=\"", f);
		for (uint32_t i = 0; i < sr->n; i++)
			fprintf(f, "%.1f,%.1f ", fx(&fr, sr->p[i].ts_ns),
				fy(&fr, ig_fixed_to_double(sr->p[i].v)));
		fputs("\"/>\n", f);
		mk = ig__report_markers(r, s, &n);
		for (uint32_t i = 0; i < n; i++) {
			double x = fx(&fr, mk[i].ts_ns), y = fy(&fr, ig_fixed_to_double(mk[i].px));
			if (mk[i].kind == 0)
				fprintf(f, "<path class=\"mk-long\" d=\"M%.1f %.1fl-4 7h8z\"/>", x, y);
			else if (mk[i].kind == 1)
				fprintf(f, "<path class=\"mk-short\" d=\"M%.1f %.1fl-4 -7h8z\"/>", x, y);
			else
				fprintf(f, "<circle class=\"mk-exit\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>", x, y);
		}
		fputc('\n', f);
	}
	fputs("</svg></figure>\n", f);
}

static void months_table(FILE *f, const struct ig_report *r, uint32_t s)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	uint32_t n;
	const struct ig__report_month *m = ig__report_months(r, s, &n);

	fputs("<h3>Monthly returns (%)</h3>\n<table class=\"months\"><tr><th>year</th>", f);
	for (int i = 0; i < 12; i++)
		fprintf(f, "<th>%s</th>", mon[i]);
	fputs("<th>year</th></tr>\n", f);
	for (uint32_t i = 0; i < n;) {
		int32_t y = m[i].ym / 12;
		double yr = 1.0;
		fprintf(f, "<tr><th>%d</th>", (int)y);
		for (int32_t mo = 0; mo < 12; mo++) {
			if (i < n && m[i].ym == y * 12 + mo) {
				double v = m[i].ret * 100.0;
				double a = fabs(v) / 5.0;
				if (a > 1)
					a = 1;
				a = 0.15 + 0.85 * a;
				fprintf(f, "<td style=\"background:rgba(%s,%.2f)\">%.2f</td>",
					v >= 0 ? "0,150,60" : "200,30,30", a, v);
				yr *= 1.0 + m[i].ret;
				i++;
			} else {
				fputs("<td></td>", f);
			}
		}
		fprintf(f, "<td>%.2f</td></tr>\n", (yr - 1.0) * 100.0);
	}
	fputs("</table>\n", f);
}

static void stats_table(FILE *f, const struct ig_report_stats *st)
{
	char v[64];
	fputs("<table class=\"stats\"><tr><th>statistic</th><th>value</th></tr>\n", f);
	for (int id = 0; id < IG_RS__COUNT; id++) {
		ig_report_stat_format(st, (enum ig_report_stat)id, v, sizeof(v));
		fprintf(f, "<tr><td>%s</td><td>%s</td></tr>\n", ig_report_stat_name((enum ig_report_stat)id),
			v[0] != '\0' ? v : "&#8212;");
	}
	fputs("</table>\n", f);
}

int ig_report_write_html(const struct ig_report *r, const struct ig_report_stats *st,
			 const char *config_text, const char *path)
{
	FILE *f = fopen(path, "w");
	int bad;

	if (f == NULL)
		return IG_EIO;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>Ingenium backtest report</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	      "h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:1px solid #ccc}\n"
	      "figure{margin:0.5em 0}figcaption{font-size:0.9em;color:#555}\n"
	      "svg{background:#fafafa;border:1px solid #ddd;max-width:100%;height:auto}\n"
	      ".ln{fill:none;stroke:#1f5fbf;stroke-width:1.3}.px{fill:none;stroke:#444;stroke-width:1}\n"
	      ".dd{fill:rgba(200,30,30,0.35);stroke:#c81e1e;stroke-width:1}\n"
	      ".ax{stroke:#999}.lbl{font-size:11px;fill:#555}\n"
	      ".mk-long{fill:#0a9640}.mk-short{fill:#c81e1e}.mk-exit{fill:#222}\n"
	      "table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}\n"
	      "td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}\n"
	      "table.stats td:first-child{text-align:left}\n"
	      "pre{background:#f4f4f4;padding:0.8em;overflow:auto;font-size:0.85em}\n"
	      ".grid{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\n"
	      "</style></head><body>\n<h1>Ingenium backtest report</h1>\n",
	      f);
	for (uint32_t s = 0; s < ig__report_nstrategies(r); s++) {
		fputs("<section class=\"strategy\"><h2>", f);
		esc_str(f, ig__report_name(r, s));
		fputs("</h2>\n<div class=\"grid\"><div>\n", f);
		curve(f, "equity", "Equity", ig__report_equity_series(r, s), false, NULL);
		curve(f, "drawdown", "Drawdown (%)", ig__report_equity_series(r, s), true, NULL);
		price_chart(f, r, s);
		months_table(f, r, s);
		fputs("</div><div>\n", f);
		stats_table(f, &st[s]);
		fputs("</div></div></section>\n", f);
	}
	if (config_text != NULL) {
		fputs("<h2>Config</h2>\n<pre class=\"config\">", f);
		config_block(f, config_text);
		fputs("</pre>\n", f);
	}
	fputs("</body></html>\n", f);
	bad = ferror(f);
	if (fclose(f) != 0)
		bad = 1;
	return bad ? IG_EIO : 0;
}

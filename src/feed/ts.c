/* ts.c - CSV timestamps: ISO 8601, Unix seconds/ms/us/ns, strftime-style
 * patterns (feed.ts_format). All times are UTC Unix nanoseconds. */
#include "feed/feed.h"

#include "ingenium/error.h"

#include <string.h>
#include <strings.h>

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

static int days_in_month(int64_t y, int64_t m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Exactly len digits at s. Returns 0 or IG_ESYNTAX. */
static int digits(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return IG_ESYNTAX;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Fraction digits at s[*i..len) (after the point) into ns; digits past
 * the 9th are checked and dropped. Returns 0 or IG_ESYNTAX (no digit). */
static int fraction(const char *s, size_t len, size_t *i, int64_t *ns)
{
	int64_t scale = 100000000;
	size_t first = *i;

	*ns = 0;
	for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		*ns += (s[*i] - '0') * scale;
		scale /= 10;
	}
	return *i == first ? IG_ESYNTAX : 0;
}

/* A UTC offset at s[*i..len): Z, +HH, +HHMM, +HH:MM (or -). Returns 0 with
 * *off_s (seconds east of UTC) or IG_ESYNTAX. */
static int utc_offset(const char *s, size_t len, size_t *i, int64_t *off_s)
{
	int64_t h, m = 0, sign;

	*off_s = 0;
	if (*i < len && s[*i] == 'Z') {
		(*i)++;
		return 0;
	}
	if (*i >= len || (s[*i] != '+' && s[*i] != '-'))
		return IG_ESYNTAX;
	sign = s[*i] == '-' ? -1 : 1;
	(*i)++;
	if (*i + 2 > len || digits(s + *i, 2, &h) != 0)
		return IG_ESYNTAX;
	*i += 2;
	if (*i < len && s[*i] == ':')
		(*i)++;
	if (*i + 2 <= len && s[*i] >= '0' && s[*i] <= '9') {
		if (digits(s + *i, 2, &m) != 0)
			return IG_ESYNTAX;
		*i += 2;
	}
	if (h > 23 || m > 59)
		return IG_ESYNTAX;
	*off_s = sign * (h * 3600 + m * 60);
	return 0;
}

/* Civil UTC fields to Unix ns. Returns 0, IG_ESYNTAX (a field out of its
 * range) or IG_ERANGE. */
static int civil_ns(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t sec,
		    int64_t frac_ns, int64_t off_s, int64_t *out)
{
	int64_t v;

	if (y < 0 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return IG_ESYNTAX;
	v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_s;
	if (__builtin_mul_overflow(v, 1000000000, &v) || __builtin_add_overflow(v, frac_ns, &v))
		return IG_ERANGE;
	*out = v;
	return 0;
}

int ig_feed_parse_iso8601(const char *s, size_t len, int64_t *out_ns)
{
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, off = 0;
	size_t i = 10;

	if (len < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d))
		return IG_ESYNTAX;
	if (i < len && (s[i] == 'T' || s[i] == ' ')) {
		i++;
		if (i + 5 > len || digits(s + i, 2, &h) || s[i + 2] != ':' ||
		    digits(s + i + 3, 2, &mi))
			return IG_ESYNTAX;
		i += 5;
		if (i < len && s[i] == ':') {
			if (i + 3 > len || digits(s + i + 1, 2, &sec))
				return IG_ESYNTAX;
			i += 3;
			if (i < len && (s[i] == '.' || s[i] == ',')) {
				i++;
				if (fraction(s, len, &i, &frac) != 0)
					return IG_ESYNTAX;
			}
		}
		if (i < len && utc_offset(s, len, &i, &off) != 0)
			return IG_ESYNTAX;
	}
	if (i != len)
		return IG_ESYNTAX;
	return civil_ns(y, mo, d, h, mi, sec, frac, off, out_ns);
}

/* Unix time in units of mul ns, with an optional fraction. Returns 0,
 * IG_ESYNTAX or IG_ERANGE. */
static int parse_unix(const char *s, size_t len, int64_t mul, int64_t *out_ns)
{
	int64_t v = 0, frac = 0;
	size_t i = 0;

	if (len == 0)
		return IG_ESYNTAX;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return IG_ERANGE;
	if (i == 0)
		return IG_ESYNTAX;
	if (i < len && s[i] == '.') {
		int64_t scale = mul / 10;
		size_t first = ++i;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			frac += (s[i] - '0') * scale;
			scale /= 10;
		}
		if (i == first)
			return IG_ESYNTAX;
	}
	if (i != len)
		return IG_ESYNTAX;
	if (__builtin_mul_overflow(v, mul, &v) || __builtin_add_overflow(v, frac, &v))
		return IG_ERANGE;
	*out_ns = v;
	return 0;
}

/* The unit of a Unix time by its integer part's magnitude: < 1e11
 * seconds, < 1e14 ms, < 1e17 us, else ns. */
static int64_t unix_unit(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && s[n] >= '0' && s[n] <= '9')
		n++;
	return n <= 11 ? 1000000000 : n <= 14 ? 1000000 : n <= 17 ? 1000 : 1;
}

int ig_feed_parse_ts(const char *s, size_t len, int64_t *out_ns)
{
	if (len >= 10 && s[4] == '-' && s[7] == '-')
		return ig_feed_parse_iso8601(s, len, out_ns);
	return parse_unix(s, len, unix_unit(s, len), out_ns);
}

static const char *const month_names[12] = { "january", "february", "march",     "april",
					       "may",     "june",     "july",      "august",
					       "september", "october", "november", "december" };

/* 1..maxd digits at s[*i..len). Returns 0 or IG_ESYNTAX. */
static int num(const char *s, size_t len, size_t *i, size_t maxd, int64_t *out)
{
	size_t first = *i;
	int64_t v = 0;
	for (; *i < len && *i - first < maxd && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
		v = v * 10 + (s[*i] - '0');
	if (*i == first)
		return IG_ESYNTAX;
	*out = v;
	return 0;
}

/* Parses s by the strftime-style pattern fmt (feed.ts_format), UTC.
 * Returns 0, IG_ESYNTAX or IG_ERANGE. */
static int parse_pattern(const char *fmt, const char *s, size_t len, int64_t *out_ns)
{
	int64_t y = 1970, mo = 1, d = 1, h = 0, mi = 0, sec = 0, frac = 0, off = 0, epoch = -1;
	size_t i = 0;

	for (const char *f = fmt; *f != '\0'; f++) {
		if (*f == ' ') {
			while (i < len && s[i] == ' ')
				i++;
			continue;
		}
		if (*f != '%') {
			if (i >= len || s[i] != *f)
				return IG_ESYNTAX;
			i++;
			continue;
		}
		int rc = 0;
		switch (*++f) {
		case 'Y': rc = num(s, len, &i, 4, &y); break;
		case 'y':
			rc = num(s, len, &i, 2, &y);
			y += y < 69 ? 2000 : 1900;
			break;
		case 'm': rc = num(s, len, &i, 2, &mo); break;
		case 'e':
			if (i < len && s[i] == ' ')
				i++;
			rc = num(s, len, &i, 2, &d);
			break;
		case 'd': rc = num(s, len, &i, 2, &d); break;
		case 'H': rc = num(s, len, &i, 2, &h); break;
		case 'M': rc = num(s, len, &i, 2, &mi); break;
		case 'S': rc = num(s, len, &i, 2, &sec); break;
		case 'f': rc = fraction(s, len, &i, &frac); break;
		case 'z': rc = utc_offset(s, len, &i, &off); break;
		case 's': rc = num(s, len, &i, 12, &epoch); break;
		case 'b':
		case 'h':
		case 'B': {
			int k;
			rc = IG_ESYNTAX;
			for (k = 0; k < 12; k++) {
				size_t full = strlen(month_names[k]);
				if (*f == 'B' && i + full <= len &&
				    strncasecmp(s + i, month_names[k], full) == 0) {
					i += full;
					break;
				}
				if (*f != 'B' && i + 3 <= len && strncasecmp(s + i, month_names[k], 3) == 0) {
					i += 3;
					break;
				}
			}
			if (k < 12) {
				mo = k + 1;
				rc = 0;
			}
			break;
		}
		case 'T':
			if (num(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
			    num(s, len, &i, 2, &mi) || i >= len || s[i++] != ':' ||
			    num(s, len, &i, 2, &sec))
				rc = IG_ESYNTAX;
			break;
		case 'F':
			if (num(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
			    num(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
			    num(s, len, &i, 2, &d))
				rc = IG_ESYNTAX;
			break;
		case '%':
			if (i >= len || s[i] != '%')
				rc = IG_ESYNTAX;
			else
				i++;
			break;
		default:
			return IG_ESYNTAX; /* ig_feed_ts_format_problem refuses it at load */
		}
		if (rc != 0)
			return rc;
	}
	if (i != len)
		return IG_ESYNTAX;
	if (epoch >= 0) {
		int64_t v;
		if (__builtin_mul_overflow(epoch, 1000000000, &v) || __builtin_add_overflow(v, frac, &v))
			return IG_ERANGE;
		*out_ns = v;
		return 0;
	}
	return civil_ns(y, mo, d, h, mi, sec, frac, off, out_ns);
}

static const char *const unit_names[] = { "unix_s", "unix_ms", "unix_us", "unix_ns", "iso8601" };

const char *ig_feed_ts_format_problem(const char *fmt)
{
	if (fmt[0] == '\0')
		return NULL;
	for (size_t k = 0; k < sizeof(unit_names) / sizeof(unit_names[0]); k++)
		if (strcmp(fmt, unit_names[k]) == 0)
			return NULL;
	if (strchr(fmt, '%') == NULL)
		return "unknown timestamp format (expected unix_s|unix_ms|unix_us|unix_ns|iso8601 "
		       "or a strftime pattern such as \"%d/%m/%Y %H:%M\")";
	for (const char *f = fmt; *f != '\0'; f++) {
		if (*f != '%')
			continue;
		f++;
		if (*f == '\0' || strchr("YymdeHMSfzsbhBTF%", *f) == NULL)
			return "unsupported directive in the pattern (supported: %Y %y %m %d %e "
			       "%H %M %S %f %z %s %b %B %T %F %%)";
	}
	return NULL;
}

int ig_feed_parse_ts_fmt(const char *fmt, const char *s, size_t len, int64_t *out_ns)
{
	static const int64_t mul[] = { 1000000000, 1000000, 1000, 1 };

	if (fmt == NULL || fmt[0] == '\0')
		return ig_feed_parse_ts(s, len, out_ns);
	for (size_t k = 0; k < 4; k++)
		if (strcmp(fmt, unit_names[k]) == 0)
			return parse_unix(s, len, mul[k], out_ns);
	if (strcmp(fmt, "iso8601") == 0)
		return ig_feed_parse_iso8601(s, len, out_ns);
	return parse_pattern(fmt, s, len, out_ns);
}

/*
 * fuzz_csv.c - the CSV feed (src/feed/csv.c): header detection and row
 * parsing of arbitrary bytes as a market-data file, with feed.strict off
 * and on, then a replay of every loaded event through ig_feed_next(); and
 * ig_feed_parse_ts() on the first line. Every event that loads must pass
 * the row checks: prices > 0, sizes >= 0, bid <= ask, low <= open/close <=
 * high, time never going backwards.
 */
#include "feed/feed.h"
#include "ingenium/error.h"

#include "fuzz_util.h"

static struct ig_config cfg; /* large: static */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init("csv");
	return 0;
}

static void check_event(const struct ig_event *ev, int64_t prev_ts)
{
	CHECK(ev->hdr.ts_event_ns >= prev_ts);
	switch (ev->hdr.type) {
	case IG_EV_QUOTE: {
		const struct ig_quote *q = &ev->body.quote;
		CHECK(q->bid_px > 0 && q->ask_px > 0 && q->bid_px <= q->ask_px);
		CHECK(q->bid_qty >= 0 && q->ask_qty >= 0);
		break;
	}
	case IG_EV_TRADE:
		CHECK(ev->body.trade.px > 0 && ev->body.trade.qty >= 0);
		break;
	case IG_EV_BAR: {
		const struct ig_bar *b = &ev->body.bar;
		CHECK(b->low_px > 0 && b->low_px <= b->high_px);
		CHECK(b->open_px >= b->low_px && b->open_px <= b->high_px);
		CHECK(b->close_px >= b->low_px && b->close_px <= b->high_px);
		CHECK(b->volume >= 0 && b->period_ns > 0);
		break;
	}
	default:
		CHECK(ev->hdr.type == IG_EV_QUOTE); /* an unexpected event type */
	}
}

static void run(const char *path, bool strict)
{
	static struct ig_feed feed;
	char err[IG_CFG_ERR_MAX];
	struct ig_event ev;
	int64_t due, prev = INT64_MIN;
	int rc;

	ig_config_defaults(&cfg);
	cfg.feed.source = IG_FEED_CSV;
	cfg.feed.strict = strict;
	snprintf(cfg.feed.path, sizeof(cfg.feed.path), "%s", path);
	memset(&feed, 0, sizeof(feed));
	if (ig_feed_open(&feed, &cfg, 0, NULL, NULL, err, sizeof(err)) != 0) {
		CHECK(err[0] != '\0');
		return;
	}
	CHECK(ig_feed_size(&feed) + feed.bad_rows == feed.rows);
	CHECK(!strict || feed.bad_rows == 0);
	while ((rc = ig_feed_next(&feed, 0, &ev, &due)) == 1) {
		check_event(&ev, prev);
		prev = ev.hdr.ts_event_ns;
	}
	CHECK(rc == IG_EEOF);
	ig_feed_close(&feed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[600];
	const uint8_t *nl = memchr(data, '\n', size);
	int64_t ts;

	(void)ig_feed_parse_ts((const char *)data, nl != NULL ? (size_t)(nl - data) : size, &ts);
	fz_write("feed.csv", data, size, path, sizeof(path));
	run(path, false);
	run(path, true);
	unlink(path);
	return 0;
}

#!/usr/bin/env python3
"""Expected statistics for test_report_stats.c, computed independently of
the C code from the formulas in docs/backtesting.md ("Reports") (plain Python,
no numpy). Run it and copy the printed values into the test:

    python3 test/report/gen_stats_expected.py

Each case lists its equity samples (hours from the start, equity), the
prices of the strategy's first symbol, and its closed round trips
(direction, entry VWAP, exit VWAP, quantity, fees, pnl) and, per sample,
whether a round trip covered that bar.
"""
import math

ANNUAL_DAYS = 365
RF = 0.0  # report.risk_free_pct / 100


def day_of(hours):
    return int(hours // 24)


def stats(samples, prices, trips, exposed):
    eq = [e for _, e in samples]
    out = {}
    out["return_pct"] = (eq[-1] - eq[0]) / eq[0] * 100

    # drawdown and its episodes
    peak, dd = -math.inf, []
    for e in eq:
        peak = max(peak, e)
        dd.append(1 - e / peak)
    out["max_drawdown_pct"] = -max(dd) * 100 if max(dd) > 0 else 0.0
    ends = sorted(set([i for i, d in enumerate(dd) if d == 0] + [len(dd) - 1]))
    episodes = []
    for prev, cur in zip(ends, ends[1:]):
        if cur > prev + 1:
            episodes.append((max(dd[prev:cur + 1]), samples[cur][0] - samples[prev][0]))
    if episodes:
        out["avg_drawdown_pct"] = -sum(p for p, _ in episodes) / len(episodes) * 100
        out["max_drawdown_duration_s"] = max(h for _, h in episodes) * 3600
    else:
        out["avg_drawdown_pct"] = None
        out["max_drawdown_duration_s"] = None

    # day returns: the last sample of each UTC day with samples
    last = {}
    for h, e in samples:
        last[day_of(h)] = e
    closes = [last[d] for d in sorted(last)]
    r = [b / a - 1 for a, b in zip(closes, closes[1:])]
    # geometric mean over the days with samples: the first day, which has
    # no return, counts as 0
    g1 = [1.0] + [1 + x for x in r]
    g = 0.0 if any(x <= 0 for x in g1) else math.prod(g1) ** (1 / len(g1)) - 1
    A = (1 + g) ** ANNUAL_DAYS - 1
    out["return_ann_pct"] = A * 100
    if len(r) >= 2:
        m = sum(r) / len(r)
        var = sum((x - m) ** 2 for x in r) / (len(r) - 1)
        vol = math.sqrt((var + (1 + g) ** 2) ** ANNUAL_DAYS - (1 + g) ** (2 * ANNUAL_DAYS))
        out["volatility_ann_pct"] = vol * 100
    else:
        vol = None
        out["volatility_ann_pct"] = None
    out["sharpe"] = (A * 100 - RF * 100) / (vol * 100) if vol else None
    down = [min(x, 0) ** 2 for x in r]
    out["sortino"] = ((A - RF) / (math.sqrt(sum(down) / len(r)) * math.sqrt(ANNUAL_DAYS))
                      if r and sum(down) > 0 else None)
    out["calmar"] = A / max(dd) if max(dd) > 0 else None
    years = (samples[-1][0] - samples[0][0]) / 24 / ANNUAL_DAYS
    out["cagr_pct"] = ((eq[-1] / eq[0]) ** (1 / years) - 1) * 100 if years > 0 else None
    out["buy_hold_return_pct"] = (prices[-1] - prices[0]) / prices[0] * 100

    # round trips
    if trips:
        ret = [d * (x / e - 1) - f / (q * e) for d, e, x, q, f, _ in trips]
        pnl = [p for *_, p in trips]
        n = len(trips)
        out["trade_return_pct"] = [x * 100 for x in ret]
        out["win_rate_pct"] = sum(p > 0 for p in pnl) / n * 100
        out["best_trade_pct"] = max(ret) * 100
        out["worst_trade_pct"] = min(ret) * 100
        out["avg_trade_pct"] = (0.0 if any(1 + x <= 0 for x in ret)
                                else math.exp(sum(math.log(1 + x) for x in ret) / n) - 1) * 100
        neg = sum(x for x in ret if x < 0)
        out["profit_factor"] = sum(x for x in ret if x > 0) / abs(neg) if neg < 0 else None
        out["expectancy"] = sum(pnl) / n
        out["expectancy_pct"] = sum(ret) / n * 100
        mp = sum(pnl) / n
        sd = math.sqrt(sum((p - mp) ** 2 for p in pnl) / (n - 1)) if n > 1 else 0
        out["sqn"] = math.sqrt(n) * mp / sd if sd > 0 else None
    out["exposure_pct"] = sum(exposed) / len(exposed) * 100
    return out


# Case 1 (test_hand_computed): 12-hourly bars from 2024-01-01T00:00Z, day 3
# without data, a drawdown that recovers twice and then one still open at
# the end (a one-sample drawdown after a peak, then recovery: no episode).
CASE1_SAMPLES = [(0, 1000), (12, 1000), (24, 1040), (36, 1010), (48, 980), (60, 1060),
                 (96, 1050), (108, 1030), (120, 1045), (132, 1075), (144, 1020), (156, 990)]
CASE1_PRICES = [100, 102, 104, 101, 98, 106, 106, 103, 104, 107, 102, 105]
CASE1_TRIPS = [
    # dir, entry VWAP, exit VWAP, qty, fees, pnl
    (+1, 102, (101 + 98) / 2, 2, 1.0, -6.0),    # buy 2 @102 (fee .5); sell 1 @101, 1 @98 (.25 each)
    (+1, 106, 107, 1, 0.0, 1.0),                # in and out within one bar
    (-1, 103, 104, 2, 0.0, -2.0),               # short 2 @103, closed by the flip's buy
    (+1, 104, 107, 1, 0.1, 2.9),                # the flip's rest: long 1 @104, sell @107 fee .1
]
CASE1_EXPOSED = [0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]  # a trip still open from bar 10

# Case 2 (test_drawdown_unrecovered): one drawdown from bar 1 to the end.
CASE2_SAMPLES = [(0, 1000), (24, 1100), (48, 1050), (72, 990), (96, 1020)]
CASE2_PRICES = [100, 100, 100, 100, 100]

# Case 3: a drawdown only at the last sample, right after a peak: no episode.
CASE3_SAMPLES = [(0, 1000), (24, 1000), (48, 900)]

if __name__ == "__main__":
    for name, s in (("case1", stats(CASE1_SAMPLES, CASE1_PRICES, CASE1_TRIPS, CASE1_EXPOSED)),
                    ("case2", stats(CASE2_SAMPLES, CASE2_PRICES, [], [0] * 5)),
                    ("case3", stats(CASE3_SAMPLES, [100, 100, 100], [], [0] * 3))):
        print(name)
        for k, v in s.items():
            if isinstance(v, list):
                print("  %-24s %s" % (k, ", ".join("%.9f" % x for x in v)))
            elif isinstance(v, float):
                print("  %-24s %.9f" % (k, v))
            else:
                print("  %-24s %s" % (k, v))

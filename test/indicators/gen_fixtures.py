#!/usr/bin/env python3
"""Expected values for test/indicators/test_indicators.c.

Method: every value is recomputed from the textbook definition at each step,
from the whole window (or the whole history) - never with the incremental
algorithm of src/indicators/indicators.c:

  - exact indicators with Fraction, then rounded once to 1e-8 halves away
    from zero: SMA = sum / n; WMA = sum(i * x_i, i = 1 (oldest) .. n) /
    (n (n + 1) / 2); rolling VWAP = sum(px * qty) / sum(qty) over the last
    n rows; Donchian high/low = max/min of the window (mid = (hi + lo) / 2);
  - recursive averages (EMA, Wilder's RSI and ATR, MACD's three EMAs) by
    their closed form at each step t, with seed S = mean of the first n
    inputs and weight a (2 / (n + 1) for an EMA, 1 / n for Wilder):
        E_t = (1 - a)^(t - n + 1) S + sum_{j = n .. t} a (1 - a)^(t - j) x_j
    in 60-digit Decimal arithmetic (error far below the test's 1e-9);
    RSI = 100 - 100 / (1 + avg_gain / avg_loss), 100 when avg_loss == 0;
    TR = max(h - l, |h - c_prev|, |l - c_prev|), h - l on the first bar;
    MACD line = EMA12 - EMA26 (both seeded from the first price), signal =
    EMA9 of the line seeded with the mean of its first 9 values;
  - Bollinger: mean and population variance of the window by two passes in
    Fraction, sigma by a 60-digit Decimal sqrt, bands at mean +/- 2 sigma;
  - stochastic: %K = 100 (c - LL) / (HH - LL) over the last n bars (50 when
    HH == LL) in Fraction, %D = mean of the last d %K values.

Inputs: the first ROWS rows of data/coinbase_btcusd_minute_bars.csv (high,
low, close, volume) and of data/bitstamp_btcusd_trades_2011.csv (price,
amount), each cell rounded to 1e-8 halves away from zero as the engine's
CSV feed does. Outputs (one row per input row; an empty cell = not ready):
test/indicators/fixtures/bars.csv and trades.csv, the inputs in 1e-8 units
first, exact values as integers in 1e-8, doubles in whole units as Python's
repr (round-trips exactly).

Run from the repository root:  python3 test/indicators/gen_fixtures.py
Plain Python 3 standard library; `make test` only reads its output.
"""
import csv
import decimal
import os
from decimal import Decimal, ROUND_HALF_UP
from fractions import Fraction

ROWS = 1000
SCALE = 10**8
decimal.getcontext().prec = 60

# Periods (the C test uses the same).
SMA_N = WMA_N = EMA_N = BOLL_N = DON_N = VWAP_BAR_N = 20
BOLL_K = 2
RSI_N = ATR_N = STOCH_N = 14
STOCH_D = 3
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
TRADE_N = 50


def fixed(cell):
    """A CSV cell to int 1e-8, rounded halves away from zero."""
    q = Decimal(cell).quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP)
    return int(q * SCALE)


def round_half_away(fr):
    """Fraction -> nearest int, halves away from zero."""
    mag = abs(fr)
    q, r = divmod(mag.numerator, mag.denominator)
    if 2 * r >= mag.denominator:
        q += 1
    return -q if fr < 0 else q


def units(x):
    """An exact value in 1e-8 units (int or Fraction) as Decimal whole units."""
    fr = Fraction(x) / SCALE
    return Decimal(fr.numerator) / Decimal(fr.denominator)


def closed_form_avg(xs, n, a):
    """Seeded exponential average of xs (Decimals), recomputed from its
    closed form at each t; None before t = n - 1."""
    out = [None] * len(xs)
    if len(xs) < n:
        return out
    seed = sum(xs[:n]) / n
    keep = 1 - a
    powers = [Decimal(1)]
    for _ in range(len(xs)):
        powers.append(powers[-1] * keep)
    for t in range(n - 1, len(xs)):
        v = powers[t - n + 1] * seed
        for j in range(n, t + 1):
            v += a * powers[t - j] * xs[j]
        out[t] = v
    return out


def window(xs, t, n):
    return xs[t - n + 1:t + 1] if t >= n - 1 else None


def fmt_exact(v):
    return "" if v is None else str(v)


def fmt_double(v):
    return "" if v is None else repr(float(v))


def read_rows(path, cols):
    with open(path, newline="") as f:
        r = csv.DictReader(f)
        rows = []
        for row in r:
            rows.append([fixed(row[c]) for c in cols])
            if len(rows) == ROWS:
                break
    return rows


def bars(root):
    rows = read_rows(os.path.join(root, "data/coinbase_btcusd_minute_bars.csv"),
                     ["high", "low", "close", "volume"])
    hi = [r[0] for r in rows]
    lo = [r[1] for r in rows]
    cl = [r[2] for r in rows]
    vol = [r[3] for r in rows]
    for h, l, c in zip(hi, lo, cl):
        assert l <= c <= h
    N = len(rows)
    cl_d = [units(c) for c in cl]

    ema = closed_form_avg(cl_d, EMA_N, Decimal(2) / (EMA_N + 1))

    gains = [max(units(cl[i] - cl[i - 1]), Decimal(0)) for i in range(1, N)]
    losses = [max(units(cl[i - 1] - cl[i]), Decimal(0)) for i in range(1, N)]
    ag = closed_form_avg(gains, RSI_N, Decimal(1) / RSI_N)
    al = closed_form_avg(losses, RSI_N, Decimal(1) / RSI_N)
    rsi = [None] * N
    for t in range(1, N):
        g, l = ag[t - 1], al[t - 1]
        if g is None:
            continue
        rsi[t] = Decimal(100) if l == 0 else 100 - 100 / (1 + g / l)

    fast = closed_form_avg(cl_d, MACD_FAST, Decimal(2) / (MACD_FAST + 1))
    slow = closed_form_avg(cl_d, MACD_SLOW, Decimal(2) / (MACD_SLOW + 1))
    line = [None if s is None else f - s for f, s in zip(fast, slow)]
    first = MACD_SLOW - 1
    sig_tail = closed_form_avg(line[first:], MACD_SIGNAL, Decimal(2) / (MACD_SIGNAL + 1))
    signal = [None] * first + sig_tail

    tr = []
    for t in range(N):
        r = hi[t] - lo[t]
        if t > 0:
            r = max(r, abs(hi[t] - cl[t - 1]), abs(lo[t] - cl[t - 1]))
        tr.append(units(r))
    atr = closed_form_avg(tr, ATR_N, Decimal(1) / ATR_N)

    kvals = [None] * N
    for t in range(STOCH_N - 1, N):
        hh = max(window(hi, t, STOCH_N))
        ll = min(window(lo, t, STOCH_N))
        kvals[t] = Fraction(50) if hh == ll else Fraction(100 * (cl[t] - ll), hh - ll)

    header = ["high", "low", "close", "volume", "sma20", "wma20", "vwap20",
              "don_hi20", "don_lo20", "don_mid20", "ema20", "rsi14",
              "macd_line", "macd_signal", "macd_hist", "boll_mid", "boll_up",
              "boll_lo", "boll_sd", "atr14", "stoch_k", "stoch_d"]
    out = [header]
    for t in range(N):
        w = window(cl, t, SMA_N)
        sma = round_half_away(Fraction(sum(w), SMA_N)) if w else None
        wma = None
        if t >= WMA_N - 1:
            ww = window(cl, t, WMA_N)
            num = sum((i + 1) * x for i, x in enumerate(ww))
            wma = round_half_away(Fraction(num, WMA_N * (WMA_N + 1) // 2))
        vwap = None
        if t >= VWAP_BAR_N - 1:
            pw, qw = window(cl, t, VWAP_BAR_N), window(vol, t, VWAP_BAR_N)
            if sum(qw) > 0:
                vwap = round_half_away(Fraction(sum(p * q for p, q in zip(pw, qw)), sum(qw)))
        dh = dl = dm = None
        if t >= DON_N - 1:
            dh, dl = max(window(hi, t, DON_N)), min(window(lo, t, DON_N))
            dm = round_half_away(Fraction(dh + dl, 2))
        bm = bu = bl = bs = None
        if t >= BOLL_N - 1:
            bw = window(cl, t, BOLL_N)
            mean = Fraction(sum(bw), BOLL_N)
            var = sum((x - mean) ** 2 for x in bw) / BOLL_N
            sd = (Decimal(var.numerator) / Decimal(var.denominator)).sqrt()
            m = Decimal(mean.numerator) / Decimal(mean.denominator)
            bm, bs = m / SCALE, sd / SCALE
            bu, bl = bm + BOLL_K * bs, bm - BOLL_K * bs
        hist = None
        if signal[t] is not None:
            hist = line[t] - signal[t]
        sd_val = None
        if t >= STOCH_N + STOCH_D - 2:
            sd_val = sum(kvals[t - STOCH_D + 1:t + 1]) / STOCH_D
        out.append([hi[t], lo[t], cl[t], vol[t],
                    fmt_exact(sma), fmt_exact(wma), fmt_exact(vwap),
                    fmt_exact(dh), fmt_exact(dl), fmt_exact(dm),
                    fmt_double(ema[t]), fmt_double(rsi[t]),
                    fmt_double(line[t]), fmt_double(signal[t]), fmt_double(hist),
                    fmt_double(bm), fmt_double(bu), fmt_double(bl), fmt_double(bs),
                    fmt_double(atr[t]), fmt_double(kvals[t]), fmt_double(sd_val)])
    return out


def trades(root):
    rows = read_rows(os.path.join(root, "data/bitstamp_btcusd_trades_2011.csv"),
                     ["price", "amount"])
    px = [r[0] for r in rows]
    qty = [r[1] for r in rows]
    out = [["px", "qty", "vwap50", "sma50", "don_hi50", "don_lo50"]]
    for t in range(len(rows)):
        vwap = sma = dh = dl = None
        if t >= TRADE_N - 1:
            pw, qw = window(px, t, TRADE_N), window(qty, t, TRADE_N)
            if sum(qw) > 0:
                vwap = round_half_away(Fraction(sum(p * q for p, q in zip(pw, qw)), sum(qw)))
            sma = round_half_away(Fraction(sum(pw), TRADE_N))
            dh, dl = max(pw), min(pw)
        out.append([px[t], qty[t], fmt_exact(vwap), fmt_exact(sma), fmt_exact(dh), fmt_exact(dl)])
    return out


def write(path, table):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerows(table)


def main():
    root = os.getcwd()
    fx = os.path.join(root, "test/indicators/fixtures")
    write(os.path.join(fx, "bars.csv"), bars(root))
    write(os.path.join(fx, "trades.csv"), trades(root))


if __name__ == "__main__":
    main()

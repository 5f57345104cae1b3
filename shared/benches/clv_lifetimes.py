"""The bench's customers through lifetimes (BetaGeoFitter + GammaGammaFitter, the reference
Python library), timed in the same run as Relance; prints Markdown rows for BENCHMARKS.md.

Usage: clv_lifetimes.py <n>:<csv>:<relance fit s>:<relance scoring s> ...
A size whose fit takes longer than RELANCE_BENCH_PY_LIMIT seconds (default 1200) is
reported as not finished rather than waited for.
"""
import multiprocessing as mp
import os
import sys
import time

LIMIT = float(os.environ.get("RELANCE_BENCH_PY_LIMIT", "1200"))


def run(path, queue):
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    data = pd.read_csv(path)
    started = time.perf_counter()
    bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    repeat = data[data["frequency"] > 0]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    fitted = time.perf_counter() - started
    started = time.perf_counter()
    bgf.conditional_probability_alive(data["frequency"], data["recency"], data["T"])
    for days in (30, 90):
        bgf.conditional_expected_number_of_purchases_up_to_time(days, data["frequency"], data["recency"], data["T"])
    year = bgf.conditional_expected_number_of_purchases_up_to_time(365, data["frequency"], data["recency"], data["T"])
    value = year * ggf.conditional_expected_average_profit(data["frequency"], data["monetary_value"])
    scored = time.perf_counter() - started
    p = bgf.params_
    queue.put((fitted, scored, f"{p['r']:.3f}, {p['alpha']:.2f}, {p['a']:.3f}, {p['b']:.3f}", float(value.sum())))


print()
print("| customers | lifetimes fit s | ratio to Relance | lifetimes scoring s | ratio to Relance | lifetimes r, α, a, b |")
print("|---:|---:|---:|---:|---:|---|")
for arg in sys.argv[1:]:
    n, path, relance_fit, relance_scoring = arg.split(":")
    queue = mp.Queue()
    process = mp.Process(target=run, args=(path, queue))
    process.start()
    process.join(LIMIT)
    if process.is_alive():
        process.terminate()
        print(f"| {n} | not finished in {LIMIT:.0f} s | > {LIMIT / float(relance_fit):.0f} | | | |")
        continue
    if queue.empty():
        print(f"| {n} | failed (exit {process.exitcode}) | | | | |")
        continue
    fitted, scored, params, _ = queue.get()
    print(f"| {n} | {fitted:.2f} | {fitted / float(relance_fit):.1f} | {scored:.2f} | {scored / float(relance_scoring):.1f} | {params} |")

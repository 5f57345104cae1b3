"""The same 1 M customers scored by pandas, the usual way (`qcut` on ranks), timed in the
same run as Relance's scoring; prints the Markdown rows for BENCHMARKS.md.

Usage: segments_pandas.py <rfm.csv> <relance seconds>
"""
import sys
import time

import numpy as np
import pandas as pd

data = pd.read_csv(sys.argv[1])
relance_seconds = float(sys.argv[2])

started = time.perf_counter()
labels = [1, 2, 3, 4, 5]
# The common recipe: quintiles of ranks (ranks spread skewed values; `first` breaks ties).
r = pd.qcut((-data["recency"]).rank(method="first"), 5, labels=labels).astype(int)
f = pd.qcut(data["frequency"].rank(method="first"), 5, labels=labels).astype(int)
m = pd.qcut(data["monetary"].rank(method="first"), 5, labels=labels).astype(int)
pandas_seconds = time.perf_counter() - started

# Relance's rule, computed independently here: equal values share the score of the middle
# of their run of ranks.
n = len(data)
def by_definition(values, lower_is_better):
    ranks = (-values if lower_is_better else values).rank(method="average")  # 1-based middle
    return (np.floor(5 * (ranks - 0.5) / n) + 1).clip(1, 5).astype(int)

same = (
    (by_definition(data["recency"], True) == data["r"])
    & (by_definition(data["frequency"], False) == data["f"])
    & (by_definition(data["monetary"], False) == data["m"])
).mean()
agree_qcut = ((r == data["r"]) & (f == data["f"]) & (m == data["m"])).mean()
print()
print("| scorer (1,000,000 profiles) | seconds | ratio to Relance |")
print("|---|---:|---:|")
print(f"| Relance (Rust, `score`) | {relance_seconds:.2f} | 1.0 |")
print(f"| pandas {pd.__version__} `qcut` on ranks | {pandas_seconds:.2f} | {pandas_seconds / relance_seconds:.1f} |")
print()
print(f"Relance's scores equal the rule recomputed in pandas for {same:.2%} of profiles; "
      f"they equal `qcut(rank(method='first'))` for {agree_qcut:.2%} "
      "(qcut splits runs of equal values between scores by row order; Relance does not).")

from __future__ import annotations

import statistics


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
            f"mean {statistics.fmean(values):.1f} ms, n={len(values)}")

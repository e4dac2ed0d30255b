"""Charts drawn on the server as inline SVG (no script, no CDN): a daily time series with one
line per series, and bars as shares for the templates' CSS. Each chart also carries its data
as a table for screen readers and for people who would rather read the numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # the line's class: its colour and dash in reports.css
    values: dict[date, int]


def _nice_top(peak: int) -> int:
    """A round upper bound for the axis (1, 2, 5 × 10ⁿ), never below 4 (even when empty)."""
    for power in range(12):
        for factor in (1, 2, 5):
            top = factor * 10**power
            if top >= max(peak, 4):
                return top
    return peak


def time_series(first: date, last: date, series: list[Series]) -> dict[str, Any]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    peak = max((s.values.get(d, 0) for s in series for d in days), default=0)
    top = _nice_top(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(days) - 1)

    def x(i: int) -> float:
        return round(LEFT + (i * step if len(days) > 1 else plot_w / 2), 1)

    def y(value: int) -> float:
        return round(TOP + plot_h - plot_h * value / top, 1)

    lines = [{"label": s.label, "css": s.css,
              "points": " ".join(f"{x(i)},{y(s.values.get(d, 0))}" for i, d in enumerate(days)),
              "dots": [{"x": x(i), "y": y(s.values.get(d, 0))} for i, d in enumerate(days)]
              if len(days) <= 31 else []}
             for s in series]
    ticks = [{"y": y(v), "label": v} for v in (0, top // 2, top)]
    every = max(1, len(days) // 8)
    labels = [{"x": x(i), "label": d.strftime("%d/%m")} for i, d in enumerate(days)
              if i % every == 0]
    table = [{"day": d, "values": [s.values.get(d, 0) for s in series]} for d in days]
    return {"width": WIDTH, "height": HEIGHT, "lines": lines, "ticks": ticks,
            "labels": labels, "left": LEFT, "right": WIDTH - RIGHT, "bottom": TOP + plot_h,
            "table": table, "series": [s.label for s in series]}


def shares(rows: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Bars as percentages of the largest, with each row's share of the total."""
    top = max((n for _label, n in rows), default=0)
    total = sum(n for _label, n in rows)
    return [{"label": label, "count": n, "width": round(100 * n / top) if top else 0,
             "percent": round(100 * n / total) if total else 0} for label, n in rows]

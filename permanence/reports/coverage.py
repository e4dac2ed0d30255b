"""Need against plan, per half-hour: the forecast's agents needed on the phone (Erlang) beside
the secretaries planned on duty that day (planning.selectors.headcount_by_half_hour: the
shifts, their rule-placed breaks taken out), the gap (planned − needed) and an inline SVG
chart (no script, no CDN) with its data as a table.

A slot is understaffed when the gap is below 0 (red), overstaffed when a whole secretary or
more is spare (gap ≥ 1, muted), covered otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from permanence.planning.selectors import headcount_by_half_hour

from . import charts
from .staffing import Forecast

UNDER, OK, OVER = "under", "ok", "over"


@dataclass(frozen=True)
class Row:
    index: int
    label: str
    needed: int
    planned: float
    gap: float
    tone: str


def _label(slot: int) -> str:
    end = slot + 1
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}–{end // 2 % 24:02d}:{30 * (end % 2):02d}"


def tone(gap: float) -> str:
    if gap < 0:
        return UNDER
    return OVER if gap >= 1 else OK


def rows(needed: list[int], planned: list[float]) -> list[Row]:
    """The half-hours where someone is needed or planned."""
    out = []
    for slot, (need, plan) in enumerate(zip(needed, planned, strict=True)):
        if need or plan:
            gap = round(plan - need, 2)
            out.append(Row(slot, _label(slot), need, plan, gap, tone(gap)))
    return out


def chart(table: list[Row]) -> dict[str, Any] | None:
    """Two step lines over the half-hours shown (needed, planned), the understaffed
    half-hours shaded."""
    if not table:
        return None
    first, last = table[0].index, table[-1].index + 1
    width, height = charts.WIDTH, charts.HEIGHT
    left, right, top, bottom = charts.LEFT, charts.RIGHT, charts.TOP, charts.BOTTOM
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(r.needed, r.planned) for r in table)
    ceiling = max(4, int(peak) + 1)
    step = plot_w / (last - first)
    by_slot = {r.index: r for r in table}

    def x(slot: int) -> float:
        return round(left + (slot - first) * step, 1)

    def y(value: float) -> float:
        return round(top + plot_h - plot_h * value / ceiling, 1)

    def steps(value_of: Any) -> str:
        points = []
        for slot in range(first, last):
            row = by_slot.get(slot)
            v = value_of(row) if row else 0
            points += [f"{x(slot)},{y(v)}", f"{x(slot + 1)},{y(v)}"]
        return " ".join(points)

    every = max(1, (last - first) // 8)
    return {
        "width": width, "height": height, "left": left, "right": width - right,
        "bottom": top + plot_h,
        "ticks": [{"y": y(v), "label": v} for v in (0, ceiling // 2, ceiling)],
        "labels": [{"x": x(s), "label": f"{s // 2:02d}:{30 * (s % 2):02d}"}
                   for s in range(first, last + 1, every)],
        "needed": steps(lambda r: r.needed), "planned": steps(lambda r: r.planned),
        "gaps": [{"x": x(r.index), "width": round(step, 1)} for r in table if r.tone == UNDER],
        "top": top, "plot_h": plot_h,
    }


def coverage(forecast: Forecast, day: date) -> dict[str, Any]:
    needed = [0] * 48
    for slot in forecast.slots:
        if 0 <= slot.index < 48:
            needed[slot.index] = slot.agents
    table = rows(needed, headcount_by_half_hour(day))
    return {"day": day, "rows": table, "chart": chart(table),
            "under": sum(1 for r in table if r.tone == UNDER)}

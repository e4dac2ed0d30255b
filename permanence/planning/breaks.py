"""Breaks placed by rule on a shift (seed 001: « 7 jours sur 7 et 24 heures sur 24 … pauses
régulières »; 10 minutes of break per 2 hours worked, the rule the desk's break proposal
follows too).

The rule, a pure function of the shift's length:

- after each `PLANNING_BREAK_EVERY_MINUTES` (120) minutes worked — counted from the start of
  the shift, breaks excluded — comes a break of `PLANNING_BREAK_MINUTES` (10);
- a break is never placed within the first or the last `PLANNING_BREAK_EDGE_MINUTES` (30)
  minutes of the shift: when less than that would remain after it, the agent simply goes
  home (a 4-hour shift has one break, after 2 hours; a 2 h 20 one has none).

The three constants can be overridden in the settings (same names); the defaults are here.
Offsets are minutes from the shift's start, so a night shift crossing midnight needs nothing
special.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

BREAK_MINUTES = 10
BREAK_EVERY_MINUTES = 120
BREAK_EDGE_MINUTES = 30


@dataclass(frozen=True)
class Rule:
    every: int
    length: int
    edge: int


def rule() -> Rule:
    """The rule in force: the settings' values when set, else the defaults above."""
    return Rule(every=int(getattr(settings, "PLANNING_BREAK_EVERY_MINUTES", BREAK_EVERY_MINUTES)),
                length=int(getattr(settings, "PLANNING_BREAK_MINUTES", BREAK_MINUTES)),
                edge=int(getattr(settings, "PLANNING_BREAK_EDGE_MINUTES", BREAK_EDGE_MINUTES)))


def place_breaks(duration_minutes: int, rule_: Rule | None = None) -> list[tuple[int, int]]:
    """The breaks of a shift of `duration_minutes`, as (start, end) offsets in minutes from
    its start, in order."""
    r = rule_ or rule()
    if r.every <= 0 or r.length <= 0:
        return []
    breaks: list[tuple[int, int]] = []
    start = max(r.every, r.edge)  # never in the first `edge` minutes
    while start + r.length + r.edge <= duration_minutes:  # nor in the last ones
        breaks.append((start, start + r.length))
        start += r.length + r.every
    return breaks


def worked_minutes(duration_minutes: int, rule_: Rule | None = None) -> int:
    return duration_minutes - sum(end - start for start, end in place_breaks(duration_minutes,
                                                                              rule_))

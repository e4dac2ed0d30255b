"""Periods and proration, by the day. A period is [start, end): `end` is the first day of the
next period, so consecutive periods share no day and miss none. A change on day `d` splits a
period into [start, d) at the old price and [d, end) at the new one; each part costs
price × its days / the period's days, rounded to the cent (half up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from permanence.core.money import round_cents


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - relativedelta(days=1)

    def split(self, at: date) -> tuple[Period, Period]:
        """[start, at) and [at, end); `at` is clamped into the period."""
        at = min(max(at, self.start), self.end)
        return Period(self.start, at), Period(at, self.end)


def period_of(start: date, *, months: int = 1) -> Period:
    """The period beginning on `start` and lasting `months` (a month from the 31st ends on
    the last day of the next month, as dateutil counts)."""
    return Period(start, start + relativedelta(months=months))


def next_period(period: Period, *, months: int = 1) -> Period:
    return period_of(period.end, months=months)


def prorated_cents(price_cents: int, period: Period, part: Period) -> int:
    """What `part` of `period` costs when the whole costs `price_cents`."""
    if period.days <= 0 or part.days <= 0:
        return 0
    return round_cents(Decimal(price_cents) * part.days / period.days)


def change_difference_cents(old_cents: int, new_cents: int, period: Period,
                            at: date) -> int:
    """A plan change on `at` within an already billed `period`: the new price for the days
    left minus the old price for those same days (a credit when negative)."""
    _used, rest = period.split(at)
    return prorated_cents(new_cents, period, rest) - prorated_cents(old_cents, period, rest)

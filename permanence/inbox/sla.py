"""SLA targets and due instants, in the business hours of the conversation's account.

Defaults follow the operator's published promises (seed 000, "Délais de réponse"):
standard and commercial requests within 24–48 business hours, urgent ones the same business
day, never beyond 72 business hours; complaints acknowledged within 48 business hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q

from permanence.calendars.clocks import DEFAULT_CLOCK
from permanence.calendars.services import (
    default_calendar,
    spec_for_account_cached,
    spec_for_calendar,
)
from permanence.core import clock, local_cache
from permanence.core.business_time import (
    CalendarSpec,
    add_business_time,
    business_time_between,
    clock_view,
    never_opens,
    next_opening,
    open_intervals,
)

from .models import Conversation, Kind, Priority, SlaPolicy, SlaTarget

logger = logging.getLogger(__name__)

MAX_HOURS = Decimal(72)

# priority → (first response h, same business day?, next response h, resolution h)
DEFAULT_TARGETS: dict[str, tuple[Decimal, bool, Decimal, Decimal]] = {
    Priority.LOW: (Decimal(48), False, Decimal(48), Decimal(72)),
    Priority.NORMAL: (Decimal(24), False, Decimal(24), Decimal(72)),
    Priority.HIGH: (Decimal(8), False, Decimal(8), Decimal(48)),
    Priority.URGENT: (Decimal(8), True, Decimal(4), Decimal(24)),
}
# Complaints: acknowledged (first human response) within 48 business hours at most.
COMPLAINT_FIRST_RESPONSE = Decimal(48)


@dataclass(frozen=True)
class Targets:
    first_response_hours: Decimal
    first_response_same_day: bool
    next_response_hours: Decimal
    resolution_hours: Decimal
    # How the hours count (calendars.clocks.DeadlineClock): the policy's setting.
    clock: str = DEFAULT_CLOCK


def ensure_default_policy() -> SlaPolicy:
    policy, created = SlaPolicy.objects.get_or_create(
        account=None, defaults={"name": "Politique par défaut"})
    if created:
        rows = [SlaTarget(policy=policy, priority=p, first_response_hours=f,
                          first_response_same_day=sd, next_response_hours=n,
                          resolution_hours=r)
                for p, (f, sd, n, r) in DEFAULT_TARGETS.items()]
        rows += [SlaTarget(policy=policy, priority=p, kind=Kind.COMPLAINT,
                           first_response_hours=min(COMPLAINT_FIRST_RESPONSE, f),
                           first_response_same_day=sd, next_response_hours=n,
                           resolution_hours=r)
                 for p, (f, sd, n, r) in DEFAULT_TARGETS.items()]
        SlaTarget.objects.bulk_create(rows)
        local_cache.invalidate()  # bulk_create sends no signal
    return policy


def _candidate_rows(conversation: Conversation) -> list[SlaTarget]:
    """The account's and the default policy's rows for this priority, in one query."""

    rows = list(SlaTarget.objects.filter(
        Q(policy__account_id=conversation.account_id) | Q(policy__account__isnull=True),
        priority=conversation.priority, kind__in=[conversation.kind, ""],
    ).select_related("policy"))
    if not any(r.policy.account_id is None for r in rows):
        ensure_default_policy()  # first use on this installation
        return _candidate_rows(conversation) if SlaTarget.objects.filter(
            policy__account__isnull=True).exists() else rows
    return rows


# Targets per (account, priority, kind), for a few seconds; any policy or target saved or
# deleted empties it at once in this process (see core.local_cache).
local_cache.watch("inbox.SlaPolicy", "inbox.SlaTarget")
_TARGETS = local_cache.LocalCache("sla_targets")


def targets_for(conversation: Conversation) -> Targets:
    key = (conversation.account_id, conversation.priority, conversation.kind)
    return _TARGETS.get_or_compute(key, lambda: _targets_for(conversation))


def _targets_for(conversation: Conversation) -> Targets:
    rows_all = _candidate_rows(conversation)
    # The account's own policy first, then the default one.
    for own in (True, False):
        rows = {(t.priority, t.kind): t for t in rows_all
                if (t.policy.account_id is not None) == own}
        row = rows.get((conversation.priority, conversation.kind)) or rows.get(
            (conversation.priority, ""))
        if row:
            first = min(row.first_response_hours, MAX_HOURS)
            if conversation.kind == Kind.COMPLAINT:
                # Whatever the policy says: complaints are answered within 48 business hours.
                first = min(first, COMPLAINT_FIRST_RESPONSE)
            return Targets(first, row.first_response_same_day,
                           min(row.next_response_hours, MAX_HOURS),
                           min(row.resolution_hours, MAX_HOURS), row.policy.clock)
    f, sd, n, r = DEFAULT_TARGETS[Priority.NORMAL]
    return Targets(f, sd, n, r)


def operator_clock() -> str:
    """The default policy's clock: how the operator's own promises count (orders, quotes,
    the public pages). One setting, edited with the default SLA policy."""
    return str(_OPERATOR_CLOCK.get_or_compute("operator", lambda: SlaPolicy.objects.filter(
        account__isnull=True).values_list("clock", flat=True).first() or DEFAULT_CLOCK))


_OPERATOR_CLOCK = local_cache.LocalCache("sla_operator_clock")


def account_spec(account: Any) -> CalendarSpec:
    """The account's business calendar; the built-in default one when the stored calendar
    never opens (saved before such calendars were refused): no deadline could be computed,
    and a new message must never be refused for it."""
    spec = spec_for_account_cached(account)
    if never_opens(spec, clock.now()):
        logger.warning("Calendar of account %s never opens: deadlines use the default one",
                       getattr(account, "pk", None))
        return spec_for_calendar(default_calendar())
    return spec


def clock_spec(conversation: Conversation) -> CalendarSpec:
    """The calendar the conversation's deadlines count in: its account's business calendar,
    seen through its policy's clock (core.business_time.clock_view)."""
    return clock_view(account_spec(conversation.account), targets_for(conversation).clock)


def end_of_business_day(spec: CalendarSpec, start: datetime) -> datetime:
    """The closing instant of the business day in which `start` falls (or the next one)."""
    opening = next_opening(spec, start)
    local_day = opening.astimezone(spec.tz).date()
    end = opening
    for a, b in open_intervals(spec, opening):
        if a.astimezone(spec.tz).date() != local_day:
            break
        end = b
    return end.astimezone(spec.tz)


def hours(h: Decimal) -> timedelta:
    return timedelta(seconds=int(h * 3600))


def due(spec: CalendarSpec, start: datetime, h: Decimal, *, paused_seconds: int = 0,
        same_day: bool = False, clock: str | None = None) -> datetime:
    """Due instant `h` business hours after `start`, pushed by time spent paused. `clock`
    (a DeadlineClock) says how they count; `spec` is then the plain business calendar (the
    "same business day" still ends when the office closes). Without it, `spec` is used as
    given (already a clock view, or plain opening hours)."""
    counted = clock_view(spec, clock) if clock else spec
    base = add_business_time(counted, start, hours(h))
    if same_day:
        base = min(end_of_business_day(spec, start), base)
    if paused_seconds:
        base = add_business_time(counted, base, timedelta(seconds=paused_seconds))
    return base


def elapsed_ratio(spec: CalendarSpec, start: datetime, due_at: datetime, now: datetime, *,
                  paused_seconds: int = 0) -> float:
    """Share of the target used at `now`. Business time spent paused (waiting on the
    customer, between `start` and `now`) counts neither as used nor in the target."""
    total = business_time_between(spec, start, due_at).total_seconds() - paused_seconds
    if total <= 0:
        return 1.0 if now >= due_at else 0.0
    used = business_time_between(spec, start, now).total_seconds() - paused_seconds
    return max(used, 0) / total

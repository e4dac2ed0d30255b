"""Objectives (a target per indicator for the team or one secretary, over the current day,
week or month) and team challenges: created and removed by supervisors (audited), their
progress computed with reports.kpis — the same figures as the page and the API.

Targets are in the unit people read: a rate in % (80 for 80 %), a duration in seconds, a
count. Whether a target is met depends on the indicator's direction: at least the target,
or at most for delays, abandons, complaints and reopenings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import Forbidden, invalid

from . import kpis, pages, permissions
from .models import Challenge, Objective, ObjectivePeriod


def period_days(period: str, today: date) -> tuple[date, date]:
    if period == ObjectivePeriod.DAY:
        return today, today
    if period == ObjectivePeriod.WEEK:
        return today - timedelta(days=today.weekday()), today
    return today.replace(day=1), today


def in_unit(key: str, value: float | None) -> float | None:
    """An indicator's value in the unit of its targets (ratios as percentages)."""
    if value is None:
        return None
    return 100 * value if kpis.DEFINITIONS[key].unit == "ratio" else float(value)


def is_met(key: str, value: float | None, target: float) -> bool | None:
    if value is None:
        return None
    return value <= target if key in pages.LOWER_IS_BETTER else value >= target


def _check(actor: User, indicator: str, target: float) -> None:
    if not permissions.can_plan_staff(actor):
        raise Forbidden()
    if indicator not in kpis.DEFINITIONS:
        raise invalid(indicator=_("Indicateur inconnu."))
    if not -100 <= target <= 10_000_000:
        raise invalid(target=_("Cible hors limites."))
    if kpis.DEFINITIONS[indicator].unit in ("ratio", "percent") and not 0 <= target <= 100:
        raise invalid(target=_("Un pourcentage entre 0 et 100."))


@transaction.atomic
def objective_create(*, actor: User, indicator: str, target: float, period: str,
                     agent: User | None) -> Objective:
    _check(actor, indicator, target)
    if period not in ObjectivePeriod.values:
        raise invalid(period=_("Période inconnue."))
    objective = Objective.objects.create(indicator=indicator, target=target, period=period,
                                         agent=agent, created_by=actor, created_at=clock.now())
    audit_record(actor=actor, action=Action.CREATE, target=objective, changes={
        "indicator": indicator, "target": target, "period": period,
        "agent": agent.email if agent else ""})
    return objective


@transaction.atomic
def challenge_create(*, actor: User, title: str, indicator: str, target: float,
                     starts_on: date, ends_on: date, reward: str) -> Challenge:
    _check(actor, indicator, target)
    if ends_on < starts_on:
        raise invalid(ends_on=_("La fin précède le début."))
    challenge = Challenge.objects.create(title=title.strip(), indicator=indicator, target=target,
                                         starts_on=starts_on, ends_on=ends_on,
                                         reward=reward.strip(), created_by=actor,
                                         created_at=clock.now())
    audit_record(actor=actor, action=Action.CREATE, target=challenge, changes={
        "title": challenge.title, "indicator": indicator, "target": target,
        "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    return challenge


@transaction.atomic
def remove(*, actor: User, item: Objective | Challenge) -> None:
    if not permissions.can_plan_staff(actor):
        raise Forbidden()
    audit_record(actor=actor, action=Action.DELETE, target=item, changes={"removed": str(item)})
    item.delete()


@dataclass(frozen=True)
class Progress:
    item: Any
    label: str
    value: str  # as displayed
    target: str
    met: bool | None
    fill: int  # 0–100, how far towards the target (for the bar)


def _team_accounts() -> Any:
    return ClientAccount.objects.filter(is_operator=False).values("pk")


def _progress(item: Any, values: dict[str, Any]) -> Progress:
    key = item.indicator
    definition = kpis.DEFINITIONS[key]
    value = in_unit(key, values.get(key))
    unit = "percent" if definition.unit == "ratio" else definition.unit
    met = is_met(key, value, item.target)
    if value is None or not item.target:
        fill = 0
    elif key in pages.LOWER_IS_BETTER:
        fill = 100 if value <= item.target else max(0, round(100 * item.target / value))
    else:
        fill = min(100, round(100 * value / item.target))
    return Progress(item, str(definition.label), pages.display(value, unit),
                    pages.display(item.target, unit), met, fill)


def objectives_progress(today: date | None = None) -> list[Progress]:
    """Every objective against its current period, one computation per (period, agent)."""
    today = today or clock.now().astimezone(kpis.PARIS).date()
    objectives = list(Objective.objects.select_related("agent"))
    computed: dict[tuple[str, int | None], dict[str, Any]] = {}
    out = []
    for objective in objectives:
        group = (objective.period, objective.agent_id)
        if group not in computed:
            start, end = period_days(objective.period, today)
            computed[group] = kpis.compute_for(_team_accounts(), kpis.Filters(
                start, end, None, objective.agent_id))["values"]
        out.append(_progress(objective, computed[group]))
    return out


def challenges_running(today: date | None = None) -> list[Progress]:
    today = today or clock.now().astimezone(kpis.PARIS).date()
    out = []
    for challenge in Challenge.objects.filter(starts_on__lte=today, ends_on__gte=today):
        values = kpis.compute_for(_team_accounts(), kpis.Filters(
            challenge.starts_on, min(today, challenge.ends_on)))["values"]
        out.append(_progress(challenge, values))
    return out

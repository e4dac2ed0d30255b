"""Writes of the planning app: shifts (create, change, delete, copy the previous week) and the
staff pulse's answer. Each runs in one transaction; shifts are audited, pulse answers are not
(an audit row names its actor: it would undo the anonymity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import Role, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid

from .models import PulseParticipation, PulseResponse, Shift, month_start, shift_minutes
from .permissions import can_answer_pulse, can_edit_planning
from .selectors import PARIS, week_start

NOTE_MAX = 200
COMMENT_MAX = 1000
# Days a shift may be planned from today, either way: enough for any real planning, and
# nothing absurd reaches the database.
HORIZON_DAYS = 3 * 366


def _check_planner(actor: User) -> None:
    if not can_edit_planning(actor):
        raise Forbidden(_("Seuls les superviseurs modifient le planning."))


def _overlaps(agent_id: int, day: date, starts_at: time, ends_at: time,
              exclude_pk: int | None = None) -> Shift | None:
    """The agent's shift that overlaps [start, end) — including one of the day before that
    crosses midnight, or one of the next day a night shift runs into."""
    origin = day - timedelta(days=1)

    def span(d: date, s: time, e: time) -> tuple[int, int]:
        a = (d - origin).days * 1440 + s.hour * 60 + s.minute
        return a, a + shift_minutes(s, e)

    a, b = span(day, starts_at, ends_at)
    qs = Shift.objects.filter(agent_id=agent_id, day__gte=origin, day__lte=day + timedelta(days=1))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    for other in qs:
        c, d = span(other.day, other.starts_at, other.ends_at)
        if a < d and c < b:
            return other
    return None


def _validate(agent: User, day: date, starts_at: time, ends_at: time, *, note: str,
              exclude_pk: int | None = None) -> str:
    if agent.role != Role.AGENT or not agent.is_active:
        raise invalid(agent=_("Choisissez une télésecrétaire active."))
    today = clock.now().astimezone(PARIS).date()
    if abs((day - today).days) > HORIZON_DAYS:
        raise invalid(day=_("Choisissez un jour dans les trois ans qui viennent ou passés."))
    if starts_at.replace(second=0, microsecond=0) == ends_at.replace(second=0, microsecond=0):
        raise invalid(ends_at=_("La fin doit différer du début."))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise invalid(note=_("200 caractères au plus."))
    other = _overlaps(agent.pk, day, starts_at, ends_at, exclude_pk)
    if other is not None:
        raise invalid(starts_at=_("Ce créneau chevauche celui du %(day)s de %(start)s à "
                                  "%(end)s.") % {"day": other.day.strftime("%d/%m"),
                                                 "start": other.starts_at.strftime("%H:%M"),
                                                 "end": other.ends_at.strftime("%H:%M")})
    return note


def _lock_agent(agent: User) -> None:
    """Serialise the writes to one agent's planning (two planners adding overlapping shifts
    at once): lock her user row for the transaction."""
    User.objects.select_for_update().filter(pk=agent.pk).first()


def _minute(t: time) -> time:
    return t.replace(second=0, microsecond=0)


@transaction.atomic
def shift_create(*, actor: User, agent: User, day: date, starts_at: time, ends_at: time,
                 note: str = "") -> Shift:
    _check_planner(actor)
    _lock_agent(agent)
    starts_at, ends_at = _minute(starts_at), _minute(ends_at)
    note = _validate(agent, day, starts_at, ends_at, note=note)
    now = clock.now()
    shift = Shift.objects.create(agent=agent, day=day, starts_at=starts_at, ends_at=ends_at,
                                 note=note, created_at=now, updated_at=now)
    audit_record(actor=actor, action=Action.CREATE, target=shift,
                 changes={"agent": agent.pk, "day": day.isoformat(),
                          "starts_at": starts_at.strftime("%H:%M"),
                          "ends_at": ends_at.strftime("%H:%M")})
    return shift


@transaction.atomic
def shift_update(*, actor: User, shift: Shift | int, agent: User, day: date, starts_at: time,
                 ends_at: time, note: str = "") -> Shift:
    _check_planner(actor)
    pk = shift if isinstance(shift, int) else shift.pk
    _lock_agent(agent)
    locked = Shift.objects.select_for_update().get(pk=pk)
    starts_at, ends_at = _minute(starts_at), _minute(ends_at)
    note = _validate(agent, day, starts_at, ends_at, note=note, exclude_pk=locked.pk)
    before = {"agent": locked.agent_id, "day": locked.day.isoformat(),
              "starts_at": locked.starts_at.strftime("%H:%M"),
              "ends_at": locked.ends_at.strftime("%H:%M")}
    locked.agent, locked.day, locked.starts_at, locked.ends_at = agent, day, starts_at, ends_at
    locked.note, locked.updated_at = note, clock.now()
    locked.save()
    audit_record(actor=actor, action=Action.UPDATE, target=locked,
                 changes={"before": before, "agent": agent.pk, "day": day.isoformat(),
                          "starts_at": starts_at.strftime("%H:%M"),
                          "ends_at": ends_at.strftime("%H:%M")})
    return locked


@transaction.atomic
def shift_delete(*, actor: User, shift: Shift | int) -> None:
    _check_planner(actor)
    pk = shift if isinstance(shift, int) else shift.pk
    locked = Shift.objects.select_for_update().get(pk=pk)
    audit_record(actor=actor, action=Action.DELETE, target=locked,
                 changes={"agent": locked.agent_id, "day": locked.day.isoformat(),
                          "starts_at": locked.starts_at.strftime("%H:%M"),
                          "ends_at": locked.ends_at.strftime("%H:%M")})
    locked.delete()


@dataclass(frozen=True)
class CopyResult:
    copied: int
    skipped: int  # would have overlapped a shift already planned, or the agent left


@transaction.atomic
def week_copy_previous(*, actor: User, monday: date) -> CopyResult:
    """« Copier la semaine précédente »: each shift of the week before, a week later, unless
    it would overlap one already planned (kept as it is) or its agent is no longer active."""
    _check_planner(actor)
    monday = week_start(monday)
    source = list(Shift.objects.select_related("agent").filter(
        day__gte=monday - timedelta(days=7), day__lt=monday).order_by("day", "starts_at", "pk"))
    copied = skipped = 0
    for agent_id in sorted({s.agent_id for s in source}):
        User.objects.select_for_update().filter(pk=agent_id).first()
    for shift in source:
        day = shift.day + timedelta(days=7)
        agent = shift.agent
        if (agent.role != Role.AGENT or not agent.is_active
                or _overlaps(agent.pk, day, shift.starts_at, shift.ends_at) is not None):
            skipped += 1
            continue
        now = clock.now()
        Shift.objects.create(agent=agent, day=day, starts_at=shift.starts_at,
                             ends_at=shift.ends_at, note=shift.note, created_at=now,
                             updated_at=now)
        copied += 1
    if copied:
        audit_record(actor=actor, action=Action.CREATE, target=None,
                     changes={"planning_week_copied": monday.isoformat(), "shifts": copied})
    return CopyResult(copied, skipped)


# --- Staff pulse -------------------------------------------------------------------------------


def _score(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise invalid(**{name: _("Une note de 1 à 5.")})
    return value


def pulse_answer(*, user: User, wellbeing: int, workload: int, support: int,
                 comment: str = "") -> None:
    """This month's answer of a secretary: the anonymous response and her participation,
    together or not at all. A second answer the same month is refused (409)."""
    if not can_answer_pulse(user):
        raise Forbidden(_("Le baromètre est réservé aux télésecrétaires."))
    scores = {"wellbeing": _score("wellbeing", wellbeing),
              "workload": _score("workload", workload),
              "support": _score("support", support)}
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise invalid(comment=_("1 000 caractères au plus."))
    month = month_start(clock.now().astimezone(PARIS).date())
    already = DomainError("already_answered",
                          _("Vous avez déjà répondu au baromètre ce mois-ci : merci !"),
                          status=409)
    try:
        with transaction.atomic():
            if PulseParticipation.objects.filter(user=user, month=month).exists():
                raise already
            # The unique (user, month) constraint settles a race between two tabs.
            PulseParticipation.objects.create(user=user, month=month)
            PulseResponse.objects.create(month=month, comment=comment, **scores)
    except IntegrityError:
        raise already from None

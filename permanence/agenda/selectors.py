"""Reads of the agenda. `*_visible_to` are the one gate in front of every query; `slots` is
the free-slot search (three queries whatever the range or number of resources)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, Model, Q, QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock, consent
from permanence.core.business_time import CalendarSpec
from permanence.core.errors import NotFound

from . import availability
from .availability import Busy, Interval, Rules
from .models import (
    ACTIVE_STATUSES,
    AgendaSettings,
    Appointment,
    AppointmentType,
    AvailabilityException,
    ExceptionKind,
    Reminder,
    ReminderChannel,
    Resource,
)
from .permissions import can_view


def _account_ids(user: Actor) -> list[int]:
    if not can_view(user):
        return []
    return list(accounts_visible_to(user).values_list("pk", flat=True))


def resources_visible_to(user: Actor) -> QuerySet[Resource]:
    return Resource.objects.filter(account__in=_account_ids(user))


def types_visible_to(user: Actor) -> QuerySet[AppointmentType]:
    return AppointmentType.objects.filter(account__in=_account_ids(user))


def appointments_visible_to(user: Actor) -> QuerySet[Appointment]:
    return Appointment.objects.filter(account__in=_account_ids(user))


M = TypeVar("M", bound=Model)


def _get(qs: QuerySet[M], pk: Any, message: str) -> M:
    try:
        return qs.get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(message) from None


def get_resource_for_user(user: Actor, pk: Any) -> Resource:
    return _get(resources_visible_to(user).select_related("account"), pk,
                _("Agenda introuvable."))


def get_type_for_user(user: Actor, pk: Any) -> AppointmentType:
    return _get(types_visible_to(user).select_related("account"), pk,
                _("Type de rendez-vous introuvable."))


def get_appointment_for_user(user: Actor, pk: Any) -> Appointment:
    return _get(appointments_visible_to(user).select_related("resource", "type", "account"),
                pk, _("Rendez-vous introuvable."))


def settings_for(account_id: int) -> AgendaSettings:
    """The account's agenda settings, or the defaults (unsaved) when it has none."""
    found = AgendaSettings.objects.filter(account_id=account_id).first()
    return found or AgendaSettings(account_id=account_id)


def rules_of(kind: AppointmentType) -> Rules:
    return Rules(duration=timedelta(minutes=max(kind.duration_minutes, 1)),
                 before=timedelta(minutes=kind.buffer_before_minutes),
                 after=timedelta(minutes=kind.buffer_after_minutes),
                 min_notice=timedelta(minutes=kind.min_notice_minutes),
                 horizon=timedelta(days=kind.horizon_days))


def resource_tz(resource: Resource) -> ZoneInfo:
    try:
        return ZoneInfo(resource.timezone)
    except (ValueError, KeyError):
        return ZoneInfo("Europe/Paris")


@dataclass
class Calendar:
    """What one resource's availability is made of, over a range."""

    spec: CalendarSpec
    extra_open: list[Interval]
    busy: list[Interval]


def calendars(resources: list[Resource], start: datetime, end: datetime, *,
              exclude: int | None = None) -> dict[int, Calendar]:
    """Each resource's spec (weekly hours, holidays, absences), extra openings and busy
    blocks meeting [start, end): two queries for all of them. `exclude`: an appointment
    not to count as busy (the one being moved)."""
    ids = [r.pk for r in resources]
    closed: dict[int, list[Interval]] = defaultdict(list)
    extra: dict[int, list[Interval]] = defaultdict(list)
    busy: dict[int, list[Interval]] = defaultdict(list)
    # Absences reach back a day: one that started before `start` still closes the morning.
    for e in AvailabilityException.objects.filter(
            resource__in=ids, end__gt=start - timedelta(days=1), start__lt=end).only(
            "resource_id", "kind", "start", "end"):
        target = (closed if e.kind == ExceptionKind.CLOSED
                  else extra if e.kind == ExceptionKind.OPEN else busy)
        target[e.resource_id].append((e.start, e.end))
    blocks = Appointment.objects.filter(resource__in=ids, status__in=ACTIVE_STATUSES,
                                        block_end__gt=start, block_start__lt=end).order_by()
    if exclude is not None:
        blocks = blocks.exclude(pk=exclude)
    for resource_id, a, b in blocks.values_list("resource_id", "block_start", "block_end"):
        busy[resource_id].append((a, b))
    out = {}
    for r in resources:
        spec = CalendarSpec(tz=resource_tz(r), weekly=_weekly(r), holidays=r.holidays or "",
                            closures=tuple(availability.merge(closed[r.pk])))
        out[r.pk] = Calendar(spec, extra[r.pk], busy[r.pk])
    return out


def _weekly(resource: Resource) -> Any:
    try:
        return CalendarSpec.from_json({"timezone": "UTC", "weekly": resource.weekly}).weekly
    except Exception:
        return ((),) * 7


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    resource_id: int
    resource_name: str
    tz: ZoneInfo

    @property
    def local(self) -> datetime:
        return self.start.astimezone(self.tz)

    @property
    def value(self) -> str:
        """What a slot picker posts (forms.parse_slot reads it back)."""
        return f"{self.resource_id}|{self.local.isoformat()}"


def slots(kind: AppointmentType, start: datetime, end: datetime, *,
          resources: list[Resource] | None = None, now: datetime | None = None,
          online: bool = False, limit: int | None = None) -> list[Slot]:
    """Free starts for `kind` in [start, end) across the resources that take it (or those
    given), earliest first. `online`: the contact books himself (notice and horizon apply
    to everybody; only online types are offered)."""
    now = now or clock.now()
    if online and not kind.online:
        return []
    if resources is None:
        resources = list(kind.resources.filter(active=True))
    if not resources:
        return []
    rules = rules_of(kind)
    found: list[Slot] = []
    for resource_id, cal in calendars(resources, start - rules.step, end + rules.step).items():
        resource = next(r for r in resources if r.pk == resource_id)
        tz = resource_tz(resource)
        for t in availability.free_starts(spec=cal.spec, extra_open=cal.extra_open,
                                          busy=Busy(cal.busy), rules=rules, start=start,
                                          end=end, now=now, limit=limit):
            found.append(Slot(t, t + rules.duration, resource.pk, resource.name, tz))
    found.sort(key=lambda s: (s.start, s.resource_name))
    return found[:limit] if limit is not None else found


def appointments_between(resources: list[Resource], start: datetime, end: datetime,
                         *, include_cancelled: bool = False) -> list[Appointment]:
    qs = Appointment.objects.filter(resource__in=[r.pk for r in resources], end__gt=start,
                                    start__lt=end).select_related("type")
    if not include_cancelled:
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    return list(qs.order_by("start", "pk"))


def exceptions_between(resources: list[Resource], start: datetime,
                       end: datetime) -> list[AvailabilityException]:
    return list(AvailabilityException.objects.filter(
        resource__in=[r.pk for r in resources], end__gt=start, start__lt=end).order_by(
        "start"))


def no_show_rate(account_id: int, *, since: datetime | None = None) -> float | None:
    """Absent / (honoured + absent) over past appointments (None without any)."""
    qs = Appointment.objects.filter(account_id=account_id)
    if since is not None:
        qs = qs.filter(start__gte=since)
    counts = qs.aggregate(honoured=Count("pk", filter=Q(status="honoured")),
                          absent=Count("pk", filter=Q(status="no_show")))
    total = counts["honoured"] + counts["absent"]
    return counts["absent"] / total if total else None


def by_token(token: str) -> Appointment | None:
    """The appointment behind a contact's manage link."""
    if not token or len(token) > 64:
        return None
    return (Appointment.objects.select_related("resource", "type", "account")
            .filter(token=token).first())


def resource_by_ics_token(token: str) -> Resource | None:
    if not token or len(token) > 64:
        return None
    return Resource.objects.select_related("account").filter(ics_token=token,
                                                             active=True).first()



# --- Billing's metering (billing.metering): plain rows in id order, read-only --------------


def appointments_for_metering(*, after_id: int = 0, limit: int = 500,
                              ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Appointments with id > after_id (or among `ids`), in id order, at most `limit`."""
    qs = Appointment.objects.filter(pk__gt=after_id)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return [dict(row) for row in qs.order_by("pk").values("id", "account_id", "status", "created_at")[:limit]]


def sms_reminders_for_metering(*, after_id: int = 0, limit: int = 500,
                               ids: list[int] | None = None) -> list[dict[str, Any]]:
    """SMS reminders with id > after_id (or among `ids`), in id order, with their
    appointment's account."""
    qs = Reminder.objects.filter(pk__gt=after_id, channel=ReminderChannel.SMS)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return [dict(row) for row in qs.order_by("pk").values("id", "status", "sms_id", "sent_at", "due_at",
                                         "appointment__account_id")[:limit]]


def consent_rows(*, accounts: Any, email: str = "", phone: str = "") -> QuerySet[Any]:
    """The consents given when booking online, as core.consent rows: one per appointment
    that carries one, in `accounts` (ids, or a queryset of them), optionally of one e-mail
    address or phone number (E.164)."""
    booked = Appointment.objects.filter(account__in=accounts, consent_at__isnull=False)
    if email:
        booked = booked.filter(contact_email__iexact=email)
    if phone:
        booked = booked.filter(contact_phone=phone)
    return consent.rows(
        booked, c_source=consent.BOOKING, c_ref=F("pk"), c_object=F("pk"),
        c_account=F("account_id"), c_name=F("contact_name"), c_email=F("contact_email"),
        c_phone=F("contact_phone"), c_purpose=consent.PURPOSE_BOOKING,
        c_version=F("consent_version"), c_text=F("consent_text"), c_at=F("consent_at"))

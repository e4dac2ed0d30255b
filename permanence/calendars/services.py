"""ORM glue around the business-time engine: which calendar applies, reading and editing it.

The engine (`business_time`) is pure; this module turns `BusinessCalendar` rows into
`CalendarSpec`s (cached, so the per-spec day cache stays warm across requests) and owns the
one service that edits a calendar.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts import permissions
from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock, local_cache
from permanence.core.business_time import CalendarSpec, never_opens
from permanence.core.errors import DomainError, Forbidden

from .models import BusinessCalendar, Closure, HolidayRegion, default_weekly

DEFAULT_CALENDAR_NAME = "Calendrier par défaut"

# (pk, updated_at, closures) → spec. Closures are part of the key because they can change
# without touching the calendar row (e.g. from the Django admin).
_SPEC_CACHE: dict[tuple[Any, ...], CalendarSpec] = {}
_SPEC_CACHE_MAX = 512
_SPEC_CACHE_LOCK = threading.Lock()


def _calendar_data(calendar: BusinessCalendar, closures: list[Closure]) -> dict[str, Any]:
    return {
        "timezone": calendar.timezone,
        "weekly": calendar.weekly,
        "holidays": calendar.holidays,
        "closures": [{"start": c.start, "end": c.end, "message": c.message} for c in closures],
    }


def _closures_of(calendar: BusinessCalendar) -> list[Closure]:
    # An unsaved calendar (the built-in default) cannot use its reverse relation.
    if calendar.pk is None:
        return []
    # .all() honours prefetch_related("closures") when the caller did it.
    return list(calendar.closures.all())


def spec_for_calendar(calendar: BusinessCalendar) -> CalendarSpec:
    """The validated engine spec of a calendar row (one query for closures, unless prefetched).

    Raises DomainError(code="invalid") if the stored data is not a valid calendar.
    """
    closures = _closures_of(calendar)
    key = (
        calendar.pk,
        calendar.updated_at,
        calendar.timezone,
        calendar.holidays,
        repr(calendar.weekly),  # covers unsaved or in-memory edited rows
        tuple((c.start, c.end, c.message) for c in closures),
    )
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = CalendarSpec.from_json(_calendar_data(calendar, closures))
        with _SPEC_CACHE_LOCK:
            if len(_SPEC_CACHE) >= _SPEC_CACHE_MAX:
                _SPEC_CACHE.clear()
            _SPEC_CACHE[key] = spec
    return spec


def default_calendar() -> BusinessCalendar:
    """Unsaved fallback: Monday–Friday 08:30–12:30 and 14:00–18:00, French public holidays."""
    return BusinessCalendar(
        name=DEFAULT_CALENDAR_NAME,
        timezone="Europe/Paris",
        weekly=default_weekly(),
        holidays=HolidayRegion.FRANCE,
    )


def calendar_for_account(account: ClientAccount | None) -> BusinessCalendar:
    """The calendar that applies to `account`.

    Its own calendar, else the operator account's, else an unsaved default calendar.
    `account` may be None (operator-wide computations).
    """
    # No query when calendar_id is None: Django answers None from the empty foreign key.
    if account is not None and account.calendar is not None:
        return account.calendar

    operator = (
        ClientAccount.objects.filter(is_operator=True, calendar__isnull=False)
        .select_related("calendar")
        .first()
    )
    if operator is not None and operator.calendar is not None:
        return operator.calendar
    return default_calendar()


def spec_for_account(account: ClientAccount | None) -> CalendarSpec:
    return spec_for_calendar(calendar_for_account(account))


# Hot paths (an SLA computed for every incoming message): the spec of a calendar, or of the
# operator's/default one, for a few seconds (see local_cache for how changes show at once).
local_cache.watch("calendars.BusinessCalendar", "calendars.Closure", "accounts.ClientAccount")
_SPEC_BY_CALENDAR = local_cache.LocalCache("calendar_spec")


def spec_for_account_cached(account: Any) -> CalendarSpec:
    """`spec_for_account`, without its queries when the spec was computed moments ago."""
    if account is not None and account.calendar_id is not None and (
            "calendar" in account._state.fields_cache):
        # The caller loaded (maybe edited in memory) the calendar: use that very row.
        return spec_for_account(account)
    key = ("calendar", account.calendar_id) if (
        account is not None and account.calendar_id is not None) else ("inherited",)
    return _SPEC_BY_CALENDAR.get_or_compute(key, lambda: spec_for_account(account))


def calendar_to_json(calendar: BusinessCalendar) -> dict[str, Any]:
    """The API shape: timezone, weekly, holidays (or null), closures in ISO 8601 with offsets."""
    try:
        return spec_for_calendar(calendar).to_json()
    except DomainError:
        # Stored data no longer valid (edited by hand): show it as is so it can be fixed.
        closures = _closures_of(calendar)
        return {
            "timezone": calendar.timezone,
            "weekly": calendar.weekly,
            "holidays": calendar.holidays or None,
            "closures": [
                {"start": c.start.isoformat(), "end": c.end.isoformat(), "message": c.message}
                for c in closures
            ],
        }


def calendar_set(*, actor: User, account: ClientAccount,
                 data: dict[str, Any]) -> BusinessCalendar:
    """Replace an account's calendar (hours, holidays, time zone and the set of closures).

    The account gets its own calendar if it had none (it was inheriting the operator's or the
    default one). A calendar row shared with other accounts is not edited in place: the
    account gets its own copy, so editing one client's hours never moves another client's
    deadlines.
    Raises Forbidden without the right, DomainError(422, fields=…) on invalid data.
    """

    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier le calendrier de ce compte."))
    spec = CalendarSpec.from_json(data)
    _refuse_never_open(spec)
    new = spec.to_json()

    with transaction.atomic():
        # Lock the account: two concurrent first edits must not create two calendars.
        locked = ClientAccount.objects.select_for_update().get(pk=account.pk)
        before = calendar_to_json(calendar_for_account(locked))
        own = locked.calendar
        shared = (
            own is not None
            and ClientAccount.objects.filter(calendar=own).exclude(pk=locked.pk).exists()
        )
        created = own is None or shared
        calendar = BusinessCalendar(name=locked.name[:120]) if own is None or shared else own

        calendar.timezone = spec.tz.key
        calendar.weekly = new["weekly"]
        calendar.holidays = spec.holidays
        calendar.save()
        if created:
            locked.calendar = calendar
            locked.save(update_fields=["calendar", "updated_at"])
            account.calendar = calendar  # the caller's instance reflects the change too

        calendar.closures.all().delete()
        Closure.objects.bulk_create(
            Closure(calendar=calendar, start=start, end=end, message=message)
            for (start, end), message in zip(spec.closures, spec.closure_messages, strict=True)
        )
        local_cache.invalidate()  # bulk_create sends no signal

        changes: dict[str, Any] = {
            key: [before[key], new[key]]
            for key in ("timezone", "weekly", "holidays", "closures")
            if before[key] != new[key]
        }
        if created:
            changes["own_calendar"] = [False, True]
        if changes:
            audit_record(
                actor=actor, action=Action.UPDATE, target=calendar,
                account=locked, changes=changes,
            )
            affected = [locked.pk]
            if locked.is_operator:  # the operator's hours are everybody's default
                affected += list(ClientAccount.objects.filter(calendar__isnull=True)
                                 .values_list("pk", flat=True))
            transaction.on_commit(lambda: calendar_changed(affected))
    return calendar


def _refuse_never_open(spec: CalendarSpec) -> None:
    """A calendar that never opens has no deadline to give: every SLA and order deadline of
    its accounts would fail. Refused with a field error (the form shows it; the API answers
    422 JSON)."""
    if not any(spec.weekly):
        raise DomainError("invalid", _("Ce calendrier n'ouvre jamais."), status=422, fields={
            "weekly": [_("Indiquez au moins une plage d'ouverture dans la semaine.")]})
    if never_opens(spec, clock.now()):
        raise DomainError("invalid", _("Ce calendrier n'ouvre jamais."), status=422, fields={
            "closures": [_("Les jours fériés et les fermetures couvrent toutes les plages "
                           "d'ouverture des trois prochaines années.")]})


# Called after commit with the ids of accounts whose business hours changed; other apps
# (the inbox's SLA) register here instead of core importing them.
CALENDAR_CHANGED_HOOKS: list[Callable[[list[int]], None]] = []


def calendar_changed(account_ids: list[int]) -> None:
    local_cache.invalidate()
    for hook in CALENDAR_CHANGED_HOOKS:
        hook(account_ids)

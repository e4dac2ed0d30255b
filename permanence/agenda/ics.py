"""iCalendar (RFC 5545) for the agenda: the read-only feed of a resource and the one-event
object the CalDAV sync PUTs.

Subscribers (Google, Apple, Outlook, Thunderbird) poll the feed; an event keeps its UID
(appointment.uid) and its SEQUENCE grows at each move or cancellation, so a subscriber
updates it in place. A cancellation stays in the feed for 30 days with STATUS:CANCELLED so
that subscribers drop it; holds (a slot taken for a few minutes during a call) never show.
Times are written in the resource's zone (TZID) with its VTIMEZONE, so an appointment
across a daylight-saving change shows the wall time it was booked at.

Only the contact's name and phone and the appointment's type leave in the feed: no e-mail,
answers or notes (the feed's URL is a secret, but it is a URL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db.models import Q
from icalendar import Calendar, Event, Timezone

from permanence.core import clock

from .models import Appointment, AppointmentStatus, Resource
from .selectors import resource_tz

PRODID = "-//Permanence//Agenda//FR"
PAST = timedelta(days=30)
FUTURE = timedelta(days=365)
CANCELLED_KEPT = timedelta(days=30)
SHOWN = (AppointmentStatus.CONFIRMED, AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW)


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, year: int) -> Timezone:
    """The zone's VTIMEZONE as icalendar generates it, from two years before `year` to two
    years after (the feed's window and more; a smaller object for every reader), with one
    RDATE line per transition: readers built on dateutil's tzical through vobject (and some
    older clients) misread a multi-valued RDATE and would show summer times an hour off."""
    timezone = Timezone.from_tzid(tzid, first_date=date(year - 2, 1, 1),
                                  last_date=date(year + 3, 1, 1))
    for sub in timezone.subcomponents:
        rdate = sub.get("RDATE")
        if rdate is None:
            continue
        dates = [d.dt for values in (rdate if isinstance(rdate, list) else [rdate])
                 for d in values.dts]
        del sub["RDATE"]
        for value in dates:
            sub.add("RDATE", value)
    return timezone


def _calendar(*, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name is not None:
        cal.add("method", "PUBLISH")
        cal.add("x-wr-calname", name)
    return cal


def _add_timezone(cal: Calendar, tzid: str, around: datetime) -> None:
    # The VTIMEZONE comes first: some readers (Outlook) want it before the events.
    cal.subcomponents.insert(0, _vtimezone(tzid, around.year))


def vevent(appointment: Appointment, *, tzid: str, now: datetime) -> Event:
    """One appointment as a VEVENT (its type must be loaded: select_related("type"))."""
    tz = ZoneInfo(tzid)
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now)
    event.add("last-modified", appointment.updated_at)
    event.add("created", appointment.created_at)
    event.add("dtstart", appointment.start.astimezone(tz))
    event.add("dtend", appointment.end.astimezone(tz))
    name = appointment.type.name
    event.add("summary", f"{name} — {appointment.contact_name}" if appointment.contact_name
              else name)
    lines = [f"Motif : {name}"]
    if appointment.contact_phone:
        lines.append(f"Téléphone : {appointment.contact_phone}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED
              else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _tzid(resource: Resource) -> str:
    return resource_tz(resource).key


def feed_appointments(resource: Resource, *, now: datetime) -> Iterable[Appointment]:
    """What the feed shows: one query."""
    return (Appointment.objects.filter(resource=resource, start__lt=now + FUTURE,
                                       end__gt=now - PAST)
            .filter(Q(status__in=SHOWN)
                    | Q(status=AppointmentStatus.CANCELLED,
                        updated_at__gte=now - CANCELLED_KEPT))
            .select_related("type").order_by("start", "pk"))


def feed_ics(resource: Resource, *, now: datetime | None = None) -> bytes:
    """The resource's read-only feed: 30 days back, a year ahead."""
    now = now or clock.now()
    tzid = _tzid(resource)
    cal = _calendar(name=f"{resource.name} — {resource.account.name}")
    cal.add("x-wr-timezone", tzid)
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    for appointment in feed_appointments(resource, now=now):
        appointment.resource = resource  # already loaded: no query per event
        cal.add_component(vevent(appointment, tzid=tzid, now=now))
    _add_timezone(cal, tzid, now)
    return cal.to_ical()


def event_ics(appointment: Appointment, *, now: datetime | None = None) -> bytes:
    """One appointment as an iCalendar object (the body of the CalDAV PUT)."""
    now = now or clock.now()
    tzid = _tzid(appointment.resource)
    cal = _calendar()
    cal.add_component(vevent(appointment, tzid=tzid, now=now))
    _add_timezone(cal, tzid, appointment.start)
    return cal.to_ical()

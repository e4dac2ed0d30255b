"""Two-way sync of a resource with its own CalDAV calendar (RFC 4791, RFC 6578).

One run (`resource_sync`) reads what it needs, with no transaction open talks to the
server, then writes the results in short transactions; never a network call inside a
transaction (it refuses to start inside one).

1. Pull. A sync-collection REPORT with the stored sync token lists what changed there since
   the last run (every event on the first run, or when the server refuses the token as
   expired or invalid: a full resync, ``full: True``, which also drops the busy rows of
   events no longer there). Changed events are fetched with calendar-multiget, except our
   own pushes coming back (same href and ETag as stored: nothing to read).
   - An event that is not ours (its UID is none of our appointments') is busy time here:
     ``AvailabilityException(kind="busy")`` rows, one per occurrence for a recurring event
     (occurrences within the next 365 days), replaced when the event changes, removed when it
     is deleted there, cancelled (STATUS:CANCELLED) or transparent (TRANSP:TRANSPARENT).
2. Push. Each appointment of the resource with ``sync_pending`` is written there: PUT with
   ``If-None-Match: *`` to create, ``If-Match: <etag>`` to update, DELETE with
   ``If-Match`` once cancelled; its href and ETag are stored and ``sync_pending`` cleared
   (unless it changed again meanwhile).

Conflict rule. Permanence is the agenda of record for the appointments booked here. A
change made there to one of our events (moved, edited) is overwritten by ours: the pull
marks it to push again, and a push answered 412 (the ETag changed) re-reads the ETag and
pushes ours again. A deletion there of one of our active appointments is recreated. Both
count as a conflict (``conflicts`` in the result, shown to staff by « Synchroniser
maintenant » and logged): the appointment stays as booked here, and whoever changed it
there should call the secretariat to move or cancel it. An event of ours still there once
cancelled here is deleted.

Errors (refused password, unreachable server, no calendar at that address) are written in
French on the resource (``caldav_error``, ``caldav_error_at``) for staff to see; a run that
succeeds clears them and stamps ``caldav_synced_at``.

An appointment moved to another resource is created in the new resource's calendar; its
event in the old one is deleted when the old resource's pull next lists it (a change there,
or a full resync) — not at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import recurring_ical_events
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from icalendar import Calendar

from permanence.core import clock
from permanence.integrations.http_client import UrlRefused, check_url

from . import crypto, notify
from .ics import event_ics
from .models import (
    Appointment,
    AppointmentStatus,
    AvailabilityException,
    ExceptionKind,
    Resource,
)
from .selectors import resource_tz

logger = logging.getLogger(__name__)

TIMEOUT = 20
MULTIGET_CHUNK = 200
HORIZON = timedelta(days=365)
PUSHED = (AppointmentStatus.CONFIRMED, AppointmentStatus.HONOURED, AppointmentStatus.NO_SHOW)
ICS_TYPE = "text/calendar; charset=utf-8"


class SyncError(Exception):
    """What went wrong, in words for staff (French)."""


@dataclass
class Result:
    pushed: int = 0
    deleted_remote: int = 0
    busy_added: int = 0
    busy_updated: int = 0
    busy_removed: int = 0
    full: bool = False
    conflicts: set[int] = field(default_factory=set)
    error: str = ""
    stray: list[tuple[str, str]] = field(default_factory=list)  # ours, moved elsewhere

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in (
            "pushed", "deleted_remote", "busy_added", "busy_updated", "busy_removed", "full")}
        out["conflicts"] = len(self.conflicts)
        if self.error:
            out["error"] = self.error
        return out


def _path(url: Any) -> str:
    """The path of an event's URL, unquoted: how hrefs are stored and compared."""
    return unquote(urlsplit(str(url)).path)


def _url(base: str, path: str) -> str:
    return urljoin(base, quote(path))


def _etag(response: Any) -> str:
    return str(response.headers.get("ETag") or "")


# --------------------------------------------------------------------------- the run


def resource_sync(resource_id: int) -> dict[str, Any]:
    """Sync one resource with its CalDAV calendar; what changed (or "error")."""
    if connection.in_atomic_block:
        raise RuntimeError("resource_sync talks to a server: call it outside a transaction")
    resource = Resource.objects.filter(pk=resource_id).first()
    result = Result()
    if resource is None or not resource.caldav_url:
        return result.as_dict()
    try:
        password = crypto.decrypt(resource.caldav_password_encrypted)
        if resource.caldav_password_encrypted and not password:
            raise SyncError(_("Le mot de passe CalDAV enregistré est illisible : saisissez-le "
                              "à nouveau."))
        # The server's address is checked just before connecting (the SSRF guard of the
        # webhooks): an agenda's URL must not reach the operator's internal services.
        try:
            check_url(resource.caldav_url, allow_private=settings.CALDAV_ALLOW_PRIVATE)
        except UrlRefused as refused:
            raise SyncError(str(refused)) from None
        client = DAVClient(url=resource.caldav_url, username=resource.caldav_username
                                  or None, password=password or None, timeout=TIMEOUT)
        calendar = client.calendar(url=resource.caldav_url)
        _pull(resource, client, calendar, result)
        _push(resource, client, result)
    except Exception as exc:
        result.error = _describe(exc)
        logger.warning("caldav sync of resource %s failed: %s", resource_id, exc,
                       exc_info=not isinstance(exc, SyncError | dav_error.DAVError | OSError))
        Resource.objects.filter(pk=resource_id).update(caldav_error=result.error[:500],
                                                       caldav_error_at=clock.now())
        return result.as_dict()
    Resource.objects.filter(pk=resource_id).update(caldav_error="", caldav_error_at=None,
                                                   caldav_synced_at=clock.now())
    if result.conflicts:
        logger.info("caldav sync of resource %s: conflicts on appointments %s", resource_id,
                    sorted(result.conflicts))
    if result.busy_added or result.busy_updated or result.busy_removed:
        notify.live_refresh_resource(resource)
    return result.as_dict()


def _describe(exc: Exception) -> str:
    if isinstance(exc, SyncError):
        return str(exc)
    if isinstance(exc, dav_error.AuthorizationError):
        return _("Le serveur CalDAV refuse l'identifiant ou le mot de passe (%(status)s).") % {
            "status": exc.status or "401"}
    if isinstance(exc, dav_error.NotFoundError):
        return _("Aucun calendrier à cette adresse CalDAV.")
    # caldav speaks through niquests or requests: their errors are told apart by name.
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"Timeout", "ConnectTimeout", "ReadTimeout", "TimeoutError"}:
        return _("Le serveur CalDAV ne répond pas (délai dépassé).")
    if names & {"ConnectionError", "InvalidURL", "MissingSchema", "InvalidSchema"}:
        return _("Le serveur CalDAV est injoignable : vérifiez l'adresse.")
    if isinstance(exc, dav_error.DAVError):
        return _("Le serveur CalDAV a refusé la synchronisation : %(reason)s") % {
            "reason": str(exc.reason)[:300]}
    return _("La synchronisation CalDAV a échoué : %(error)s") % {"error": str(exc)[:300]}


# --------------------------------------------------------------------------- pull


def _changes(calendar: Any, token: str, result: Result) -> Any:
    """The sync-collection answer: since `token`, or everything (full) when the server
    refuses it or there is none yet."""
    if token:
        try:
            return calendar.get_objects_by_sync_token(sync_token=token, load_objects=False,
                                                      disable_fallback=True)
        except dav_error.DAVError as exc:
            if exc.status == 401 or ("{DAV:}valid-sync-token" not in exc.preconditions
                                     and exc.status not in (403, 409, 412)):
                raise
            logger.info("caldav: sync token refused (%s); full resync", exc.preconditions)
    result.full = True
    return calendar.get_objects_by_sync_token(sync_token=None, load_objects=False,
                                              disable_fallback=True)


def _pull(resource: Resource, client: Any, calendar: Any, result: Result) -> None:
    answer = _changes(calendar, resource.caldav_sync_token, result)
    deleted = {_path(u) for u in answer.deleted_urls}
    listed: dict[str, str] = {}  # path → etag of what changed (all of it when full)
    for obj in answer:
        path = _path(obj.url)
        if path in deleted or path.endswith("/") or _path(calendar.url) == path:
            continue
        listed[path] = str(obj.etag or "")
    # Our own pushes coming back (same href and ETag): nothing to read.
    ours_known = dict(Appointment.objects.filter(
        resource=resource, external_href__startswith=_path(calendar.url))
        .values_list("external_href", "external_etag"))
    to_read = [p for p, etag in listed.items() if ours_known.get(p) != etag or not etag]
    fetched: dict[str, tuple[str, str]] = {}
    for i in range(0, len(to_read), MULTIGET_CHUNK):
        urls = [calendar.url.join(quote(p)) for p in to_read[i:i + MULTIGET_CHUNK]]
        for obj in calendar.multiget(urls):
            fetched[_path(obj.url)] = (str(obj.data or ""), str(obj.etag or ""))
    gone = deleted | ({p for p in ours_known if p not in listed} if result.full else set())
    _apply_pull(resource, fetched, gone, listed if result.full else None, result)
    Resource.objects.filter(pk=resource.pk).update(caldav_sync_token=str(answer.sync_token
                                                                         or ""))


def _uids(data: str) -> tuple[Calendar | None, set[str]]:
    try:
        cal = Calendar.from_ical(data)
    except ValueError:
        return None, set()
    return cal, {str(e.get("uid")) for e in cal.walk("VEVENT") if e.get("uid")}


def _as_utc(value: Any, tz: Any) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    if isinstance(value, date):  # an all-day event: the whole day(s) in the resource's zone
        return datetime.combine(value, time(0), tzinfo=tz)
    raise ValueError(f"not a date: {value!r}")


def _busy_intervals(cal: Calendar, tz: Any, now: datetime) -> list[tuple[datetime, datetime]]:
    """The busy times of a foreign event: its occurrences in [now - 1 day, now + 365 days)."""
    out = []
    window_start, window_end = now - timedelta(days=1), now + HORIZON
    for occurrence in recurring_ical_events.of(cal).between(window_start, window_end):
        if occurrence.name != "VEVENT":
            continue
        if str(occurrence.get("status", "")).upper() == "CANCELLED":
            continue
        if str(occurrence.get("transp", "")).upper() == "TRANSPARENT":
            continue
        start = occurrence.get("dtstart")
        if start is None:
            continue
        start_dt = _as_utc(start.dt, tz)
        end_prop = occurrence.get("dtend")
        if end_prop is not None:
            end_dt = _as_utc(end_prop.dt, tz)
        elif occurrence.get("duration") is not None:
            end_dt = start_dt + occurrence.get("duration").dt
        else:
            end_dt = start_dt + (timedelta(days=1) if not isinstance(start.dt, datetime)
                                 else timedelta(0))
        if end_dt > start_dt:
            out.append((start_dt, end_dt))
    return out


def _apply_pull(resource: Resource, fetched: dict[str, tuple[str, str]], gone: set[str],
                listed: dict[str, str] | None, result: Result) -> None:
    """Write what the pull found, in one short transaction (no network in it)."""
    now = clock.now()
    tz = resource_tz(resource)
    parsed = {path: (*_uids(data), etag) for path, (data, etag) in fetched.items()}
    all_uids = set().union(*(uids for _cal, uids, _e in parsed.values())) if parsed else set()
    with transaction.atomic():
        ours = {a.uid: a for a in Appointment.objects.select_for_update().filter(
            uid__in=all_uids)}
        known_busy = set(AvailabilityException.objects.filter(
            resource=resource, kind=ExceptionKind.BUSY).values_list("external_href",
                                                                    flat=True))
        for path, (cal, uids, etag) in parsed.items():
            mine = [ours[u] for u in uids if u in ours]
            if mine:
                for appointment in mine:
                    _ours_changed_there(appointment, resource, path, etag, result)
                continue
            AvailabilityException.objects.filter(resource=resource, kind=ExceptionKind.BUSY,
                                                 external_href=path).delete()
            intervals = _busy_intervals(cal, tz, now) if cal is not None else []
            AvailabilityException.objects.bulk_create(
                AvailabilityException(resource=resource, kind=ExceptionKind.BUSY, start=a,
                                      end=b, note="CalDAV", external_href=path,
                                      external_etag=etag) for a, b in intervals)
            if path in known_busy:
                result.busy_updated += 1
            elif intervals:
                result.busy_added += 1
        # Deleted there: busy rows go; our active appointments come back (conflict).
        stale = set(gone)
        if listed is not None:  # a full listing: what we hold and it lacks is gone too
            stale |= known_busy - set(listed)
        if stale:
            removed = AvailabilityException.objects.filter(
                resource=resource, kind=ExceptionKind.BUSY, external_href__in=stale)
            result.busy_removed += len(set(removed.values_list("external_href", flat=True)))
            removed.delete()
            for appointment in Appointment.objects.select_for_update().filter(
                    resource=resource, external_href__in=stale):
                if appointment.status in PUSHED:
                    result.conflicts.add(appointment.pk)
                appointment.external_href = ""
                appointment.external_etag = ""
                appointment.sync_pending = appointment.status in PUSHED
                appointment.save(update_fields=["external_href", "external_etag",
                                                "sync_pending"])


def _ours_changed_there(appointment: Appointment, resource: Resource, path: str, etag: str,
                        result: Result) -> None:
    """One of our events changed there: ours wins at the push that follows."""
    if appointment.resource_id != resource.pk:
        result.stray.append((path, etag))  # moved to another agenda: deleted from this one
        return
    if appointment.status not in PUSHED:  # cancelled here, still there: the push deletes it
        appointment.external_href, appointment.external_etag = path, etag
        appointment.sync_pending = True
        appointment.save(update_fields=["external_href", "external_etag", "sync_pending"])
        return
    if appointment.external_href == path and appointment.external_etag == etag:
        return
    result.conflicts.add(appointment.pk)
    appointment.external_href, appointment.external_etag = path, etag
    appointment.sync_pending = True
    appointment.save(update_fields=["external_href", "external_etag", "sync_pending"])


# --------------------------------------------------------------------------- push


def _pending(resource: Resource) -> list[Appointment]:
    return list(Appointment.objects.filter(resource=resource, sync_pending=True)
                .filter(Q(status__in=PUSHED) | ~Q(external_href=""))
                .select_related("type", "resource"))


def _push(resource: Resource, client: Any, result: Result) -> None:
    base = resource.caldav_url if resource.caldav_url.endswith("/") else (
        resource.caldav_url + "/")
    for path, etag in result.stray:
        _delete(client, base, path, etag)
        result.deleted_remote += 1
    for appointment in _pending(resource):
        version = appointment.updated_at
        if appointment.external_href and not appointment.external_href.startswith(
                _path(base)):
            # Moved here from another agenda: a new event in this calendar.
            appointment.external_href, appointment.external_etag = "", ""
        if appointment.status in PUSHED:
            href, etag = _put(client, base, appointment, result)
            result.pushed += 1
        else:
            if appointment.external_href:
                _delete(client, base, appointment.external_href, appointment.external_etag)
                result.deleted_remote += 1
            href, etag = "", ""
        _record_push(appointment.pk, version, href, etag)
    # What stayed pending without anything to do (cancelled before it was ever pushed).
    Appointment.objects.filter(resource=resource, sync_pending=True, external_href="").exclude(
        status__in=PUSHED).update(sync_pending=False)


def _record_push(pk: int, version: datetime, href: str, etag: str) -> None:
    with transaction.atomic():
        done = Appointment.objects.filter(pk=pk, updated_at=version).update(
            external_href=href, external_etag=etag, sync_pending=False)
        if not done:  # changed again meanwhile: stays pending for the next run
            Appointment.objects.filter(pk=pk).update(external_href=href, external_etag=etag)


def _current_etag(client: Any, url: str) -> str | None:
    response = client.request(url, "GET", "", {})
    if response.status == 404:
        return None
    if response.status >= 300:
        raise dav_error.DAVError(url, f"GET {response.status}", status=response.status)
    return _etag(response)


def _put(client: Any, base: str, appointment: Appointment,
         result: Result) -> tuple[str, str]:
    href = appointment.external_href or _path(_url(base, f"{appointment.uid}.ics"))
    url = _url(base, href)
    body = event_ics(appointment).decode()
    headers = ({"If-Match": appointment.external_etag} if appointment.external_href
               and appointment.external_etag else {"If-None-Match": "*"})
    for _attempt in range(3):
        response = client.request(url, "PUT", body, {"Content-Type": ICS_TYPE, **headers})
        if response.status in (200, 201, 204):
            return href, _etag(response) or (_current_etag(client, url) or "")
        if response.status == 412:
            # Changed (or already there) since we last saw it: ours wins (see the docstring).
            current = _current_etag(client, url)
            if appointment.external_etag:
                result.conflicts.add(appointment.pk)
            headers = {"If-Match": current} if current else {"If-None-Match": "*"}
            continue
        if response.status == 404 and "If-Match" in headers:
            # Deleted there while active here: recreated (see the docstring).
            result.conflicts.add(appointment.pk)
            headers = {"If-None-Match": "*"}
            continue
        raise dav_error.PutError(url, f"PUT {response.status}", status=response.status)
    raise dav_error.PutError(url, "PUT kept failing on a changing event")


def _delete(client: Any, base: str, href: str, etag: str) -> None:
    url = _url(base, href)
    headers = {"If-Match": etag} if etag else {}
    for _attempt in range(3):
        response = client.request(url, "DELETE", "", headers)
        if response.status in (200, 204, 404):
            return
        if response.status == 412:
            current = _current_etag(client, url)
            if current is None:
                return
            headers = {"If-Match": current}
            continue
        raise dav_error.DeleteError(url, f"DELETE {response.status}", status=response.status)
    raise dav_error.DeleteError(url, "DELETE kept failing on a changing event")


def resources_to_sync() -> Iterable[int]:
    return (Resource.objects.filter(active=True).exclude(caldav_url="")
            .order_by("pk").values_list("pk", flat=True))

"""Two-way CalDAV sync against a real Radicale server on loopback (testkit/radicale.py).

The tests use committed data (transaction=True): the sync refuses to run inside a
transaction, and one test proves no request leaves while one is open."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import caldav
import pytest
from django.db import connection, transaction
from django.urls import reverse
from icalendar import Calendar

from permanence.agenda import caldav_sync, selectors, services
from permanence.agenda.models import Appointment, AvailabilityException, Resource
from permanence.agenda.services_setup import resource_update
from permanence.core import clock
from permanence.core.errors import DomainError
from testkit.radicale import RadicaleServer, radicale_server

from .conftest import paris

NOW = paris(2027, 2, 26, 18)
MONDAY = (2027, 3, 1)
_names = itertools.count()

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def radicale() -> Iterator[RadicaleServer]:
    with radicale_server() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_immediate_sync(settings: Any) -> None:
    """Tasks are stored, not run, so each test says when the sync runs. The Radicale
    server runs on loopback: allowed here as an administrator would allow an internal one."""
    settings.CALDAV_ALLOW_PRIVATE = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend",
                                  "QUEUES": ["default", "email"]}}


@pytest.fixture
def remote(radicale: RadicaleServer) -> Any:
    """A fresh calendar there."""
    return radicale.make_calendar(f"cal{next(_names)}")


@pytest.fixture
def synced(resource: Resource, supervisor: Any, radicale: RadicaleServer,
           remote: Any) -> Resource:
    return services.resource_update(actor=supervisor, resource=resource, data={
        "caldav_url": str(remote.url), "caldav_username": radicale.user,
        "caldav_password": radicale.password})


def book(agent: Any, kind: Any, hour: int, minute: int = 0, name: str = "Jeanne Dupont",
         day: tuple[int, int, int] = MONDAY, resource: Resource | None = None) -> Appointment:
    with clock.frozen(NOW):
        return services.appointment_book(
            actor=agent, kind=kind, start=paris(*day, hour, minute), resource=resource,
            booking=services.Booking(contact=services.Contact(name=name,
                                                              phone="+33612345678")))


def sync(resource: Resource) -> dict[str, Any]:
    with clock.frozen(NOW):
        return caldav_sync.resource_sync(resource.pk)


def remote_events(remote: Any) -> dict[str, Any]:
    """UID → VEVENT of what the calendar holds now."""
    out = {}
    for obj in remote.search(event=True):
        for event in Calendar.from_ical(obj.data).walk("VEVENT"):
            out[str(event["uid"])] = event
    return out


def free_times(kind: Any, resource: Resource) -> list[str]:
    with clock.frozen(NOW):
        found = selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 12),
                                resources=[Resource.objects.get(pk=resource.pk)])
    return [s.local.strftime("%H:%M") for s in found]


def put_foreign(remote: Any, uid: str, start: str, end: str, extra: str = "") -> Any:
    return remote.save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;TZID=Europe/Paris:{start}\r\n"
        f"DTEND;TZID=Europe/Paris:{end}\r\nSUMMARY:Privé\r\n{extra}END:VEVENT\r\n"
        "END:VCALENDAR\r\n")


def test_created_here_appears_there(synced: Resource, kind: Any, agent: Any,
                                    remote: Any) -> None:
    appointment = book(agent, kind, 9)
    assert Appointment.objects.get(pk=appointment.pk).sync_pending
    result = sync(synced)
    assert result["pushed"] == 1 and result["full"] is True and "error" not in result
    event = remote_events(remote)[appointment.uid]
    assert event["dtstart"].dt == appointment.start
    assert str(event["summary"]) == "Consultation — Jeanne Dupont"
    stored = Appointment.objects.get(pk=appointment.pk)
    assert not stored.sync_pending and stored.external_href and stored.external_etag
    resource = Resource.objects.get(pk=synced.pk)
    assert resource.caldav_synced_at is not None and resource.caldav_error == ""
    # Our own push coming back is not busy time, and nothing is pushed twice.
    again = sync(synced)
    assert again == {"pushed": 0, "deleted_remote": 0, "busy_added": 0, "busy_updated": 0,
                     "busy_removed": 0, "full": False, "conflicts": 0}
    assert not AvailabilityException.objects.filter(resource=synced).exists()


def test_event_there_blocks_slots_here_and_its_deletion_frees_them(
        synced: Resource, kind: Any, remote: Any) -> None:
    sync(synced)
    assert "10:20" in free_times(kind, synced)
    obj = put_foreign(remote, "dentist@other", "20270301T100000", "20270301T110000")
    result = sync(synced)
    assert result["busy_added"] == 1 and result["full"] is False
    assert free_times(kind, synced) == ["09:00", "11:00"]
    # Moved there: the busy time follows.
    obj = remote.event_by_uid("dentist@other")
    obj.data = obj.data.replace("20270301T100000", "20270301T090000").replace(
        "20270301T110000", "20270301T100000")
    obj.save()
    assert sync(synced)["busy_updated"] == 1
    assert free_times(kind, synced) == ["10:20", "11:00"]
    remote.event_by_uid("dentist@other").delete()
    assert sync(synced)["busy_removed"] == 1
    assert not AvailabilityException.objects.filter(resource=synced).exists()
    assert "09:00" in free_times(kind, synced) and "10:20" in free_times(kind, synced)


def test_recurring_event_there_blocks_each_occurrence(synced: Resource, kind: Any,
                                                      remote: Any) -> None:
    put_foreign(remote, "weekly@other", "20270222T090000", "20270222T120000",
                "RRULE:FREQ=WEEKLY;COUNT=10\r\n")
    sync(synced)
    busy = AvailabilityException.objects.filter(resource=synced, kind="busy")
    assert busy.count() == 9  # the one on 22 February is over (window: from yesterday)
    assert free_times(kind, synced) == []


def test_move_here_updates_there_and_cancel_deletes_there(
        synced: Resource, kind: Any, agent: Any, remote: Any) -> None:
    appointment = book(agent, kind, 9)
    sync(synced)
    with clock.frozen(NOW):
        moved = services.appointment_move(actor=agent, appointment=appointment,
                                          start=paris(*MONDAY, 11))
    assert sync(synced)["pushed"] == 1
    event = remote_events(remote)[appointment.uid]
    assert event["dtstart"].dt == moved.start and int(event["sequence"]) == 1
    with clock.frozen(NOW):
        services.appointment_cancel(actor=agent, appointment=moved)
    assert sync(synced)["deleted_remote"] == 1
    assert appointment.uid not in remote_events(remote)
    stored = Appointment.objects.get(pk=appointment.pk)
    assert not stored.sync_pending and stored.external_href == ""


def test_conflicting_edits_ours_wins(synced: Resource, kind: Any, agent: Any,
                                     remote: Any) -> None:
    """Moved there and moved here: ours is written over theirs, counted as a conflict."""
    appointment = book(agent, kind, 9)
    sync(synced)
    obj = remote.event_by_uid(appointment.uid)
    obj.data = obj.data.replace("T090000", "T150000")
    obj.save()
    with clock.frozen(NOW):
        services.appointment_move(actor=agent, appointment=appointment,
                                  start=paris(*MONDAY, 10, 20))
    result = sync(synced)
    assert result["conflicts"] == 1 and result["pushed"] == 1
    event = remote_events(remote)[appointment.uid]
    assert event["dtstart"].dt == paris(*MONDAY, 10, 20)
    # Edited only there: the next sync puts ours back too.
    obj = remote.event_by_uid(appointment.uid)
    obj.data = obj.data.replace("T102000", "T160000")
    obj.save()
    result = sync(synced)
    assert result["conflicts"] == 1 and result["pushed"] == 1
    assert remote_events(remote)[appointment.uid]["dtstart"].dt == paris(*MONDAY, 10, 20)
    assert not AvailabilityException.objects.filter(resource=synced).exists()


def test_deleted_there_is_recreated_as_a_conflict(synced: Resource, kind: Any, agent: Any,
                                                  remote: Any) -> None:
    appointment = book(agent, kind, 9)
    sync(synced)
    remote.event_by_uid(appointment.uid).delete()
    result = sync(synced)
    assert result["conflicts"] == 1 and result["pushed"] == 1
    assert appointment.uid in remote_events(remote)


def test_stale_etag_on_push_is_reread_and_ours_pushed(synced: Resource, kind: Any,
                                                      agent: Any, remote: Any,
                                                      radicale: RadicaleServer) -> None:
    """A 412 on If-Match (changed there after our pull): re-read, push ours."""
    appointment = book(agent, kind, 9)
    sync(synced)
    Appointment.objects.filter(pk=appointment.pk).update(external_etag='"stale"',
                                                         sync_pending=True)
    result = caldav_sync.Result()
    with clock.frozen(NOW):
        caldav_sync._push(Resource.objects.get(pk=synced.pk), radicale.client(), result)
    assert result.pushed == 1 and result.conflicts == {appointment.pk}
    assert Appointment.objects.get(pk=appointment.pk).external_etag != '"stale"'


def test_invalid_sync_token_means_full_resync(synced: Resource, kind: Any,
                                              remote: Any) -> None:
    put_foreign(remote, "a@other", "20270301T100000", "20270301T110000")
    sync(synced)
    # Gone there while the token was lost: the full listing drops its busy time.
    remote.event_by_uid("a@other").delete()
    put_foreign(remote, "b@other", "20270301T090000", "20270301T093000")
    Resource.objects.filter(pk=synced.pk).update(
        caldav_sync_token="http://radicale.org/ns/sync/" + "0" * 64)
    result = sync(synced)
    assert result["full"] is True and result["busy_added"] == 1
    assert result["busy_removed"] == 1
    assert set(AvailabilityException.objects.filter(resource=synced).values_list(
        "external_href", flat=True)) == {unquote(remote.event_by_uid("b@other").url.path)}
    assert Resource.objects.get(pk=synced.pk).caldav_sync_token.startswith("http://")


def test_bad_password_is_recorded_and_shown(synced: Resource, supervisor: Any,
                                            client: Any) -> None:
    services.resource_update(actor=supervisor, resource=synced,
                             data={"caldav_password": "wrong"})
    result = sync(synced)
    assert "mot de passe" in result["error"]
    resource = Resource.objects.get(pk=synced.pk)
    assert "mot de passe" in resource.caldav_error and resource.caldav_error_at
    assert resource.caldav_synced_at is None
    client.force_login(supervisor)
    response = client.post(reverse("agenda:sync_now", args=[synced.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("agenda:resource", args=[synced.pk])
    shown = [str(m) for m in response.context["messages"]]
    assert any("mot de passe" in m for m in shown)


def test_unreachable_server_is_recorded(synced: Resource, radicale: RadicaleServer) -> None:
    Resource.objects.filter(pk=synced.pk).update(
        caldav_url="http://127.0.0.1:9/nothing/")
    result = sync(synced)
    assert "injoignable" in result["error"]
    assert "injoignable" in Resource.objects.get(pk=synced.pk).caldav_error


def test_sync_now_view(synced: Resource, kind: Any, agent: Any, supervisor: Any,
                       client: Any, remote: Any) -> None:
    appointment = book(agent, kind, 9)
    url = reverse("agenda:sync_now", args=[synced.pk])
    client.force_login(agent)  # books, but does not configure
    assert client.post(url).status_code == 403
    client.force_login(supervisor)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "1 rendez-vous envoyé" in shown
    assert appointment.uid in remote_events(remote)


def test_booking_enqueues_a_sync_on_commit(synced: Resource, kind: Any, agent: Any,
                                           remote: Any, settings: Any) -> None:
    settings.TASKS = {"default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "email"]}}
    appointment = book(agent, kind, 9)
    assert appointment.uid in remote_events(remote)
    assert not Appointment.objects.get(pk=appointment.pk).sync_pending


def test_sync_calendars_job_syncs_each_resource(synced: Resource, kind: Any, agent: Any,
                                                remote: Any, settings: Any) -> None:
    from permanence.agenda.tasks import sync_calendars

    appointment = book(agent, kind, 9)
    settings.TASKS = {"default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default", "email"]}}
    with clock.frozen(NOW):
        sync_calendars.call()
    assert appointment.uid in remote_events(remote)


def test_no_transaction_open_during_network_calls(synced: Resource, kind: Any, agent: Any,
                                                  remote: Any, monkeypatch: Any) -> None:
    put_foreign(remote, "x@other", "20270301T100000", "20270301T110000")
    appointment = book(agent, kind, 9)
    seen: list[bool] = []
    original = caldav.DAVClient.request

    def watched(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(connection.in_atomic_block)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(caldav.DAVClient, "request", watched)
    result = sync(synced)
    assert result["pushed"] == 1 and result["busy_added"] == 1
    assert seen and not any(seen)
    seen.clear()
    with transaction.atomic(), pytest.raises(RuntimeError):
        caldav_sync.resource_sync(synced.pk)
    assert seen == []
    assert Appointment.objects.get(pk=appointment.pk).external_href


def test_busy_window_is_a_year(synced: Resource, remote: Any) -> None:
    put_foreign(remote, "far@other", "20290301T100000", "20290301T110000")
    sync(synced)
    assert not AvailabilityException.objects.filter(resource=synced).exists()
    assert timedelta(days=365) == caldav_sync.HORIZON


def test_moved_to_another_agenda(synced: Resource, second_resource: Resource, kind: Any,
                                 agent: Any, supervisor: Any, radicale: RadicaleServer,
                                 remote: Any) -> None:
    other_remote = radicale.make_calendar(f"cal{next(_names)}")
    other = services.resource_update(actor=supervisor, resource=second_resource, data={
        "caldav_url": str(other_remote.url), "caldav_username": radicale.user,
        "caldav_password": radicale.password})
    services.type_update(actor=supervisor, kind=kind, data={},
                         resource_ids=[synced.pk, other.pk])
    appointment = book(agent, kind, 9, day=(2027, 3, 2), resource=synced)
    assert sync(synced)["pushed"] == 1
    with clock.frozen(NOW):
        services.appointment_move(actor=agent, appointment=appointment,
                                  start=paris(2027, 3, 2, 10), resource=other)
    result = sync(other)
    assert result["pushed"] == 1 and result["conflicts"] == 0
    assert appointment.uid in remote_events(other_remote)
    # The old calendar drops it at its next full listing.
    Resource.objects.filter(pk=synced.pk).update(caldav_sync_token="")
    result = sync(synced)
    assert result["full"] and result["deleted_remote"] == 1 and result["busy_added"] == 0
    assert appointment.uid not in remote_events(remote)


def test_a_private_address_is_refused_unless_allowed(synced: Resource, settings: Any,
                                                    supervisor: Any) -> None:
    """The SSRF guard: an agenda's CalDAV URL must not reach the operator's internal
    services. Refused when written (an IP or localhost) and checked before every sync."""
    settings.CALDAV_ALLOW_PRIVATE = False
    result = sync(synced)  # Radicale listens on 127.0.0.1
    assert "adresse privée ou locale" in result["error"]
    assert "adresse privée ou locale" in Resource.objects.get(pk=synced.pk).caldav_error
    with pytest.raises(DomainError) as refused:
        resource_update(actor=supervisor, resource=synced,
                        data={"caldav_url": "http://10.0.0.5/dav/"})
    assert "caldav_url" in refused.value.fields

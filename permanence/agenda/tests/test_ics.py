"""The read-only ICS feed of a resource: parsed back by two libraries, UID / SEQUENCE /
STATUS / VTIMEZONE, wall times across a DST change, revocation, constant queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import vobject
from django.urls import reverse
from icalendar import Calendar

from permanence.agenda import services
from permanence.agenda.ics import event_ics
from permanence.agenda.models import Appointment
from permanence.core import clock

from .conftest import paris

BEFORE_DST = paris(2027, 3, 25, 18)  # Thursday; Paris goes to summer time on 28 March
# (29 March 2027 is Easter Monday: closed)


def booking(name: str = "Jeanne Dupont") -> services.Booking:
    return services.Booking(contact=services.Contact(name=name, phone="+33612345678",
                                                     email="jeanne@example.org"),
                            notes="Allergie à la pénicilline", answers={
                                "Motif de la visite": "douleur"})


def feed_url(resource: Any) -> str:
    return reverse("agenda_public:ics", args=[resource.ics_token])


def book(agent: Any, kind: Any, *start: int, name: str = "Jeanne Dupont") -> Appointment:
    return services.appointment_book(actor=agent, kind=kind, start=paris(*start),
                                     booking=booking(name))


@pytest.fixture
def booked(kind: Any, agent: Any) -> dict[str, Appointment]:
    """Before and after the DST change; one moved (SEQUENCE 1), one cancelled, one hold."""
    with clock.frozen(BEFORE_DST):
        before = book(agent, kind, 2027, 3, 26, 10)  # Friday, UTC+1
        after = book(agent, kind, 2027, 3, 30, 10, name="Paul Martin")  # Tuesday, UTC+2
        moved = book(agent, kind, 2027, 3, 30, 14, name="Luc")
        moved = services.appointment_move(actor=agent, appointment=moved,
                                          start=paris(2027, 3, 31, 15))
        cancelled = book(agent, kind, 2027, 3, 31, 9, name="Annulé")
        cancelled = services.appointment_cancel(actor=agent, appointment=cancelled)
        services.appointment_hold(actor=agent, kind=kind, start=paris(2027, 4, 1, 9))
    return {"before": before, "after": after, "moved": moved, "cancelled": cancelled}


def get_feed(client: Any, resource: Any) -> Any:
    with clock.frozen(BEFORE_DST):
        return client.get(feed_url(resource))


@pytest.mark.django_db
def test_feed_parses_with_icalendar(client: Any, resource: Any,
                                    booked: dict[str, Appointment]) -> None:
    response = get_feed(client, resource)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    cal = Calendar.from_ical(response.content)
    assert str(cal["method"]) == "PUBLISH" and str(cal["version"]) == "2.0"
    assert str(cal["x-wr-calname"]).startswith("Dr Martin")
    [vtz] = cal.walk("VTIMEZONE")
    assert str(vtz["tzid"]) == "Europe/Paris"
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    # The hold does not show; the cancellation does, to be dropped by subscribers.
    assert set(events) == {a.uid for a in booked.values()}
    assert int(events[booked["moved"].uid]["sequence"]) == 1
    assert int(events[booked["before"].uid]["sequence"]) == 0
    assert int(events[booked["cancelled"].uid]["sequence"]) == 1
    assert str(events[booked["cancelled"].uid]["status"]) == "CANCELLED"
    assert str(events[booked["before"].uid]["status"]) == "CONFIRMED"
    event = events[booked["after"].uid]
    assert str(event["summary"]) == "Consultation — Paul Martin"
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert event["dtstart"].dt.strftime("%H:%M") == "10:00"
    # Nothing beyond the name and phone: no e-mail, notes or answers.
    body = response.content.decode()
    for secret in ("jeanne@example.org", "pénicilline", "douleur"):
        assert secret not in body
    assert "+33612345678" in str(events[booked["before"].uid]["description"])


@pytest.mark.django_db
def test_feed_parses_with_vobject_and_wall_times_cross_dst(
        client: Any, resource: Any, booked: dict[str, Appointment]) -> None:
    cal = vobject.readOne(get_feed(client, resource).content.decode())
    events = {e.uid.value: e for e in cal.vevent_list}
    before, after = events[booked["before"].uid], events[booked["after"].uid]
    # 10:00 in Paris both times, although UTC is 09:00 then 08:00.
    assert before.dtstart.value.strftime("%H:%M") == after.dtstart.value.strftime(
        "%H:%M") == "10:00"
    assert before.dtstart.value.utcoffset() == timedelta(hours=1)
    assert after.dtstart.value.utcoffset() == timedelta(hours=2)
    assert after.dtstart.value == booked["after"].start
    assert events[booked["moved"].uid].sequence.value == "1"
    assert events[booked["cancelled"].uid].status.value == "CANCELLED"


@pytest.mark.django_db
def test_revoked_token_is_404(client: Any, resource: Any, supervisor: Any,
                              booked: dict[str, Appointment]) -> None:
    old = feed_url(resource)
    assert client.get(old).status_code == 200
    renewed = services.resource_ics_revoke(actor=supervisor, resource=resource)
    assert client.get(old).status_code == 404
    assert client.get(feed_url(renewed)).status_code == 200
    assert client.get(reverse("agenda_public:ics", args=["nope"])).status_code == 404


@pytest.mark.django_db
def test_feed_is_get_only(client: Any, resource: Any) -> None:
    assert client.post(feed_url(resource)).status_code == 405


@pytest.mark.django_db
def test_inactive_resource_feed_is_404(client: Any, resource: Any, supervisor: Any) -> None:
    services.resource_update(actor=supervisor, resource=resource, data={"active": False})
    assert client.get(feed_url(resource)).status_code == 404


@pytest.mark.django_db
def test_query_count_does_not_grow_with_events(client: Any, resource: Any, kind: Any,
                                               agent: Any,
                                               django_assert_max_num_queries: Any) -> None:
    with clock.frozen(BEFORE_DST):
        for month, day in ((3, 26), (3, 30), (3, 31), (4, 1)):
            for hour in (9, 10, 11, 14, 15, 16):
                book(agent, kind, 2027, month, day, hour)
    with django_assert_max_num_queries(2):
        response = get_feed(client, resource)
    assert response.content.count(b"BEGIN:VEVENT") == 24


@pytest.mark.django_db
def test_event_ics_is_one_event_with_its_timezone(kind: Any, agent: Any) -> None:
    with clock.frozen(BEFORE_DST):
        appointment = book(agent, kind, 2027, 3, 30, 10)
    cal = Calendar.from_ical(event_ics(appointment))
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == appointment.uid
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert event["dtstart"].dt == appointment.start
    assert "method" not in cal

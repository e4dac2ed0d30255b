"""The agenda API: resources, appointment types, free slots, appointments (book, 409 when the
slot is taken, list, move, cancel, mark), isolation between accounts and roles."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.agenda.models import Appointment, AppointmentStatus
from permanence.core import clock

from .conftest import WEEKDAYS_9_TO_5, paris

MONDAY = (2027, 3, 1)  # a Monday with no public holiday
BEFORE = paris(2027, 2, 26, 18)  # the Friday before, evening
API = "/api/v1/agenda"


def _patch(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.patch(url, data, content_type="application/json")


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data, content_type="application/json")


def _book(client: Any, kind: Any, start: str, name: str = "Jeanne Dupont",
          **extra: Any) -> Any:
    with clock.frozen(BEFORE):
        return _post(client, f"{API}/appointments", {
            "type": kind.pk, "start": start, "answers": {"Motif de la visite": "Contrôle"},
            "contact": {"name": name, "phone": "+33612345678", "email": "j@example.org"},
            **extra})


# --- Resources ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_resource_create_read_update_never_returns_the_password(
        api_client_for: Any, supervisor: Any, account: Any, settings: Any) -> None:
    client = api_client_for(supervisor)
    response = _post(client, f"{API}/resources", {
        "account": account.pk, "name": "Dr Martin", "weekly": WEEKDAYS_9_TO_5,
        "caldav_url": "https://dav.example.org/cal/", "caldav_username": "martin",
        "caldav_password": "secret-dav"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert "secret-dav" not in response.content.decode()
    assert "caldav_password" not in body and body["caldav_configured"] is True
    assert body["account"] == account.pk and body["timezone"] == "Europe/Paris"
    assert body["weekly"]["mon"] == [["09:00", "12:00"], ["14:00", "17:00"]]
    assert body["ics_url"].startswith(settings.SITE_URL + "/agenda/ics/")
    assert body["ics_url"].endswith(".ics")

    listed = client.get(f"{API}/resources").json()
    assert [r["id"] for r in listed] == [body["id"]]
    patched = _patch(client, f"{API}/resources/{body['id']}",
                     {"weekly": {"mon": [["08:00", "12:00"]]}, "caldav_password": None})
    assert patched.status_code == 200, patched.content
    assert patched.json()["weekly"]["mon"] == [["08:00", "12:00"]]
    assert patched.json()["weekly"]["tue"] == []
    assert patched.json()["caldav_configured"] is False
    assert client.get(f"{API}/resources/{body['id']}").json()["name"] == "Dr Martin"


@pytest.mark.django_db
def test_resource_input_errors_are_422_with_fields(api_client_for: Any, supervisor: Any,
                                                   account: Any, resource: Any) -> None:
    client = api_client_for(supervisor)
    cases = [({"account": account.pk, "name": 12}, "name"),
             ({"account": account.pk, "name": "X", "timezone": "Mars/Olympus"}, "timezone"),
             ({"account": account.pk, "name": "X", "weekly": {"mon": [["25:00", "26:00"]]}},
              "weekly"),
             ({"account": account.pk, "name": "X", "caldav_url": "ftp://x"}, "caldav_url"),
             ({"account": account.pk, "name": "X", "caldav_url": "http://192.168.1.10/dav/"},
              "caldav_url"),
             ({"account": 2**70, "name": "X"}, "account"),
             ({"account": "x", "name": "X"}, "account")]
    for data, field in cases:
        response = _post(client, f"{API}/resources", data)
        assert response.status_code == 422, (data, response.content)
        assert any(k.startswith(field) for k in response.json()["errors"]), response.json()
    assert client.get(f"{API}/resources/{2**70}").status_code == 422
    assert _patch(client, f"{API}/resources/{resource.pk}",
                  {"active": "peut-être"}).status_code == 422


@pytest.mark.django_db
def test_resources_are_isolated_and_writes_need_the_right_role(
        api_client_for: Any, resource: Any, agent: Any, other_agent: Any, billing: Any,
        client_user: Any, outsider_client: Any, account: Any) -> None:
    url = f"{API}/resources/{resource.pk}"
    for outsider in (other_agent, outsider_client):
        client = api_client_for(outsider)
        assert client.get(f"{API}/resources").json() == []
        assert client.get(url).status_code == 404
        assert _patch(client, url, {"name": "Pris"}).status_code == 404
        assert _post(client, f"{API}/resources/{resource.pk}/sync", {}).status_code == 404
        assert _post(client, f"{API}/resources", {"account": account.pk,
                                                  "name": "X"}).status_code == 404
    billing_client = api_client_for(billing)
    assert billing_client.get(url).status_code == 403
    assert billing_client.get(f"{API}/resources").status_code == 403
    agent_client = api_client_for(agent)
    assert agent_client.get(url).status_code == 200
    assert _patch(agent_client, url, {"name": "Pris"}).status_code == 403
    assert _post(agent_client, f"{url}/sync", {}).status_code == 403
    # The account's own client sets its agenda up.
    assert _patch(api_client_for(client_user), url, {"name": "Dr M."}).status_code == 200
    resource.refresh_from_db()
    assert resource.name == "Dr M."


@pytest.mark.django_db
def test_sync_without_caldav_is_refused_and_with_it_reports(
        api_client_for: Any, supervisor: Any, resource: Any, monkeypatch: Any) -> None:
    client = api_client_for(supervisor)
    response = _post(client, f"{API}/resources/{resource.pk}/sync", {})
    assert response.status_code == 422
    assert "caldav_url" in response.json()["errors"]
    from permanence.agenda import caldav_sync

    calls: list[int] = []
    monkeypatch.setattr(caldav_sync, "resource_sync",
                        lambda pk: calls.append(pk) or {"pulled": 0, "pushed": 1})
    _patch(client, f"{API}/resources/{resource.pk}",
           {"caldav_url": "https://dav.example.org/cal/", "caldav_password": "x"})
    response = _post(client, f"{API}/resources/{resource.pk}/sync", {})
    assert response.status_code == 200, response.content
    assert response.json()["result"] == {"pulled": 0, "pushed": 1} and calls == [resource.pk]


@pytest.mark.django_db(transaction=True)
def test_sync_of_an_unreachable_calendar_reports_the_error(api_client_for: Any,
                                                           supervisor: Any,
                                                           resource: Any,
                                                           settings: Any) -> None:
    """The real sync module, outside any transaction: a server that does not answer is
    reported (caldav_error), not a 500. (A loopback server, allowed for the test.)"""
    settings.CALDAV_ALLOW_PRIVATE = True
    client = api_client_for(supervisor)
    _patch(client, f"{API}/resources/{resource.pk}",
           {"caldav_url": "http://127.0.0.1:9/cal/", "caldav_password": "x"})
    response = _post(client, f"{API}/resources/{resource.pk}/sync", {})
    assert response.status_code == 200, response.content
    assert response.json()["caldav_error"] and response.json()["caldav_synced_at"] is None
    assert response.json()["result"]["error"] == response.json()["caldav_error"]


# --- Appointment types --------------------------------------------------------------------


@pytest.mark.django_db
def test_type_create_with_resource_or_resources(api_client_for: Any, supervisor: Any,
                                                resource: Any, second_resource: Any) -> None:
    client = api_client_for(supervisor)
    one = _post(client, f"{API}/appointment-types", {
        "name": "Consultation", "resource": resource.pk, "duration_minutes": 20,
        "buffer_before_minutes": 5, "buffer_after_minutes": 10, "min_notice_minutes": 120,
        "online": True, "horizon_days": 30, "cancel_cutoff_minutes": 60,
        "questions": ["Motif"], "price_info": "25 €"})
    assert one.status_code == 201, one.content
    body = one.json()
    assert body["resource"] == resource.pk and body["account"] == resource.account_id
    assert (body["duration_minutes"], body["buffer_before_minutes"],
            body["min_notice_minutes"], body["horizon_days"]) == (20, 5, 120, 30)
    both = _post(client, f"{API}/appointment-types", {
        "name": "Bilan", "account": resource.account_id,
        "resources": [second_resource.pk, resource.pk]})
    assert both.status_code == 201, both.content
    assert sorted(both.json()["resources"]) == sorted([resource.pk, second_resource.pk])
    patched = _patch(client, f"{API}/appointment-types/{body['id']}",
                     {"duration_minutes": 45, "resources": [second_resource.pk]})
    assert patched.status_code == 200, patched.content
    assert patched.json()["duration_minutes"] == 45
    assert patched.json()["resource"] == second_resource.pk
    assert len(client.get(f"{API}/appointment-types").json()) == 2
    for bad in ({"duration_minutes": 0}, {"duration_minutes": "long"}, {"questions": "Motif"},
                {"online": "oui"}, {"resources": [2**64]}, {"name": None}):
        response = _patch(client, f"{API}/appointment-types/{body['id']}", bad)
        assert response.status_code == 422, (bad, response.content)


@pytest.mark.django_db
def test_types_are_isolated(api_client_for: Any, kind: Any, other_agent: Any, agent: Any,
                            billing: Any) -> None:
    url = f"{API}/appointment-types/{kind.pk}"
    assert api_client_for(other_agent).get(url).status_code == 404
    assert api_client_for(other_agent).get(f"{API}/appointment-types").json() == []
    assert api_client_for(billing).get(url).status_code == 403
    assert _patch(api_client_for(agent), url, {"name": "Autre"}).status_code == 403
    assert api_client_for(agent).get(url).json()["questions"] == ["Motif de la visite"]


# --- Slots ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_slots_are_iso_with_the_resource_offset(api_client_for: Any, agent: Any,
                                                kind: Any, resource: Any) -> None:
    client = api_client_for(agent)
    with clock.frozen(BEFORE):
        response = client.get(f"{API}/slots", {"type": kind.pk,
                                               "from": "2027-03-01T00:00:00+01:00",
                                               "to": "2027-03-02T00:00:00+01:00"})
        # An unencoded "+" in the URL arrives as a space: still understood.
        raw = client.get(f"{API}/slots?type={kind.pk}&from=2027-03-01T00:00:00+01:00"
                         f"&to=2027-03-01T12:00:00+01:00&resource={resource.pk}")
    assert response.status_code == 200, response.content
    slots = response.json()["slots"]
    assert [s["start"][11:] for s in slots] == [
        f"{t}:00+01:00" for t in ("09:00", "09:40", "10:20", "11:00", "14:00", "14:40",
                                  "15:20", "16:00")]
    assert slots[0] == {"start": "2027-03-01T09:00:00+01:00",
                        "end": "2027-03-01T09:30:00+01:00", "resource": resource.pk}
    assert raw.status_code == 200 and len(raw.json()["slots"]) == 4


@pytest.mark.django_db
def test_slot_query_errors(api_client_for: Any, agent: Any, other_agent: Any,
                           kind: Any) -> None:
    client = api_client_for(agent)
    url = f"{API}/slots"
    cases = [({"type": kind.pk, "to": "2027-03-02T00:00:00+01:00"}, "from"),
             ({"type": kind.pk, "from": "2027-03-01T00:00:00", "to": "2027-03-02T00:00Z"},
              "from"),
             ({"type": kind.pk, "from": "hier", "to": "2027-03-02T00:00Z"}, "from"),
             ({"type": kind.pk, "from": "2027-03-01T00:00Z", "to": "2027-06-03T00:00Z"},
              "to"),
             ({"type": kind.pk, "from": "2027-03-02T00:00Z", "to": "2027-03-01T00:00Z"}, "to"),
             ({"type": "x", "from": "2027-03-01T00:00Z", "to": "2027-03-02T00:00Z"}, "type"),
             ({"type": 2**64, "from": "2027-03-01T00:00Z", "to": "2027-03-02T00:00Z"},
              "type")]
    for params, field in cases:
        response = client.get(url, params)
        assert response.status_code == 422, (params, response.content)
        assert field in response.json()["errors"], (params, response.json())
    ok = {"type": kind.pk, "from": "2027-03-01T00:00Z", "to": "2027-06-02T00:00Z"}
    assert client.get(url, ok).status_code == 200  # 93 days
    assert api_client_for(other_agent).get(url, ok).status_code == 404


# --- Appointments ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_book_then_the_same_slot_is_409(api_client_for: Any, agent: Any, kind: Any,
                                        resource: Any) -> None:
    client = api_client_for(agent)
    response = _book(client, kind, "2027-03-01T09:00:00+01:00", notes="Première visite")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["start"] == "2027-03-01T09:00:00+01:00"
    assert body["end"] == "2027-03-01T09:30:00+01:00"
    assert body["resource"] == resource.pk and body["type"] == kind.pk
    assert body["status"] == "confirmed" and body["origin"] == "secretariat"
    assert body["contact"] == {"name": "Jeanne Dupont", "phone": "+33612345678",
                               "email": "j@example.org"}
    assert body["answers"] == {"Motif de la visite": "Contrôle"}
    assert body["notes"] == "Première visite" and body["account"] == kind.account_id
    taken = _book(client, kind, "2027-03-01T08:20:00Z", name="Paul")  # 09:20 in Paris
    assert taken.status_code == 409 and taken.json()["code"] == "slot_taken"
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_book_input_errors(api_client_for: Any, agent: Any, kind: Any,
                           other_account: Any) -> None:
    client = api_client_for(agent)
    for start, contact in (("2027-03-01T09:00:00", {"name": "A"}),
                           ("2027-03-01T12:00:00+01:00", {"name": "A"}),
                           ("demain", {"name": "A"}),
                           ("2027-03-01T09:00:00+01:00", {"name": ""}),
                           ("2027-03-01T09:00:00+01:00", {"name": "A", "email": "pas-un"}),
                           ("2027-03-01T09:00:00+01:00", "Jeanne")):
        with clock.frozen(BEFORE):
            response = _post(client, f"{API}/appointments",
                             {"type": kind.pk, "start": start, "contact": contact})
        assert response.status_code == 422, (start, contact, response.content)
    assert Appointment.objects.count() == 0


@pytest.mark.django_db
def test_list_filters_and_cursor(api_client_for: Any, agent: Any, kind: Any) -> None:
    client = api_client_for(agent)
    for hour in ("09:00", "09:40", "10:20"):
        assert _book(client, kind, f"2027-03-01T{hour}:00+01:00").status_code == 201
    first = client.get(f"{API}/appointments", {"limit": 2}).json()
    assert [a["start"][11:16] for a in first["items"]] == ["09:00", "09:40"]
    rest = client.get(f"{API}/appointments", {"limit": 2,
                                              "cursor": first["next_cursor"]}).json()
    assert [a["start"][11:16] for a in rest["items"]] == ["10:20"]
    assert rest["next_cursor"] is None
    window = client.get(f"{API}/appointments", {"from": "2027-03-01T09:30:00+01:00",
                                                "to": "2027-03-01T10:00:00+01:00",
                                                "type": kind.pk, "status": "confirmed"})
    assert [a["start"][11:16] for a in window.json()["items"]] == ["09:40"]
    assert client.get(f"{API}/appointments", {"status": "perdu"}).status_code == 422
    assert client.get(f"{API}/appointments", {"cursor": "n'importe"}).status_code == 422
    assert client.get(f"{API}/appointments", {"limit": 201}).status_code == 422


@pytest.mark.django_db
def test_move_cancel_and_mark(api_client_for: Any, agent: Any, kind: Any) -> None:
    client = api_client_for(agent)
    booked = _book(client, kind, "2027-03-01T09:00:00+01:00").json()
    url = f"{API}/appointments/{booked['id']}"
    with clock.frozen(BEFORE):
        moved = _patch(client, url, {"start": "2027-03-01T14:00:00+01:00"})
        too_early = _patch(client, url, {"status": "honoured"})
        both = _patch(client, url, {"status": "cancelled",
                                    "start": "2027-03-01T15:00:00+01:00"})
        nothing = _patch(client, url, {})
    assert moved.status_code == 200, moved.content
    assert moved.json()["start"] == "2027-03-01T14:00:00+01:00"
    assert too_early.status_code == 409 and too_early.json()["code"] == "too_early"
    assert both.status_code == 422 and nothing.status_code == 422
    with clock.frozen(paris(*MONDAY, 15)):
        marked = _patch(client, url, {"status": "no_show"})
    assert marked.status_code == 200 and marked.json()["status"] == "no_show"

@pytest.mark.django_db
def test_cancel_twice_tells_the_contact_once(api_client_for: Any, agent: Any, kind: Any,
                                             monkeypatch: Any) -> None:
    from permanence.agenda import notify

    told: list[str] = []
    monkeypatch.setattr(notify, "contact_tell", lambda appointment, event: told.append(event))
    client = api_client_for(agent)
    other = _book(client, kind, "2027-03-01T09:00:00+01:00").json()
    with clock.frozen(BEFORE):
        cancelled = _patch(client, f"{API}/appointments/{other['id']}",
                           {"status": "cancelled", "reason": "Empêchée"})
        again = _patch(client, f"{API}/appointments/{other['id']}", {"status": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert told == ["booked", "cancelled"]  # idempotent: the contact is told once


@pytest.mark.django_db
def test_appointments_are_isolated(api_client_for: Any, agent: Any, other_agent: Any,
                                   outsider_client: Any, billing: Any, client_user: Any,
                                   kind: Any) -> None:
    booked = _book(api_client_for(agent), kind, "2027-03-01T09:00:00+01:00").json()
    url = f"{API}/appointments/{booked['id']}"
    for outsider in (other_agent, outsider_client):
        client = api_client_for(outsider)
        assert client.get(url).status_code == 404
        assert client.get(f"{API}/appointments").json()["items"] == []
        assert _patch(client, url, {"status": "cancelled"}).status_code == 404
        assert _book(client, kind, "2027-03-01T10:20:00+01:00").status_code == 404
    assert api_client_for(billing).get(url).status_code == 403
    assert _book(api_client_for(billing), kind, "2027-03-01T10:20:00+01:00").status_code == 403
    # The account's client books in its own agenda (origin "client").
    own = _book(api_client_for(client_user), kind, "2027-03-01T10:20:00+01:00")
    assert own.status_code == 201 and own.json()["origin"] == "client"
    assert Appointment.objects.filter(status=AppointmentStatus.CONFIRMED).count() == 2

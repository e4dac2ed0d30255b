"""The agenda's pages: the secretaries' grids and booking, the call screen's panel, the
espace client's agenda (block time, add), the set-up pages; isolation and query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from permanence.agenda import selectors, services
from permanence.agenda.models import Appointment, AvailabilityException, Origin, Resource
from permanence.core import clock
from permanence.desk import record
from permanence.inbox.models import Message

from .conftest import paris

MONDAY = (2027, 3, 1)
NOW = paris(2027, 2, 26, 18)


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def book(kind: Any, agent: Any, hour: int, name: str = "Jeanne Dupont", **extra: Any) -> Any:
    return services.appointment_book(
        actor=agent, kind=kind, start=paris(*MONDAY, hour),
        booking=services.Booking(contact=services.Contact(name=name), **extra))


@pytest.mark.django_db
def test_week_grid_shows_who_booked_what(kind: Any, agent: Any) -> None:
    with clock.frozen(NOW):
        book(kind, agent, 9)
        page = logged(agent).get(f"/app/agenda/?compte={kind.account_id}&date=2027-03-01")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Jeanne Dupont · Consultation" in body and "09:00" in body


@pytest.mark.django_db
def test_day_view_puts_resources_side_by_side(kind: Any, agent: Any,
                                              second_resource: Any) -> None:
    with clock.frozen(NOW):
        page = logged(agent).get(f"/app/agenda/?compte={kind.account_id}&vue=jour"
                                 "&date=2027-03-01")
    body = page.content.decode()
    assert 'aria-label="Dr Martin"' in body and 'aria-label="Dr Bernard"' in body


@pytest.mark.django_db
def test_grid_query_count_does_not_grow_with_appointments(
        kind: Any, agent: Any, django_assert_max_num_queries: Any) -> None:
    client = logged(agent)
    url = f"/app/agenda/?compte={kind.account_id}&date=2027-03-01"
    with clock.frozen(NOW):
        book(kind, agent, 9)
        with django_assert_max_num_queries(14) as one:
            client.get(url)
        for hour in (10, 11, 14, 15, 16):
            book(kind, agent, hour, name=f"Patient {hour}")
        with django_assert_max_num_queries(len(one.captured_queries)):
            client.get(url)


@pytest.mark.django_db
def test_booking_form_books_and_refuses_a_taken_slot(kind: Any, agent: Any,
                                                     resource: Any) -> None:
    client = logged(agent)
    slot = f"{resource.pk}|{paris(*MONDAY, 9).isoformat()}"
    data = {"compte": kind.account_id, "type": kind.pk, "slot": slot,
            "contact_name": "Jeanne Dupont", "contact_email": "jeanne@example.org"}
    with clock.frozen(NOW):
        first = client.post("/app/agenda/rendez-vous/nouveau/", data)
        second = client.post("/app/agenda/rendez-vous/nouveau/", {**data,
                                                                   "contact_name": "Paul"})
    assert first.status_code == 302
    assert second.status_code == 409 and "plus libre" in second.content.decode()
    assert Appointment.objects.filter(status="confirmed").count() == 1


@pytest.mark.django_db
def test_garbage_in_the_booking_form_is_a_field_error(kind: Any, agent: Any) -> None:
    client = logged(agent)
    with clock.frozen(NOW):
        response = client.post("/app/agenda/rendez-vous/nouveau/", {
            "compte": "99999999999999999999999", "type": kind.pk, "slot": "9" * 40 + "|x",
            "contact_name": ""})
    assert response.status_code == 422


@pytest.mark.django_db
def test_call_screen_books_in_one_click_onto_the_call_timeline(kind: Any, agent: Any,
                                                                account: Any,
                                                                resource: Any) -> None:
    with clock.frozen(NOW):
        call = record.call_start_manual(actor=agent, account=account,
                                        from_number="+33612345678", caller_name="")
        call = record.call_record_save(actor=agent, call=call, motif="", answers={},
                                       message="Souhaite un rendez-vous", urgency="normal",
                                       caller_name="Jeanne Dupont",
                                       caller_phone="+33612345678")
        client = logged(agent)
        panel = client.get(f"/app/agenda/appel/{call.pk}/creneaux/", HTTP_HX_REQUEST="true")
        slot = selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 12))[0]
        booked = client.post(f"/app/agenda/appel/{call.pk}/reserver/", {
            "type": kind.pk, "slot": slot.value, "contact_name": "Jeanne Dupont",
            "contact_phone": "+33612345678"}, HTTP_HX_REQUEST="true")
    assert panel.status_code == 200 and "un clic réserve" in panel.content.decode()
    assert booked.status_code == 200 and "Rendez-vous enregistré" in booked.content.decode()
    appointment = Appointment.objects.get()
    assert appointment.call_id == call.pk and appointment.conversation_id is not None
    event = Message.objects.get(conversation_id=appointment.conversation_id,
                                event="appointment_booked")
    assert event.data["appointment"] == appointment.pk
    assert event.data["text"].startswith("Rendez-vous pris : Consultation")
    assert event.author == agent


@pytest.mark.django_db
def test_client_blocks_an_afternoon_and_those_slots_disappear(kind: Any, client_user: Any,
                                                              resource: Any) -> None:
    client = logged(client_user)
    with clock.frozen(NOW):
        before = selectors.slots(kind, paris(*MONDAY, 14), paris(*MONDAY, 18))
        response = client.post("/espace/agenda/bloquer/", {
            "ressource_bloc": resource.pk, "kind": "closed", "start": "2027-03-01T14:00",
            "end": "2027-03-01T18:00", "note": "Formation"})
        after = selectors.slots(kind, paris(*MONDAY, 14), paris(*MONDAY, 18))
    assert response.status_code == 302
    assert before and after == []
    block = AvailabilityException.objects.get()
    assert block.start == paris(*MONDAY, 14) and block.created_by == client_user


@pytest.mark.django_db
def test_client_adds_an_appointment_and_sees_it_live_page(kind: Any, client_user: Any,
                                                          resource: Any) -> None:
    client = logged(client_user)
    with clock.frozen(NOW):
        response = client.post("/espace/agenda/rendez-vous/nouveau/", {
            "type": kind.pk, "slot": f"{resource.pk}|{paris(*MONDAY, 9).isoformat()}",
            "contact_name": "Paul Martin"})
        page = client.get("/espace/agenda/?date=2027-03-01")
    assert response.status_code == 302
    assert Appointment.objects.get().origin == Origin.CLIENT
    assert "Paul Martin · Consultation" in page.content.decode()


@pytest.mark.django_db
def test_clients_and_agents_of_other_accounts_see_nothing(kind: Any, agent: Any,
                                                          outsider_client: Any,
                                                          other_agent: Any) -> None:
    with clock.frozen(NOW):
        a = book(kind, agent, 9)
    assert logged(outsider_client).get(
        f"/espace/agenda/rendez-vous/{a.pk}/").status_code == 404
    assert logged(other_agent).get(f"/app/agenda/rendez-vous/{a.pk}/").status_code == 404
    grid = logged(other_agent).get(f"/app/agenda/?compte={a.account_id}&date=2027-03-01")
    assert "Jeanne Dupont" not in grid.content.decode()


@pytest.mark.django_db
def test_supervisor_sets_up_a_resource_and_a_motif_agent_cannot(account: Any,
                                                                supervisor: Any,
                                                                agent: Any) -> None:
    client = logged(supervisor)
    url = f"/app/agenda/parametres/{account.pk}/"
    created = client.post(url, {"action": "resource", "name": "Salle 2",
                                "timezone": "Europe/Paris", "holidays": "FR",
                                "mon": "09:00-12:00", "tue": "09:00-12:00"})
    resource = Resource.objects.get(name="Salle 2")
    typed = client.post(url, {"action": "type", "name": "Bilan", "duration_minutes": 45,
                              "buffer_before_minutes": 0, "buffer_after_minutes": 15,
                              "min_notice_minutes": 60, "horizon_days": 30,
                              "cancel_cutoff_minutes": 60, "resources": [resource.pk]})
    refused = logged(agent).post(url, {"action": "resource", "name": "Salle 3",
                                       "timezone": "Europe/Paris", "mon": "09:00-12:00"})
    assert created.status_code == 302 and typed.status_code == 302
    assert resource.weekly["mon"] == [["09:00", "12:00"]]
    assert resource.appointment_types.get().buffer_after_minutes == 15
    assert refused.status_code == 403 and not Resource.objects.filter(name="Salle 3").exists()


@pytest.mark.django_db
def test_appointment_page_moves_and_marks(kind: Any, agent: Any, resource: Any) -> None:
    client = logged(agent)
    with clock.frozen(NOW):
        a = book(kind, agent, 9)
        moved = client.post(f"/app/agenda/rendez-vous/{a.pk}/deplacer/", {
            "slot": f"{resource.pk}|{paris(*MONDAY, 14).isoformat()}"})
    with clock.frozen(paris(*MONDAY, 15)):
        marked = client.post(f"/app/agenda/rendez-vous/{a.pk}/statut/",
                             {"status": "no_show"})
    a.refresh_from_db()
    assert moved.status_code == 302 and marked.status_code == 302
    assert a.start == paris(*MONDAY, 14) and a.status == "no_show"
    assert selectors.no_show_rate(a.account_id) == 1.0
    assert a.start - a.block_start == timedelta(0)


@pytest.mark.django_db
def test_a_slot_clicked_before_the_name_is_held_then_confirmed(kind: Any, agent: Any,
                                                               account: Any) -> None:
    with clock.frozen(NOW):
        call = record.call_start_manual(actor=agent, account=account,
                                        from_number="+33612345678", caller_name="")
        client = logged(agent)
        slot = selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 12))[0]
        held = client.post(f"/app/agenda/appel/{call.pk}/reserver/", {
            "type": kind.pk, "slot": slot.value, "contact_name": ""}, HTTP_HX_REQUEST="true")
        hold = Appointment.objects.get()
        # Held: nobody else can take it meanwhile.
        assert hold.status == "held" and hold.call_id == call.pk
        assert slot.start not in [s.start for s in selectors.slots(
            kind, paris(*MONDAY), paris(*MONDAY, 12))]
        confirmed = client.post(f"/app/agenda/appel/{call.pk}/reserver/", {
            "type": kind.pk, "slot": slot.value, "hold": hold.pk,
            "contact_name": "Jeanne Dupont"}, HTTP_HX_REQUEST="true")
    assert held.status_code == 200 and "Créneau retenu 5 minutes" in held.content.decode()
    assert confirmed.status_code == 200
    hold.refresh_from_db()
    assert hold.status == "confirmed" and hold.contact_name == "Jeanne Dupont"
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_a_held_slot_can_be_released(kind: Any, agent: Any, account: Any) -> None:
    with clock.frozen(NOW):
        call = record.call_start_manual(actor=agent, account=account,
                                        from_number="+33612345678", caller_name="")
        client = logged(agent)
        slot = selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 12))[0]
        client.post(f"/app/agenda/appel/{call.pk}/reserver/", {
            "type": kind.pk, "slot": slot.value}, HTTP_HX_REQUEST="true")
        hold = Appointment.objects.get()
        client.post(f"/app/agenda/appel/{call.pk}/reserver/", {
            "type": kind.pk, "hold": hold.pk, "release": "1"}, HTTP_HX_REQUEST="true")
        again = [s.start for s in selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 12))]
    hold.refresh_from_db()
    assert hold.status == "cancelled" and slot.start in again

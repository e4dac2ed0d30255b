"""The agenda in a real Chromium against the live server, at 1366 and 390 px:

- a call is simulated (`manage.py simulate_call`, the signed events a PBX would send); the
  secretary opens it, the call screen's « Rendez-vous » panel offers the next free slots for
  the caller's motif, one click books it: the agenda shows it, the call's conversation
  timeline says so;
- the client blocks an afternoon in the espace client: those slots are no longer offered,
  neither to the client nor to the secretary.
Nothing scrolls sideways; axe-core finds nothing serious.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
NUMBER = "+33145000004"
EVERY_DAY = {d: [["08:00", "12:00"], ["13:00", "19:00"]]
             for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}



def _practice(account: Any, supervisor: Any) -> tuple[Any, Any]:
    from permanence.accounts.models import ContactChannel
    from permanence.agenda import services

    ContactChannel.objects.create(account=account, kind="phone", value=NUMBER)
    resource = services.resource_create(actor=supervisor, account_id=account.pk, data={
        "name": "Dr Martin", "weekly": EVERY_DAY, "holidays": None})
    kind = services.type_create(actor=supervisor, account_id=account.pk, data={
        "name": "Consultation", "duration_minutes": 30, "min_notice_minutes": 0},
        resource_ids=[resource.pk])
    return resource, kind


@pytest.mark.parametrize("size", list(SIZES))
def test_secretary_books_from_the_call_screen_during_a_simulated_call(
        size: str, new_page: Any, login: Any, live_server: Any, agent: Any, supervisor: Any,
        account: Any,
        page_checked: Any) -> None:
    from permanence.agenda.models import Appointment
    from permanence.desk.models import Call
    from permanence.inbox.models import Message

    _resource, _kind = _practice(account, supervisor)
    call_command("simulate_call", "--to", NUMBER, "--from", "0611223344", "--agent",
                 agent.email, "--url", live_server.url, "--pace", "0", stdout=StringIO())
    call = Call.objects.get()

    desk = new_page(**SIZES[size])
    login(desk, agent.email)
    desk.goto(f"/app/poste/appels/{call.pk}/")
    # The message first (who, what): the call gets its conversation.
    record = desk.locator("#call-record")
    record.get_by_label("Nom de l'appelant").fill("Jeanne Dupont")
    record.get_by_label("Message").fill("Souhaite une consultation cette semaine.")
    record.get_by_role("button", name="Enregistrer").click()
    panel = desk.locator("#agenda-call")
    expect(panel.get_by_role("heading", name="Rendez-vous")).to_be_visible()
    expect(panel.get_by_label("Motif du rendez-vous")).to_have_value(str(_kind.pk))
    # The caller's name and number come from the call: one click on a slot books.
    expect(panel.get_by_label("Nom")).to_have_value("Jeanne Dupont")
    first = panel.locator(".slot-btn").first
    label = first.inner_text()
    page_checked(desk)
    first.click()
    expect(panel.get_by_role("status")).to_contain_text("Rendez-vous enregistré")
    expect(panel.locator("[data-booked]")).to_contain_text("Consultation")

    appointment = Appointment.objects.get()
    assert appointment.call_id == call.pk and appointment.contact_name == "Jeanne Dupont"
    assert appointment.contact_phone == "+33611223344"
    local = appointment.start.astimezone(PARIS)
    assert local.strftime("%H:%M") in label

    # The call's conversation timeline says so; the agenda shows it.
    call.refresh_from_db()
    assert appointment.conversation_id == call.conversation_id is not None
    assert Message.objects.filter(conversation_id=call.conversation_id,
                                  event="appointment_booked").exists()
    desk.goto(f"/app/boite/{call.conversation_id}/")
    expect(desk.get_by_text("Rendez-vous pris : Consultation", exact=False)).to_be_visible()
    desk.goto(f"/app/agenda/?compte={account.pk}&date={local.date().isoformat()}&vue=jour")
    expect(desk.locator(".agenda-item.appt")).to_contain_text("Jeanne Dupont · Consultation")
    page_checked(desk)


@pytest.mark.parametrize("size", list(SIZES))
def test_client_blocks_an_afternoon_and_those_slots_disappear(
        size: str, new_page: Any, login: Any, client_user: Any, agent: Any,
        supervisor: Any, account: Any,
        page_checked: Any) -> None:
    from permanence.agenda import selectors
    from permanence.core import clock

    _resource, kind = _practice(account, supervisor)
    tomorrow = (clock.now().astimezone(PARIS) + timedelta(days=1)).date()
    afternoon = (datetime.combine(tomorrow, time(13), tzinfo=PARIS),
                 datetime.combine(tomorrow, time(19), tzinfo=PARIS))
    assert selectors.slots(kind, *afternoon)

    portal = new_page(**SIZES[size])
    login(portal, client_user.email)
    portal.goto("/espace/agenda/")
    expect(portal.get_by_role("heading", name="Bloquer un créneau")).to_be_visible()
    page_checked(portal)
    form = portal.locator("form", has=portal.get_by_role("button", name="Enregistrer"))
    form.get_by_label("Début").fill(f"{tomorrow.isoformat()}T13:00")
    form.get_by_label("Fin").fill(f"{tomorrow.isoformat()}T19:00")
    form.get_by_label("Motif").fill("Formation")
    form.get_by_role("button", name="Enregistrer").click()
    expect(portal.locator(".flash, [role=status]").first).to_contain_text("ne sont plus proposés")
    expect(portal.locator(".agenda-item.closed").first).to_contain_text("Formation")
    page_checked(portal)

    # Gone for everybody: the slot search, the client's own booking page, the secretary.
    assert selectors.slots(kind, *afternoon) == []
    portal.goto(f"/espace/agenda/rendez-vous/nouveau/?type={kind.pk}")
    day = portal.locator(f".picker-day[data-day='{tomorrow.isoformat()}']")
    expect(day).to_be_visible()
    offered = day.locator(".slot span").all_inner_texts()
    assert offered and all(int(t[:2]) < 13 for t in offered), offered


@pytest.mark.parametrize("size", list(SIZES))
def test_contact_books_online_moves_it_and_gets_the_reminders(
        size: str, new_page: Any, supervisor: Any, account: Any, settings: Any,
        tmp_path: Any,
        page_checked: Any) -> None:
    from django.core import mail

    from permanence.agenda import reminders, services
    from permanence.agenda.models import Appointment, Reminder
    from permanence.core import clock

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    resource, kind = _practice(account, supervisor)
    services.type_update(actor=supervisor, kind=kind, data={
        "online": True, "questions": ["Motif de la consultation"], "min_notice_minutes": 60})
    services.settings_update(actor=supervisor, account_id=account.pk, data={
        "online_booking": True, "public_intro": "Prenez rendez-vous en ligne."})
    mail.outbox.clear()
    in_three_days = (clock.now().astimezone(PARIS) + timedelta(days=3)).date()

    contact = new_page(**SIZES[size])
    contact.goto(f"/rdv/{account.slug}/")
    expect(contact.get_by_text("Prenez rendez-vous en ligne.")).to_be_visible()
    page_checked(contact)
    contact.get_by_role("link", name=re.compile("Consultation")).click()
    day = contact.locator(".slot-day", has=contact.get_by_role(
        "heading", name=re.compile(rf"\b{in_three_days.day}\b")))
    day.get_by_role("link").first.click()
    contact.get_by_label("Nom et prénom").fill("Jeanne Dupont")
    contact.get_by_label("Adresse e-mail").fill("jeanne@example.org")
    contact.get_by_label("Téléphone mobile").fill("06 12 34 56 78")
    contact.get_by_label("Motif de la consultation").fill("Renouvellement")
    contact.get_by_label(re.compile("J'accepte")).check()
    page_checked(contact)
    contact.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(contact.get_by_role("heading", name="Rendez-vous confirmé")).to_be_visible()
    page_checked(contact)

    booked = Appointment.objects.get()
    assert booked.origin == "online" and booked.contact_phone == "+33612345678"
    assert booked.start.astimezone(PARIS).date() == in_three_days
    assert any("Rendez-vous confirmé" in m.subject for m in mail.outbox)

    # The manage link of the confirmation: move to another slot.
    contact.goto(f"/rdv/gerer/{booked.token}/")
    first_start = booked.start
    contact.get_by_role("link", name="Déplacer").click()
    page_checked(contact)
    in_four_days = in_three_days + timedelta(days=1)
    target = contact.locator(".slot-day", has=contact.get_by_role(
        "heading", name=re.compile(rf"\b{in_four_days.day}\b")))
    target.locator("button.slot").first.click()
    expect(contact.get_by_text("Votre rendez-vous est déplacé.")).to_be_visible()
    booked.refresh_from_db()
    assert booked.start != first_start and booked.sequence == 1
    assert booked.start.astimezone(PARIS).date() == in_four_days
    assert any("Rendez-vous déplacé" in m.subject for m in mail.outbox)

    # The scheduler's job, once the reminders are due: the e-mail and the SMS leave.
    planned = list(Reminder.objects.filter(appointment=booked, status="pending"))
    assert {r.channel for r in planned} == {"email", "sms"}
    mail.outbox.clear()
    assert reminders.reminders_send(now=booked.start - timedelta(hours=3)) == 2
    reminder_mail = next(m for m in mail.outbox if m.subject.startswith("Rappel"))
    assert f"/rdv/gerer/{booked.token}/" in reminder_mail.body
    sms_files = list((tmp_path / "sms").glob("*"))
    assert any("Rappel" in f.read_text() for f in sms_files)
    statuses = set(Reminder.objects.filter(appointment=booked).exclude(
        status="cancelled").values_list("status", flat=True))
    assert statuses <= {"sent", "delivered"} and statuses

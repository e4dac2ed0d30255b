"""Reminders: the default French schedule, re-planned by a move, cancelled with the
appointment; sent once by the job (e-mail with no transaction open, SMS through the real SMS
channel and its delivery receipts); their link lets the contact cancel."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.mail.message import sanitize_address
from django.test import Client

from permanence.agenda import selectors, services
from permanence.agenda.models import AppointmentStatus, Reminder, ReminderStatus
from permanence.agenda.reminders import reminders_send
from permanence.channels_sms.models import Sms
from permanence.channels_sms.tests.conftest import (
    TWILIO_SID,
    TWILIO_TOKEN,
    twilio_message_created,
    twilio_post,
    twilio_status_params,
)
from permanence.core import clock
from permanence.payments.stripe_client import open_transactions
from testkit.provider_api import provider_standin

from .conftest import paris

pytestmark = pytest.mark.django_db

SITE = "https://permanence.example.fr"
MOBILE = "+33612345678"
START = paris(2027, 3, 1, 9)  # Monday 09:00, Paris
EMAIL, SMS = "email", "sms"


@pytest.fixture(autouse=True)
def _sms(settings: Any, tmp_path: Any, account: Any) -> None:
    """The SMS channel as the channels_sms tests run it: the file backend, an account
    number; Twilio's settings for the test that switches to it."""
    from permanence.accounts.models import ContactChannel

    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["testserver", "permanence.example.fr"]
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM = "+33180009999"
    ContactChannel.objects.create(account=account, kind="phone", value="+33180000001")


def book(kind: Any, agent: Any, at: Any, *, start: Any = START, email: str = "j@example.org",
         phone: str = MOBILE) -> Any:
    with clock.frozen(at):
        return services.appointment_book(
            actor=agent, kind=kind, start=start, booking=services.Booking(
                contact=services.Contact(name="Jeanne Dupont", email=email, phone=phone)))


def pending(appointment: Any) -> set[tuple[str, Any]]:
    return {(r.channel, r.due_at) for r in
            appointment.reminders.filter(status=ReminderStatus.PENDING)}


def test_booked_more_than_a_week_ahead(kind: Any, agent: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18))
    # SMS two days before; e-mail the day before, two hours before the 24-hour cutoff so
    # its link still works.
    assert pending(a) == {(SMS, START - timedelta(days=2)),
                          (EMAIL, START - timedelta(hours=26))}


def test_booked_three_days_ahead(kind: Any, agent: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 26, 9))
    assert pending(a) == {(SMS, START - timedelta(hours=26)),
                          (EMAIL, START - timedelta(hours=26))}
    assert all(due.astimezone(START.tzinfo).date() == START.date() - timedelta(days=1)
               for _c, due in pending(a))


def test_booked_ten_hours_ahead_gets_none(kind: Any, agent: Any) -> None:
    assert pending(book(kind, agent, START - timedelta(hours=10))) == set()


def test_no_sms_to_a_landline_and_settings_switch_them_off(kind: Any, agent: Any,
                                                          supervisor: Any,
                                                          account: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18), phone="+33145000004")
    assert {c for c, _d in pending(a)} == {EMAIL}
    services.settings_update(actor=supervisor, account_id=account.pk,
                             data={"email_reminder": False, "sms_reminder": False})
    b = book(kind, agent, paris(2027, 2, 20, 18), start=paris(2027, 3, 1, 14))
    assert pending(b) == set()


def test_a_move_replans(kind: Any, agent: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18))
    new = paris(2027, 3, 3, 14)
    with clock.frozen(paris(2027, 2, 22, 10)):
        services.appointment_move(actor=agent, appointment=a, start=new)
    assert pending(a) == {(SMS, new - timedelta(days=2)), (EMAIL, new - timedelta(hours=26))}
    assert a.reminders.filter(status=ReminderStatus.CANCELLED).count() == 2


def test_a_cancel_cancels(kind: Any, agent: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18))
    with clock.frozen(paris(2027, 2, 22, 10)):
        services.appointment_cancel(actor=agent, appointment=a)
    assert pending(a) == set()
    assert a.reminders.filter(status=ReminderStatus.CANCELLED).count() == 2


def test_email_reminder_sent_once_outside_any_transaction(kind: Any, agent: Any,
                                                          account: Any,
                                                          monkeypatch: Any) -> None:
    account.name = "Cabinet Martin, Dupont & Associés"  # a comma: quoted in the From
    account.save()
    a = book(kind, agent, paris(2027, 2, 20, 18), phone="")
    open_during_send: list[list[str]] = []
    original = EmailBackend.send_messages

    def watched(self: Any, messages: Any) -> int:
        open_during_send.append(open_transactions())
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", watched)
    mail.outbox.clear()
    with clock.frozen(START - timedelta(hours=25)):
        assert reminders_send() == 1
        assert reminders_send() == 0  # claimed: the second run finds nothing to send
    assert open_during_send == [[]]
    [message] = mail.outbox
    assert message.to == ["j@example.org"] and message.subject.startswith("Rappel")
    assert f"{SITE}/rdv/gerer/{a.token}/" in message.body
    assert "lundi 1 mars 2027 à 09:00" in message.body
    sanitize_address(message.from_email, "utf-8")  # a valid address for SMTP
    assert "no-reply@permanence.test" in message.from_email
    reminder = a.reminders.get(status=ReminderStatus.SENT)
    assert reminder.channel == EMAIL and reminder.sent_at == START - timedelta(hours=25)


def test_a_failing_smtp_marks_the_reminder_failed(kind: Any, agent: Any,
                                                  monkeypatch: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18), phone="")

    def refuse(self: Any, messages: Any) -> int:
        raise ConnectionRefusedError("SMTP injoignable")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    with clock.frozen(START - timedelta(hours=25)):
        assert reminders_send() == 0
    reminder = a.reminders.get()
    assert reminder.status == ReminderStatus.FAILED and "SMTP injoignable" in reminder.reason


def test_sms_reminder_goes_through_the_sms_channel_and_is_delivered(
        kind: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18), email="")
    with clock.frozen(START - timedelta(days=2) + timedelta(minutes=1)), \
            django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 1
    reminder = a.reminders.get(channel=SMS)
    assert reminder.status == ReminderStatus.DELIVERED and reminder.sent_at
    sms = Sms.objects.get(pk=reminder.sms_id)
    assert sms.to_number == MOBILE and f"{SITE}/rdv/gerer/{a.token}/" in sms.body
    assert sms.ref == f"agenda:reminder:{reminder.pk}"


def test_sms_reminder_failure_receipt_gives_the_reason(
        kind: Any, agent: Any, settings: Any, client: Client,
        django_capture_on_commit_callbacks: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18), email="")
    with provider_standin() as twilio:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_API_BASE = twilio.url
        sid = "SM" + "b" * 32
        twilio.replies.append((201, twilio_message_created(sid, MOBILE, "Rappel")))
        with clock.frozen(START - timedelta(days=2) + timedelta(minutes=1)), \
                django_capture_on_commit_callbacks(execute=True):
            assert reminders_send() == 1
    reminder = a.reminders.get(channel=SMS)
    assert reminder.status == ReminderStatus.SENT and reminder.sent_at
    with django_capture_on_commit_callbacks(execute=True):  # receipts are processed after
        response = twilio_post(client, "/api/v1/sms/twilio/status",
                               twilio_status_params(sid, "undelivered", error_code="30003"))
    assert response.status_code in (200, 204)
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.FAILED and "30003" in reminder.reason


def test_a_reminder_of_a_cancelled_appointment_is_not_sent(kind: Any, agent: Any) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18))
    with clock.frozen(paris(2027, 2, 22, 10)):
        services.appointment_cancel(actor=agent, appointment=a)
    # As if a reminder had been left pending (planned by a concurrent move, say).
    a.reminders.update(status=ReminderStatus.PENDING)
    mail.outbox.clear()
    with clock.frozen(START - timedelta(hours=25)):
        assert reminders_send() == 0
    assert mail.outbox == [] and not Sms.objects.filter(ref__contains="reminder").exists()
    assert set(a.reminders.values_list("status", flat=True)) == {ReminderStatus.CANCELLED}


def test_the_reminders_link_lets_the_contact_cancel(kind: Any, agent: Any,
                                                    client: Client) -> None:
    a = book(kind, agent, paris(2027, 2, 20, 18), phone="")
    mail.outbox.clear()
    when = START - timedelta(hours=26)
    with clock.frozen(when):
        assert reminders_send() == 1
        link = re.search(r"https://\S+/rdv/gerer/\S+/", mail.outbox[0].body).group(0)
        path = link.removeprefix(SITE)
        assert "?action=annuler" in client.get(path).content.decode()
        assert client.post(path, {"action": "cancel"}).status_code == 302
        free = selectors.slots(kind, START, START + timedelta(hours=1))
    a.refresh_from_db()
    assert a.status == AppointmentStatus.CANCELLED
    assert START in [s.start for s in free]
    assert Reminder.objects.filter(appointment=a, status=ReminderStatus.PENDING).count() == 0

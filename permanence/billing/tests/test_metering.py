"""Metering (issue 12): usage recorded from the real work — calls through the telephony
webhook, appointments booked through the agenda, replies through the inbox, forwards — once
each; the 80 % and 100 % alerts e-mailed once per period; the espace client's page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from permanence.agenda import services as agenda
from permanence.billing.metering import meter, minutes_of
from permanence.billing.models import Subscription
from permanence.billing.models_usage import MeteringCursor, UsageAlert, UsageRecord
from permanence.core import clock
from permanence.core.scheduler import REGISTRY
from permanence.desk.models import Call, Forward
from permanence.desk.tests.calls_helpers import event, number_account, post
from permanence.inbox import services as inbox
from permanence.inbox.models import Channel
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_order, mark_checked

from ...agenda.tests.conftest import WEEKDAYS_9_TO_5, paris

pytestmark = pytest.mark.django_db

NOW = paris(2027, 2, 26, 18)
LATER = NOW + timedelta(minutes=10)
MONDAY = (2027, 3, 1)
SLOTS = [(9, 0), (9, 40), (10, 20), (11, 0), (14, 0), (14, 40)]


@pytest.fixture
def kind(account: Any, supervisor: Any) -> Any:
    """A 30-minute consultation with Dr Martin (office hours on weekdays)."""
    practitioner = agenda.resource_create(actor=supervisor, account_id=account.pk, data={
        "name": "Dr Martin", "timezone": "Europe/Paris", "weekly": WEEKDAYS_9_TO_5})
    return agenda.type_create(actor=supervisor, account_id=account.pk, data={
        "name": "Consultation", "duration_minutes": 30, "buffer_after_minutes": 10,
        "min_notice_minutes": 60}, resource_ids=[practitioner.pk])


def records() -> dict[str, tuple[str, Decimal]]:
    return {u.source_id: (u.metric, u.quantity) for u in UsageRecord.objects.all()}


def run_meter(at: Any = LATER) -> dict[str, int]:
    with clock.frozen(at):
        return meter()


def book(consultation: Any, agent: Any, hour: int, minute: int) -> Any:
    with clock.frozen(NOW):
        return agenda.appointment_book(
            actor=agent, kind=consultation, start=paris(*MONDAY, hour, minute),
            booking=agenda.Booking(contact=agenda.Contact(name="Jeanne", email="j@exemple.fr")))


def test_minutes_are_rounded_up_to_the_tenth() -> None:
    assert [minutes_of(s) for s in (None, 0, 1, 6, 7, 60, 63)] == [
        Decimal(0), Decimal(0), Decimal("0.1"), Decimal("0.1"), Decimal("0.2"), Decimal(1),
        Decimal("1.1")]


def test_answered_calls_are_metered_once_missed_ones_never(account: Any, agent: Any) -> None:
    number_account(account)
    client = Client()
    with clock.frozen(NOW):
        for data in (event("ringing", "c1"), event("answered", "c1", at=5, agent=agent.email),
                     event("hangup", "c1", at=70, cause="completed", talk_s=63),
                     event("ringing", "c2"), event("hangup", "c2", at=20, cause="no_answer"),
                     event("ringing", "c3"), event("answered", "c3", at=5,
                                                   agent=agent.email)):
            assert post(client, data).status_code == 200
    c1, c3 = Call.objects.get(call_id="c1"), Call.objects.get(call_id="c3")
    assert run_meter()["calls"] == 2
    assert records() == {f"call:{c1.pk}": ("calls", Decimal(1)),
                         f"call:{c1.pk}:minutes": ("call_minutes", Decimal("1.1"))}
    # c3 is still in progress: kept pending, metered once it ends.
    assert MeteringCursor.objects.get(source="calls").pending == [c3.pk]
    with clock.frozen(NOW):
        assert post(client, event("hangup", "c3", at=65, cause="completed",
                                  talk_s=60)).status_code == 200
    assert run_meter()["calls"] == 2
    assert records()[f"call:{c3.pk}:minutes"] == ("call_minutes", Decimal(1))
    assert run_meter() == {"calls": 0, "forwards": 0, "appointments": 0, "sms_reminders": 0,
                           "replies": 0, "alerts": 0}
    assert MeteringCursor.objects.get(source="calls").pending == []


def test_rows_younger_than_the_lag_wait_for_the_next_run(account: Any, agent: Any) -> None:
    number_account(account)
    with clock.frozen(NOW):
        for data in (event("ringing", "c1"), event("answered", "c1", at=5, agent=agent.email),
                     event("hangup", "c1", at=70, cause="completed", talk_s=63)):
            post(Client(), data)
    assert run_meter(NOW + timedelta(seconds=30))["calls"] == 0
    assert run_meter()["calls"] == 2


def test_a_backfill_from_scratch_counts_nothing_twice(account: Any, agent: Any) -> None:
    number_account(account)
    with clock.frozen(NOW):
        for data in (event("ringing", "c1"), event("answered", "c1", at=5, agent=agent.email),
                     event("hangup", "c1", at=70, cause="completed", talk_s=63)):
            post(Client(), data)
    run_meter()
    MeteringCursor.objects.all().delete()  # the cursors lost: everything read again
    assert run_meter()["calls"] == 0
    with clock.frozen(LATER):
        assert meter(since=NOW - timedelta(days=1))["calls"] == 0
    assert UsageRecord.objects.count() == 2


def test_booked_appointments_are_metered(kind: Any, agent: Any, account: Any) -> None:
    first = book(kind, agent, 9, 0)
    second = book(kind, agent, 9, 40)
    with clock.frozen(NOW):
        agenda.appointment_cancel(actor=agent, appointment=second, reason="Empêché")
    with clock.frozen(NOW):
        held = agenda.appointment_hold(actor=agent, kind=kind, start=paris(*MONDAY, 10, 20))
    assert run_meter()["appointments"] == 1
    assert records() == {f"appointment:{first.pk}": ("appointments", Decimal(1))}
    assert held.pk in MeteringCursor.objects.get(source="appointments").pending


def test_agent_email_replies_are_metered_not_notes_nor_inbound(account: Any,
                                                               agent: Any) -> None:
    with clock.frozen(NOW):
        conversation = inbox.conversation_open(inbox.Incoming(
            account=account, channel=Channel.EMAIL, subject="Demande", body_text="Bonjour",
            contact_email="jean@exemple.fr", contact_name="Jean", acknowledge=False))
        reply = inbox.conversation_reply(actor=agent, conversation=conversation,
                                         body="Bien noté.")
        inbox.conversation_add_note(actor=agent, conversation=conversation, body="Note interne")
    assert run_meter()["replies"] == 1
    assert records() == {f"reply:{reply.pk}": ("emails", Decimal(1))}


def test_a_chat_counts_once_when_a_person_answers_it_not_the_bot(account: Any,
                                                                   agent: Any) -> None:
    from permanence.inbox.models import Direction, Message

    with clock.frozen(NOW):
        chat = inbox.conversation_open(inbox.Incoming(
            account=account, channel=Channel.CHAT, subject="Chat", body_text="Bonjour",
            contact_email="visiteur@exemple.fr", contact_name="Visiteur", acknowledge=False))
        bot = Message.objects.create(conversation=chat, direction=Direction.OUT,
                                     channel=Channel.CHAT, body_text="Réponse de la FAQ",
                                     created_at=clock.now())
        for text in ("Je regarde.", "Voilà le créneau."):
            Message.objects.create(conversation=chat, direction=Direction.OUT,
                                   channel=Channel.CHAT, author=agent, body_text=text,
                                   created_at=clock.now())
    assert bot.author is None
    run_meter()
    assert records() == {f"chat:{chat.pk}": ("chats", Decimal(1))}
    assert run_meter()["replies"] == 0  # replayed: nothing more


def test_forwards_sent_are_messages_and_their_sms_are_sms(account: Any) -> None:
    def forward(channel: str, status: str, sms_id: int | None = None) -> Forward:
        return Forward.objects.create(account=account, recipient_name="Dr Martin",
                                      channel=channel, address="x", status=status,
                                      sms_id=sms_id, created_at=NOW, sent_at=NOW)

    by_mail, by_sms = forward("email", "delivered"), forward("sms", "sent", sms_id=77)
    queued, failed = forward("email", "queued"), forward("sms", "failed", sms_id=78)
    assert run_meter()["forwards"] == 3
    assert records() == {f"forward:{by_mail.pk}": ("messages", Decimal(1)),
                         f"forward:{by_sms.pk}": ("messages", Decimal(1)),
                         "sms:77": ("sms", Decimal(1))}
    assert MeteringCursor.objects.get(source="forwards").pending == [queued.pk]
    Forward.objects.filter(pk=queued.pk).update(status="sent")
    assert run_meter()["forwards"] == 1 and f"forward:{failed.pk}" not in records()


# --- Alerts and the espace client -------------------------------------------------------------


@pytest.fixture
def subscription(account: Any, client_user: Any) -> Subscription:
    account.billing_email = "compta@cabinet-martin.fr"
    account.save(update_fields=["billing_email"])
    with clock.frozen(NOW):
        order = mark_checked(make_order(account, client_user))
        for to in (OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED):
            order_transition(order=order, to=to)
    Subscription.objects.filter(order=order).update(
        included={"appointments": 5}, unit_prices={"appointments": 250},
        current_period_start=timezone.localdate(NOW))
    return Subscription.objects.get(order=order)


def alert_mails() -> list[Any]:
    return [m for m in mail.outbox if m.to == ["compta@cabinet-martin.fr"]]


def test_alerts_at_80_and_100_percent_are_sent_once(
        subscription: Subscription, kind: Any, agent: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    for hour, minute in SLOTS[:4]:
        book(kind, agent, hour, minute)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_meter()["alerts"] == 1
    assert [m.subject for m in alert_mails()] == [
        "Consommation : 80 % de la quantité incluse (rendez-vous pris)"]
    assert "4 sur 5 inclus" in alert_mails()[0].body
    with django_capture_on_commit_callbacks(execute=True):
        book(kind, agent, *SLOTS[4])
        assert run_meter()["alerts"] == 1
        assert run_meter()["alerts"] == 0
    assert len(alert_mails()) == 2
    assert "quantité incluse atteinte" in alert_mails()[1].subject
    with django_capture_on_commit_callbacks(execute=True):
        book(kind, agent, *SLOTS[5])
        assert run_meter()["alerts"] == 0  # over 100 %: nothing new to say
    assert len(alert_mails()) == 2
    assert set(UsageAlert.objects.values_list("metric", "threshold")) == {
        ("appointments", 80), ("appointments", 100)}


def test_the_consumption_page_shows_the_bars_the_overage_and_the_alert(
        subscription: Subscription, kind: Any, agent: Any, client_user: Any) -> None:
    for hour, minute in SLOTS:
        book(kind, agent, hour, minute)
    run_meter()
    client = Client()
    client.force_login(client_user)
    with clock.frozen(LATER):
        response = client.get("/espace/consommation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<progress max="100" value="100"' in html and "120 %" in html
    assert 'data-alert="100"' in html
    assert "2,50" in html and "Dépassement à ce jour" in html  # 1 × 2,50 € beyond 5
    assert "/espace/consommation/" in html  # the nav link


def test_the_job_runs_every_five_minutes() -> None:
    job = REGISTRY["billing.meter"]
    assert job.every == timedelta(minutes=5)

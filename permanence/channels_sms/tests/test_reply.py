"""Replies by SMS from the inbox: the phone-only contact of an SMS (or phone) conversation
gets a real reply form, the reply goes out by SMS from the number they wrote to, and its
badge follows the SMS (« Envoyé », then « Échec » with the reason when the operator could
not deliver it). E-mail stays preferred; a landline or a number that sent STOP gets none."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.test import Client
from django.urls import reverse

from permanence.channels_sms.models import OptOut, Sms, SmsStatus
from permanence.core import clock
from permanence.inbox import reach, services
from permanence.inbox.models import Channel, Conversation, Delivery, Direction, Message
from permanence.inbox.services import Incoming

from .conftest import (
    ACCOUNT_NUMBER,
    CONTACT_NUMBER,
    brevo_event,
    brevo_post,
    twilio_inbound_params,
    twilio_message_created,
    twilio_post,
    twilio_status_params,
)

pytestmark = pytest.mark.django_db


def _sms_conversation(client: Client, capture: Any) -> Conversation:
    with capture(execute=True):
        twilio_post(client, "/api/v1/sms/twilio/inbound",
                    twilio_inbound_params("Bonjour, mon rendez-vous tient toujours ?",
                                          sid="SM" + "f" * 32))
    return Conversation.objects.get()


def _page(agent: Any, conversation: Conversation) -> str:
    browser = Client()
    browser.force_login(agent)
    return html.unescape(browser.get(reverse("inbox:detail", args=[conversation.pk]))
                         .content.decode())


def _reply(agent: Any, conversation: Conversation, capture: Any) -> Message:
    browser = Client()
    browser.force_login(agent)
    with capture(execute=True):
        response = browser.post(reverse("inbox:reply", args=[conversation.pk]),
                                {"body": "Oui, jeudi 10 h, à bientôt."})
    assert response.status_code in (200, 302)
    return conversation.messages.get(direction=Direction.OUT)


def test_phone_only_contact_is_answered_by_sms(sms_account: Any, agent: Any, client: Client,
                                               sms_settings: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    conversation = _sms_conversation(client, django_capture_on_commit_callbacks)
    assert reach.reply_channels(conversation) == [reach.Route("sms", CONTACT_NUMBER)]
    page = _page(agent, conversation)
    assert f'action="/app/boite/{conversation.pk}/repondre/"' in page
    reply = _reply(agent, conversation, django_capture_on_commit_callbacks)
    assert reply.data["via"] == "sms"
    assert reply.delivery_status == Delivery.SENT
    sms = Sms.objects.get(ref=f"inbox.reply:{reply.pk}")
    assert sms.status == SmsStatus.DELIVERED  # file backend
    assert (sms.from_number, sms.to_number) == (ACCOUNT_NUMBER, CONTACT_NUMBER)
    assert sms.body.startswith("Oui, jeudi 10 h, à bientôt.")
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None
    # The file backend reports each SMS delivered as it writes it (the demo's operator).
    reply.refresh_from_db()
    assert reply.delivered_at == sms.delivered_at
    badge = _badge(_page(agent, conversation))
    assert 'data-delivery="delivered"' in badge and ">Délivré<" in badge


def test_failed_delivery_receipt_turns_the_badge_to_failure(
        sms_account: Any, agent: Any, client: Client, sms_settings: Any, provider_api: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    conversation = _sms_conversation(client, django_capture_on_commit_callbacks)
    sms_settings.SMS_BACKEND = "twilio"
    sms_settings.TWILIO_API_BASE = provider_api.url
    sid = "SM" + "9" * 32
    provider_api.replies.append((201, twilio_message_created(sid, CONTACT_NUMBER, "x")))
    reply = _reply(agent, conversation, django_capture_on_commit_callbacks)
    assert reply.delivery_status == Delivery.SENT
    sent = parse_qs(provider_api.requests[0].body.decode())
    assert sent["From"] == [ACCOUNT_NUMBER] and sent["To"] == [CONTACT_NUMBER]
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post(client, "/api/v1/sms/twilio/status",
                    twilio_status_params(sid, "undelivered", error_code="30003"))
    reply.refresh_from_db()
    assert reply.delivery_status == Delivery.FAILED
    assert reply.delivery_error == "Numéro injoignable (30003)"
    page = _page(agent, conversation)
    assert 'data-delivery="failed"' in page and "Numéro injoignable (30003)" in page


def _badge(page: str) -> str:
    """The reply's delivery badge: the only one on a conversation with one reply."""
    match = re.search(r'<span class="badge \w+" data-delivery="[^"]*"[^>]*>[^<]*</span>', page)
    assert match, "no delivery badge"
    return match.group(0)


def _twilio_reply(agent: Any, client: Client, sms_settings: Any, provider_api: Any,
                  capture: Any, sid: str) -> tuple[Conversation, Message]:
    conversation = _sms_conversation(client, capture)
    sms_settings.SMS_BACKEND = "twilio"
    sms_settings.TWILIO_API_BASE = provider_api.url
    provider_api.replies.append((201, twilio_message_created(sid, CONTACT_NUMBER, "x")))
    return conversation, _reply(agent, conversation, capture)


def test_twilio_receipts_move_the_badge_to_delivered(
        sms_account: Any, agent: Any, client: Client, sms_settings: Any, provider_api: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    sid = "SM" + "7" * 32
    conversation, reply = _twilio_reply(agent, client, sms_settings, provider_api,
                                        django_capture_on_commit_callbacks, sid)
    assert 'data-delivery="sent">Envoyé<' in _badge(_page(agent, conversation))
    for status in ("queued", "sent"):  # taken by the operator: not delivered yet
        with django_capture_on_commit_callbacks(execute=True):
            twilio_post(client, "/api/v1/sms/twilio/status", twilio_status_params(sid, status))
        assert 'data-delivery="sent">Envoyé<' in _badge(_page(agent, conversation)), status
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post(client, "/api/v1/sms/twilio/status", twilio_status_params(sid, "delivered"))
    sms = Sms.objects.get(ref=f"inbox.reply:{reply.pk}")
    reply.refresh_from_db()
    assert reply.delivery_status == Delivery.SENT and reply.delivered_at == sms.delivered_at
    badge = _badge(_page(agent, conversation))
    assert 'data-delivery="delivered"' in badge and ">Délivré<" in badge
    assert 'title="Délivré au destinataire le ' in badge
    # A contradictory late receipt does not undo a delivery (delivered is final).
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post(client, "/api/v1/sms/twilio/status",
                    twilio_status_params(sid, "undelivered", error_code="30003"))
    reply.refresh_from_db()
    assert reply.delivery_status == Delivery.SENT and reply.delivered_at is not None


def test_a_failed_reply_never_reads_delivered(
        sms_account: Any, agent: Any, client: Client, sms_settings: Any, provider_api: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    sid = "SM" + "6" * 32
    conversation, reply = _twilio_reply(agent, client, sms_settings, provider_api,
                                        django_capture_on_commit_callbacks, sid)
    for status in ("failed", "delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            twilio_post(client, "/api/v1/sms/twilio/status",
                        twilio_status_params(sid, status, error_code="30005"))
    reply.refresh_from_db()
    assert reply.delivery_status == Delivery.FAILED and reply.delivered_at is None
    badge = _badge(_page(agent, conversation))
    assert 'data-delivery="failed">Échec<' in badge
    assert "Numéro inconnu ou inexistant (30005)" in _page(agent, conversation)


@pytest.mark.parametrize(("event", "badge", "shown"), [
    ("delivered", 'data-delivery="delivered"', "Délivré"),
    ("hard_bounce", 'data-delivery="failed"', "Numéro injoignable ou invalide (invalid)"),
])
def test_brevo_receipts_reach_the_badge(
        event: str, badge: str, shown: str, sms_account: Any, agent: Any, client: Client,
        sms_settings: Any, provider_api: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    conversation = _sms_conversation(client, django_capture_on_commit_callbacks)
    sms_settings.SMS_BACKEND = "brevo"
    sms_settings.BREVO_API_BASE = provider_api.url
    provider_api.replies.append((201, {"reference": "ab1cde2fgh3i4jklmno",
                                       "messageId": 1511882900176221, "smsCount": 1,
                                       "usedCredits": 0.7, "remainingCredits": 82.85}))
    _reply(agent, conversation, django_capture_on_commit_callbacks)
    extra = {"description": "invalid"} if event == "hard_bounce" else {}
    with django_capture_on_commit_callbacks(execute=True):
        assert brevo_post(client, brevo_event(1511882900176221, "sent")).status_code == 200
        assert brevo_post(client, brevo_event(1511882900176221, event,
                                              **extra)).status_code == 200
    page = _page(agent, conversation)
    assert badge in _badge(page) and shown in page


def test_refused_by_the_provider_fails_the_reply_without_a_second_sms(
        sms_account: Any, agent: Any, client: Client, sms_settings: Any, provider_api: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    conversation = _sms_conversation(client, django_capture_on_commit_callbacks)
    sms_settings.SMS_BACKEND = "twilio"
    sms_settings.TWILIO_API_BASE = provider_api.url
    provider_api.replies.append((400, {"code": 21610, "message": "Attempt to send to "
                                       "unsubscribed recipient", "status": 400}))
    reply = _reply(agent, conversation, django_capture_on_commit_callbacks)
    reply.refresh_from_db()
    assert reply.delivery_status == Delivery.FAILED
    assert "(21610)" in reply.delivery_error
    # The inbox's retry (its sweep) finds the SMS failed: nothing is sent again.
    from permanence.inbox.tasks import deliver_message

    Message.objects.filter(pk=reply.pk).update(delivery_status=Delivery.PENDING)
    assert deliver_message.call(reply.pk, 2) in ("retry", "superseded", "failed")
    assert len(provider_api.requests) == 1


def test_email_stays_preferred_and_stop_or_landline_close_the_sms_route(
        sms_account: Any) -> None:
    with clock.frozen(clock.now()):
        both = services.conversation_open(Incoming(
            account=sms_account, channel=Channel.SMS, subject="SMS", body_text="Bonjour",
            contact_phone=CONTACT_NUMBER, contact_email="jean@exemple.fr", acknowledge=False))
    assert [r.channel for r in reach.reply_channels(both)] == ["email", "sms"]
    landline = services.conversation_open(Incoming(
        account=sms_account, channel=Channel.PHONE, subject="Appel", body_text="Rappeler",
        contact_phone="+33145000004", acknowledge=False))
    assert reach.reply_channels(landline) == []
    mobile = services.conversation_open(Incoming(
        account=sms_account, channel=Channel.PHONE, subject="Appel", body_text="Rappeler",
        contact_phone="+33698765432", acknowledge=False))
    assert reach.reply_channels(mobile) == [reach.Route("sms", "+33698765432")]
    OptOut.objects.create(account=sms_account, number="+33698765432", keyword="STOP",
                          created_at=clock.now())
    assert reach.reply_channels(mobile) == []
    webform = services.conversation_open(Incoming(
        account=sms_account, channel=Channel.WEBFORM, subject="Formulaire",
        body_text="Bonjour", contact_phone="+33611111111", acknowledge=False))
    assert reach.reply_channels(webform) == []  # only SMS and phone conversations

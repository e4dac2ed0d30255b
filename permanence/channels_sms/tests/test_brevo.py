"""Brevo transactional SMS: the API call (to a local stand-in of api.brevo.com), and its
webhook checked Brevo's way (the bearer token — or basic-auth password — set on the webhook;
Brevo does not sign): receipts, failures with a French reason, duplicates, replies to our
SMS becoming inbox messages of the account that sent it, and Brevo's unsubscribe."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.db import transaction

from permanence.channels_sms.models import OptOut, Sms, SmsEvent, SmsStatus
from permanence.core import sms
from permanence.inbox.models import Conversation

from .conftest import BREVO_TOKEN, CONTACT_NUMBER, brevo_event, brevo_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def brevo(sms_settings: Any, provider_api: Any) -> Any:
    sms_settings.SMS_BACKEND = "brevo"
    sms_settings.BREVO_API_BASE = provider_api.url
    return provider_api


def _send(account: Any, capture: Any, body: str = "Votre devis est prêt 🙂") -> Sms:
    with capture(execute=True), transaction.atomic():
        sms_id = sms.sms_send(to=CONTACT_NUMBER, body=body, account_id=account.pk,
                              ref="test.brevo:1")
    return Sms.objects.get(pk=sms_id)


def test_send_calls_the_transactional_sms_api(sms_account: Any, brevo: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:
    brevo.replies.append((201, {"reference": "ab1cde2fgh3i4jklmno", "messageId": 1511882900176220,
                                "smsCount": 1, "usedCredits": 0.7, "remainingCredits": 82.85}))
    row = _send(sms_account, django_capture_on_commit_callbacks)
    assert row.status == SmsStatus.SENT and row.provider_message_id == "1511882900176220"
    request = brevo.requests[0]
    assert request.path == "/v3/transactionalSMS/sms"
    assert request.headers["api-key"] == "xkeysib-test"
    sent = json.loads(request.body)
    assert sent["recipient"] == "33612345678" and sent["sender"] == "Permanence"
    assert sent["type"] == "transactional" and sent["unicodeEnabled"] is True  # the emoji
    assert sent["webUrl"] == "https://permanence.example.fr/api/v1/sms/brevo/events"


def test_refusal_by_brevo_fails_the_sms(sms_account: Any, brevo: Any,
                                        django_capture_on_commit_callbacks: Any) -> None:
    brevo.replies.append((400, {"code": "invalid_parameter",
                                "message": "recipient is not valid"}))
    row = _send(sms_account, django_capture_on_commit_callbacks)
    assert row.status == SmsStatus.FAILED
    assert row.reason == "Refusé par Brevo : recipient is not valid"


def _sent_sms(account: Any, message_id: int) -> Sms:
    from permanence.core import clock

    return Sms.objects.create(
        direction="out", account=account, from_number="Permanence", to_number=CONTACT_NUMBER,
        body="Votre rendez-vous est confirmé", encoding="GSM-7", status=SmsStatus.SENT,
        provider="brevo", provider_message_id=str(message_id), ref="test.brevo:2",
        created_at=clock.now(), sent_at=clock.now())


def test_receipts_and_duplicates(sms_account: Any, client: Any,
                                 django_capture_on_commit_callbacks: Any) -> None:
    row = _sent_sms(sms_account, 123)
    heard: list[tuple[str, str, str]] = []

    def listener(ref: str, status: str, reason: str) -> None:
        heard.append((ref, status, reason))

    sms.sms_status_listen("test.brevo:", listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            first = brevo_post(client, brevo_event(123, "delivered"))
            second = brevo_post(client, [brevo_event(123, "delivered")])  # batched, again
        assert first.status_code == 200 and first.json() == {"received": 1, "duplicates": 0}
        assert second.json() == {"received": 1, "duplicates": 1}
        row.refresh_from_db()
        assert row.status == SmsStatus.DELIVERED
        assert heard == [("test.brevo:2", "delivered", "")]
        assert SmsEvent.objects.count() == 1
    finally:
        sms._LISTENERS.remove(("test.brevo:", listener))


def test_hard_bounce_fails_with_a_french_reason(sms_account: Any, client: Any,
                                                django_capture_on_commit_callbacks: Any) -> None:
    row = _sent_sms(sms_account, 456)
    with django_capture_on_commit_callbacks(execute=True):
        brevo_post(client, brevo_event(456, "hard_bounce", description="Unknown subscriber"))
    row.refresh_from_db()
    assert row.status == SmsStatus.FAILED
    assert row.reason == "Numéro injoignable ou invalide (Unknown subscriber)"


def test_token_is_required(sms_account: Any, client: Any, sms_settings: Any) -> None:
    _sent_sms(sms_account, 789)
    assert brevo_post(client, brevo_event(789, "delivered"), token="").status_code == 403
    assert brevo_post(client, brevo_event(789, "delivered"),
                      token="wrong").status_code == 403
    basic = base64.b64encode(f"brevo:{BREVO_TOKEN}".encode()).decode()
    wrong_basic = base64.b64encode(b"brevo:nope").decode()
    refused = client.post("/api/v1/sms/brevo/events", json.dumps(brevo_event(789, "sent")),
                          content_type="application/json",
                          HTTP_AUTHORIZATION=f"Basic {wrong_basic}")
    assert refused.status_code == 403
    assert not SmsEvent.objects.exists()
    accepted = client.post("/api/v1/sms/brevo/events", json.dumps(brevo_event(789, "sent")),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert accepted.status_code == 200
    # Not configured at all: nobody gets in.
    sms_settings.BREVO_WEBHOOK_TOKEN = ""
    assert brevo_post(client, brevo_event(789, "delivered")).status_code == 403


def test_reply_becomes_a_conversation_of_the_sending_account(
        sms_account: Any, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    _sent_sms(sms_account, 321)
    with django_capture_on_commit_callbacks(execute=True):
        response = brevo_post(client, brevo_event(321, "replied", reply="Merci, c'est noté"))
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.account == sms_account and conversation.channel == "sms"
    assert conversation.contact.phone == CONTACT_NUMBER
    assert conversation.messages.get().body_text == "Merci, c'est noté"


def test_unsubscribe_event_opts_the_number_out(sms_account: Any, client: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    _sent_sms(sms_account, 654)
    with django_capture_on_commit_callbacks(execute=True):
        brevo_post(client, brevo_event(654, "unsubscribe"))
    assert OptOut.objects.filter(account=sms_account, number=CONTACT_NUMBER).exists()

"""Twilio Messaging: the signature scheme (Twilio's own published test vectors), the status
callback webhook (bad signature → 403 and nothing stored, receipts move the SMS forward
only, duplicates have one effect, a failure's reason in French for the listener), and the
Messages API call made to a local stand-in of api.twilio.com."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.db import transaction

from permanence.channels_sms.models import Sms, SmsEvent, SmsStatus
from permanence.core import sms
from permanence.core.twilio_signature import twilio_signature, twilio_valid

from .conftest import (
    CONTACT_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    twilio_message_created,
    twilio_post,
    twilio_status_params,
)

pytestmark = pytest.mark.django_db

STATUS_URL = "/api/v1/sms/twilio/status"

# The vectors of Twilio's request validator tests (twilio-python, RequestValidator).
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
                 "To": "+18005551212", "Caller": "+14158675309"}


def test_signature_matches_twilios_published_vectors() -> None:
    assert twilio_signature(VECTOR_URL, VECTOR_PARAMS.items(), "12345") == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                ("Digits", "1234")]
    assert twilio_signature(VECTOR_URL, repeated, "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    # Signed with the default port written out, or with a port Twilio did not sign.
    assert twilio_valid(VECTOR_URL, VECTOR_PARAMS.items(), "kvajT1Ptam85bY51eRf/AJRuM3w=",
                        "12345")
    assert twilio_valid(VECTOR_URL.replace(".com", ".com:1234"), VECTOR_PARAMS.items(),
                        "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert not twilio_valid(VECTOR_URL, VECTOR_PARAMS.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                            "54321")
    assert not twilio_valid(VECTOR_URL, {**VECTOR_PARAMS, "Digits": "9"}.items(),
                            "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")


@pytest.fixture
def twilio(sms_settings: Any, provider_api: Any) -> Any:
    sms_settings.SMS_BACKEND = "twilio"
    sms_settings.TWILIO_API_BASE = provider_api.url
    return provider_api


def _send(account: Any, capture: Any, ref: str = "test.twilio:1",
          body: str = "Votre colis est arrivé") -> Sms:
    with capture(execute=True), transaction.atomic():
        sms_id = sms.sms_send(to=CONTACT_NUMBER, body=body, account_id=account.pk, ref=ref)
    return Sms.objects.get(pk=sms_id)


def test_send_posts_to_the_messages_api(sms_account: Any, twilio: Any,
                                        django_capture_on_commit_callbacks: Any) -> None:
    twilio.replies.append((201, twilio_message_created("SM" + "a" * 32, CONTACT_NUMBER,
                                                       "Votre colis est arrivé")))
    row = _send(sms_account, django_capture_on_commit_callbacks)
    assert row.status == SmsStatus.SENT
    assert row.provider == "twilio" and row.provider_message_id == "SM" + "a" * 32
    request = twilio.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    form = parse_qs(request.body.decode())
    assert form["To"] == [CONTACT_NUMBER] and form["From"] == ["+33180009999"]
    assert form["Body"] == ["Votre colis est arrivé"]
    assert form["StatusCallback"] == ["https://permanence.example.fr/api/v1/sms/twilio/status"]


def test_refused_number_fails_at_once_with_the_reason(sms_account: Any, twilio: Any,
                                                      django_capture_on_commit_callbacks: Any,
                                                      ) -> None:
    twilio.replies.append((400, {"code": 21211, "message": "The 'To' number is not valid.",
                                 "more_info": "https://www.twilio.com/docs/errors/21211",
                                 "status": 400}))
    row = _send(sms_account, django_capture_on_commit_callbacks)
    assert row.status == SmsStatus.FAILED
    assert row.reason == "Numéro invalide (21211)"
    assert len(twilio.requests) == 1  # permanent: no retry


def test_unreachable_api_is_retried_not_failed(sms_account: Any, twilio: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    twilio.replies.append((503, {"message": "Service Unavailable"}))
    row = _send(sms_account, django_capture_on_commit_callbacks)
    assert row.status == SmsStatus.QUEUED and row.attempts == 1
    assert row.last_error and row.claimed_at is None


def test_status_callback_moves_forward_once(sms_account: Any, twilio: Any, client: Any,
                                            django_capture_on_commit_callbacks: Any) -> None:
    heard: list[tuple[str, str, str]] = []

    def listener(ref: str, status: str, reason: str) -> None:
        heard.append((ref, status, reason))

    sms.sms_status_listen("test.twilio:", listener)
    try:
        sid = "SM" + "b" * 32
        twilio.replies.append((201, twilio_message_created(sid, CONTACT_NUMBER, "x")))
        row = _send(sms_account, django_capture_on_commit_callbacks)
        assert heard == [("test.twilio:1", "sent", "")]
        with django_capture_on_commit_callbacks(execute=True):
            delivered = twilio_post(client, STATUS_URL, twilio_status_params(sid, "delivered"))
            again = twilio_post(client, STATUS_URL, twilio_status_params(sid, "delivered"))
            late = twilio_post(client, STATUS_URL, twilio_status_params(sid, "sent"))
        assert delivered.status_code == 200 and delivered.json() == {"received": 1,
                                                                     "duplicates": 0}
        assert again.json()["duplicates"] == 1
        assert late.status_code == 200
        row.refresh_from_db()
        assert row.status == SmsStatus.DELIVERED and row.delivered_at
        assert SmsEvent.objects.filter(provider="twilio").count() == 2
        assert heard == [("test.twilio:1", "sent", ""), ("test.twilio:1", "delivered", "")]
    finally:
        sms._LISTENERS.remove(("test.twilio:", listener))


def test_undelivered_receipt_gives_the_french_reason(sms_account: Any, twilio: Any,
                                                     client: Any,
                                                     django_capture_on_commit_callbacks: Any,
                                                     ) -> None:
    heard: list[tuple[str, str, str]] = []

    def listener(ref: str, status: str, reason: str) -> None:
        heard.append((ref, status, reason))

    sms.sms_status_listen("test.twilio:", listener)
    try:
        sid = "SM" + "c" * 32
        twilio.replies.append((201, twilio_message_created(sid, CONTACT_NUMBER, "x")))
        row = _send(sms_account, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            twilio_post(client, STATUS_URL, twilio_status_params(sid, "undelivered",
                                                                 error_code="30003"))
        row.refresh_from_db()
        assert row.status == SmsStatus.FAILED
        assert heard[-1] == ("test.twilio:1", "failed", "Numéro injoignable (30003)")
        assert sms.sms_status(row.pk) == ("failed", "Numéro injoignable (30003)")
    finally:
        sms._LISTENERS.remove(("test.twilio:", listener))


def test_bad_or_missing_signature_is_refused_and_nothing_stored(client: Any) -> None:
    params = twilio_status_params("SM" + "d" * 32, "delivered")
    forged = twilio_post(client, STATUS_URL, params, token="not-the-token")
    missing = client.post(STATUS_URL, params)
    tampered = twilio_post(client, STATUS_URL, params,
                           signature=twilio_signature("https://permanence.example.fr"
                                                      + STATUS_URL,
                                                      {**params, "MessageStatus": "sent"}
                                                      .items(), TWILIO_TOKEN))
    for response in (forged, missing, tampered):
        assert response.status_code == 403
        assert response.json()["code"] == "bad_signature"
    assert not SmsEvent.objects.exists()


def test_receipt_before_our_own_record_is_kept_and_applied_later(
        sms_account: Any, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Twilio may call back before the worker has recorded the SMS id: the event is stored,
    its processing fails, and the scheduler job applies it once the SMS is known."""
    from datetime import timedelta

    from permanence.channels_sms.events import events_reprocess_pending
    from permanence.channels_sms.services import sms_sent
    from permanence.core import clock

    row = Sms.objects.create(direction="out", account=sms_account, to_number=CONTACT_NUMBER,
                             body="x", encoding="GSM-7", status=SmsStatus.QUEUED,
                             provider="twilio", created_at=clock.now())
    sid = "SM" + "e" * 32
    with django_capture_on_commit_callbacks(execute=True):
        assert twilio_post(client, STATUS_URL,
                           twilio_status_params(sid, "delivered")).status_code == 200
    event = SmsEvent.objects.get()
    assert event.processed_at is None and "LookupError" in event.last_error
    sms_sent(sms=row, provider_message_id=sid)
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        assert events_reprocess_pending() == 1
    row.refresh_from_db()
    assert row.status == SmsStatus.DELIVERED

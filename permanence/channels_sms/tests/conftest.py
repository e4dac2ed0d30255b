"""SMS test support: the demo file backend in a temporary folder, an account with its own
number, and a local HTTP server standing in for the providers' APIs (the only thing mocked:
the HTTP boundary; requests are recorded as they arrive on the wire)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from permanence.core.twilio_signature import twilio_signature
from testkit.provider_api import StandIn, provider_standin

ACCOUNT_NUMBER = "+33180000001"
CONTACT_NUMBER = "+33612345678"
TWILIO_SID = "AC" + "0" * 30 + "ab"
TWILIO_TOKEN = "twilio-test-auth-token"
BREVO_TOKEN = "brevo-webhook-test-token"
SITE = "https://permanence.example.fr"


@pytest.fixture(autouse=True)
def sms_settings(settings: Any, tmp_path: Any) -> Any:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["permanence.example.fr", "testserver", "127.0.0.1"]
    settings.TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_FROM = "+33180009999"
    settings.BREVO_API_KEY = "xkeysib-test"
    settings.BREVO_WEBHOOK_TOKEN = BREVO_TOKEN
    return settings


@pytest.fixture
def sms_account(account: Any) -> Any:
    from permanence.accounts.models import ContactChannel

    ContactChannel.objects.create(account=account, kind="phone", value=ACCOUNT_NUMBER)
    return account


@pytest.fixture
def provider_api() -> Iterator[StandIn]:
    with provider_standin() as stand_in:
        yield stand_in


def twilio_post(client: Client, path: str, params: dict[str, str], *,
                token: str = TWILIO_TOKEN, signature: str | None = None) -> Any:
    """POST a form as Twilio does, signed for the public URL (SITE_URL + path)."""
    if signature is None:
        signature = twilio_signature(SITE + path, params.items(), token)
    return client.post(path, urlencode(params), content_type="application/x-www-form-urlencoded",
                       HTTP_X_TWILIO_SIGNATURE=signature)


def twilio_inbound_params(body: str, *, sid: str, from_number: str = CONTACT_NUMBER,
                          to_number: str = ACCOUNT_NUMBER) -> dict[str, str]:
    """The form Twilio posts for an incoming SMS (its documented parameters)."""
    return {
        "ToCountry": "FR", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received",
        "FromCity": "", "Body": body, "FromCountry": "FR", "To": to_number,
        "MessagingServiceSid": "", "ToZip": "", "NumSegments": "1", "MessageSid": sid,
        "AccountSid": TWILIO_SID, "From": from_number, "ApiVersion": "2010-04-01",
    }


def twilio_status_params(sid: str, status: str, *, error_code: str = "",
                         to_number: str = CONTACT_NUMBER) -> dict[str, str]:
    """The form of Twilio's StatusCallback for an outgoing message."""
    params = {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": to_number,
              "MessageSid": sid, "AccountSid": TWILIO_SID, "From": "+33180009999",
              "ApiVersion": "2010-04-01"}
    if error_code:
        params["ErrorCode"] = error_code
    return params


def twilio_message_created(sid: str, to: str, body: str) -> dict[str, Any]:
    """Twilio's 201 answer to POST .../Messages.json (abridged to its documented fields)."""
    return {
        "account_sid": TWILIO_SID, "api_version": "2010-04-01", "body": body,
        "date_created": "Fri, 04 Dec 2026 19:00:00 +0000", "date_sent": None,
        "date_updated": "Fri, 04 Dec 2026 19:00:00 +0000", "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": "+33180009999",
        "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None,
        "price_unit": "EUR", "sid": sid, "status": "queued", "to": to,
        "uri": f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json",
    }


def brevo_post(client: Client, payload: Any, *, token: str = BREVO_TOKEN) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/sms/brevo/events", json.dumps(payload),
                       content_type="application/json", **headers)


def brevo_event(message_id: int, status: str, *, to: str = "33612345678",
                **extra: Any) -> dict[str, Any]:
    """A Brevo transactional SMS webhook (the fields of Brevo's documentation)."""
    return {"id": 26570, "to": to, "sms_count": 1, "credits_used": 0.045,
            "messageId": message_id, "remaining_credit": 11488.845, "msg_status": status,
            "date": "2026-12-04 20:00:00", "type": "transactional", "status": "OK",
            "reference": {"1": "ab12cd34ef"}, "ts_event": 1796414400, "tag": "permanence",
            **extra}

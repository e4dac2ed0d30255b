"""Property tests of the SMS providers' webhooks (issue 15's robustness suite): whatever a
provider — or someone holding its credentials — posts, signed the provider's real way
(X-Twilio-Signature, Brevo's bearer token) and sent through the real view, the answer is a
result or a 4xx naming the problem, never a 5xx; a well-formed event is stored before it is
acknowledged, and its replay stores nothing more."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from permanence.channels_sms.models import SmsEvent
from permanence.core.wire_json import storable

from .conftest import BREVO_TOKEN, brevo_event, twilio_inbound_params, twilio_post

pytestmark = pytest.mark.django_db

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
STATUS = "/api/v1/sms/twilio/status"
INBOUND = "/api/v1/sms/twilio/inbound"
BREVO = "/api/v1/sms/brevo/events"

# Form values as the wire carries them: any text (a NUL, emoji, right-to-left marks…), and
# the values Twilio really sends.
values = st.text(max_size=40) | st.sampled_from(
    ["SM" + "0" * 32, "queued", "sent", "delivered", "undelivered", "failed", "received",
     "+33612345678", "+33180000001", "30005", "", " "])
TWILIO_KEYS = ["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "From", "To", "Body",
               "ErrorCode", "AccountSid", "NumMedia", "NumSegments", "ApiVersion"]
forms = st.dictionaries(st.sampled_from(TWILIO_KEYS) | st.text(min_size=1, max_size=12),
                        values, max_size=10)

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                | st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)
BREVO_EVENTS = ["sent", "delivered", "soft_bounce", "hard_bounce", "replied", "reply",
                "unsubscribe", "accepted", "rejected", "blocked", ""]
brevo_objects = st.fixed_dictionaries(
    {"messageId": st.integers() | st.text(max_size=12) | st.none(),
     "msg_status": st.sampled_from(BREVO_EVENTS) | st.text(max_size=10)},
    optional={"event": st.sampled_from(BREVO_EVENTS) | json_values,
              "to": st.sampled_from(["33612345678", ""]) | json_values,
              "reply": st.text(max_size=30) | json_values, "text": json_values,
              "ts_event": st.integers() | json_values, "date": json_values})


def _named_refusal(response: Any) -> None:
    """A 4xx whose JSON says what is wrong (its code and message)."""
    assert 400 <= response.status_code < 500, response.status_code
    body = response.json()
    assert body["code"] and body["message"]


def _twilio(client: Client, path: str, params: dict[str, str], key: str | None) -> None:
    SmsEvent.objects.all().delete()  # each example starts from nothing
    first = twilio_post(client, path, params)
    if key is None:
        _named_refusal(first)
        assert not SmsEvent.objects.exists()
        return
    assert first.status_code == 200, first.content[:300]
    # Stored before the 200, with what was posted.
    stored = SmsEvent.objects.get()
    # (a NUL, which PostgreSQL cannot keep, marked U+FFFD)
    assert stored.event_key == storable(key)[:120] and stored.provider == "twilio"
    again = twilio_post(client, path, params)
    assert again.status_code == 200
    assert SmsEvent.objects.count() == 1
    if path == STATUS:
        assert (first.json(), again.json()) == ({"received": 1, "duplicates": 0},
                                                {"received": 1, "duplicates": 1})


@FAST
@given(params=forms)
@example(params={"MessageSid": "SM1", "MessageStatus": "delivered\x00"})
@example(params={"MessageSid": "SM1" * 60, "MessageStatus": "sent"})
def test_any_twilio_status_callback_is_stored_once_or_refused(client: Client,
                                                               params: dict[str, str]) -> None:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    _twilio(client, STATUS, params, f"{sid}:{status}" if sid and status else None)


@FAST
@given(params=forms)
@example(params=twilio_inbound_params("Bonjour\x00", sid="SM2"))
@example(params=twilio_inbound_params("", sid="SM3", from_number="pas un numéro"))
def test_any_twilio_inbound_sms_is_stored_once_or_refused(client: Client,
                                                           params: dict[str, str]) -> None:
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    ok = sid and params.get("From") and params.get("To")
    _twilio(client, INBOUND, params, sid if ok else None)


def _brevo_post_raw(client: Client, body: bytes) -> Any:
    return client.post(BREVO, body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {BREVO_TOKEN}")


@FAST
@given(body=json_values | brevo_objects | st.lists(brevo_objects, max_size=4))
@example(body=brevo_event(1, "delivered", reply="\x00"))
@example(body=brevo_event(2, "replied", reply="\ud800"))
@example(body=brevo_event(3, "delivered", ts_event=float("inf")))
@example(body=[brevo_event(4, "delivered"), brevo_event(4, "delivered")])
def test_any_brevo_webhook_is_stored_once_or_refused(client: Client, body: Any) -> None:
    SmsEvent.objects.all().delete()
    raw = json.dumps(body).encode()
    first = _brevo_post_raw(client, raw)
    if first.status_code != 200:
        _named_refusal(first)
        assert not SmsEvent.objects.exists()
        return
    events = body if isinstance(body, list) else [body]
    answer = first.json()
    assert answer["received"] == len(events)
    stored = SmsEvent.objects.count()
    assert stored == answer["received"] - answer["duplicates"] >= 1
    again = _brevo_post_raw(client, raw)
    assert again.status_code == 200
    assert again.json() == {"received": len(events), "duplicates": len(events)}
    assert SmsEvent.objects.count() == stored


@FAST
@given(body=st.binary(max_size=300))
@example(body=b"\xff\xfe")
@example(body=b'{"messageId": 1, "event": "delivered", "x": NaN}')
def test_brevo_bytes_of_any_kind_are_refused_or_stored(client: Client, body: bytes) -> None:
    SmsEvent.objects.all().delete()
    response = _brevo_post_raw(client, body)
    if response.status_code == 200:
        assert SmsEvent.objects.exists()
    else:
        _named_refusal(response)
        assert not SmsEvent.objects.exists()

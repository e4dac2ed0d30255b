"""POST /api/v1/telephony/events: the signature (missing, wrong, stale → 401, nothing stored),
validation (422 with field errors), storage before the answer, duplicates without a second
effect."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import time_machine

from permanence.desk.models import Call, CallEvent, CallState
from permanence.desk.signature import signature_header, signature_valid

from .calls_helpers import NUMBER, event, number_account, post

pytestmark = pytest.mark.django_db


def test_a_signed_event_is_stored_and_processed(client: Any, account: Any) -> None:
    number_account(account)
    response = post(client, event("ringing"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["received"] is True and body["duplicate"] is False
    call = Call.objects.get(call_id="c1")
    assert body["call"] == call.pk
    assert call.account == account and call.to_number == NUMBER
    assert call.state == CallState.RINGING
    assert CallEvent.objects.get().processed_at is not None


@pytest.mark.parametrize("header", [None, "", "t=abc,v1=00", "v1=deadbeef",
                                    "t=1700000000,v1=" + "0" * 64])
def test_missing_or_malformed_signature_is_401_and_nothing_stored(
        client: Any, account: Any, header: str | None) -> None:
    response = post(client, event("ringing"), header=header)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert not CallEvent.objects.exists() and not Call.objects.exists()


def test_wrong_secret_is_401(client: Any) -> None:
    response = post(client, event("ringing"), secret="not-the-secret")
    assert response.status_code == 401
    assert not CallEvent.objects.exists()


# 302, not 301: the stamp is whole seconds, so a second ticking between it and the check
# would bring a future stamp of +301 back within the 300 s.
@pytest.mark.parametrize("age", [302, -302, 3600])
def test_stale_or_future_signature_is_401(client: Any, age: int) -> None:
    response = post(client, event("ringing"), timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert not CallEvent.objects.exists()


@pytest.mark.parametrize("age", [299, -299])
def test_within_tolerance_both_ways(client: Any, age: int) -> None:
    # The clock stands still: on a loaded machine the request itself may take more than the
    # one second of margin.
    now = int(time.time())
    with time_machine.travel(now, tick=False):
        assert post(client, event("ringing"), timestamp=now - age).status_code == 200


def test_the_body_signed_is_the_body_checked(client: Any) -> None:
    """A valid signature of another body does not let a modified body in."""
    body = json.dumps(event("ringing")).encode()
    header = signature_header(body, "x")
    assert not signature_valid(body + b" ", header, secret="x", tolerance=300)
    assert signature_valid(body, header, secret="x", tolerance=300)


def test_the_same_event_twice_has_one_effect(client: Any, account: Any) -> None:
    number_account(account)
    data = event("ringing")
    assert post(client, data).json()["duplicate"] is False
    again = post(client, data)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert CallEvent.objects.count() == 1
    assert Call.objects.get().history.count() == 0  # still ringing, nothing moved twice


@pytest.mark.parametrize(("change", "field"), [
    ({"event": "explosion"}, "event"),
    ({"occurred_at": "hier"}, "occurred_at"),
    ({"occurred_at": "2026-11-23T09:00:00"}, "occurred_at"),  # no time zone
    ({"call_id": ""}, "call_id"),
    ({"event_id": None}, "event_id"),
    ({"from": "pas un numéro"}, "from"),
    ({"to": "12"}, "to"),
    ({"direction": "sideways"}, "direction"),
    ({"cause": "NORMAL_CLEARING"}, "cause"),
    ({"agent": "pas-un-email"}, "agent"),
    ({"wait_s": -1}, "wait_s"),
    ({"talk_s": "long"}, "talk_s"),
    ({"recording_url": "ftp://x"}, "recording_url"),
    ({"caller_name": "x" * 121}, "caller_name"),
])
def test_invalid_fields_are_422_with_the_field_named(client: Any, change: dict[str, Any],
                                                     field: str) -> None:
    response = post(client, {**event("hangup"), **change})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid" and field in body["errors"], body
    assert not CallEvent.objects.exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"texte"', b"null"])
def test_a_body_that_is_not_an_object_is_422(client: Any, raw: bytes) -> None:
    response = post(client, raw)
    assert response.status_code == 422
    assert not CallEvent.objects.exists()


def test_anonymous_caller_and_unix_timestamp_are_accepted(client: Any) -> None:
    response = post(client, event("ringing", **{"from": "anonymous",
                                                "occurred_at": 1795420800}))
    assert response.status_code == 200
    assert Call.objects.get().from_number == "anonymous"


def test_the_raw_provider_code_is_kept(client: Any) -> None:
    post(client, event("ringing"))
    post(client, event("hangup", at=20, cause="failed", cause_code="SIP 503"))
    call = Call.objects.get()
    assert call.cause == "failed" and call.cause_raw == "SIP 503"

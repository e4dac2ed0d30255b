"""POST /api/v1/telephony/events through the ASGI application, as uvicorn serves it: the
fast path (desk/webhook.py) answers before Django's middleware, with the same answers as the
django-ninja route — 200 stored, 401 unsigned, 422 with the field, duplicates — and refuses
an oversized body (413) or a host Django would refuse (400); other requests go to Django."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings

from permanence.asgi import application
from permanence.desk.models import Call, CallEvent, CallState
from permanence.desk.signature import signature_header

from .calls_helpers import URL, event, number_account

pytestmark = pytest.mark.django_db(transaction=True)


def _call(body: bytes, *, signature: str | None = "sign", path: str = URL,
          method: str = "POST", host: str = "127.0.0.1") -> tuple[int, dict[str, Any]]:
    headers = [(b"host", host.encode()), (b"content-type", b"application/json")]
    if signature == "sign":
        signature = signature_header(body, settings.TELEPHONY_WEBHOOK_SECRET)
    if signature is not None:
        headers.append((b"x-permanence-signature", signature.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}

    async def run() -> tuple[int, bytes]:
        app = ApplicationCommunicator(application, scope)
        await app.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await app.receive_output(10)
        chunks = []
        while True:
            message = await app.receive_output(10)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        return start["status"], b"".join(chunks)

    status, raw = async_to_sync(run)()
    return status, json.loads(raw) if raw.startswith(b"{") else {"raw": raw[:200]}


def test_a_signed_event_is_stored_and_answered_without_django(account: Any) -> None:
    number_account(account)
    body = json.dumps(event("ringing")).encode()
    status, answer = _call(body)
    assert status == 200, answer
    assert answer["received"] is True and answer["duplicate"] is False
    call = Call.objects.get(call_id="c1")  # processed inline here (the tests' setting)
    assert answer["call"] == call.pk and call.state == CallState.RINGING
    again = _call(body)
    assert again == (200, {"received": True, "duplicate": True, "call": None})
    assert CallEvent.objects.count() == 1


def test_unsigned_is_401_and_nothing_stored(account: Any) -> None:
    body = json.dumps(event("ringing")).encode()
    for signature in (None, "t=1,v1=00"):
        status, answer = _call(body, signature=signature)
        assert status == 401 and answer["code"] == "unauthorized"
    assert not CallEvent.objects.exists()


def test_an_invalid_event_is_422_with_the_field_named(account: Any) -> None:
    status, answer = _call(json.dumps(event("ringing", occurred_at="hier")).encode())
    assert status == 422
    assert "occurred_at" in answer["errors"]
    status, answer = _call(b"[1, 2]")
    assert status == 422 and answer["errors"]
    assert not CallEvent.objects.exists()


def test_oversized_body_and_foreign_host_are_refused(account: Any) -> None:
    big = json.dumps(event("ringing", caller_name="x" * 70_000)).encode()
    assert _call(big)[0] == 413
    body = json.dumps(event("ringing")).encode()
    assert _call(body, host="evil.example")[0] == 400
    assert not CallEvent.objects.exists()


def test_other_requests_go_to_django() -> None:
    status, _answer = _call(b"", method="GET", path="/healthz", signature=None)
    assert status == 200
    # A GET on the webhook's path is Django's (405 from the route), not the fast path's.
    status, _answer = _call(b"", method="GET", signature=None)
    assert status == 405

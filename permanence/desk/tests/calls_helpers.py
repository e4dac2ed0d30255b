"""Helpers of the call-event tests: signed posts to the generic webhook, a numbered account."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from permanence.accounts.models import ClientAccount, ContactChannel
from permanence.desk.signature import signature_header

URL = "/api/v1/telephony/events"
NUMBER = "+33145000004"
CALLER = "+33612345678"
T0 = datetime.fromisoformat("2026-11-23T09:00:00+01:00")


def number_account(account: ClientAccount, number: str = NUMBER) -> ClientAccount:
    ContactChannel.objects.create(account=account, kind="phone", value=number)
    return account


def event(name: str, call_id: str = "c1", at: int = 0, **fields: Any) -> dict[str, Any]:
    """A generic event `at` seconds after T0."""
    data = {"event_id": f"{call_id}-{name}-{at}", "event": name,
            "occurred_at": (T0 + timedelta(seconds=at)).isoformat(), "call_id": call_id,
            "direction": "inbound", "from": CALLER, "to": NUMBER}
    data.update(fields)
    return data


def post(client: Any, data: Any, *, secret: str | None = None, timestamp: int | None = None,
         header: str | None = "sign") -> Any:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {}
    if header == "sign":
        headers["X-Permanence-Signature"] = signature_header(
            body, secret or settings.TELEPHONY_WEBHOOK_SECRET, timestamp)
    elif header is not None:
        headers["X-Permanence-Signature"] = header
    return client.post(URL, data=body, content_type="application/json", headers=headers)

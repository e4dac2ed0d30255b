"""The signature of the generic telephony webhook (POST /api/v1/telephony/events).

    X-Permanence-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

keyed with TELEPHONY_WEBHOOK_SECRET. The timestamp must be within the tolerance (300 s by
default) of our clock, in the past or in the future: a captured request cannot be replayed
later. Several `v1=` values may be given (a secret being rotated): one matching is enough."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Permanence-Signature"


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value a sender puts on `body`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def signature_valid(body: bytes, header: str | None, *, secret: str, tolerance: int,
                    now: float | None = None) -> bool:
    """Whether `header` signs `body` with `secret`, stamped within `tolerance` seconds."""
    if not header or not secret:
        return False
    stamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            stamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.strip())
    if stamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body,
                        hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)

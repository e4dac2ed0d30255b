"""Checking that a Brevo webhook comes from Brevo, Brevo's way. (Twilio's signature,
`X-Twilio-Signature`, is the kernel's core.twilio_signature, shared with the desk's voice
callbacks.)

Brevo does not sign its webhooks; it sends the credentials configured on the webhook — a
bearer token (`Authorization: Bearer …`) or the password of a `user:password@` URL (HTTP
basic) — which are compared in constant time with BREVO_WEBHOOK_TOKEN.
"""

from __future__ import annotations

import base64
import hmac

from django.conf import settings
from django.http import HttpRequest


def brevo_request_valid(request: HttpRequest) -> bool:
    expected = str(getattr(settings, "BREVO_WEBHOOK_TOKEN", "") or "")
    if not expected:
        return False  # not configured: nobody gets in
    header = request.headers.get("Authorization", "")
    scheme, _sep, credentials = header.partition(" ")
    given = ""
    if scheme.lower() == "bearer":
        given = credentials.strip()
    elif scheme.lower() == "basic":
        try:
            given = base64.b64decode(credentials.strip()).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            given = ""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())

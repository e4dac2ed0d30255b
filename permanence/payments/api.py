"""POST /api/v1/payments/stripe/webhook: public (no auth, no CSRF), signature-checked.

The raw event is stored (once per event id) before the 200; the worker processes it."""

from __future__ import annotations

from typing import Any

import stripe
from django.http import HttpRequest
from ninja import Router, Schema, Status

from permanence.core import wire_json

from .events import event_receive
from .models import Provider
from .stripe_client import verify_signature

router = Router(tags=["payments"])


class WebhookAck(Schema):
    received: bool
    duplicate: bool = False


class WebhookError(Schema):
    code: str
    message: str
    errors: dict[str, list[str]] = {}


@router.post("/payments/stripe/webhook", auth=None,
             response={200: WebhookAck, 400: WebhookError},
             summary="Webhook Stripe (signature Stripe-Signature vérifiée)")
def stripe_webhook(request: HttpRequest) -> Any:
    payload = request.body
    try:
        payload.decode()
    except UnicodeDecodeError:  # Stripe sends UTF-8 JSON; its library's check raised on this
        return Status(400, {"code": "bad_event",
                            "message": "Événement Stripe illisible (le corps n'est pas en "
                                       "UTF-8).", "errors": {}})
    try:
        verify_signature(payload, request.headers.get("Stripe-Signature"))
    except stripe.SignatureVerificationError:
        return Status(400, {"code": "bad_signature",
                            "message": "Signature Stripe absente, invalide ou trop ancienne.",
                            "errors": {}})
    try:
        event = wire_json.loads(payload)
    except ValueError:  # not JSON, NaN, bytes or text that are not UTF-8
        event = None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        return Status(400, {"code": "bad_event", "message": "Événement Stripe illisible.",
                            "errors": {}})
    received = event_receive(provider=Provider.STRIPE, payload=event)
    return Status(200, {"received": True, "duplicate": not received.created})

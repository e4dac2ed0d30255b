"""SMS webhooks under /api/v1/sms/: public (the providers call them, no session, no token),
each checked the provider's way before anything is stored (core.twilio_signature,
signatures.py). A refused request gets a 403 and leaves nothing behind; an accepted one is
stored (events.py) before the answer, so the provider's retry after a crash loses nothing
and its duplicates have one effect.

- POST /sms/twilio/status   Twilio's StatusCallback of our outgoing SMS (form-encoded)
- POST /sms/twilio/inbound  Twilio's incoming-message webhook of the accounts' numbers
- POST /sms/brevo/events    Brevo's transactional SMS webhook (receipts, replies, STOP)
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from permanence.core import wire_json
from permanence.core.errors import DomainError
from permanence.core.twilio_signature import twilio_request_valid

from .events import event_receive
from .models import EventKind, Provider
from .providers import BrevoProvider
from .signatures import brevo_request_valid

router = Router(tags=["sms"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class SmsWebhookAck(Schema):
    received: int
    duplicates: int = 0


class SmsWebhookError(Schema):
    code: str
    message: str
    errors: dict[str, list[str]] = {}


def _refused(status: int, code: str, message: str) -> Status:
    return Status(status, {"code": code, "message": message, "errors": {}})


def _form(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in request.POST}


@router.post("/sms/twilio/status", auth=None, url_name="sms_twilio_status",
             response={200: SmsWebhookAck, 403: SmsWebhookError},
             summary="Twilio : accusés de réception des SMS (X-Twilio-Signature vérifiée)")
def twilio_status(request: HttpRequest) -> Any:
    if not twilio_request_valid(request):
        return _refused(403, "bad_signature", "Signature Twilio absente ou invalide.")
    params = _form(request)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    if not sid or not status:
        raise DomainError("bad_event", "Accusé de réception Twilio illisible.", status=400)
    created = event_receive(provider=Provider.TWILIO, kind=EventKind.STATUS,
                            key=f"{sid}:{status}", payload=params)
    return Status(200, {"received": 1, "duplicates": 0 if created else 1})


@router.post("/sms/twilio/inbound", auth=None, url_name="sms_twilio_inbound",
             response={200: None, 403: SmsWebhookError},
             summary="Twilio : SMS reçus sur les numéros des comptes (réponse TwiML vide)")
def twilio_inbound(request: HttpRequest) -> Any:
    if not twilio_request_valid(request):
        return _refused(403, "bad_signature", "Signature Twilio absente ou invalide.")
    params = _form(request)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid or not params.get("From") or not params.get("To"):
        raise DomainError("bad_event", "SMS Twilio illisible.", status=400)
    event_receive(provider=Provider.TWILIO, kind=EventKind.INBOUND, key=sid, payload=params)
    # An empty TwiML answer: nothing is sent back automatically (STOP's confirmation is ours).
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


def _brevo_key(payload: dict[str, Any]) -> tuple[str, str]:
    event = BrevoProvider.event_name(payload)
    message_id = str(payload.get("messageId") or "")
    if event in ("replied", "reply"):
        text = str(payload.get("reply") or payload.get("text") or "")
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return EventKind.INBOUND, f"{message_id}:replied:{payload.get('ts_event', '')}:{digest}"
    return EventKind.STATUS, f"{message_id}:{event}"


@router.post("/sms/brevo/events", auth=None, url_name="sms_brevo_events",
             response={200: SmsWebhookAck, 403: SmsWebhookError},
             summary="Brevo : événements SMS transactionnels (jeton du webhook vérifié)")
def brevo_events(request: HttpRequest) -> Any:
    if not brevo_request_valid(request):
        return _refused(403, "bad_token", "Jeton du webhook Brevo absent ou invalide.")
    try:
        body = wire_json.loads(request.body)
    except ValueError:  # not JSON, NaN, bytes or text that are not UTF-8
        body = None
    # Brevo's batched webhooks post a list of the same objects.
    events = body if isinstance(body, list) else [body]
    if not events or not all(isinstance(e, dict) and e.get("messageId")
                             and BrevoProvider.event_name(e) for e in events):
        raise DomainError("bad_event", "Événement Brevo illisible.", status=400)
    created = 0
    for payload in events:
        kind, key = _brevo_key(payload)
        created += event_receive(provider=Provider.BREVO, kind=kind, key=key, payload=payload)
    return Status(200, {"received": len(events), "duplicates": len(events) - created})

"""Provider webhooks (delivery receipts, inbound SMS): stored first, acknowledged, then
processed by the worker — as payments.events does for Stripe.

- `event_receive` stores a verified webhook once per (provider, event key): a redelivery,
  even a concurrent one, meets the unique constraint and is acknowledged without a second
  row. Keys: Twilio "<MessageSid>:<MessageStatus>" for a receipt, the MessageSid of an
  inbound SMS; Brevo "<messageId>:<event>".
- `event_process` locks the event, applies it in a savepoint and stamps processed_at; a
  failure (a receipt for an SMS whose "sent" is not committed yet…) is recorded and retried
  by the scheduler job `channels_sms.reprocess_events`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction

from permanence.core import background, clock, wire_json

from . import services
from .inbound import sms_receive
from .models import Direction, EventKind, Provider, Sms, SmsEvent
from .providers import BrevoProvider, InboundSms, TwilioProvider

logger = logging.getLogger(__name__)

PROCESS_EVENT_TASK = "channels_sms.process_event"
MAX_ATTEMPTS = 10
REPROCESS_AFTER = timedelta(seconds=30)
REPROCESS_BATCH = 200


def event_receive(*, provider: str, kind: str, key: str, payload: dict[str, Any]) -> bool:
    """Store a verified webhook; True if new (False: a redelivery, nothing stored)."""
    key = wire_json.storable(key)[:120]
    stored = SmsEvent.objects.filter(provider=provider, event_key=key)
    if stored.exists():
        return False
    try:
        with transaction.atomic():
            event = SmsEvent.objects.create(provider=provider, event_key=key, kind=kind,
                                            payload=wire_json.storable(payload),
                                            received_at=clock.now())
            background.enqueue_on_commit(PROCESS_EVENT_TASK, event.pk)
    except IntegrityError:  # a concurrent delivery of the same event stored it first
        if not stored.exists():
            raise  # refused for another reason: never acknowledged as if it were kept
        return False
    return True


def event_process(event_pk: int) -> str:
    """Apply one stored event (idempotent). Returns what was done."""
    with transaction.atomic():
        event = SmsEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None:
            return "missing"
        if event.processed_at is not None:
            return "already processed"
        event.attempts += 1
        try:
            with transaction.atomic():
                outcome = _apply(event)
        except Exception as exc:  # recorded, retried by the scheduler job
            if not isinstance(exc, LookupError):
                logger.exception("SMS event %s %s failed", event.provider, event.event_key)
            event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            event.save(update_fields=["attempts", "last_error"])
            return "error"
        event.processed_at = clock.now()
        event.outcome = outcome[:200]
        event.last_error = ""
        event.save(update_fields=["attempts", "processed_at", "outcome", "last_error"])
        return outcome


def events_reprocess_pending(*, older_than: timedelta = REPROCESS_AFTER) -> int:
    cutoff = clock.now() - older_than
    pks = list(SmsEvent.objects.filter(
        processed_at__isnull=True, received_at__lte=cutoff, attempts__lt=MAX_ATTEMPTS,
    ).order_by("received_at", "pk").values_list("pk", flat=True)[:REPROCESS_BATCH])
    return sum(1 for pk in pks
               if event_process(pk) not in ("error", "missing", "already processed"))


def _apply(event: SmsEvent) -> str:
    payload = event.payload
    if event.provider in (Provider.TWILIO, Provider.FILE):
        # manage.py simulate_sms stores its SMS in Twilio's form shape (provider "file").
        if event.kind == EventKind.INBOUND:
            return sms_receive(provider=event.provider, message=TwilioProvider.inbound(payload))
        update = TwilioProvider.status_update(payload)
    elif event.provider == Provider.BREVO:
        name = BrevoProvider.event_name(payload)
        if name in ("replied", "reply"):
            return _brevo_reply(payload)
        if name == "unsubscribe":
            return _brevo_unsubscribe(payload)
        update = BrevoProvider.status_update(payload)
    else:
        return f"ignored: provider {event.provider}"
    if update.status is None:
        return "ignored: untracked status"
    return services.sms_receipt(provider=event.provider,
                                provider_message_id=update.provider_message_id,
                                status=update.status, reason=update.reason)


def _original(payload: dict[str, Any]) -> Sms | None:
    return (Sms.objects.select_related("account")
            .filter(provider=Provider.BREVO, direction=Direction.OUT,
                    provider_message_id=str(payload.get("messageId") or "")).first())


def _brevo_reply(payload: dict[str, Any]) -> str:
    """A reply to one of our SMS through Brevo's shared sender: it belongs to the account that
    SMS was sent for, from the number it was sent to."""
    original = _original(payload)
    if original is None:
        raise LookupError(f"reply to unknown Brevo SMS {payload.get('messageId')}")
    text = str(payload.get("reply") or payload.get("text") or payload.get("content") or "")
    message = InboundSms(f"reply-{payload.get('messageId')}-{payload.get('ts_event', '')}",
                         original.to_number, original.from_number, text)
    return sms_receive(provider=Provider.BREVO, message=message, account=original.account)


def _brevo_unsubscribe(payload: dict[str, Any]) -> str:
    """Brevo's own STOP handling (it confirms to the contact itself): mirrored here so that
    nothing more is queued for the number."""
    original = _original(payload)
    number = original.to_number if original else "+" + str(payload.get("to") or "")
    account_id = original.account_id if original else None
    services.opt_out(account_id=account_id, number=number, keyword="STOP")
    return "opted out"

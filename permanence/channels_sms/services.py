"""Writes of the SMS channel: queue, claim and send, record statuses, opt-outs.

Sending (ARCHITECTURE.md, "Side effects"):

1. `sms_queue` writes the SMS "queued" in the caller's transaction (the outbox row) and wakes
   the worker once it commits (core.background, by name);
2. `sms_dispatch` (worker) claims the SMS with a conditional UPDATE on `claimed_at` — a
   duplicated task, the sweep or a second worker finds nothing to claim — and calls the
   provider with no transaction open;
3. the answer is recorded in a short transaction: "sent" with the provider's id, or an error
   (a retry later; "failed" once it is permanent or out of attempts). Status changes go
   through one machine (core.transitions), only forward, and each one is told to the
   listeners of the SMS's ref (core.sms.sms_status_notify) inside that transaction.

A claim older than LEASE is the mark of a worker that died while sending: the sweep
(`sms_overdue`) enqueues it again. Providers have no idempotency key for messages, so only a
worker dying between the provider's answer and our commit can cause a second SMS.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from permanence.core import background, clock
from permanence.core.errors import DomainError
from permanence.core.sms import FAILED, sms_segments, sms_status_notify
from permanence.core.tasks import retry_delay
from permanence.core.transitions import Machine, apply

from . import providers
from .models import SMS_TRANSITIONS, Direction, OptOut, Sms, SmsStatus

logger = logging.getLogger(__name__)

DISPATCH_TASK = "channels_sms.dispatch"
MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
GRACE = timedelta(minutes=2)
HORIZON = timedelta(days=2)

SMS_MACHINE: Machine[Sms] = Machine(
    model=Sms, transitions=SMS_TRANSITIONS, history_model=None, history_fk="sms",
    status_choices=SmsStatus, ref_field="ref", history_note=False)


# --- Opt-outs ------------------------------------------------------------------------------

def opted_out(*, account_id: int | None, number: str) -> bool:
    """The number sent STOP to this account (or to the shared sender of the provider)."""
    scope = Q(account__isnull=True)
    if account_id is not None:
        scope |= Q(account_id=account_id)
    return OptOut.objects.filter(scope, number=number).exists()


def opt_out(*, account_id: int | None, number: str, keyword: str) -> bool:
    """Record a STOP. True when it is new (then the confirmation is due, once)."""
    if OptOut.objects.filter(account_id=account_id, number=number).exists():
        return False
    try:
        with transaction.atomic():
            OptOut.objects.create(account_id=account_id, number=number,
                                  keyword=keyword[:16], created_at=clock.now())
    except IntegrityError:  # a concurrent STOP recorded it first
        return False
    return True


def opt_in(*, account_id: int | None, number: str) -> bool:
    """START: the number may receive SMS from the account again. True if it had opted out."""
    deleted, _rows = OptOut.objects.filter(account_id=account_id, number=number).delete()
    return bool(deleted)


# --- Queueing ------------------------------------------------------------------------------

def sms_queue(*, to: str, body: str, account_id: int | None, ref: str,
              from_number: str = "", ignore_opt_out: bool = False, wake: bool = True) -> Sms:
    """Write one outgoing SMS, queued; the worker sends it once the transaction commits.
    `ignore_opt_out`: only for the confirmation of a STOP itself (the law requires it).
    `wake=False`: the caller sends it itself (the inbox's reply worker, outbound.py)."""
    if not ignore_opt_out and opted_out(account_id=account_id, number=to):
        raise DomainError("sms_opted_out",
                          _("Ce numéro a demandé à ne plus recevoir de SMS (STOP)."),
                          status=409)
    provider = providers.current()
    counted = sms_segments(body)
    with transaction.atomic():
        sms = Sms.objects.create(
            direction=Direction.OUT, account_id=account_id,
            from_number=from_number or provider.default_sender(), to_number=to, body=body,
            encoding=counted.encoding, segments=min(counted.segments, 255),
            status=SmsStatus.QUEUED, provider=provider.name, ref=ref[:100],
            created_at=clock.now())
        if wake:  # the SMS row is the outbox: a lost wake-up is found by the sweep
            background.enqueue_on_commit(DISPATCH_TASK, sms.pk)
    return sms


def backend_send(*, to: str, body: str, account_id: int | None, ref: str) -> int:
    """core.sms.sms_send, as this channel does it."""
    return sms_queue(to=to, body=body, account_id=account_id, ref=ref).pk


def backend_status(sms_id: int) -> tuple[str, str]:
    row = Sms.objects.filter(pk=sms_id).values_list("status", "reason").first()
    if row is None:
        raise DomainError("not_found", _("SMS introuvable."), status=404)
    return str(row[0]), str(row[1])


# --- Sending -------------------------------------------------------------------------------

def sms_claim(sms_id: int, *, now: datetime | None = None) -> Sms | None:
    """Claim a queued SMS for sending: None when there is nothing to send (already sent or
    failed) or another worker holds a fresh claim."""
    now = now or clock.now()
    claimed = Sms.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE),
        pk=sms_id, direction=Direction.OUT, status=SmsStatus.QUEUED,
    ).update(claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return Sms.objects.select_related("account").get(pk=sms_id)


def sms_dispatch(sms_id: int) -> str:
    """Worker: claim, send (no transaction open), record. Returns what happened."""
    sms = sms_claim(sms_id)
    if sms is None:
        status = Sms.objects.filter(pk=sms_id).values_list("status", flat=True).first()
        return f"skipped ({status or 'missing'})"
    try:
        accepted = providers.provider_named(sms.provider).send(sms)
    except providers.ProviderError as exc:
        return sms_send_failed(sms=sms, reason=exc.reason, permanent=exc.permanent)
    except Exception as exc:  # a bug or an unexpected answer: kept, retried like a timeout
        logger.exception("SMS %s: provider call failed", sms_id)
        return sms_send_failed(sms=sms, reason=f"{exc.__class__.__name__}: {exc}",
                               permanent=False)
    sms_sent(sms=sms, provider_message_id=accepted.provider_message_id,
             delivered=accepted.delivered)
    return "sent"


@transaction.atomic
def sms_sent(*, sms: Sms, provider_message_id: str, delivered: bool = False) -> None:
    """The provider took the SMS (and, for the file backend, delivered it)."""
    locked = Sms.objects.select_for_update().get(pk=sms.pk)
    locked.provider_message_id = provider_message_id[:64]
    locked.claimed_at = None
    locked.last_error = ""
    locked.save(update_fields=["provider_message_id", "claimed_at", "last_error"])
    _move(locked, SmsStatus.SENT)
    if delivered:
        _move(locked, SmsStatus.DELIVERED)


@transaction.atomic
def sms_send_failed(*, sms: Sms, reason: str, permanent: bool) -> str:
    """The provider refused or could not be reached: failed for good, or a retry later."""
    locked = Sms.objects.select_for_update().get(pk=sms.pk)
    if locked.status != SmsStatus.QUEUED:
        return "superseded"
    locked.claimed_at = None
    locked.last_error = reason[:500]
    locked.save(update_fields=["claimed_at", "last_error"])
    if permanent or locked.attempts >= MAX_ATTEMPTS:
        _move(locked, SmsStatus.FAILED, reason=reason)
        return "failed"
    attempts, pk = locked.attempts, locked.pk
    transaction.on_commit(lambda: background.enqueue(
        DISPATCH_TASK, pk, run_after=clock.now() + retry_delay(attempts)))
    return "retry"


def _stamp(sms: Sms, previous: str, to: str, actor: object, at: datetime) -> None:
    if to == SmsStatus.SENT:
        sms.sent_at = sms.sent_at or at
    elif to == SmsStatus.DELIVERED:
        sms.sent_at = sms.sent_at or at
        sms.delivered_at = at
    elif to == SmsStatus.FAILED:
        sms.failed_at = at


def _move(sms: Sms, to: str, *, reason: str = "") -> bool:
    """Move a locked SMS forward (a move the table refuses is ignored: a late or repeated
    receipt) and tell the listeners of its ref. True if it moved."""
    if sms.status == to or not SMS_MACHINE.can(sms.status, to):
        return False
    apply(SMS_MACHINE, sms, to=to, stamp=_stamp)
    if to == SmsStatus.FAILED:
        sms.reason = reason[:300] or str(SmsStatus.FAILED.label)
    sms.save(update_fields=["status", "sent_at", "delivered_at", "failed_at", "reason"])
    if sms.ref:
        sms_status_notify(ref=sms.ref, status=to, reason=sms.reason if to == FAILED else "")
    return True


@transaction.atomic
def sms_receipt(*, provider: str, provider_message_id: str, status: str,
                reason: str = "") -> str:
    """A provider's delivery receipt. Raises LookupError for an SMS we do not know (yet: the
    receipt may beat the commit of our own "sent"; the stored event is retried)."""
    sms = (Sms.objects.select_for_update()
           .filter(provider=provider, provider_message_id=provider_message_id,
                   direction=Direction.OUT).first())
    if sms is None:
        raise LookupError(f"no SMS {provider}:{provider_message_id}")
    moved = _move(sms, status, reason=reason)
    return f"{status}" if moved else f"ignored ({sms.status} → {status})"


# --- Recovery ------------------------------------------------------------------------------

def sms_overdue(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queued SMS whose sending was lost: never claimed GRACE after being written (the
    wake-up was lost), or claimed longer than LEASE ago (the worker died), or waiting past
    their retry time (a deferred retry was lost, or the backend cannot defer)."""
    now = now or clock.now()
    rows = (Sms.objects.filter(direction=Direction.OUT, status=SmsStatus.QUEUED,
                               created_at__gte=now - HORIZON, created_at__lte=now - GRACE)
            .order_by("created_at", "pk")
            .values_list("pk", "attempts", "claimed_at", "created_at")[:limit])
    due = []
    for pk, attempts, claimed_at, created_at in rows:
        if claimed_at is not None:
            if claimed_at < now - LEASE:
                due.append(pk)
            continue
        retry_at = created_at + sum((retry_delay(n) for n in range(1, attempts + 1)),
                                    timedelta())
        if retry_at + GRACE <= now:
            due.append(pk)
    return due

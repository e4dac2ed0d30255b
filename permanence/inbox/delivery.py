"""Delivery of agents' replies, and the record of acknowledgements: the inbox's writes on
behalf of the delivery worker (tasks.deliver_message) and the channel adapters
(channels_email.outbound), which never write inbox rows themselves.

A reply that must be sent is written `pending` in the business transaction (the outbox row,
see services.conversation_reply); the worker is woken once that commits (events.py). Then:

1. the worker claims attempt n with a conditional UPDATE — pending with n - 1 attempts
   becomes n attempts — so a duplicated task, the sweeper or a second worker finds nothing
   to claim and sends nothing;
2. it sends with no transaction open, the threading headers stored first
   (`message_delivery_set_headers`) so that a retry reuses the same Message-ID;
3. it records the outcome in a short transaction: `sent` whatever the attempt (a later
   attempt then has nothing left to claim), a failure only while the claim is still its own.

`message_delivery_overdue` is the sweeper's view: replies whose delivery was lost. The claim
has no timestamp of its own (Message has no column for it), so "lost" is judged against the
retry schedule from the reply's creation (attempt 1 at once, attempt n + 1 core.tasks'
`retry_delay(n)` after attempt n):

- never claimed, written `GRACE` ago: the wake-up after the commit was lost;
- attempt n failed and was recorded (a delivery_error is kept), and attempt n + 1 is overdue
  by `GRACE`: its task was lost. No attempt is running, so enqueueing one is always safe;
- attempt n claimed and never recorded (the claim clears delivery_error): the worker died
  while sending — or is still sending, so this waits `LEASE` past the schedule, far longer
  than any SMTP timeout. Only an e-mail queue running later than `LEASE` behind schedule could
  see a reply sent twice (with the same Message-ID, which receivers de-duplicate on).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.tasks import retry_delay

from . import live, reach
from .models import Conversation, Delivery, Direction, Message
from .services import conversation_reached

# What sends acknowledgements: the e-mail channel (an adapter above the inbox) registers it
# here when it loads (channels_email.startup), so the inbox never imports it. Replies go
# through the reply channels registered in reach.py.
_SENDERS: dict[str, Callable[..., str | None]] = {}


def sender_register(*, acknowledgement: Callable[[Conversation], str]) -> None:
    _SENDERS["acknowledgement"] = acknowledgement


def sender(kind: str) -> Callable[..., str | None]:
    """The registered sender of `kind` ("acknowledgement")."""
    try:
        return _SENDERS[kind]
    except KeyError:
        raise LookupError(f"no {kind} sender registered: is channels_email installed?") from None


def reply_sender(message: Message) -> Callable[[Message], None] | None:
    """The sender of the channel the reply was queued on, if it can still reach the contact
    (None: undeliverable — the address was removed meanwhile, or the channel is gone)."""
    channel = reach.reply_channel(str((message.data or {}).get("via") or "email"))
    if channel is None or not (channel.address_of(message.conversation) or "").strip():
        return None
    return channel.send


GRACE = timedelta(minutes=5)
LEASE = timedelta(minutes=30)
# How far back the sweeper looks (an index range on created_at, not a scan of every
# message): the whole retry schedule and more than a day of scheduler outage.
HORIZON = timedelta(days=2)


def max_attempts() -> int:
    return int(settings.EMAIL_MAX_ATTEMPTS)


def message_delivery_claim(*, message_id: int, attempt: int) -> Message | None:
    """Claim attempt `attempt` of a reply's delivery; the message to send, or None when
    there is nothing to send (already sent, failed for good, or claimed by another worker)."""
    if attempt < 1 or attempt > max_attempts():
        return None
    claimed = Message.objects.filter(
        pk=message_id, direction=Direction.OUT, delivery_status=Delivery.PENDING,
        delivery_attempts=attempt - 1,
    ).update(delivery_attempts=attempt, delivery_error="")
    if not claimed:
        return None
    return Message.objects.select_related("conversation__account", "contact", "author").get(
        pk=message_id)


def message_delivery_set_headers(*, message: Message, message_id: str, in_reply_to: str,
                                 references: str, sender: str, recipients: list[str]) -> None:
    """The e-mail identity of a reply, stored before it is sent: a reply that times out yet
    arrives still threads back, and a retry sends the very same Message-ID."""
    Message.objects.filter(pk=message.pk).update(
        message_id=message_id, in_reply_to=in_reply_to, references=references,
        sender=sender, recipients=recipients)
    message.message_id, message.in_reply_to, message.references = (
        message_id, in_reply_to, references)
    message.sender, message.recipients = sender, recipients


@transaction.atomic
def message_delivery_mark_sent(*, message: Message) -> bool:
    """The reply went out, whichever attempt sent it. False if already recorded as sent."""
    done = Message.objects.filter(pk=message.pk, delivery_status=Delivery.PENDING).update(
        delivery_status=Delivery.SENT, delivery_error="")
    if done:
        conv_id, msg_id = message.conversation_id, message.pk
        # It reached the contact: only now does it count as the (first) response.
        conversation_reached(conversation_id=conv_id, at=clock.now())
        transaction.on_commit(lambda: live.message_added(conv_id, msg_id))
    return bool(done)


@transaction.atomic
def message_delivery_mark_undeliverable(*, message: Message, attempt: int,
                                        reason: str) -> bool:
    """No channel can carry the claimed reply any more: « non distribuable », no retry."""
    done = Message.objects.filter(
        pk=message.pk, delivery_status=Delivery.PENDING, delivery_attempts=attempt,
    ).update(delivery_status=Delivery.UNDELIVERABLE, delivery_error=reason[:500])
    if done:
        conv_id, msg_id = message.conversation_id, message.pk
        transaction.on_commit(lambda: live.message_added(conv_id, msg_id))
    return bool(done)


@transaction.atomic
def message_delivery_mark_failed(*, message: Message, attempt: int, error: str,
                                 final: bool) -> bool:
    """Attempt `attempt` failed: pending again (a retry follows) or failed for good. False
    when the claim is no longer this attempt's (then it must not schedule a retry)."""
    return bool(Message.objects.filter(
        pk=message.pk, delivery_status=Delivery.PENDING, delivery_attempts=attempt,
    ).update(delivery_error=(error or str(Delivery.FAILED.label))[:500],
             delivery_status=Delivery.FAILED if final else Delivery.PENDING))


@transaction.atomic
def message_delivery_receipt_failed(*, message_id: int, reason: str) -> bool:
    """A channel's delivery receipt says a reply never reached the contact, even one the
    provider had taken (an SMS the operator could not deliver): « Échec » with the reason,
    no retry (channels_sms calls it). False if the reply was not pending or sent."""
    done = Message.objects.filter(
        pk=message_id, direction=Direction.OUT,
        delivery_status__in=(Delivery.PENDING, Delivery.SENT),
    ).update(delivery_status=Delivery.FAILED,
             delivery_error=(reason or str(Delivery.FAILED.label))[:500])
    if done:
        conv_id = Message.objects.filter(pk=message_id).values_list(
            "conversation_id", flat=True).first()
        if conv_id is not None:
            transaction.on_commit(lambda: live.message_added(conv_id, message_id))
    return bool(done)


@transaction.atomic
def message_delivery_receipt_delivered(*, message_id: int, at: datetime) -> bool:
    """A channel's delivery receipt says a reply reached the contact's phone (an SMS
    operator's "delivered"): « Délivré », the instant kept in `data`. A reply still pending
    is sent by then. A failed or undeliverable reply stays so: a late or contradictory
    receipt never turns a failure into a success. False if nothing changed."""
    message = (Message.objects.select_for_update()
               .filter(pk=message_id, direction=Direction.OUT,
                       delivery_status__in=(Delivery.PENDING, Delivery.SENT)).first())
    if message is None or message.delivered_at is not None:
        return False
    if message.delivery_status == Delivery.PENDING:
        message_delivery_mark_sent(message=message)
    data = dict(message.data or {})
    data["delivered_at"] = at.isoformat()
    Message.objects.filter(pk=message_id).update(data=data)
    conv_id = message.conversation_id
    transaction.on_commit(lambda: live.message_added(conv_id, message_id))
    return True


def _next_due(created_at: datetime, attempts: int) -> datetime:
    """When attempt `attempts + 1` is due at the earliest, by the retry schedule."""
    return created_at + sum((retry_delay(n) for n in range(1, attempts + 1)), timedelta())


def message_delivery_overdue(*, now: datetime | None = None,
                             limit: int = 1000) -> list[tuple[int, int]]:
    """(message id, next attempt) for pending replies whose delivery was lost (see the
    module's docstring); those out of attempts are marked failed instead."""
    now = now or clock.now()
    overdue: list[tuple[int, int]] = []
    pending = (Message.objects.filter(direction=Direction.OUT,
                                      delivery_status=Delivery.PENDING,
                                      created_at__gte=now - HORIZON,
                                      created_at__lte=now - GRACE)
               .order_by("created_at", "pk")
               .values_list("pk", "delivery_attempts", "delivery_error", "created_at"))
    for pk, attempts, error, created_at in pending[:limit]:
        wait = GRACE if attempts == 0 or error else LEASE
        if _next_due(created_at, attempts) + wait > now:
            continue
        if attempts >= max_attempts():
            Message.objects.filter(pk=pk, delivery_status=Delivery.PENDING,
                                   delivery_attempts=attempts).update(
                delivery_status=Delivery.FAILED,
                delivery_error=error or _("Abandon : dernier essai sans réponse."))
            continue
        overdue.append((pk, attempts + 1))
    return overdue


@transaction.atomic
def conversation_acknowledgement_record(*, conversation: Conversation, to: str, sender: str,
                                        subject: str, message_id: str, deadline: str,
                                        at: datetime) -> Message:
    """Show a sent acknowledgement on the timeline. Its Message-ID is kept so that a
    customer answering the acknowledgement threads back."""
    event = Message.objects.create(
        conversation=conversation, direction=Direction.SYSTEM, channel=conversation.channel,
        event="acknowledged", subject=subject[:250], message_id=message_id, sender=sender,
        recipients=[to], data={"to": to, "deadline": deadline}, created_at=at)
    conv_id, msg_id = conversation.pk, event.pk
    transaction.on_commit(lambda: live.message_added(conv_id, msg_id))
    return event

"""Replies by SMS: the inbox's "sms" reply channel (inbox.reach) and its delivery.

A conversation of channel "sms" or "téléphone" whose contact has a mobile number (E.164; a
landline cannot receive SMS) and has not sent STOP to the account can be answered by SMS. The e-mail channel is registered
first (INSTALLED_APPS order), so a contact with an e-mail address is still answered by
e-mail; the phone-only contact now gets a reply form.

The inbox's worker (inbox.tasks.deliver_message) claims the reply and calls `send_reply`
with no transaction open: the SMS row is written once per reply (ref "inbox.reply:<id>"),
then sent through the same claim as every SMS, so a retry of the reply never sends a second
SMS once one was taken. The reply's badge follows the SMS: « Envoyé » once the provider took
it, « Délivré » (its instant in the badge's title) once the operator's receipt says it reached
the phone, « Échec » with the reason when it fails, even after a later delivery receipt.
"""

from __future__ import annotations

from permanence.accounts.models import ContactChannel
from permanence.core import clock
from permanence.core.sms import DELIVERED, FAILED, SENT, sms_capable
from permanence.inbox.delivery import (
    message_delivery_mark_sent,
    message_delivery_receipt_delivered,
    message_delivery_receipt_failed,
)
from permanence.inbox.models import Channel, Conversation, Direction, Message

from . import services
from .models import Sms, SmsStatus

REPLY_REF = "inbox.reply:"
REPLY_CHANNELS = (Channel.SMS, Channel.PHONE)


def reply_address_of(conversation: Conversation) -> str:
    """The contact's mobile number when a reply to this conversation may go by SMS."""
    if conversation.channel not in REPLY_CHANNELS:
        return ""
    contact = conversation.contact
    phone = (contact.phone if contact else "").strip()
    if not sms_capable(phone):
        return ""
    if services.opted_out(account_id=conversation.account_id, number=phone):
        return ""
    return phone


def _sender_number(conversation: Conversation) -> str:
    """Answer from the number the contact wrote to (their phone threads it with their SMS),
    else from the account's own number; "" lets the provider use its default sender."""
    last_in = (conversation.messages.filter(direction=Direction.IN, channel=Channel.SMS)
               .order_by("-created_at", "-id").values_list("recipients", flat=True).first())
    if last_in:
        return str(last_in[0])
    return (ContactChannel.objects.filter(account_id=conversation.account_id,
                                          kind=ContactChannel.Kind.PHONE)
            .order_by("pk").values_list("value", flat=True).first() or "")


def send_reply(message: Message) -> None:
    """Send one claimed reply by SMS. Raises when it did not go (the inbox records the
    error and retries)."""
    ref = f"{REPLY_REF}{message.pk}"
    sms = Sms.objects.filter(ref=ref).order_by("pk").first()
    if sms is None:
        conversation = message.conversation
        to = reply_address_of(conversation)
        if not to:
            raise ValueError(f"conversation {conversation.reference}: no phone number")
        sms = services.sms_queue(to=to, body=message.body_text,
                                 account_id=conversation.account_id, ref=ref,
                                 from_number=_sender_number(conversation), wake=False)
    if sms.status == SmsStatus.QUEUED:
        services.sms_dispatch(sms.pk)
        sms.refresh_from_db()
    if sms.status in (SmsStatus.SENT, SmsStatus.DELIVERED):
        return
    if sms.status == SmsStatus.FAILED:
        raise RuntimeError(sms.reason)
    raise RuntimeError(sms.last_error or "SMS en attente d'envoi")


def on_reply_status(ref: str, status: str, reason: str) -> None:
    """An SMS carrying an inbox reply changed status: the reply's delivery follows."""
    try:
        message_id = int(ref.removeprefix(REPLY_REF))
    except ValueError:
        return
    if status == SENT:
        message = Message.objects.filter(pk=message_id).first()
        if message is not None:
            message_delivery_mark_sent(message=message)
    elif status == DELIVERED:
        # The operator's receipt: « Délivré » at the instant the SMS was stamped delivered
        # (the listener runs in the same transaction, after the SMS row was saved).
        at = (Sms.objects.filter(ref=ref, status=SmsStatus.DELIVERED)
              .values_list("delivered_at", flat=True).first())
        message_delivery_receipt_delivered(message_id=message_id, at=at or clock.now())
    elif status == FAILED:
        message_delivery_receipt_failed(message_id=message_id, reason=reason)

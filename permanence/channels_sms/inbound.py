"""Inbound SMS → inbox: routing by the dialled number, STOP/START, threading.

The number the SMS was sent to identifies the client account (accounts.ContactChannel of
kind "phone", E.164). A message continues the sender's open SMS conversation with that
account (or one resolved recently: the inbox reopens it), else opens a new conversation of
channel "sms". STOP / ARRET (any case, accents or not) opts the number out of that account's
SMS and is answered once with the legal confirmation; START opts it back in.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, ContactChannel
from permanence.core import clock
from permanence.core.validators import phone_display
from permanence.inbox.models import OPEN_STATUSES, Channel, Conversation, Status
from permanence.inbox.services import (
    REOPEN_WINDOW_DAYS,
    Incoming,
    conversation_open,
    message_add_inbound,
)

from . import services
from .models import Direction, Sms, SmsStatus
from .providers import InboundSms

STOP_WORDS = frozenset({"STOP", "ARRET", "STOPSMS", "DESABONNER", "UNSUBSCRIBE"})
START_WORDS = frozenset({"START", "UNSTOP"})


def keyword_of(body: str) -> str:
    """The message as a keyword: upper case, without accents or punctuation (« Arrêt. »)."""
    text = unicodedata.normalize("NFKD", (body or "").strip())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c for c in text.upper() if c.isalnum())


def account_for_number(number: str) -> ClientAccount | None:
    channel = (ContactChannel.objects.select_related("account")
               .filter(kind=ContactChannel.Kind.PHONE, value=number).first())
    return channel.account if channel else None


def stop_confirmation(account: ClientAccount | None) -> str:
    name = account.name if account else "Permanence"
    return _("%(name)s : vous ne recevrez plus de SMS de notre part. Pour les recevoir à "
             "nouveau, répondez START.") % {"name": name}


def start_confirmation(account: ClientAccount | None) -> str:
    name = account.name if account else "Permanence"
    return _("%(name)s : vous recevrez à nouveau nos SMS. Pour ne plus les recevoir, "
             "répondez STOP.") % {"name": name}


@transaction.atomic
def sms_receive(*, provider: str, message: InboundSms,
                account: ClientAccount | None = None) -> str:
    """Store one inbound SMS and hand it to the inbox (or honour STOP/START). Idempotent per
    provider message id. `account`: already known (a reply to one of our SMS through a shared
    sender); else found by the number it was sent to."""
    if message.provider_message_id and Sms.objects.filter(
            provider=provider, provider_message_id=message.provider_message_id).exists():
        return "duplicate"
    if account is None:
        account = account_for_number(message.to_number)
    Sms.objects.create(
        direction=Direction.IN, account=account, from_number=message.from_number[:32],
        to_number=message.to_number[:32], body=message.body, encoding="", segments=1,
        status=SmsStatus.RECEIVED, provider=provider,
        provider_message_id=message.provider_message_id[:64], created_at=clock.now())
    if account is None:
        return "unroutable"  # kept: the SMS row shows it; nobody to hand it to
    keyword = keyword_of(message.body)
    if keyword in STOP_WORDS:
        if services.opt_out(account_id=account.pk, number=message.from_number,
                            keyword=keyword):
            services.sms_queue(to=message.from_number, body=stop_confirmation(account),
                               account_id=account.pk, ref="channels_sms.stop",
                               from_number=message.to_number, ignore_opt_out=True)
            return "opted out"
        return "opted out (already)"
    if keyword in START_WORDS:
        if services.opt_in(account_id=account.pk, number=message.from_number):
            services.sms_queue(to=message.from_number, body=start_confirmation(account),
                               account_id=account.pk, ref="channels_sms.start",
                               from_number=message.to_number)
            return "opted in"
        return "opted in (already)"
    return _to_inbox(account, message)


def _to_inbox(account: ClientAccount, message: InboundSms) -> str:
    incoming = Incoming(
        account=account, channel=Channel.SMS,
        subject=_("SMS de %(number)s") % {"number": phone_display(message.from_number)},
        body_text=message.body, contact_phone=message.from_number,
        sender=message.from_number, recipients=[message.to_number],
        # No automatic acknowledgement: it would go by e-mail, which this contact may not
        # have, and an SMS acknowledgement costs the client a message for nothing.
        acknowledge=False, data={"sms": {"from": message.from_number,
                                         "to": message.to_number}})
    conversation = find_conversation(account, message.from_number)
    if conversation is not None:
        message_add_inbound(conversation, incoming)
        return f"threaded:{conversation.reference}"
    opened = conversation_open(incoming)
    return f"opened:{opened.reference}"


def find_conversation(account: ClientAccount, number: str) -> Conversation | None:
    """The sender's SMS conversation with the account that is still open (or was resolved
    within the inbox's reopening window), the most recent first; merges followed."""
    recent = clock.now() - timedelta(days=REOPEN_WINDOW_DAYS)
    found = (Conversation.objects
             .filter(Q(status__in=OPEN_STATUSES) | Q(status=Status.RESOLVED,
                                                     resolved_at__gte=recent),
                     account=account, channel=Channel.SMS, contact__phone=number)
             .order_by("-last_message_at", "-id").first())
    seen: set[int] = set()
    while found is not None and found.merged_into_id and found.merged_into_id not in seen:
        seen.add(found.pk)
        found = Conversation.objects.filter(pk=found.merged_into_id).first()
    return found

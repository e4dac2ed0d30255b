"""Outgoing e-mail of the inbox: acknowledgements and agents' replies.

Both are called from inbox tasks (after commit, in a worker), never inside a transaction:
the SMTP conversation happens with none open. Every mail carries a Message-ID stored on our
side and a Reply-To with the conversation's reply token, so whatever the customer's client
keeps (headers, address, subject) the answer threads back. What is stored on inbox messages
goes through the inbox's services (inbox/delivery.py); only the auto-reply log is ours.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils.html import escape, linebreaks

from permanence.accounts.models import ClientAccount
from permanence.core import clock
from permanence.inbox import delivery as inbox_delivery
from permanence.inbox.models import Conversation, Direction, Message
from permanence.inbox.promise import customer_promise, received_text
from permanence.inbox.promise import format_deadline as format_deadline  # noqa: PLC0414
from permanence.inbox.promise import format_deadline_ui as format_deadline_ui  # noqa: PLC0414

from .addressing import account_address, default_from_address, domain_of, reply_address
from .models import AutoReplyLog
from .parsing import MSGID_RE, ROBOT_LOCALS, one_line

logger = logging.getLogger(__name__)

MAX_REFERENCES = 20
REPLY_PREFIX_RE = re.compile(r"^\s*((re|tr|fw|fwd)\s*:\s*)+", re.IGNORECASE)


def _mailbox(name: str, address: str) -> str:
    """"Name <address>" with correct quoting (Django encodes non-ASCII names)."""
    name = one_line(name)
    try:
        return str(Address(display_name=name, addr_spec=address)) if name else address
    except (ValueError, IndexError):  # an address the header registry cannot represent
        return address


def _sender(account: ClientAccount) -> tuple[str, str]:
    """(From header, bare address): the account's address under the account's name."""
    base = account_address(account)
    if not base:
        return settings.DEFAULT_FROM_EMAIL, default_from_address()
    return _mailbox(account.name, base), base


def contact_mail_identity(conversation: Conversation) -> tuple[str, str]:
    """(From header, Reply-To) of any other mail to a conversation's contact (the
    satisfaction survey): the account's name and address, answers threading back, like the
    acknowledgement and the replies."""
    from_header, base = _sender(conversation.account)
    return from_header, reply_address(conversation, base)


def _references(parent: Message | None) -> tuple[str, str]:
    """(In-Reply-To, References) answering `parent`; References capped (RFC 5322 §3.6.4
    allows trimming the middle; we keep the newest)."""
    if parent is None or not parent.message_id:
        return "", ""
    ids = list(dict.fromkeys([*MSGID_RE.findall(parent.references), parent.message_id]))
    return parent.message_id, " ".join(ids[-MAX_REFERENCES:])


def _first_inbound(conversation: Conversation) -> Message | None:
    return (conversation.messages.filter(direction=Direction.IN)
            .order_by("created_at", "id").first())


def _is_robot(address: str) -> bool:
    local = address.rpartition("@")[0]
    return bool(local) and (local in ROBOT_LOCALS or local.startswith(ROBOT_LOCALS))


def send_acknowledgement(conversation: Conversation) -> str:
    """The automatic acknowledgement of a new conversation: reference and promised
    deadline. Returns "sent" or "skipped: <reason>"; raises if the mail server fails."""
    contact = conversation.contact
    to = (contact.email if contact else "").strip().lower()
    if not to:
        return "skipped: no e-mail address"
    if _is_robot(to):
        return "skipped: robot address"
    first = _first_inbound(conversation)
    if first is not None and first.auto_generated:
        return "skipped: auto-generated"
    if conversation.messages.filter(direction=Direction.SYSTEM, event="acknowledged").exists():
        return "skipped: already acknowledged"
    now = clock.now()
    recent = AutoReplyLog.objects.filter(address=to, sent_at__gt=now - timedelta(days=1))
    if recent.count() >= settings.AUTO_REPLY_DAILY_LIMIT:
        logger.info("Acknowledgement to %s skipped: daily limit reached", to)
        return "skipped: daily limit"

    account = conversation.account
    from_header, base = _sender(account)
    message_id = make_msgid(domain=domain_of(base))
    subject = f"[{conversation.reference}] Accusé de réception : {conversation.subject}"
    headers = {
        "Message-ID": message_id,
        # RFC 3834: marks this as automatic so well-behaved robots never answer it, and
        # asks Exchange not to send out-of-office replies to it.
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
    }
    in_reply_to, references = _references(first)
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = references
    # The one promise the customer is told everywhere (inbox.promise).
    promise = customer_promise(conversation)
    deadline = promise.text if promise else ""
    # Registered by hand after an outage (inbox.manual): say when it was really received.
    received = (received_text(conversation)
                if first is not None and (first.data or {}).get("manual") else "")
    text, html = _acknowledgement_body(conversation, deadline, received)
    reply_to = reply_address(conversation, base)
    email = EmailMultiAlternatives(
        subject=subject, body=text, from_email=from_header,
        to=[_mailbox(contact.name if contact else "", to)],
        reply_to=[reply_to] if reply_to else None, headers=headers,
        connection=get_connection(),
    )
    email.attach_alternative(html, "text/html")
    email.send(fail_silently=False)
    _record_acknowledgement(conversation, to=to, sender=base, subject=subject,
                            message_id=message_id, deadline=deadline, now=now)
    return "sent"


def _acknowledgement_body(conversation: Conversation, deadline: str,
                          received: str = "") -> tuple[str, str]:
    contact = conversation.contact
    hello = f"Bonjour {contact.name}," if contact and contact.name else "Bonjour,"
    when = f" le {received}" if received else ""
    lines = [
        hello,
        "",
        f"Nous avons bien reçu{when} votre demande « {conversation.subject} ».",
        f"Elle est enregistrée sous la référence {conversation.reference}.",
    ]
    if deadline:
        lines.append(f"Nous vous répondrons au plus tard le {deadline}.")
    lines += [
        "",
        "Pour compléter votre demande, répondez simplement à ce message en conservant "
        f"la référence {conversation.reference} dans l'objet.",
        "",
        "Ceci est un message automatique.",
        conversation.account.name,
    ]
    text = "\n".join(lines) + "\n"
    paragraphs = [
        f"<p>{escape(hello)}</p>",
        f"<p>Nous avons bien reçu{escape(when)} votre demande "
        f"« {escape(conversation.subject)} ».<br>"
        f"Elle est enregistrée sous la référence "
        f"<strong>{escape(conversation.reference)}</strong>.",
    ]
    if deadline:
        paragraphs[-1] += f"<br>Nous vous répondrons au plus tard le {escape(deadline)}."
    paragraphs[-1] += "</p>"
    paragraphs += [
        "<p>Pour compléter votre demande, répondez simplement à ce message en conservant "
        f"la référence {escape(conversation.reference)} dans l'objet.</p>",
        f"<p><small>Ceci est un message automatique.</small><br>"
        f"{escape(conversation.account.name)}</p>",
    ]
    html = ('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head><body>'
            + "".join(paragraphs) + "</body></html>")
    return text, html


def _record_acknowledgement(conversation: Conversation, *, to: str, sender: str,
                            subject: str, message_id: str, deadline: str,
                            now: datetime) -> None:
    """Count it against the daily limit and show it on the timeline (the inbox keeps the
    Message-ID so a customer answering the acknowledgement threads back)."""
    with transaction.atomic():
        # Only the last 24 h count: forget older rows of this address (index-friendly).
        AutoReplyLog.objects.filter(address=to, sent_at__lt=now - timedelta(days=2)).delete()
        AutoReplyLog.objects.create(address=to, sent_at=now, conversation=conversation)
        inbox_delivery.conversation_acknowledgement_record(
            conversation=conversation, to=to, sender=sender, subject=subject,
            message_id=message_id, deadline=deadline, at=now)


def reply_address_of(conversation: Conversation) -> str:
    """Where an e-mail reply to the conversation goes: its contact's address ("" if none)."""
    contact = conversation.contact
    return (contact.email if contact else "").strip().lower()


def reply_subject(conversation: Conversation) -> str:
    """« Re: <subject> [D-2026-000123] », without piling up « Re: Re: »."""
    subject = REPLY_PREFIX_RE.sub("", conversation.subject).strip() or conversation.subject
    if conversation.reference not in subject:
        subject = f"{subject} [{conversation.reference}]"
    return f"Re: {subject}"


def send_reply(message: Message) -> None:
    """Send an agent's reply to the conversation's contact. Raises on any failure: the
    calling task (which claimed the delivery, inbox.tasks.deliver_message) records it and
    retries (the same Message-ID is reused)."""
    conversation = message.conversation
    account = conversation.account
    contact = message.contact or conversation.contact
    to = (contact.email if contact else "").strip().lower()
    if not to:
        raise ValueError(f"conversation {conversation.reference}: no e-mail address")
    from_header, base = _sender(account)
    message_id = message.message_id or make_msgid(domain=domain_of(base))
    parent = (conversation.messages.filter(direction=Direction.IN).exclude(message_id="")
              .order_by("-created_at", "-id").first())
    in_reply_to, references = _references(parent)
    # Stored before sending: a reply that times out yet arrives still threads back, and a
    # retry sends the very same Message-ID (receivers de-duplicate on it).
    inbox_delivery.message_delivery_set_headers(
        message=message, message_id=message_id, in_reply_to=in_reply_to,
        references=references, sender=base, recipients=[to])

    # Signed when it was written (inbox.signature, one place for every reply): as stored.
    text = f"{message.body_text.rstrip()}\n"
    html = ('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head><body>'
            f"{linebreaks(escape(message.body_text.strip()))}</body></html>")
    headers = {"Message-ID": message_id}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = references
    reply_to = reply_address(conversation, base)
    email = EmailMultiAlternatives(
        subject=reply_subject(conversation), body=text, from_email=from_header,
        to=[_mailbox(contact.name if contact else "", to)],
        reply_to=[reply_to] if reply_to else None, headers=headers,
        connection=get_connection(),
    )
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    if email.send(fail_silently=False) != 1:
        raise RuntimeError(f"reply {message.pk} was not accepted by the mail backend")

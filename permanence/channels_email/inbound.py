"""Inbound mail → inbox: routing per account, de-duplication, threading, loop protection.

`ingest()` is what the SMTP/LMTP gateway calls once a message's data is received. It stores
everything in ONE transaction and returns only once it has committed, so the gateway can say
"250" knowing the message is safe; any exception means nothing was stored (the gateway then
answers 451 and the sending server retries later).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction

from permanence.accounts.models import ClientAccount
from permanence.core import local_cache
from permanence.core.errors import DomainError
from permanence.inbox.models import Channel, Conversation, Message
from permanence.inbox.services import Incoming, conversation_open, message_add_inbound

from . import addressing
from .parsing import UNREADABLE_NOTICE, ParsedMail, parse_message

logger = logging.getLogger(__name__)

REFERENCE_RE = re.compile(r"\bD-\d{4}-\d{6}\b")


class Unroutable(Exception):
    """No envelope recipient reaches an account any more (removed since RCPT TO)."""


@dataclass
class Outcome:
    account_id: int
    conversation_id: int | None
    reference: str
    result: str  # "opened", "threaded:<how>", "duplicate"


@dataclass
class _Group:
    account_id: int
    addresses: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


def ingest(raw: bytes, *, mail_from: str, rcpt_tos: list[str],
           routes: list[addressing.Route | None] | None = None) -> list[Outcome]:
    """Store one received message for every account among its recipients.

    `routes`: the recipients as the gateway already resolved them at RCPT TO (same order as
    `rcpt_tos`); without them every recipient is looked up here."""
    groups: dict[int, _Group] = {}
    if routes is None or len(routes) != len(rcpt_tos):
        routes = [addressing.route_for(rcpt) for rcpt in rcpt_tos]
    for route in routes:
        if route is None:
            continue
        group = groups.setdefault(route.account_id, _Group(route.account_id))
        group.addresses.append(route.address)
        if route.token:
            group.tokens.append(route.token)
    if not groups:
        raise Unroutable(", ".join(rcpt_tos))
    parsed = parse_message(raw, mail_from=mail_from)
    outcomes: list[Outcome] = []
    committed = False

    def mark_committed() -> None:
        nonlocal committed
        committed = True

    try:
        with transaction.atomic():
            # Registered first, so it runs before the side effects the services scheduled.
            transaction.on_commit(mark_committed)
            for group in groups.values():
                outcomes.append(_ingest_for_account(parsed, raw, group, mail_from=mail_from))
    except Exception:
        if not committed:
            raise
        # The mail is stored; only an after-commit side effect (enqueuing the
        # acknowledgement…) failed. Answering 451 now would only cause a duplicate retry.
        logger.exception("Side effect after storing a mail failed")
    return outcomes


# The accounts mail is received for, per process (core.local_cache: a change made here is
# seen at once, one made by another process within LOCAL_CACHE_SECONDS): one query less per
# mail. What ingestion reads of an account (its id, its calendar) is settings-like.
local_cache.watch("accounts.ClientAccount")
_ACCOUNTS = local_cache.LocalCache("email_accounts")


def _account(account_id: int) -> ClientAccount:
    cached = _ACCOUNTS.get_or_compute(account_id,
                                      lambda: ClientAccount.objects.get(pk=account_id))
    # A copy per mail: the services may cache related rows on it (or change it); the cached
    # instance is shared by the gateway's threads and must stay as read.
    return copy.copy(cached)


def _ingest_for_account(parsed: ParsedMail, raw: bytes, group: _Group, *,
                        mail_from: str) -> Outcome:
    account = _account(group.account_id)
    if parsed.message_id:
        # Two deliveries of the same message (a retry racing the original) are serialised
        # here, so the de-duplication check below cannot be passed twice. Only deliveries
        # of that very Message-ID wait: other mail for the account goes on in parallel.
        _lock_message_id(account.pk, parsed.message_id)
        # No ORDER BY and two columns only: this runs for every mail (about 13 % of the
        # gateway's CPU with .first() and a full row).
        existing = list(Message.objects.filter(conversation__account=account,
                                               message_id=parsed.message_id)
                        .order_by().values_list("conversation_id", "conversation__reference")[:1])
        if existing:
            return Outcome(account.pk, existing[0][0], existing[0][1], "duplicate")
    incoming = _incoming(parsed, raw, account, group, mail_from=mail_from)
    conversation, how = find_conversation(parsed, account, group.tokens)
    if conversation is not None:
        _store(lambda inc: message_add_inbound(conversation, inc), incoming, raw)
        return Outcome(account.pk, conversation.pk, conversation.reference, f"threaded:{how}")
    opened = _store(conversation_open, incoming, raw)
    return Outcome(account.pk, opened.pk, opened.reference, "opened")


def _lock_message_id(account_id: int, message_id: str) -> None:
    """A transaction-scoped lock on (account, Message-ID). PostgreSQL: an advisory lock on a
    64-bit hash. SQLite: writers are already serialised (BEGIN IMMEDIATE), nothing to do."""

    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"{account_id}:{message_id}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _store(service: Any, incoming: Incoming, raw: bytes) -> Any:
    """Call an inbox service; if it refuses an attachment, store the mail without them.

    Oversized files are already dropped by the parser; this covers any other attachment
    rule the inbox may enforce. The service runs in a savepoint, so a refusal leaves no
    half-written rows behind."""
    try:
        return service(incoming)
    except DomainError as exc:
        if not incoming.attachments:
            raise
        incoming.data.setdefault("dropped_attachments", []).extend(
            {"filename": name, "size": len(data), "reason": exc.code}
            for name, data in incoming.attachments)
        incoming.attachments = []
        if incoming.raw is None:  # the original .eml keeps the files reachable for an agent
            incoming.raw = ContentFile(raw)
        return service(incoming)


def _incoming(parsed: ParsedMail, raw: bytes, account: ClientAccount, group: _Group, *,
              mail_from: str) -> Incoming:
    data: dict[str, Any] = {"envelope": {"from": mail_from, "to": group.addresses}}
    if parsed.dropped_attachments:
        data["dropped_attachments"] = list(parsed.dropped_attachments)
    if parsed.auto_reason:
        data["auto_reason"] = parsed.auto_reason
    if parsed.reply_to and parsed.reply_to != parsed.from_address:
        # Web-form notifications often come From a robot with the person in Reply-To:
        # agents see it; the contact stays the From address (what the sender claims).
        data["reply_to"] = parsed.reply_to
    body_text = parsed.body_text
    if parsed.needs_review:
        data["problems"] = parsed.problems
        body_text = UNREADABLE_NOTICE + (f"\n\n{body_text}" if body_text.strip() else "")
    auto = bool(parsed.auto_reason)
    return Incoming(
        account=account, channel=Channel.EMAIL,
        subject=parsed.subject, body_text=body_text, body_html=parsed.body_html,
        contact_name=parsed.from_name, contact_email=parsed.from_address,
        message_id=parsed.message_id, in_reply_to=parsed.in_reply_to,
        references=parsed.references, sender=parsed.from_address,
        recipients=parsed.recipients or group.addresses,
        needs_review=parsed.needs_review, auto_generated=auto, acknowledge=not auto,
        raw=ContentFile(raw) if parsed.needs_review else None,
        attachments=list(parsed.attachments), data=data,
    )


def find_conversation(parsed: ParsedMail, account: ClientAccount,
                      tokens: list[str]) -> tuple[Conversation | None, str]:
    """The conversation this mail continues, in order of trust: the reply token of the
    recipient address, then In-Reply-To/References, then a reference in the subject
    (only from that conversation's own contact: a reference is not a secret)."""
    for token in tokens:
        found = Conversation.objects.filter(account=account, reply_token=token).first()
        if found is not None:
            return _final(found), "token"
    ids = parsed.thread_ids
    if ids:
        ancestors = {m.message_id: m.conversation for m in Message.objects.filter(
            conversation__account=account, message_id__in=ids).select_related("conversation")}
        for msgid in ids:  # the most direct parent first
            if msgid in ancestors:
                return _final(ancestors[msgid]), "headers"
    sender = parsed.from_address
    if sender:
        for reference in REFERENCE_RE.findall(parsed.subject):
            found = (Conversation.objects.filter(account=account, reference=reference)
                     .select_related("contact").first())
            if found is not None and found.contact and found.contact.email.lower() == sender:
                return _final(found), "reference"
    return None, ""


def _final(conversation: Conversation) -> Conversation:
    """Follow merges: a message for a merged conversation lands in the surviving one."""
    seen = {conversation.pk}
    while conversation.merged_into_id and conversation.merged_into_id not in seen:
        seen.add(conversation.merged_into_id)
        conversation = Conversation.objects.get(pk=conversation.merged_into_id)
    return conversation

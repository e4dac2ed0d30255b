"""Writes on conversations. Each service: one transaction, row locks, timeline rows, audit,
side effects (mail, sockets, tasks) deferred to commit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, Role, User
from permanence.accounts.selectors import accounts_visible_to, active_staff
from permanence.audit.actions import Action
from permanence.audit.services import (
    PastView,
    audit_record,
    audit_view_due,
    audit_views_record,
)
from permanence.core import clock, local_cache
from permanence.core.business_time import CalendarSpec, business_time_between, clock_view
from permanence.core.crypto import Sealed
from permanence.core.errors import DomainError, Forbidden, invalid
from permanence.core.middleware import current_request_context
from permanence.core.richtext import clean_mail_html
from permanence.core.transitions import Machine, apply
from permanence.core.validators import normalise_phone

from . import attachments as attachment_store
from . import events, reach, routing, sla
from .models import (
    CONFIDENTIAL_PREVIEW,
    FOLLOW_UP_DAYS,
    OPEN_STATUSES,
    TRANSITIONS,
    AgentPresence,
    Category,
    Channel,
    Contact,
    Conversation,
    Delivery,
    Direction,
    Kind,
    Mention,
    Message,
    Motif,
    Notification,
    Origin,
    Priority,
    ReadMarker,
    ReferenceCounter,
    Status,
    StatusChange,
    Tag,
    preview_of,
)
from .models_complaints import Complaint
from .permissions import can_work_conversations
from .signature import signed

# A customer's reply within this many days reopens a resolved conversation.
REOPEN_WINDOW_DAYS = 7


_invalid = invalid


# --- References and contacts ---------------------------------------------------------------

def reference_next(at: datetime) -> str:
    """D-2026-000123, numbered per (local, Europe/Paris) year: a request sent at 00:30 on
    1 January is in the new year.

    PostgreSQL: a sequence per year. Sequences are not transactional, so concurrent
    deliveries never wait for each other (a rolled-back delivery leaves a gap, which is fine
    for a reference — unlike invoice numbers). SQLite serialises writers anyway: a counter
    row, incremented with UPDATE … RETURNING, has no gaps."""

    year = timezone.localtime(at).year
    if connection.vendor == "postgresql":
        return f"D-{year}-{_pg_sequence_next(year):06d}"
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        row = cursor.fetchone()
    if row is None:  # first reference of the year
        ReferenceCounter.objects.get_or_create(year=year)
        with connection.cursor() as cursor:
            cursor.execute(sql, [year])
            row = cursor.fetchone()
    return f"D-{year}-{row[0]:06d}"


def _pg_sequence_next(year: int) -> int:

    name = f"inbox_reference_{int(year)}"
    # The usual case in one round trip and no savepoint: to_regclass() is NULL (no error,
    # so the transaction stays usable) while the year's sequence does not exist yet.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(to_regclass(%s))", [name])
        row = cursor.fetchone()
    if row is not None and row[0] is not None:
        return int(row[0])
    for _attempt in range(3):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s::regclass)", [name])
                return int(cursor.fetchone()[0])
        except DatabaseError:  # the year's sequence does not exist yet: create it
            start = 1 + max([int(r.rsplit("-", 1)[1]) for r in Conversation.objects.filter(
                reference__startswith=f"D-{year}-").values_list("reference", flat=True)
                .order_by("-reference")[:1]] or [0])
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    # The name is built from an int only; START is an int too.
                    cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START {start}")
            except DatabaseError:  # created concurrently by another delivery: use it
                pass
    raise DomainError("reference_unavailable", _("Numérotation indisponible, réessayez."),
                      status=503)


def contact_resolve(*, account: ClientAccount, email: str = "", phone: str = "",
                    name: str = "") -> Contact:
    """The account's contact with this e-mail or phone, created if new (de-duplicated)."""
    email = (email or "").strip().lower()
    phone = (phone or "").strip()
    contact = None
    if email:
        contact, created = _contact_upsert_by_email(account, email, phone, name)
        if created and contact is not None:
            return contact
    if contact is None and email:
        contact = Contact.objects.filter(account=account, email=email).first()
    if contact is None and phone:
        contact = Contact.objects.filter(account=account, phone=phone).first()
    if contact is None:
        return Contact.objects.create(account=account, email=email, phone=phone,
                                      name=(name or "").strip()[:200])
    changed = []
    if name and not contact.name:
        contact.name = name.strip()[:200]
        changed.append("name")
    if email and not contact.email:
        contact.email = email
        changed.append("email")
    if phone and not contact.phone and not Contact.objects.filter(account=account,
                                                                  phone=phone).exists():
        contact.phone = phone
        changed.append("phone")
    if changed:
        contact.save(update_fields=changed)
    return contact


def _contact_upsert_by_email(account: ClientAccount, email: str, phone: str,
                             name: str) -> tuple[Contact | None, bool]:
    """PostgreSQL, in one round trip: (new contact, True) if neither its e-mail nor its phone
    is known, else (the account's contact with this e-mail, False), else (None, False)
    (e.g. the phone belongs to another contact): the caller then looks up as usual.
    Other databases: (None, False)."""

    if connection.vendor != "postgresql":
        return None, False
    sql = (
        "WITH new AS (INSERT INTO inbox_contact (account_id, name, email, phone, last_nps_at,"
        " created_at) VALUES (%s, %s, %s, %s, NULL, %s) ON CONFLICT DO NOTHING"
        " RETURNING id, account_id, name, email, phone, last_nps_at, created_at, true)"
        " SELECT * FROM new UNION ALL (SELECT id, account_id, name, email, phone, last_nps_at,"
        " created_at, false FROM inbox_contact WHERE account_id = %s AND email = %s LIMIT 1)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [account.pk, (name or "").strip()[:200], email, phone,
                             timezone.now(), account.pk, email])
        row = cursor.fetchone()
    if row is None:
        return None, False
    contact = Contact.from_db(connection.alias, ["id", "account_id", "name", "email", "phone",
                                                 "last_nps_at", "created_at"], row[:-1])
    contact.account = account
    return contact, bool(row[-1])


# --- SLA -----------------------------------------------------------------------------------

def sla_compute(conversation: Conversation, *, now: datetime | None = None) -> None:
    """(Re)compute the due instants from the policy, the priority and the calendar."""
    now = now or clock.now()
    spec = sla.account_spec(conversation.account)
    targets = sla.targets_for(conversation)
    paused = conversation.sla_paused_seconds
    counting = targets.clock  # the policy's clock: jours ouvrés or opening hours
    first_due = None
    if conversation.first_response_at is None or conversation.first_response_on_time is None:
        first_due = sla.due(
            spec, conversation.created_at, targets.first_response_hours, paused_seconds=paused,
            same_day=targets.first_response_same_day, clock=counting)
    conversation.first_response_due_at = (first_due if conversation.first_response_at is None
                                          else None)
    awaiting_reply = (conversation.first_response_at is not None
                      and conversation.last_inbound_at is not None
                      and conversation.last_inbound_at > (conversation.last_replied_at or
                                                          conversation.first_response_at))
    conversation.next_response_due_at = (
        sla.due(spec, conversation.last_inbound_at, targets.next_response_hours,
                clock=counting)
        if awaiting_reply and conversation.last_inbound_at else None)
    conversation.resolution_due_at = sla.due(spec, conversation.created_at,
                                             targets.resolution_hours, paused_seconds=paused,
                                             clock=counting)
    pending = [d for d in (conversation.first_response_due_at,
                           conversation.next_response_due_at,
                           conversation.resolution_due_at) if d is not None]
    running = conversation.status in OPEN_STATUSES and conversation.sla_paused_at is None
    conversation.next_due_at = min(pending) if pending and running else None
    _durations(conversation, clock_view(spec, counting), first_due)


def _follow_ups(conversation: Conversation, *, opening: bool = False) -> None:
    """The same contact on the same motif within FOLLOW_UP_DAYS: the earlier conversation
    was not resolved at the first contact. Run when a conversation opens (one UPDATE: nothing
    is later than a conversation being opened) and when its motif changes (both directions:
    it may follow an earlier one, or a later one may exist)."""
    if conversation.contact_id is None:
        return
    window = timedelta(days=FOLLOW_UP_DAYS)
    same = Conversation.objects.filter(contact_id=conversation.contact_id,
                                       motif=conversation.motif, merged_into__isnull=True
                                       ).exclude(pk=conversation.pk)
    same.filter(created_at__lt=conversation.created_at,
                created_at__gte=conversation.created_at - window,
                followed_up=False).update(followed_up=True)
    if opening:
        return
    later = same.filter(created_at__gt=conversation.created_at,
                        created_at__lte=conversation.created_at + window).exists()
    if later != conversation.followed_up:
        conversation.followed_up = later
        Conversation.objects.filter(pk=conversation.pk).update(followed_up=later)


def _durations(conversation: Conversation, counted: CalendarSpec,
               first_due: datetime | None) -> None:
    """For the reports, once each is known: business seconds to the first response and to
    the resolution, and whether each came by its deadline (the first response's is cleared
    once answered, so it is judged here). A reopened case is judged again when resolved again."""
    def elapsed(end: datetime) -> int:
        spent = business_time_between(counted, conversation.created_at, end).total_seconds()
        return max(0, int(spent) - conversation.sla_paused_seconds)

    answered = conversation.first_response_at
    if answered is None:
        conversation.first_response_business_seconds = None
        conversation.first_response_on_time = None
    elif conversation.first_response_on_time is None and first_due is not None:
        conversation.first_response_business_seconds = elapsed(answered)
        conversation.first_response_on_time = answered <= first_due
    resolved = conversation.resolved_at
    conversation.resolution_business_seconds = elapsed(resolved) if resolved else None
    conversation.resolution_on_time = (resolved <= conversation.resolution_due_at
                                       if resolved and conversation.resolution_due_at else None)


@transaction.atomic
def conversation_figures_backfill(*, conversation_id: int) -> bool:
    """The report columns of a conversation answered or resolved before they were kept
    (business seconds to the first response and to the resolution, whether each was on time,
    followed up): computed as sla_compute would have, leaving its deadlines untouched.
    False when there was nothing to fill."""
    conversation = _lock(Conversation(pk=conversation_id))
    missing_first = (conversation.first_response_at is not None
                     and conversation.first_response_business_seconds is None)
    missing_resolution = (conversation.resolved_at is not None
                          and conversation.resolution_business_seconds is None)
    if not (missing_first or missing_resolution):
        return False
    spec = sla.account_spec(conversation.account)
    targets = sla.targets_for(conversation)
    first_due = None
    if missing_first:
        conversation.first_response_on_time = None  # judged again below, with its deadline
        first_due = sla.due(spec, conversation.created_at, targets.first_response_hours,
                            paused_seconds=conversation.sla_paused_seconds,
                            same_day=targets.first_response_same_day, clock=targets.clock)
    _durations(conversation, clock_view(spec, targets.clock), first_due)
    _follow_ups(conversation)
    conversation.save(update_fields=["first_response_business_seconds",
                                     "first_response_on_time", "resolution_business_seconds",
                                     "resolution_on_time"])
    return True


def _pause(conversation: Conversation, now: datetime) -> None:
    if conversation.sla_paused_at is None:
        conversation.sla_paused_at = now


def _resume(conversation: Conversation, now: datetime) -> None:
    if conversation.sla_paused_at is not None:
        paused = business_time_between(sla.clock_spec(conversation),
                                       conversation.sla_paused_at, now)
        conversation.sla_paused_seconds += max(0, int(paused.total_seconds()))
        conversation.sla_paused_at = None


# --- Opening and messages ------------------------------------------------------------------

@dataclass
class Incoming:
    """What a channel hands to the inbox."""

    account: ClientAccount
    channel: str
    subject: str
    body_text: str
    body_html: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    kind: str = Kind.QUESTION
    priority: str = Priority.NORMAL
    motif: str = ""
    category: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    needs_review: bool = False
    auto_generated: bool = False
    raw: Any = None  # a django File with the original .eml when kept
    attachments: list[Any] = field(default_factory=list)  # UploadedFile-like objects
    data: dict[str, Any] = field(default_factory=dict)
    language: str = "fr"
    acknowledge: bool = True
    order: Any = None  # shop.Order the conversation is about (e.g. staff contacting a buyer)
    # Staff open it (conversation_open_outbound): the first entry is their internal note.
    opened_by: User | None = None
    # Who asks: one of the account's contacts, or the client business itself (its own
    # request from the espace client: models.Origin).
    origin: str = Origin.CONTACT
    # When it was received, if before now (manual mode: registered by hand after an outage,
    # inbox.manual): the conversation is created at that instant, so its deadlines count
    # from it and the reports place it on that day.
    received_at: datetime | None = None
    # The body is stored encrypted and kept out of the preview and the search text (a
    # medical account's call message, desk.record): only opening the conversation shows it.
    confidential: bool = False


def _search_text(conversation: Conversation, extra: str = "") -> str:
    """First line: reference, subject, contact; then the message bodies, newest last."""
    contact = conversation.contact
    parts = [conversation.reference, conversation.subject]
    if contact:
        parts += [contact.name, contact.email, contact.phone]
    header = " ".join(p for p in parts if p)
    bodies = (conversation.search_text or "").partition("\n")[2]
    if extra:
        bodies = (bodies + "\n" + extra)[-200_000:] if bodies else extra[-200_000:]
    return header + "\n" + bodies


def conversation_open(incoming: Incoming, *, actor: User | None = None) -> Conversation:
    """A new conversation with its first inbound message, routed, with its SLA and an
    acknowledgement sent after commit."""
    return conversation_open_with_message(incoming, actor=actor)[0]


@transaction.atomic
def conversation_open_with_message(incoming: Incoming, *,
                                   actor: User | None = None) -> tuple[Conversation, Message]:
    """`conversation_open`, also returning the first message (the API answers a create with
    both, as written, without reading them back)."""
    now = clock.now()
    # Received earlier (manual mode) or now: everything about the request counts from then.
    at = min(incoming.received_at, now) if incoming.received_at is not None else now
    subject = (incoming.subject or "").strip()[:250] or _("(sans objet)")
    contact = None
    if incoming.contact_email or incoming.contact_phone:
        contact = contact_resolve(account=incoming.account, email=incoming.contact_email,
                                  phone=incoming.contact_phone, name=incoming.contact_name)
    conversation = Conversation(
        account=incoming.account, reference=reference_next(at), subject=subject,
        contact=contact, channel=incoming.channel, kind=incoming.kind,
        priority=incoming.priority, motif=incoming.motif, category=incoming.category,
        language=incoming.language, created_at=at, updated_at=now, last_message_at=at,
        last_inbound_at=at, status=Status.NEW, order=incoming.order, origin=incoming.origin,
    )
    body_text: str = incoming.body_text
    if incoming.confidential:
        body_text = Sealed(body_text)
        conversation.search_text = _search_text(conversation)
        conversation.preview = CONFIDENTIAL_PREVIEW
    else:
        conversation.search_text = _search_text(conversation, body_text)
        conversation.preview = preview_of(body_text)
    routing.apply_rules(conversation)  # may set priority, team, assignee (before SLA)
    sla_compute(conversation, now=now)
    conversation.save()
    _follow_ups(conversation, opening=True)
    routing.apply_tags(conversation)
    if conversation.kind == Kind.COMPLAINT:
        complaint = complaint_ensure(conversation)
        if incoming.channel in (Channel.WEBFORM, Channel.PORTAL):
            # These channels acknowledge on screen, at once.
            complaint.acknowledged_at = now
            complaint.save(update_fields=["acknowledged_at"])
    StatusChange.objects.create(conversation=conversation, from_status="",
                                to_status=Status.NEW, actor=actor, at=at)
    staff_note = incoming.opened_by is not None
    message = Message.objects.create(
        conversation=conversation, direction=Direction.NOTE if staff_note else Direction.IN,
        channel=incoming.channel,
        author=incoming.opened_by if staff_note else (
            actor if incoming.channel == Channel.PHONE else None),
        contact=None if staff_note else contact,
        subject=subject, body_text=body_text, body_html=clean_mail_html(incoming.body_html),
        message_id=incoming.message_id[:250], in_reply_to=incoming.in_reply_to[:250],
        references=incoming.references, sender=incoming.sender[:254],
        recipients=incoming.recipients, needs_review=incoming.needs_review,
        auto_generated=incoming.auto_generated, data=incoming.data, created_at=at,
    )
    if incoming.raw is not None:
        message.raw.save(f"{conversation.reference}.eml", incoming.raw, save=True)
    for upload in incoming.attachments:
        attachment_store.store(message, upload)
    if conversation.assignee_id:
        _system(conversation, "assigned", {"assignee": conversation.assignee_id}, now)
    audit_record(actor=actor, action=Action.CREATE, target=conversation,
                 account=conversation.account, actor_label=incoming.sender if not actor else "",
                 changes={"channel": incoming.channel, "kind": incoming.kind,
                          **({"received_at": at} if at != now else {})})
    events.conversation_created(conversation, message, acknowledge=incoming.acknowledge)
    return conversation, message


@transaction.atomic
def conversation_open_outbound(*, actor: User, account: ClientAccount, subject: str, note: str,
                               body: str, contact_name: str, contact_email: str,
                               order: Any = None, data: dict[str, Any] | None = None,
                               kind: str = Kind.QUESTION) -> Conversation:
    """Staff write first (contacting a buyer from an order): the conversation opens with an
    internal note saying where it comes from, the staff member's message goes to the contact
    (delivered by the worker after commit), and the conversation waits for the customer."""
    conversation, _note = conversation_open_with_message(Incoming(
        account=account, channel=Channel.EMAIL, subject=subject[:250], body_text=note,
        contact_name=contact_name, contact_email=contact_email, kind=kind, acknowledge=False,
        data=data or {}, order=order, opened_by=actor), actor=actor)
    conversation_reply(actor=actor, conversation=conversation, body=body,
                       status_after=Status.PENDING_CUSTOMER)
    return conversation


def _system(conversation: Conversation, event: str, data: dict[str, Any], now: datetime,
            actor: User | None = None) -> Message:
    return Message.objects.create(conversation=conversation, direction=Direction.SYSTEM,
                                  channel=conversation.channel, event=event, data=data,
                                  author=actor, created_at=now)


def _lock(conversation: Conversation) -> Conversation:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the contact join.
    return Conversation.objects.select_for_update(of=("self",)).select_related(
        "account", "contact").get(pk=conversation.pk)


@transaction.atomic
def message_add_inbound(conversation: Conversation, incoming: Incoming) -> Message:
    """A customer's new message on an existing conversation (reply by e-mail, portal…)."""
    now = clock.now()
    conversation = _lock(conversation)
    contact = conversation.contact
    if incoming.contact_email or incoming.contact_phone:
        contact = contact_resolve(account=conversation.account, email=incoming.contact_email,
                                  phone=incoming.contact_phone, name=incoming.contact_name)
    message = Message.objects.create(
        conversation=conversation, direction=Direction.IN, channel=incoming.channel,
        contact=contact, subject=incoming.subject[:250], body_text=incoming.body_text,
        body_html=clean_mail_html(incoming.body_html), message_id=incoming.message_id[:250],
        in_reply_to=incoming.in_reply_to[:250], references=incoming.references,
        sender=incoming.sender[:254], recipients=incoming.recipients,
        needs_review=incoming.needs_review, auto_generated=incoming.auto_generated,
        data=incoming.data, created_at=now,
    )
    if incoming.raw is not None:
        message.raw.save(f"{conversation.reference}-{message.pk}.eml", incoming.raw, save=True)
    for upload in incoming.attachments:
        attachment_store.store(message, upload)
    previous = conversation.status
    if previous in (Status.PENDING_CUSTOMER, Status.NEW):
        _resume(conversation, now)
    reopen = previous == Status.RESOLVED and conversation.resolved_at is not None and (
        now - conversation.resolved_at <= timedelta(days=REOPEN_WINDOW_DAYS))
    if previous == Status.PENDING_CUSTOMER or reopen:
        _transition(conversation, Status.OPEN, None, now, reason="customer_reply")
    conversation.last_inbound_at = now
    conversation.last_message_at = now
    conversation.preview = preview_of(incoming.body_text)
    conversation.updated_at = now
    conversation.search_text = _search_text(conversation, incoming.body_text)
    sla_compute(conversation, now=now)
    conversation.save()
    events.message_created(conversation, message)
    return message


def complaint_ensure(conversation: Conversation) -> Complaint:
    """Called when a conversation is (or becomes) a complaint: the reception step (the
    complaint's later steps are complaints/services.py's, above this module)."""
    complaint, _created = Complaint.objects.get_or_create(
        conversation=conversation, defaults={"received_at": conversation.created_at})
    return complaint


def complaint_acknowledged(*, conversation: Conversation, at: datetime) -> None:
    """The complaint's acknowledgement reached the customer (first time only)."""
    Complaint.objects.filter(conversation=conversation, acknowledged_at__isnull=True).update(
        acknowledged_at=at)


def _check_worker(actor: User) -> None:
    if not can_work_conversations(actor):
        raise Forbidden(_("Vous ne pouvez pas traiter ce dossier."))


def _outgoing(conversation: Conversation, *, actor: User | None, body: str, now: datetime,
              route: reach.Route) -> Message:
    """An outgoing reply on `route`, signed (one signature, from one place): queued for its
    channel ("en file"), or at once visible to the client in the espace client."""
    published = route.channel == reach.ESPACE_CLIENT
    return Message.objects.create(
        conversation=conversation, direction=Direction.OUT, channel=conversation.channel,
        author=actor, contact=conversation.contact,
        subject=f"Re: {conversation.subject}"[:250],
        body_text=signed(body, account=conversation.account, author=actor),
        created_at=now, recipients=[route.address] if route.address else [],
        data={"via": route.channel},
        delivery_status=Delivery.SENT if published else Delivery.PENDING,
    )


def _reached(conversation: Conversation, at: datetime) -> None:
    """Something reached the contact (a reply sent, a call back made): the first response,
    and the latest answer, count from now. The row is locked and saved by the caller."""
    if conversation.first_response_at is None:
        conversation.first_response_at = at
    conversation.last_replied_at = max(filter(None, (conversation.last_replied_at, at)))


@transaction.atomic
def conversation_reply(*, actor: User, conversation: Conversation, body: str,
                       attachments: list[Any] | None = None,
                       status_after: str | None = None) -> Message:
    """An agent's answer to the customer, on the first channel that can reach them (queued,
    sent by the worker after commit). Refused when no channel can reach the contact: nothing
    would be sent. The first response counts once the reply is sent (delivery's
    `message_delivery_mark_sent`), not when it is written."""
    _check_worker(actor)
    body = (body or "").strip()
    if not body:
        raise _invalid(body=_("Le message est vide."))
    now = clock.now()
    conversation = _lock(conversation)
    if conversation.status == Status.CLOSED:
        raise DomainError("closed", _("Ce dossier est clos : rouvrez-le pour répondre."),
                          status=409)
    routes = reach.reply_channels(conversation)
    if not routes:
        reason = reach.unreachable_reason(conversation)
        raise DomainError("unreachable", reason, status=409, fields={"body": [reason]})
    route = routes[0]
    message = _outgoing(conversation, actor=actor, body=body, now=now, route=route)
    for upload in attachments or []:
        attachment_store.store(message, upload)
    if message.delivery_status == Delivery.SENT:
        _reached(conversation, now)
    conversation.last_message_at = now
    conversation.preview = preview_of(body)
    conversation.updated_at = now
    if conversation.assignee_id is None:
        conversation.assignee = actor
    target = status_after or (Status.OPEN if conversation.status == Status.NEW
                              else conversation.status)
    conversation.search_text = _search_text(conversation, body)
    if target != conversation.status:
        _transition(conversation, target, actor, now)
    sla_compute(conversation, now=now)
    conversation.save()
    audit_record(actor=actor, action=Action.CREATE, target=message,
                 account=conversation.account, changes={"direction": "out",
                                                        "via": route.channel})
    events.message_created(conversation, message,
                           deliver=message.delivery_status == Delivery.PENDING)
    return message


@transaction.atomic
def conversation_reached(*, conversation_id: int, at: datetime) -> None:
    """A reply was sent (delivery's `message_delivery_mark_sent`): the first response counts
    from then; deadlines recomputed."""
    conversation = _lock(Conversation(pk=conversation_id))
    _reached(conversation, at)
    sla_compute(conversation, now=at)
    conversation.save(update_fields=["first_response_at", "last_replied_at",
                                     "first_response_due_at", "next_response_due_at",
                                     "resolution_due_at", "next_due_at",
                                     "first_response_business_seconds",
                                     "first_response_on_time"])
    events.conversation_updated(conversation, {"reached": at.isoformat()})


CALLBACK_NOTE_MAX = 500
CALLBACK_HORIZON = timedelta(days=90)


@transaction.atomic
def conversation_callback_done(*, actor: User, conversation: Conversation,
                               note: str) -> Message:
    """« Rappel effectué »: the agent called the contact back. It reached them, so it counts
    as the (first) response; the note says what was said."""
    _check_worker(actor)
    note = " ".join((note or "").split())
    if not note:
        raise _invalid(note=_("Notez en quelques mots ce qui a été dit."))
    if len(note) > CALLBACK_NOTE_MAX:
        raise _invalid(note=_("%(max)s caractères au plus.") % {"max": CALLBACK_NOTE_MAX})
    now = clock.now()
    conversation = _lock(conversation)
    if conversation.status == Status.CLOSED:
        raise DomainError("closed", _("Ce dossier est clos : rouvrez-le d'abord."), status=409)
    contact = conversation.contact
    event = _system(conversation, "callback_done",
                    {"note": note, "phone": contact.phone if contact else ""}, now, actor=actor)
    _reached(conversation, now)
    conversation.last_message_at = now
    conversation.updated_at = now
    if conversation.assignee_id is None:
        conversation.assignee = actor
    if conversation.status == Status.NEW:
        _transition(conversation, Status.OPEN, actor, now)
    conversation.search_text = _search_text(conversation, note)
    sla_compute(conversation, now=now)
    conversation.save()
    audit_record(actor=actor, action=Action.CREATE, target=event,
                 account=conversation.account, changes={"callback": "done"})
    events.conversation_updated(conversation, {"callback": "done"})
    events.timeline_event(conversation, event)
    return event


@transaction.atomic
def conversation_callback_plan(*, actor: User, conversation: Conversation, at: datetime,
                               note: str = "") -> Message:
    """« Rappeler plus tard »: a call back to make at `at`. Nothing reached the contact yet,
    so the deadlines run on; the planned call shows beside the reply form."""
    _check_worker(actor)
    note = " ".join((note or "").split())
    now = clock.now()
    if at.tzinfo is None:
        raise _invalid(at=_("Indiquez une date et une heure."))
    if at <= now:
        raise _invalid(at=_("Choisissez un moment à venir."))
    if at > now + CALLBACK_HORIZON:
        raise _invalid(at=_("Au plus tard dans 90 jours."))
    if len(note) > CALLBACK_NOTE_MAX:
        raise _invalid(note=_("%(max)s caractères au plus.") % {"max": CALLBACK_NOTE_MAX})
    conversation = _lock(conversation)
    if conversation.status == Status.CLOSED:
        raise DomainError("closed", _("Ce dossier est clos : rouvrez-le d'abord."), status=409)
    event = _system(conversation, "callback_planned", {"at": at.isoformat(), "note": note},
                    now, actor=actor)
    conversation.updated_at = now
    if conversation.assignee_id is None:
        conversation.assignee = actor
    conversation.save(update_fields=["updated_at", "assignee"])
    audit_record(actor=actor, action=Action.CREATE, target=event,
                 account=conversation.account, changes={"callback": at.isoformat()})
    events.timeline_event(conversation, event)
    return event


@transaction.atomic
def callback_remind(event_id: int) -> bool:
    """A planned call back's time has come: whoever planned it (or the assignee, if the
    planner left) is notified, once; not when a call back was logged since."""
    event = (Message.objects.select_for_update(of=("self",)).select_related("conversation", "author")
             .filter(pk=event_id, event="callback_planned").first())
    if event is None or "reminded" in event.data:
        return False
    conversation = event.conversation
    event.data = {**event.data, "reminded": clock.now().isoformat()}
    event.save(update_fields=["data"])
    done_since = conversation.messages.filter(
        direction=Direction.SYSTEM, event="callback_done", created_at__gte=event.created_at)
    if conversation.status == Status.CLOSED or done_since.exists():
        return False
    user = event.author if event.author and event.author.is_active else conversation.assignee
    if user is None:
        return False
    events.callback_due(conversation, user)
    return True


MENTION_RE = re.compile(r"@([\w.+-]+@[\w-]+\.[\w.-]+|[\w.-]+)")


@transaction.atomic
def conversation_add_note(*, actor: User, conversation: Conversation, body: str,
                          confidential: bool = False) -> Message:
    """An internal note; @mentions (e-mail or its local part) notify colleagues.
    `confidential`: stored encrypted (see Incoming.confidential)."""
    _check_worker(actor)
    body = (body or "").strip()
    if not body:
        raise _invalid(body=_("La note est vide."))
    now = clock.now()
    conversation = _lock(conversation)
    message = Message.objects.create(conversation=conversation, direction=Direction.NOTE,
                                     channel=conversation.channel, author=actor,
                                     body_text=Sealed(body) if confidential else body,
                                     created_at=now)
    mentioned = _mentioned_users(body, exclude=actor, account=conversation.account)
    Mention.objects.bulk_create([Mention(message=message, user=u) for u in mentioned])
    conversation.updated_at = now
    conversation.save(update_fields=["updated_at"])
    events.note_created(conversation, message, mentioned)
    return message


def _mentioned_users(body: str, *, exclude: User, account: ClientAccount) -> list[User]:
    """Staff named in the note who may see the conversation's account (an agent of other
    accounts would be told its reference and subject, and could not open it anyway)."""
    # "@agent2." at the end of a sentence: the final dot is punctuation, not the handle.
    handles = {h.lower().rstrip(".") for h in MENTION_RE.findall(body)}
    if not handles:
        return []
    staff = active_staff().exclude(pk=exclude.pk)
    named = [u for u in staff if u.email.lower() in handles
             or u.email.split("@")[0].lower() in handles]
    return [u for u in named if accounts_visible_to(u).filter(pk=account.pk).exists()]


CONVERSATION_MACHINE: Machine[Conversation] = Machine(
    model=Conversation, transitions=TRANSITIONS, history_model=StatusChange,
    history_fk="conversation", status_choices=Status, error_code="bad_transition",
    history_note=False)


def _stamp(conversation: Conversation, current: str, target: str, actor: User | None,
           now: datetime) -> None:
    if target == Status.PENDING_CUSTOMER:
        _pause(conversation, now)
    elif current == Status.PENDING_CUSTOMER:
        _resume(conversation, now)
    if target == Status.RESOLVED:
        conversation.resolved_at = now
    if target == Status.CLOSED:
        conversation.closed_at = now
        conversation.resolved_at = conversation.resolved_at or now
    if target == Status.OPEN:
        if current in (Status.RESOLVED, Status.CLOSED):
            conversation.reopen_count += 1
        conversation.closed_at = None
        conversation.resolved_at = None


def _transition(conversation: Conversation, target: str, actor: User | None,
                now: datetime, reason: str = "") -> None:
    """The conversation row is already locked and is saved by the calling service; the
    status history row comes from the kernel helper, the timeline event from here."""
    moved = apply(CONVERSATION_MACHINE, conversation, to=target, actor=actor, stamp=_stamp,
                  now=now)
    if moved.previous == target:
        return
    data = {"from": moved.previous, "to": target}
    if reason:
        data["reason"] = reason
    _system(conversation, "status", data, now, actor=actor)


@transaction.atomic
def conversation_set_status(*, actor: User, conversation: Conversation,
                            status: str) -> Conversation:
    _check_worker(actor)
    if status not in Status.values:
        raise _invalid(status=_("Statut inconnu."))
    now = clock.now()
    conversation = _lock(conversation)
    previous = conversation.status
    _transition(conversation, status, actor, now)
    conversation.updated_at = now
    sla_compute(conversation, now=now)
    conversation.save()
    audit_record(actor=actor, action=Action.UPDATE, target=conversation,
                 changes={"status": [previous, status]})
    events.conversation_updated(conversation, {"status": [previous, status]},
                                resolved=status == Status.RESOLVED)
    return conversation


@transaction.atomic
def conversation_resolve_unattended(*, conversation: Conversation,
                                    reason: str) -> Conversation:
    """Resolved with no person involved (a chat the bot answered, closed by the visitor):
    its deadlines stop; the audit log says it was the system, and why."""
    now = clock.now()
    conversation = _lock(conversation)
    if conversation.status in (Status.RESOLVED, Status.CLOSED):
        return conversation
    previous = conversation.status
    _transition(conversation, Status.RESOLVED, None, now, reason=reason)
    conversation.updated_at = now
    sla_compute(conversation, now=now)
    conversation.save()
    audit_record(actor=None, action=Action.UPDATE, target=conversation, actor_label="system",
                 changes={"status": [previous, Status.RESOLVED], "reason": reason})
    events.conversation_updated(conversation, {"status": [previous, Status.RESOLVED]},
                                resolved=True)
    return conversation


@transaction.atomic
def conversation_link_order(*, actor: User, conversation: Conversation,
                            reference: str) -> Conversation:
    """Link the conversation to one of its account's orders by reference (blank: unlink).
    On the operator's own account (where buyers write to the operator) any order the actor
    may see can be linked."""
    _check_worker(actor)
    reference = (reference or "").strip().upper()
    conversation = _lock(conversation)
    order: Any = None
    if reference:
        # The order model through the foreign key: the inbox sits below the shop and does not
        # import it. Visible orders are those of the accounts the actor may see (what
        # shop.selectors.orders_visible_to says for staff, the only ones allowed here).
        order_model: Any = Conversation._meta.get_field("order").related_model
        order = order_model._default_manager.filter(
            reference=reference, account__in=accounts_visible_to(actor)).first()
        if order is None or (order.account_id != conversation.account_id
                             and not conversation.account.is_operator):
            raise _invalid(order=_("Aucune commande %(ref)s pour ce compte.") % {
                "ref": reference})
    previous = conversation.order_id
    if previous == (order.pk if order else None):
        return conversation
    now = clock.now()
    conversation.order = order
    conversation.updated_at = now
    conversation.save(update_fields=["order", "updated_at"])
    _system(conversation, "order_linked",
            {"order": order.reference if order else "", "previous": previous}, now, actor=actor)
    audit_record(actor=actor, action=Action.UPDATE, target=conversation,
                 changes={"order": [previous, order.pk if order else None]})
    return conversation


@transaction.atomic
def conversation_assign(*, actor: User | None, conversation: Conversation,
                        assignee: User | None) -> Conversation:
    if actor is not None:
        _check_worker(actor)
    if assignee is not None and (
            assignee.role == Role.CLIENT or not assignee.is_active
            or not accounts_visible_to(assignee).filter(pk=conversation.account_id).exists()):
        raise _invalid(assignee=_("Cette personne ne travaille pas pour ce compte."))
    now = clock.now()
    conversation = _lock(conversation)
    previous = conversation.assignee_id
    if previous == (assignee.pk if assignee else None):
        return conversation
    conversation.assignee = assignee
    conversation.updated_at = now
    conversation.save(update_fields=["assignee", "updated_at"])
    _system(conversation, "assigned", {"assignee": assignee.pk if assignee else None,
                                       "previous": previous}, now, actor=actor)
    audit_record(actor=actor, action=Action.UPDATE, target=conversation,
                 changes={"assignee": [previous, assignee.pk if assignee else None]})
    events.conversation_assigned(conversation, assignee, actor)
    return conversation


QUALIFICATION_FIELDS = ("priority", "category", "motif", "kind", "subject")


@transaction.atomic
def conversation_update(*, actor: User, conversation: Conversation, data: dict[str, Any],
                        tags: list[str] | None = None) -> Conversation:
    """Qualification (priority, category, motif, kind, subject) and tags; SLA recomputed."""

    _check_worker(actor)
    choices = {"priority": Priority.values, "category": ["", *Category.values],
               "motif": ["", *Motif.values], "kind": Kind.values}
    errors = {k: _("Valeur inconnue.") for k, v in data.items()
              if k in choices and v not in choices[k]}
    if errors:
        raise _invalid(**errors)
    now = clock.now()
    conversation = _lock(conversation)
    changes = {k: [getattr(conversation, k), v] for k, v in data.items()
               if k in QUALIFICATION_FIELDS and getattr(conversation, k) != v}
    for name, (_old, new) in changes.items():
        setattr(conversation, name, new)
    if tags is not None:
        wanted = {t.strip().lower()[:50] for t in tags if t.strip()}
        current = set(conversation.tags.values_list("name", flat=True))
        if wanted != current:
            conversation.tags.set([Tag.objects.get_or_create(name=t)[0] for t in wanted])
            changes["tags"] = [sorted(current), sorted(wanted)]
    if not changes:
        return conversation
    conversation.updated_at = now
    if {"priority", "kind"} & changes.keys():
        sla_compute(conversation, now=now)
    conversation.save()
    if "motif" in changes:
        _follow_ups(conversation)
    if conversation.kind == Kind.COMPLAINT:
        complaint_ensure(conversation)
    _system(conversation, "qualified", {k: v for k, v in changes.items()}, now, actor=actor)
    audit_record(actor=actor, action=Action.UPDATE, target=conversation,
                 changes=changes)
    events.conversation_updated(conversation, changes)
    return conversation


def sla_recompute_for_account(account: ClientAccount) -> int:
    """After a policy or calendar change: recompute every open conversation of the account."""
    # This may run in another process (the task worker) moments after the change was
    # committed: never with what that process cached before it.
    local_cache.invalidate()
    count = 0
    for conversation in Conversation.objects.filter(account=account, status__in=OPEN_STATUSES):
        with transaction.atomic():
            locked = _lock(conversation)
            sla_compute(locked)
            locked.save(update_fields=["first_response_due_at", "next_response_due_at",
                                       "resolution_due_at", "next_due_at"])
            count += 1
    return count


def check_permission_for_account(actor: User, account: ClientAccount) -> None:
    if not accounts_visible_to(actor).filter(pk=account.pk).exists():
        raise Forbidden()


def conversation_mark_read(*, user: User, conversation: Conversation) -> None:

    ReadMarker.objects.update_or_create(conversation=conversation, user=user,
                                        defaults={"read_at": clock.now()})


_UNREAD: Any = object()  # conversation_viewed: the marker was not read with the page


def conversation_viewed(*, user: User, conversation: Conversation,
                        marker: Mapping[str, Any] | None = _UNREAD) -> bool:
    """A staff user opened the conversation: mark it read and record the view for the audit
    log, in at most ONE write (the user's read marker); True if a write was made.

    `marker`: the user's marker as the page's own query read it ({"read_at", "view_at"}, None
    when there is none: `selectors.get_conversation_page`), saving a query; read here
    otherwise.

    - Read: the marker moves only when a message arrived since it was last set (unread
      means "a message after read_at"; a later read_at would change nothing).
    - Audit (who saw this patient's data, when, from where): the first view in the audit
      window (audit.services.VIEW_DEDUP_SECONDS) is kept on the marker, in the same write,
      and `conversation_views_audit` (the scheduler's `inbox.views_audit`, every minute)
      appends it to the audit log with its own time and request context. Not lossy: the
      marker is committed before the page is sent, and the copy is transactional. If an
      earlier view is still waiting to be copied (the scheduler is late), this one goes to
      the audit log at once."""
    now = clock.now()
    markers = ReadMarker.objects.filter(conversation=conversation, user=user)
    if marker is _UNREAD:
        marker = markers.values("read_at", "view_at").first()
    last = conversation.last_message_at
    changes: dict[str, Any] = {}
    if marker is None or (last is not None and marker["read_at"] < last):
        changes["read_at"] = now
    if audit_view_due(actor=user, target=conversation):
        if marker is not None and marker["view_at"] is not None:
            audit_record(actor=user, action=Action.VIEW, target=conversation,
                         account=conversation.account)
        else:
            ctx = current_request_context()
            changes.update(view_at=now, view_ip=ctx.ip, view_user_agent=ctx.user_agent,
                           view_path=ctx.path)
    if not changes:
        return False
    if marker is not None:
        markers.update(**changes)
    else:
        _read_marker_upsert(conversation=conversation, user=user,
                            values={"read_at": now, **changes}, update=list(changes))
    return True


def _read_marker_upsert(*, conversation: Conversation, user: User, values: dict[str, Any],
                        update: list[str]) -> None:
    """INSERT … ON CONFLICT DO UPDATE of the user's marker: one statement, even if another
    tab got there first. Written out because bulk_create(update_conflicts=True) wraps its
    one statement in a transaction: BEGIN and COMMIT are two more round trips per view (the
    statement alone is atomic). Same SQL on PostgreSQL and SQLite (≥ 3.24)."""
    fields = {name: cast("Field[Any, Any]", ReadMarker._meta.get_field(name))
              for name in ("conversation", "user", *values)}
    column = {name: connection.ops.quote_name(str(field.column))
              for name, field in fields.items()}
    params = [conversation.pk, user.pk] + [
        fields[name].get_db_prep_save(value, connection) for name, value in values.items()]
    table = connection.ops.quote_name(ReadMarker._meta.db_table)
    updates = ", ".join(f"{column[name]} = EXCLUDED.{column[name]}" for name in update)
    sql = (f"INSERT INTO {table} ({', '.join(column.values())}) "  # noqa: S608 (names from the model)  # nosec B608
           f"VALUES ({', '.join(['%s'] * len(params))}) "
           f"ON CONFLICT ({column['conversation']}, {column['user']}) DO UPDATE SET {updates}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


VIEWS_AUDIT_BATCH = 1000


@transaction.atomic
def conversation_views_audit(*, limit: int = VIEWS_AUDIT_BATCH) -> int:
    """Append the views kept on read markers to the audit log (oldest first, at most `limit`),
    then clear them, in one transaction; the rows are locked (SKIP LOCKED: two runs share
    the work). Returns how many were copied."""
    markers = list(ReadMarker.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(view_at__isnull=False)
                   .select_related("user", "conversation__account").order_by("view_at")[:limit])
    audit_views_record([PastView(actor=m.user, target=m.conversation,
                                 account=m.conversation.account, at=m.view_at, ip=m.view_ip,
                                 user_agent=m.view_user_agent, path=m.view_path)
                        for m in markers if m.view_at is not None])
    ReadMarker.objects.filter(pk__in=[m.pk for m in markers]).update(
        view_at=None, view_ip=None, view_user_agent="", view_path="")
    return len(markers)


@transaction.atomic
def conversation_merge(*, actor: User, source: Conversation, target: Conversation,
                       inform_customer: bool = True) -> Conversation:
    """Fold `source` into `target`: timelines combined (source messages stay attached to
    their conversation and show on the target's timeline), both references kept."""
    _check_worker(actor)
    if source.pk == target.pk:
        raise _invalid(target=_("Choisissez un autre dossier."))
    if source.account_id != target.account_id:
        raise _invalid(target=_("Les deux dossiers doivent appartenir au même compte client."))
    first, second = sorted([source.pk, target.pk])
    locked = {c.pk: c for c in Conversation.objects.select_for_update(
        of=("self",)).select_related("account", "contact").filter(pk__in=[first, second])}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise DomainError("already_merged", _("Un de ces dossiers est déjà fusionné."),
                          status=409)
    now = clock.now()
    Conversation.objects.filter(merged_into=source).update(merged_into=target)
    source.merged_into = target
    if source.status not in (Status.CLOSED,):
        _transition(source, Status.CLOSED, actor, now)
    source.updated_at = now
    sla_compute(source, now=now)
    source.save()
    if source.last_message_at > target.last_message_at:
        target.preview = source.preview
    target.last_message_at = max(target.last_message_at, source.last_message_at)
    target.search_text = _search_text(target, (source.search_text or "").partition("\n")[2])
    target.search_text = target.search_text + "\n" + source.reference
    target.updated_at = now
    target.save()
    _system(target, "merged", {"from": source.reference}, now, actor=actor)
    _system(source, "merged_into", {"into": target.reference}, now, actor=actor)
    audit_record(actor=actor, action=Action.UPDATE, target=target,
                 changes={"merged": source.reference})
    routes = reach.reply_channels(target) if inform_customer else []
    if routes:
        body = _("Votre demande %(a)s a été regroupée avec la demande %(b)s : nous vous "
                 "répondrons dans ce dossier.") % {"a": source.reference, "b": target.reference}
        msg = _outgoing(target, actor=actor, body=body, now=now, route=routes[0])
        events.message_created(target, msg, deliver=msg.delivery_status == Delivery.PENDING)
    events.conversation_updated(target, {"merged": source.reference})
    events.conversation_updated(source, {"merged_into": target.reference})
    return target


@transaction.atomic
def message_split(*, actor: User, message: Message) -> Conversation:
    """Move one inbound message into a new conversation of the same account and contact."""
    _check_worker(actor)
    if message.direction != Direction.IN:
        raise _invalid(message=_("Seul un message reçu peut être scindé."))
    original = _lock(message.conversation)
    if original.messages.filter(direction=Direction.IN).count() < 2:
        raise _invalid(message=_("Le dossier ne contient que ce message."))
    now = clock.now()
    conversation = Conversation(
        account=original.account, reference=reference_next(now),
        subject=(message.subject or original.subject)[:250], contact=message.contact or
        original.contact, channel=message.channel, kind=original.kind,
        priority=original.priority, created_at=message.created_at, updated_at=now,
        last_message_at=message.created_at, last_inbound_at=message.created_at,
        status=Status.OPEN, assignee=actor, origin=original.origin)
    conversation.search_text = _search_text(conversation, message.body_text)
    conversation.preview = preview_of(message.body_text)
    sla_compute(conversation, now=now)
    conversation.save()
    StatusChange.objects.create(conversation=conversation, from_status="", to_status=Status.OPEN,
                                actor=actor, at=now)
    Message.objects.filter(pk=message.pk).update(conversation=conversation)
    _system(original, "split", {"into": conversation.reference, "message": message.pk}, now,
            actor=actor)
    _system(conversation, "split_from", {"from": original.reference}, now, actor=actor)
    audit_record(actor=actor, action=Action.CREATE, target=conversation,
                 changes={"split_from": original.reference})
    events.conversation_updated(original, {"split": conversation.reference})
    events.conversation_created(conversation, message, acknowledge=False)
    return conversation


@transaction.atomic
def phone_message_record(*, actor: User, account: ClientAccount, caller_name: str,
                         caller_phone: str, reason: str, message: str, urgent: bool,
                         caller_email: str = "", confidential: bool = False) -> Conversation:
    """An agent records an incoming call (message téléphonique) as a conversation.
    `confidential`: see Incoming.confidential."""

    _check_worker(actor)
    check_permission_for_account(actor, account)

    try:
        phone = normalise_phone(caller_phone) if caller_phone.strip() else ""
    except ValidationError as exc:
        raise _invalid(caller_phone=str(exc.messages[0])) from None
    if not (message or "").strip():
        raise _invalid(message=_("Notez le message de l'appelant."))
    incoming = Incoming(
        account=account, channel=Channel.PHONE, subject=(reason or _("Appel téléphonique")),
        body_text=message.strip(), contact_name=caller_name, contact_phone=phone,
        contact_email=caller_email, kind=Kind.PHONE_MESSAGE,
        priority=Priority.URGENT if urgent else Priority.NORMAL, acknowledge=False,
        data={"recorded_by": actor.pk}, confidential=confidential,
    )
    return conversation_open(incoming, actor=actor)


@transaction.atomic
def conversation_event_record(*, conversation: Conversation, event: str, text: str,
                              data: dict[str, Any] | None = None,
                              actor: User | None = None) -> Message:
    """A step another app records on the conversation's timeline (the desk: message
    forwarded, delivered, read, escalated): a staff-only system entry with its text, shown
    live. It changes neither the status nor the deadlines."""
    message = _system(conversation, event[:40], {**(data or {}), "text": text[:500]},
                      clock.now(), actor=actor)
    events.timeline_event(conversation, message)
    return message


@transaction.atomic
def bulk_apply(*, actor: User, conversations: list[Conversation], action: str,
               assignee: User | None = None, tag: str = "") -> int:
    """Bulk assign / close / tag; all-or-nothing."""
    _check_worker(actor)
    done = 0
    for conversation in conversations:
        if action == "assign":
            conversation_assign(actor=actor, conversation=conversation, assignee=assignee)
        elif action == "close":
            if conversation.status != Status.CLOSED:
                conversation_set_status(actor=actor, conversation=conversation,
                                        status=Status.CLOSED)
        elif action == "tag" and tag.strip():
            current = list(conversation.tags.values_list("name", flat=True))
            conversation_update(actor=actor, conversation=conversation, data={},
                                tags=[*current, tag])
        else:
            raise _invalid(action=_("Action inconnue."))
        done += 1
    return done


@transaction.atomic
def presence_set(*, user: User, available: bool, capacity: int | None = None) -> None:
    """Disponible / absent, and how many open conversations the agent can carry (routing)."""

    defaults: dict[str, Any] = {"available": available}
    if capacity is not None:
        if not 1 <= capacity <= 500:
            raise _invalid(capacity=_("Entre 1 et 500 dossiers."))
        defaults["capacity"] = capacity
    AgentPresence.objects.update_or_create(user=user, defaults=defaults)


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:

    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=clock.now())

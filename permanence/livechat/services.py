"""Writes of the live chat. Each service runs in one transaction, locks the chat session
first (then the inbox locks its conversation: always in this order), writes the chat's rows
and calls the inbox's services for everything on the conversation (messages, replies,
assignment, status, timeline events); live pushes and e-mails wait for the commit.

A visitor's message is committed before anything is pushed or acknowledged; it carries the
visitor's client id (`Message.message_id` = chat:<session>:<client id>), so a message sent
again after a lost acknowledgement is found, not written twice.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import background, clock, uploads
from permanence.core.consent import text_version
from permanence.core.errors import DomainError, Forbidden, invalid
from permanence.core.mail import queue_email
from permanence.core.transitions import Machine, apply
from permanence.feedback.models import Source
from permanence.feedback.services import feedback_submit
from permanence.inbox import services as inbox
from permanence.inbox.models import OPEN_STATUSES, Channel, Message, Status
from permanence.inbox.promise import customer_promise

from . import live, selectors
from .models import (
    CHAT_TRANSITIONS,
    DEFAULT_CONSENT,
    AgentSeat,
    BotExchange,
    ChatSession,
    ChatSettings,
    ChatStatus,
    ChatStatusChange,
)
from .permissions import can_act_on_chat, can_configure_chat, can_take_chats

MAX_BODY = 4000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ATTACHMENT_MAX_BYTES = uploads.CHAT.max_bytes

CHAT_MACHINE: Machine[ChatSession] = Machine(
    model=ChatSession, transitions=CHAT_TRANSITIONS, history_model=ChatStatusChange,
    history_fk="session", status_choices=ChatStatus, error_code="bad_transition")


def _lock(session: ChatSession) -> ChatSession:
    return (ChatSession.objects.select_for_update(of=("self",))
            .select_related("account", "conversation").get(pk=session.pk))


def _move(session: ChatSession, to: str, actor: User | None, now: datetime,
          reason: str) -> None:
    """The locked session to `to` (history row); pushed to the consoles after commit."""
    apply(CHAT_MACHINE, session, to=to, actor=actor, now=now, note=reason)
    session.updated_at = now
    sid, status = session.pk, session.status
    transaction.on_commit(partial(live.chat_changed, sid, status, reason))


def _notice(session: ChatSession, text: str, **data: Any) -> Message | None:
    """A line the visitor and the secretaries see in the transcript (the inbox's timeline)."""
    if session.conversation is None:
        return None
    return inbox.conversation_event_record(conversation=session.conversation,
                                           event="chat_notice", text=text,
                                           data={"notice": text, **data})


# --- The visitor -----------------------------------------------------------------------------

def _text(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise invalid(**{field: _("Texte attendu.")})
    text: str = value.strip()
    if required and not text:
        raise invalid(**{field: _("Ce champ est obligatoire.")})
    if len(text) > limit:
        raise invalid(**{field: _("%(n)d caractères au plus.") % {"n": limit}})
    return text


@transaction.atomic
def chat_start(*, chat_settings: ChatSettings, origin: str, name: Any, email: Any,
               consent: Any, page_url: Any = "", page_title: Any = "") -> tuple[ChatSession, str]:
    """A visitor fills in the pre-chat form: a session and its token (shown once)."""
    name = _text(name, "name", 200)
    email = _text(email, "email", 254).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise invalid(email=_("Adresse e-mail invalide.")) from None
    if consent is not True:
        raise invalid(consent=_("Votre accord est nécessaire pour discuter avec nous."))
    now = clock.now()
    token = secrets.token_urlsafe(32)
    consent_text = (chat_settings.consent_text or str(DEFAULT_CONSENT))[:400]
    session = ChatSession.objects.create(
        account=chat_settings.account, token_hash=selectors.token_hash(token),
        visitor_name=name, visitor_email=email,
        consent_text=consent_text, consent_version=text_version(consent_text),
        consent_at=now, origin=origin[:200],
        page_url=_text(page_url, "page_url", 500, required=False),
        page_title=_text(page_title, "page_title", 200, required=False),
        created_at=now, updated_at=now)
    ChatStatusChange.objects.create(session=session, from_status="", to_status=session.status,
                                    at=now)
    return session, token


def _client_key(session: ChatSession, client_id: Any) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise invalid(client_id=_("Identifiant de message invalide."))
    return f"chat:{session.pk}:{client_id}"


def _message_limit() -> int:
    """Per chat, the visitor's messages in a window: a visitor types far fewer; a script
    flooding the inbox is stopped (CHAT_MESSAGE_RATE_LIMIT / _WINDOW in seconds)."""
    return int(getattr(settings, "CHAT_MESSAGE_RATE_LIMIT", 30))


def _message_window() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "CHAT_MESSAGE_RATE_WINDOW", 60)))


def _subject(body: str) -> str:
    line = " ".join(body.split())
    return _("Chat : %(text)s") % {"text": line[:80] + ("…" if len(line) > 80 else "")}


@transaction.atomic
def visitor_message_send(*, session: ChatSession, client_id: Any, body: Any,
                         attachment: Any = None) -> tuple[Message, bool]:
    """The visitor's message, on the chat's conversation (opened by the first one). Returns
    (message, created): created False when this client id was already written (a resend)."""
    key = _client_key(session, client_id)
    if attachment is None:
        body = _text(body, "body", MAX_BODY)
    else:
        body = _text(body, "body", MAX_BODY, required=False)
        _check_attachment(attachment)
        body = body or _("Pièce jointe : %(name)s") % {"name": attachment[0]}
    session = _lock(session)
    if session.status in (ChatStatus.ENDED,):
        raise DomainError("chat_ended", _("Cette conversation est terminée."), status=409)
    now = clock.now()
    if session.conversation_id is not None:
        existing, recent = selectors.sent_and_recent(session.conversation_id, key,
                                                     now - _message_window())
        if existing is not None:
            return Message.objects.get(pk=existing), False
        # Counted on what is stored, under the session's lock: the same for every process
        # and for the socket and the HTTP API, with nothing to keep anywhere else.
        if recent >= _message_limit():
            raise DomainError("rate_limited", _("Trop de messages : patientez un instant."),
                              status=429)
    opening = session.conversation is None
    incoming = inbox.Incoming(
        account=session.account, channel=Channel.CHAT, subject=_subject(body), body_text=body,
        # The visitor's contact is resolved when the first message opens the conversation;
        # the next ones are the same person's (the conversation's contact), not looked up again.
        contact_name=session.visitor_name if opening else "",
        contact_email=session.visitor_email if opening else "",
        message_id=key, sender=session.visitor_email,
        attachments=[attachment] if attachment is not None else [],
        data={"chat": session.pk, "page": session.page_url},
        # A live chat answers on screen; an offline one is acknowledged when it becomes so.
        acknowledge=False)
    if opening:
        conversation, message = inbox.conversation_open_with_message(incoming)
        session.conversation = conversation
        # Sockets that follow the chat since before it had a conversation (a console that
        # watched it, the visitor's other tabs) join the conversation's group on this.
        transaction.on_commit(partial(live.chat_opened, session.pk, conversation.pk))
    else:
        assert session.conversation is not None  # noqa: S101 (not opening)  # nosec B101
        message = inbox.message_add_inbound(session.conversation, incoming)
    session.updated_at = now
    session.save(update_fields=["conversation", "updated_at"])
    return message, True


def _check_attachment(attachment: Any) -> None:
    """A visitor's file: PDF, image or text of at most 5 Mo, checked by content
    (core.uploads); the inbox checks it again as every attachment when storing it."""
    uploads.check(attachment, uploads.CHAT, field="file")


@transaction.atomic
def visitor_page(*, session: ChatSession, url: Any, title: Any = "") -> None:
    """Where the visitor is on the host site now (shown to the secretary)."""
    url = _text(url, "url", 500)
    title = _text(title, "title", 200, required=False)
    ChatSession.objects.filter(pk=session.pk).update(page_url=url, page_title=title,
                                                     updated_at=clock.now())


@transaction.atomic
def handover(*, session: ChatSession, reason: str) -> ChatSession:
    """To a human: the queue while someone can answer, else an offline conversation that the
    inbox handles later (acknowledged by e-mail with the promised date)."""
    session = _lock(session)
    if session.status != ChatStatus.BOT or session.conversation is None:
        return session
    now = clock.now()
    chat_settings = selectors.settings_of(session.account)
    capacity = chat_settings.capacity_per_agent if chat_settings else 1
    online = selectors.account_open_now(session.account) and bool(
        selectors.agents_available(session.account, capacity))
    if online:
        _move(session, ChatStatus.WAITING, None, now, reason)
        session.waiting_since = now
        session.save()
        _notice(session, _("Je vous mets en relation avec un conseiller, merci de patienter."),
                reason=reason)
        return session
    return _go_offline(session, now, reason)


def _go_offline(session: ChatSession, now: datetime, reason: str) -> ChatSession:
    _move(session, ChatStatus.OFFLINE, None, now, reason)
    session.save()
    conversation = session.conversation
    assert conversation is not None  # noqa: S101 (callers check)  # nosec B101
    promise = customer_promise(conversation, ui=True)
    text = _("Aucun conseiller n'est disponible pour le moment. Votre demande %(ref)s est "
             "enregistrée : nous vous répondrons par e-mail à %(email)s") % {
        "ref": conversation.reference, "email": session.visitor_email}
    text += (_(" au plus tard le %(date)s.") % {"date": promise.text}) if promise else "."
    _notice(session, text, reason=reason, offline=True)
    # The inbox's own acknowledgement (reference and promised date), woken by name.
    background.enqueue_with_transaction("inbox.send_acknowledgement", conversation.pk)
    return session


@transaction.atomic
def bot_exchange_record(*, session: ChatSession, question: Message, answer: Any) -> BotExchange:
    """The bot's answer to `question`, shown to the visitor with « Cela vous a aidé ? »."""
    session = _lock(session)
    exchange = BotExchange.objects.create(
        session=session, account=session.account, question=question.body_text[:2000],
        question_message_id=question.pk, article_id=answer.article_id,
        title=answer.title[:300], confidence=answer.confidence, handover=answer.handover,
        created_at=clock.now())
    if not answer.handover and session.conversation is not None:
        message = inbox.conversation_event_record(
            conversation=session.conversation, event="chat_bot",
            text=_("Assistant : %(title)s") % {"title": answer.title},
            data={"answer": answer.answer, "title": answer.title,
                  "article_id": answer.article_id, "confidence": answer.confidence,
                  "exchange": exchange.pk})
        exchange.answer_message_id = message.pk
        exchange.save(update_fields=["answer_message_id"])
    return exchange


UNHELPFUL_LIMIT = 2


def visitor_feedback(*, session: ChatSession, exchange_id: Any, helped: Any) -> ChatSession:
    """« Cela vous a aidé ? » Oui / Non. Two « Non »: a human takes over."""
    if not isinstance(helped, bool) or isinstance(exchange_id, bool) or not isinstance(
            exchange_id, int) or not 0 < exchange_id < 2**63:
        raise invalid(helped=_("Réponse attendue : oui ou non."))
    with transaction.atomic():
        session = _lock(session)
        updated = BotExchange.objects.filter(pk=exchange_id, session=session,
                                             helped__isnull=True).update(helped=helped)
        if not updated:
            return session
        if helped:
            _notice(session, _("Ravi d'avoir pu vous aider ! Une autre question ?"))
            return session
        session.unhelpful += 1
        session.save(update_fields=["unhelpful"])
        if session.unhelpful < UNHELPFUL_LIMIT:
            _notice(session, _("Désolé. Pouvez-vous reformuler votre question ?"))
            return session
    return handover(session=session, reason="unhelpful")


@transaction.atomic
def visitor_end(*, session: ChatSession) -> ChatSession:
    """The visitor leaves. A chat only the bot answered is resolved then (nobody has
    anything left to do, its deadlines stop); one handed over stays for the secretaries."""
    session = _lock(session)
    if session.status in (ChatStatus.ENDED, ChatStatus.OFFLINE):
        return session
    now = clock.now()
    with_bot_only = session.status == ChatStatus.BOT
    _move(session, ChatStatus.ENDED, None, now, "visitor")
    session.ended_at = now
    session.save()
    _notice(session, _("Le visiteur a quitté la conversation."))
    if with_bot_only and session.conversation is not None:
        inbox.conversation_resolve_unattended(
            conversation=session.conversation, reason="chat answered by the bot")
    return session


def visitor_opinion(*, session: ChatSession, rating: Any, comment: Any) -> None:
    """« Votre avis » from the widget: on the improvement board like any other, about the
    chat of this account (the host site's page is not ours to name)."""
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise invalid(rating=_("Une note de 1 à 5."))
    feedback_submit(page=f"/chat/{session.account.slug}/", rating=rating,
                    comment=comment if isinstance(comment, str) else "", source=Source.CHAT)


@transaction.atomic
def transcript_send(*, session: ChatSession) -> bool:
    """The transcript, in plain text, to the visitor's address (once per minute at most)."""
    session = _lock(session)
    now = clock.now()
    if session.transcript_sent_at and (now - session.transcript_sent_at).total_seconds() < 60:
        return False
    lines = [_("Transcription de votre conversation avec %(account)s") % {
        "account": session.account.name}, ""]
    for message in selectors.visitor_messages(session, limit=2000):
        lines.append(f"[{message.created_at:%d/%m/%Y %H:%M}] {_speaker(message, session)} :")
        lines.append(visible_text(message))
        lines.append("")
    queue_email(to=[session.visitor_email], subject=_("Votre conversation avec %(a)s") % {
        "a": session.account.name}, body="\n".join(lines))
    session.transcript_sent_at = now
    session.save(update_fields=["transcript_sent_at"])
    return True


def visible_text(message: Message) -> str:
    """A message's text as the visitor sees it (plain text: rendered only as text)."""
    if message.direction == "system":
        data = message.data or {}
        return str(data.get("answer") or data.get("notice") or data.get("text") or "")
    return message.body_text


def _speaker(message: Message, session: ChatSession) -> str:
    if message.direction == "in":
        return session.visitor_name
    if message.direction == "system":
        return _("Assistant")
    author = message.author
    return (getattr(author, "full_name", "") or _("Conseiller")) if author else _("Conseiller")


# --- The secretaries -------------------------------------------------------------------------

def seat_beat(*, user: User) -> None:
    """The console's socket is alive: the secretary counts as online for the chat."""
    if not can_take_chats(user):
        return
    AgentSeat.objects.update_or_create(user=user, defaults={"seen_at": clock.now()})


def seat_leave(*, user: User) -> None:
    AgentSeat.objects.filter(user=user).delete()


def _capacity(session: ChatSession) -> int:
    chat_settings = selectors.settings_of(session.account)
    return chat_settings.capacity_per_agent if chat_settings else 1


def _check_capacity(user: User, session: ChatSession) -> None:
    if selectors.active_count(user) >= _capacity(session):
        raise DomainError("at_capacity", _("%(name)s a déjà le nombre maximal de chats.") % {
            "name": user.full_name or user.email}, status=409)


@transaction.atomic
def chat_accept(*, actor: User, session: ChatSession) -> ChatSession:
    if not can_take_chats(actor):
        raise Forbidden()
    session = _lock(session)
    if session.status != ChatStatus.WAITING:
        raise DomainError("taken", _("Ce chat n'est plus en attente."), status=409)
    _check_capacity(actor, session)
    now = clock.now()
    _move(session, ChatStatus.ACTIVE, actor, now, "accepted")
    session.agent = actor
    session.accepted_at = now
    session.save()
    assert session.conversation is not None  # noqa: S101 (waiting chats have one)  # nosec B101
    inbox.conversation_assign(actor=actor, conversation=session.conversation, assignee=actor)
    _notice(session, _("%(name)s a rejoint la conversation.") % {
        "name": actor.full_name or _("Un conseiller")})
    return session


@transaction.atomic
def chat_reply(*, actor: User, session: ChatSession, body: Any) -> Message:
    body = _text(body, "body", MAX_BODY)
    session = _lock(session)
    if not can_act_on_chat(actor, session) or session.status != ChatStatus.ACTIVE:
        raise Forbidden(_("Prenez ce chat avant d'y répondre."))
    assert session.conversation is not None  # noqa: S101 (active chats have one)  # nosec B101
    message = inbox.conversation_reply(actor=actor, conversation=session.conversation,
                                       body=body)
    session.updated_at = clock.now()
    session.save(update_fields=["updated_at"])
    return message


@transaction.atomic
def chat_transfer(*, actor: User, session: ChatSession, to: User | None) -> ChatSession:
    """To a colleague (who must be online with room for it), or back to the queue."""
    session = _lock(session)
    if not can_act_on_chat(actor, session) or session.status != ChatStatus.ACTIVE:
        raise Forbidden()
    assert session.conversation is not None  # noqa: S101 (active chats have one)  # nosec B101
    now = clock.now()
    if to is None:
        _move(session, ChatStatus.WAITING, actor, now, "transfer_queue")
        session.agent = None
        session.waiting_since = now
        session.save()
        _notice(session, _("Un autre conseiller va vous répondre, merci de patienter."))
        return session
    if to.pk not in {u.pk for u in selectors.transfer_targets(session, _capacity(session))}:
        raise invalid(to=_("Cette personne n'est pas disponible pour ce chat."))
    session.agent = to
    session.accepted_at = now
    session.updated_at = now
    session.save()
    inbox.conversation_assign(actor=actor, conversation=session.conversation, assignee=to)
    sid = session.pk
    transaction.on_commit(partial(live.chat_changed, sid, session.status, "transferred"))
    _notice(session, _("%(name)s prend le relais.") % {"name": to.full_name or to.email})
    return session


@transaction.atomic
def chat_end(*, actor: User, session: ChatSession, resolve: bool = True) -> ChatSession:
    """The secretary closes the chat; the conversation is resolved in the inbox."""
    session = _lock(session)
    if not can_act_on_chat(actor, session) or session.status != ChatStatus.ACTIVE:
        raise Forbidden()
    assert session.conversation is not None  # noqa: S101 (active chats have one)  # nosec B101
    now = clock.now()
    _move(session, ChatStatus.ENDED, actor, now, "agent")
    session.ended_at = now
    session.save()
    _notice(session, _("La conversation est terminée. Merci de nous avoir contactés."))
    if resolve and session.conversation.status in OPEN_STATUSES:
        inbox.conversation_set_status(actor=actor, conversation=session.conversation,
                                      status=Status.RESOLVED)
    return session


@transaction.atomic
def chat_settings_save(*, actor: User, account: ClientAccount, enabled: bool,
                       allowed_origins: str, welcome_text: str = "", consent_text: str = "",
                       capacity_per_agent: int = 3) -> ChatSettings:
    if not can_configure_chat(actor):
        raise Forbidden()
    origins = [o.strip().rstrip("/") for o in (allowed_origins or "").split() if o.strip()]
    bad = [o for o in origins if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$", o)]
    if bad:
        raise invalid(allowed_origins=_("Origine invalide : %(o)s") % {"o": bad[0][:100]})
    if not 1 <= capacity_per_agent <= 20:
        raise invalid(capacity_per_agent=_("Entre 1 et 20."))
    values = {"enabled": enabled, "allowed_origins": "\n".join(origins),
              "welcome_text": welcome_text[:300], "consent_text": consent_text[:400],
              "capacity_per_agent": capacity_per_agent}
    chat_settings, created = ChatSettings.objects.update_or_create(account=account,
                                                                   defaults=values)
    audit_record(actor=actor, action=Action.CREATE if created else Action.UPDATE,
                 target=chat_settings, account=account,
                 changes={k: v for k, v in values.items() if k != "welcome_text"})
    return chat_settings


WAITING_LIMIT_SECONDS = 5 * 60


def waiting_expire(*, limit_seconds: int = WAITING_LIMIT_SECONDS) -> int:
    """Periodic: chats waiting longer than `limit_seconds` while nobody can take them (the
    secretaries left the console, or the account closed meanwhile) become offline
    conversations, acknowledged like any other. One chat per transaction."""
    before = clock.now() - timedelta(seconds=limit_seconds)
    done = 0
    for session in ChatSession.objects.filter(status=ChatStatus.WAITING,
                                              waiting_since__lt=before):
        with transaction.atomic():
            locked = _lock(session)
            if locked.status != ChatStatus.WAITING:
                continue
            chat_settings = selectors.settings_of(locked.account)
            capacity = chat_settings.capacity_per_agent if chat_settings else 1
            if selectors.account_open_now(locked.account) and selectors.agents_available(
                    locked.account, capacity):
                continue
            _go_offline(locked, clock.now(), "waiting_timeout")
            done += 1
    return done

"""Reads for the live chat: sessions by token, what a visitor may see of the transcript,
the queue, who is online, whether the account is open."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.calendars.services import spec_for_account_cached
from permanence.core import clock, consent
from permanence.core.business_time import is_open
from permanence.core.errors import DomainError, NotFound
from permanence.inbox.models import AgentPresence, Direction, Message

from .models import (
    LIVE_STATUSES,
    AgentSeat,
    BotExchange,
    ChatSession,
    ChatSettings,
    ChatStatus,
)
from .permissions import can_supervise_chats, can_take_chats

# A console whose socket has not beaten for this long is offline (it beats every 20 s).
SEAT_TTL = timedelta(seconds=60)
# What of a conversation the visitor sees: their messages, the replies, and the chat's own
# events (bot answers, notices). Never internal notes, consignes or other system entries.
VISITOR_EVENTS = ("chat_bot", "chat_notice")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def settings_for_slug(slug: str) -> ChatSettings:
    """The enabled chat of the account `slug` (404 otherwise)."""
    found = (ChatSettings.objects.select_related("account")
             .filter(account__slug=slug[:100], enabled=True).first())
    if found is None:
        raise NotFound()
    return found


def settings_of(account: ClientAccount) -> ChatSettings | None:
    return ChatSettings.objects.filter(account=account).first()


def session_for_token(token: str) -> ChatSession:
    if not token or len(token) > 100:
        raise NotFound()
    session = (ChatSession.objects.select_related("account", "conversation", "agent")
               .filter(token_hash=token_hash(token)).first())
    if session is None:
        raise NotFound()
    return session


def conversation_of(session_id: int) -> int | None:
    """The chat's conversation (None until the first message opens it; never changes then)."""
    return (ChatSession.objects.filter(pk=session_id)
            .values_list("conversation_id", flat=True).first())


def sent_and_recent(conversation_id: int, message_key: str,
                    since: datetime) -> tuple[int | None, int]:
    """In one query: the id of the message already stored under `message_key` (a visitor's
    resend), and how many of the visitor's messages were stored since `since`."""
    found = (Message.objects.filter(conversation_id=conversation_id)
             .filter(Q(message_id=message_key)
                     | Q(direction=Direction.IN, created_at__gte=since))
             .aggregate(existing=Max("pk", filter=Q(message_id=message_key)),
                        recent=Count("pk", filter=Q(direction=Direction.IN,
                                                    created_at__gte=since))))
    return found["existing"], int(found["recent"] or 0)


def visitor_messages(session: ChatSession, *, after: int = 0,
                     limit: int = 200) -> QuerySet[Message]:
    """The transcript as the visitor sees it, after message id `after`, oldest first."""
    return visitor_messages_in(session.conversation_id, after=after, limit=limit)


def visitor_messages_in(conversation_id: int | None, *, after: int = 0,
                        limit: int = 200) -> QuerySet[Message]:
    """`visitor_messages` of the chat whose conversation is `conversation_id` (the sockets
    know it: no need to read the session again)."""
    if conversation_id is None:
        return Message.objects.none()
    return (Message.objects.filter(conversation_id=conversation_id, pk__gt=after)
            .filter(Q(direction__in=(Direction.IN, Direction.OUT))
                    | Q(direction=Direction.SYSTEM, event__in=VISITOR_EVENTS))
            .prefetch_related("attachments").order_by("pk")[:limit])


def staff_messages(session: ChatSession, *, after: int = 0,
                   limit: int = 500) -> QuerySet[Message]:
    """The transcript as the console shows it (internal notes too)."""
    return staff_messages_in(session.conversation_id, after=after, limit=limit)


def staff_messages_in(conversation_id: int | None, *, after: int = 0,
                      limit: int = 500) -> QuerySet[Message]:
    if conversation_id is None:
        return Message.objects.none()
    return (Message.objects.filter(conversation_id=conversation_id, pk__gt=after)
            .exclude(direction=Direction.SYSTEM, event__in=("status", "assigned"))
            .select_related("author").prefetch_related("attachments").order_by("pk")[:limit])


def chats_visible_to(user: Actor) -> QuerySet[ChatSession]:
    if not can_take_chats(user) and not can_supervise_chats(user):
        return ChatSession.objects.none()
    return ChatSession.objects.filter(account__in=accounts_visible_to(user))


def get_chat_for_user(user: Actor, pk: Any) -> ChatSession:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    session = (chats_visible_to(user).select_related("account", "conversation", "agent")
               .filter(pk=pk).first())
    if session is None:
        raise NotFound()
    return session


def queue_for(user: User) -> dict[str, list[ChatSession]]:
    """The console's lists: chats waiting for someone, the user's own, and (supervisors)
    every live chat held by someone."""
    visible = chats_visible_to(user).select_related("account", "agent", "conversation")
    lists = {
        "waiting": list(visible.filter(status=ChatStatus.WAITING).order_by("waiting_since")),
        "mine": list(visible.filter(status=ChatStatus.ACTIVE, agent=user)
                     .order_by("accepted_at")),
        "others": [],
    }
    if can_supervise_chats(user):
        lists["others"] = list(visible.filter(status=ChatStatus.ACTIVE).exclude(agent=user)
                               .order_by("accepted_at"))
    return lists


def active_count(user: User) -> int:
    return ChatSession.objects.filter(agent=user, status=ChatStatus.ACTIVE).count()


def is_seated(user: User) -> bool:
    return AgentSeat.objects.filter(user=user, seen_at__gte=clock.now() - SEAT_TTL).exists()


def agents_available(account: ClientAccount, capacity: int) -> list[User]:
    """Secretaries of the account on the console now, available (inbox presence) and below
    their chat capacity."""
    since = clock.now() - SEAT_TTL
    seated = (User.objects.filter(is_active=True, chat_seat__seen_at__gte=since)
              .annotate(live=Count("chats", filter=Q(chats__status=ChatStatus.ACTIVE))))
    absent = set(AgentPresence.objects.filter(available=False).values_list("user_id", flat=True))
    return [u for u in seated if u.pk not in absent and u.live < capacity and can_take_chats(u)
            and accounts_visible_to(u).filter(pk=account.pk).exists()]


def account_open_now(account: ClientAccount) -> bool:
    """Within the account's business hours (its calendar). A broken calendar: closed."""
    try:
        return is_open(spec_for_account_cached(account), clock.now())
    except DomainError:
        return False


def availability(chat_settings: ChatSettings) -> tuple[bool, str]:
    """(someone can answer now, why not: "closed" / "busy" / "")."""
    account = chat_settings.account
    if not account_open_now(account):
        return False, "closed"
    if not agents_available(account, chat_settings.capacity_per_agent):
        return False, "busy"
    return True, ""


def transfer_targets(session: ChatSession, capacity: int) -> list[User]:
    return [u for u in agents_available(session.account, capacity) if u.pk != session.agent_id]


def live_session_of(conversation_id: int) -> ChatSession | None:
    return ChatSession.objects.filter(conversation_id=conversation_id,
                                      status__in=LIVE_STATUSES).first()


def bot_stats(account: ClientAccount | None = None) -> dict[str, Any]:
    """Deflection: the share of answered questions the visitor said helped."""
    qs = BotExchange.objects.all() if account is None else BotExchange.objects.filter(
        account=account)
    rated = qs.filter(helped__isnull=False)
    helped = rated.filter(helped=True).count()
    total = rated.count()
    return {"rated": total, "helped": helped,
            "rate": round(100 * helped / total) if total else None,
            "unanswered": list(qs.filter(Q(handover=True) | Q(helped=False))
                               .order_by("-created_at").values_list("question", flat=True)[:20])}


def consent_rows(*, accounts: Any, email: str = "", phone: str = "") -> QuerySet[Any]:
    """The consents given before chatting, as core.consent rows: one per chat session in
    `accounts` (ids, or a queryset of them), optionally of one e-mail address. A chat asks
    for no phone number: a search by number finds none."""
    sessions = ChatSession.objects.filter(account__in=accounts)
    if email:
        sessions = sessions.filter(visitor_email__iexact=email)
    if phone:
        sessions = sessions.none()
    return consent.rows(
        sessions, c_source=consent.CHAT, c_ref=F("pk"), c_object=F("pk"),
        c_account=F("account_id"), c_name=F("visitor_name"), c_email=F("visitor_email"),
        c_phone="", c_purpose=consent.PURPOSE_CHAT, c_version=F("consent_version"),
        c_text=F("consent_text"), c_at=F("consent_at"))

"""The visitor's operations, shared by the socket (consumers) and the HTTP API
(views_visitor): synchronous, each a service call on a fresh session row."""

from __future__ import annotations

from typing import Any

from permanence.inbox.models import Message

from . import bot_step, services
from .models import ChatSession

ACTIONS = ("feedback", "page", "end", "transcript", "handover", "avis")


def session_of(session_id: int) -> ChatSession:
    return ChatSession.objects.select_related("account", "conversation").get(pk=session_id)


def send(session_id: int, client_id: Any, body: Any,
         attachment: tuple[str, bytes] | None = None) -> tuple[Message, bool]:
    """The visitor's message, committed; (message, created) as the service returns them
    (it also limits how many a chat sends in a minute)."""
    # The session by its id only: the service locks and reads the row first thing (reading
    # it here as well was one more query on every message's way to its acknowledgement).
    return services.visitor_message_send(session=ChatSession(pk=session_id),
                                         client_id=client_id, body=body, attachment=attachment)


def bot(session_id: int, question: Message) -> None:
    """The bot's turn after the visitor's `question` (as `send` returned it, committed)."""
    bot_step.bot_answer(session_of(session_id), question)


def action(session_id: int, content: dict[str, Any]) -> None:
    """The visitor's other actions (the socket's and the HTTP API's)."""
    session = session_of(session_id)
    kind = content.get("type")
    if kind == "feedback":
        services.visitor_feedback(session=session, exchange_id=content.get("exchange"),
                                  helped=content.get("helped"))
    elif kind == "page":
        services.visitor_page(session=session, url=content.get("url"),
                              title=content.get("title", ""))
    elif kind == "end":
        services.visitor_end(session=session)
    elif kind == "handover":
        services.handover(session=session, reason="visitor")
    elif kind == "transcript":
        services.transcript_send(session=session)
    elif kind == "avis":
        services.visitor_opinion(session=session, rating=content.get("rating"),
                                 comment=content.get("comment", ""))

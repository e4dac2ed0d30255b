"""Chat messages as JSON for the widget and the console. Text only: the widget and the
console put it in the page with textContent, never as HTML."""

from __future__ import annotations

from typing import Any

from permanence.inbox.models import Direction, Message

from .models import ChatSession
from .services import visible_text


def _who(message: Message) -> str:
    if message.direction == Direction.IN:
        return "visitor"
    if message.direction == Direction.OUT:
        return "agent"
    if message.direction == Direction.NOTE:
        return "note"
    return "bot" if message.event == "chat_bot" else "notice"


def message_for_visitor(message: Message, session: ChatSession) -> dict[str, Any]:
    who = _who(message)
    data = message.data or {}
    author = message.author
    out: dict[str, Any] = {
        "id": message.pk, "who": who, "text": visible_text(message),
        "at": message.created_at.isoformat(),
        "name": (session.visitor_name if who == "visitor" else
                 (getattr(author, "full_name", "") or "") if who == "agent" else ""),
        "attachments": [a.filename for a in message.attachments.all()],
    }
    if who == "bot":
        out["exchange"] = data.get("exchange")
        out["title"] = data.get("title", "")
    if who == "visitor":
        out["client_id"] = message.message_id.rsplit(":", 1)[-1]
    return out


def message_for_staff(message: Message, session: ChatSession) -> dict[str, Any]:
    out = message_for_visitor(message, session)
    if out["who"] == "note" or (out["who"] == "notice" and not out["text"]):
        out["text"] = message.body_text or str((message.data or {}).get("text", ""))
    if message.author is not None:
        out["name"] = message.author.full_name or message.author.email
    return out

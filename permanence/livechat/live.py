"""Live pushes of the chat, after commit, over the channel layer (and so across processes:
the loopback relay without Redis, channels_redis with it; see core/live_layer.py).

Messages themselves travel through the inbox's conversation group (inbox.live: every message
the inbox writes on the conversation is announced there); the sockets read them from the
database, so a push is only a wake-up. Here: the queue of the consoles, a chat's status and
typing, which the inbox does not know."""

from __future__ import annotations

from typing import Any

from permanence.core.live_push import send_many

AGENTS_GROUP = "chat-agents"
TYPING_SECONDS = 5  # a typing signal not renewed within this time is over


def typing_key(session_id: int) -> str:
    """Cache key: the secretary is typing in this chat (read by the polling fallback)."""
    return f"chat-typing:{session_id}"


def chat_group(session_id: int) -> str:
    return f"chat-{session_id}"


def _send(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    # The kernel's, as the inbox's pushes: from the web process's threads they are handed to
    # its event loop in order, so a chat's status and its messages arrive as they happened.
    send_many(pushes)


def chat_changed(session_id: int, status: str, reason: str) -> None:
    """A chat's status moved (handed over, taken, transferred, ended): its sockets and every
    console's queue."""
    _send([(chat_group(session_id), {"type": "chat.status", "chat": session_id,
                                     "status": status, "reason": reason}),
           (AGENTS_GROUP, {"type": "chat.queue", "chat": session_id, "reason": reason})])


def chat_opened(session_id: int, conversation_id: int) -> None:
    """The chat's first message opened its conversation: the sockets following the chat
    join the conversation's group, where its messages are announced."""
    _send([(chat_group(session_id), {"type": "chat.opened", "chat": session_id,
                                     "conversation": conversation_id})])


def chat_typing(session_id: int, who: str, typing: bool) -> None:
    _send([(chat_group(session_id), {"type": "chat.typing", "chat": session_id, "who": who,
                                     "typing": typing})])

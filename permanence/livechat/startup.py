"""What the chat registers once the apps are loaded (LivechatConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.core.scheduler import every
from permanence.inbox.models import Channel, Conversation, Message
from permanence.inbox.reach import ReplyChannel, reply_channel_register

from . import selectors
from .tasks import waiting_sweep


def chat_address_of(conversation: Conversation) -> str:
    """A reply reaches the visitor on screen while their chat is live; afterwards the
    conversation is answered like any other (e-mail)."""
    if conversation.channel != Channel.CHAT:
        return ""
    session = selectors.live_session_of(conversation.pk)
    return f"chat:{session.pk}" if session is not None else ""


def send_chat_reply(message: Message) -> None:
    """Nothing to send: the reply was announced to the chat's sockets when it was written
    (inbox.live, on the conversation's group) and they read it from the database."""


# Registered before the e-mail channel (INSTALLED_APPS order): preferred while live.
reply_channel_register(ReplyChannel(name="chat", address_of=chat_address_of,
                                    send=send_chat_reply))

every(timedelta(minutes=1), name="livechat.waiting_sweep")(waiting_sweep)

"""What can carry a reply to a conversation's contact.

A reply goes out only on a channel that can reach the contact. Channel adapters (above the
inbox) register here when they load — today the e-mail channel (channels_email.startup);
the SMS channel will register the same way — so the inbox never imports them. A
conversation whose contact no channel can reach gets no reply form: the page says so and
offers what can be done instead (log a call back, plan one).

Espace-client requests are also answered where they were asked: the reply is published in
the client's espace client, whatever else carries it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .models import Channel, Conversation, Message

ESPACE_CLIENT = "espace_client"


@dataclass(frozen=True)
class ReplyChannel:
    """An outgoing channel: `address_of` says where a reply to the conversation would go
    ("" when it cannot reach the contact); `send` sends one claimed reply (raises on
    failure; inbox.tasks.deliver_message records the outcome)."""

    name: str
    address_of: Callable[[Conversation], str]
    send: Callable[[Message], None]


@dataclass(frozen=True)
class Route:
    """One way a reply can reach the conversation's contact."""

    channel: str  # "email", ESPACE_CLIENT (later "sms")
    address: str  # the e-mail address (or phone number) it goes to; "" for the espace client


_CHANNELS: dict[str, ReplyChannel] = {}


def reply_channel_register(channel: ReplyChannel) -> None:
    _CHANNELS[channel.name] = channel


def reply_channel(name: str) -> ReplyChannel | None:
    return _CHANNELS.get(name)


def reply_channels(conversation: Conversation) -> list[Route]:
    """The routes a reply to this conversation can take, in order of preference (the first
    one carries it). Empty: nothing can reach the contact — no reply can be sent."""
    routes = []
    for channel in _CHANNELS.values():
        address = (channel.address_of(conversation) or "").strip()
        if address:
            routes.append(Route(channel.name, address))
    if conversation.channel == Channel.PORTAL:
        routes.append(Route(ESPACE_CLIENT, ""))
    return routes


def unreachable_reason(conversation: Conversation) -> str:
    """Why no reply can be sent, in the words the page shows before the agent types."""
    return _("Ce contact n'a pas d'adresse e-mail : la réponse ne peut pas lui être envoyée.")

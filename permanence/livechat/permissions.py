"""Who may do what with live chats: the one place these rules live.

Visitors are not users: they hold a chat's token (issued when they start it) and may only
use that chat, from a site the account allows (origins.py). Staff take chats of the accounts
they see, when they answer conversations (inbox rules); supervisors watch every live chat
and configure the widget."""

from __future__ import annotations

from permanence.accounts.models import User
from permanence.accounts.permissions import Actor, can_manage_accounts, is_staff_member
from permanence.inbox.permissions import can_work_conversations

from .models import ChatSession


def can_use_chat_console(user: Actor) -> bool:
    return is_staff_member(user)


def can_take_chats(user: Actor) -> bool:
    return can_work_conversations(user)


def can_supervise_chats(user: Actor) -> bool:
    return can_manage_accounts(user)


def can_configure_chat(user: Actor) -> bool:
    return can_manage_accounts(user)


def can_act_on_chat(user: User, session: ChatSession) -> bool:
    """Reply, transfer or end: the chat's own secretary, or a supervisor."""
    return can_take_chats(user) and (session.agent_id == user.pk or can_supervise_chats(user))

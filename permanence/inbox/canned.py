"""Canned replies with variables, rendered for one conversation."""

from __future__ import annotations

from typing import Any

from permanence.accounts.models import User
from permanence.core import local_cache

from .models import CannedReply, Conversation
from .promise import customer_promise


class _Safe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _values(conversation: Conversation, agent: User) -> _Safe:
    # {echeance} is the promise the customer was told (the acknowledgement's date), from the
    # one function every customer-facing text uses; never the internal resolution target.
    promise = customer_promise(conversation)
    return _Safe(
        contact=(conversation.contact.name if conversation.contact and conversation.contact.name
                 else "Madame, Monsieur"),
        reference=conversation.reference,
        echeance=promise.text if promise else "",
        compte=conversation.account.name,
        agent=getattr(agent, "full_name", "") or getattr(agent, "email", ""),
    )


def render_canned(body: str, conversation: Conversation, agent: User) -> str:
    return body.format_map(_values(conversation, agent))


# The canned replies offered on every conversation page of an account: settings, cached
# like the others (core.local_cache: a change shows at once in the process that made it,
# within LOCAL_CACHE_SECONDS in the others).
local_cache.watch("inbox.CannedReply")
_REPLIES = local_cache.LocalCache("canned_replies")


def _replies_of(account_id: int) -> list[tuple[int, str, str]]:
    """(id, title, body) of the account's canned replies and the shared ones, by title. All
    of them are cached in one entry (a few per account): a page of any account finds them."""
    every = _REPLIES.get_or_compute(None, lambda: list(
        CannedReply.objects.values_list("account_id", "pk", "title", "body")))
    return [(pk, title, body) for account, pk, title, body in every
            if account is None or account == account_id]


def canned_for(conversation: Conversation, agent: User) -> list[dict[str, Any]]:
    replies = _replies_of(conversation.account_id)
    if not replies:
        return []
    values = _values(conversation, agent)  # the promise: computed once, not once per reply
    return [{"id": pk, "title": title, "body": body.format_map(values)}
            for pk, title, body in replies]

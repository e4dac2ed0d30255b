"""Canned replies with variables, rendered for one conversation."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from permanence.accounts.models import User

from .models import CannedReply, Conversation
from .promise import customer_promise


class _Safe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_canned(body: str, conversation: Conversation, agent: User) -> str:
    # {echeance} is the promise the customer was told (the acknowledgement's date), from the
    # one function every customer-facing text uses; never the internal resolution target.
    promise = customer_promise(conversation)
    values = _Safe(
        contact=(conversation.contact.name if conversation.contact and conversation.contact.name
                 else "Madame, Monsieur"),
        reference=conversation.reference,
        echeance=promise.text if promise else "",
        compte=conversation.account.name,
        agent=getattr(agent, "full_name", "") or getattr(agent, "email", ""),
    )
    return body.format_map(values)


def canned_for(conversation: Conversation, agent: User) -> list[dict[str, Any]]:
    replies = CannedReply.objects.filter(Q(account=conversation.account) | Q(account=None))
    return [{"id": r.pk, "title": r.title, "body": render_canned(r.body, conversation, agent)}
            for r in replies]

"""What the reports read of the chat: how many chats the assistant answered alone, how many it
handed to a person, and how long visitors waited for one — one aggregate query per period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from .models import ChatSession, ChatStatus, ChatStatusChange


def chat_figures(accounts: Any, account_id: int | None, agent_id: int | None,
                 start: datetime, end: datetime) -> dict[str, Any]:
    """Chats opened in [start, end) on the given accounts (ids or a subquery).

    - `asked`: chats in which the visitor wrote at least once (a conversation exists);
    - `handed_over`: those the assistant passed to a person (the queue or an offline message);
    - `bot_alone`: those that ended with the assistant only (deflected);
    - `waits`: seconds between entering the queue and a secretary taking the chat (the last
      time it entered the queue, for a transferred chat), computed here so that both
      databases give the same figure."""
    qs = ChatSession.objects.filter(account__in=accounts, created_at__gte=start,
                                    created_at__lt=end)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if agent_id:
        qs = qs.filter(agent_id=agent_id)
    handed = Exists(ChatStatusChange.objects.filter(
        session=OuterRef("pk"), from_status=ChatStatus.BOT,
        to_status__in=(ChatStatus.WAITING, ChatStatus.OFFLINE)))
    asked = Q(conversation__isnull=False)
    figures = qs.aggregate(
        chats=Count("pk"), asked=Count("pk", filter=asked),
        handed_over=Count("pk", filter=asked & Q(handed)),
        bot_alone=Count("pk", filter=asked & Q(status=ChatStatus.ENDED, agent__isnull=True)
                        & ~Q(handed)))
    pairs = qs.filter(accepted_at__isnull=False, waiting_since__isnull=False).values_list(
        "waiting_since", "accepted_at")
    figures["waits"] = sorted(max(0.0, (accepted - waiting).total_seconds())
                              for waiting, accepted in pairs.iterator(chunk_size=2000)
                              if waiting is not None and accepted is not None)
    return figures

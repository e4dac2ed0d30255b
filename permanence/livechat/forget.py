"""What the live chat forgets when the privacy app's retention schedules or an erasure request ask.

Plain functions over its own tables, called by the privacy app (which decides the rule,
the cutoff, the rows and the batches): each takes primary keys and returns the rows changed.
The values say what « forgotten » means for each table."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps

from permanence.core import forgetting

from .models import BotExchange, ChatSession, ChatStatusChange

BOT_EXCHANGE_FORGOTTEN: dict[str, Any] = {"question": ""}
STATUS_CHANGE_FORGOTTEN: dict[str, Any] = {"note": ""}
CHAT_SESSION_ANONYMISED: dict[str, Any] = {"visitor_name": forgetting.ANONYMISED,
                                           "visitor_email": "", "page_url": "", "page_title": ""}


def bot_exchanges_forget(pks: list[int]) -> int:
    return BotExchange.objects.filter(pk__in=pks).update(**BOT_EXCHANGE_FORGOTTEN)


def chat_status_changes_forget(pks: list[int]) -> int:
    return ChatStatusChange.objects.filter(pk__in=pks).update(**STATUS_CHANGE_FORGOTTEN)


def chat_sessions_anonymise(pks: list[int]) -> int:
    return ChatSession.objects.filter(pk__in=pks).update(**CHAT_SESSION_ANONYMISED)


def erase(model: str, pks: list[int], fields: tuple[str, ...], *, request_id: int,
          today: date, dry_run: bool) -> int:
    """An erasure request: `fields` of the rows `pks` of this app's `model` erased (the value
    per field type of core.forgetting); the rows changed, or that would be in a dry run."""
    return forgetting.erase_rows(apps.get_model("livechat", model), pks, fields,
                                 request_id=request_id, today=today, dry_run=dry_run)

"""What the inbox forgets when the privacy app's retention schedules or an erasure request ask.

Plain functions over its own tables, called by the privacy app (which decides the rule,
the cutoff, the rows and the batches): each takes primary keys and returns the rows changed.
The values say what « forgotten » means for each table."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps

from permanence.core import forgetting

from .models import Contact, Conversation, Message

MESSAGE_REDACTED: dict[str, Any] = {"body_text": forgetting.REDACTED, "body_html": "",
                                    "subject": "", "sender": "", "recipients": [], "raw": ""}
CONVERSATION_ANONYMISED: dict[str, Any] = {"subject": forgetting.ANONYMISED, "search_text": ""}
CONTACT_ANONYMISED: dict[str, Any] = {"name": forgetting.ANONYMISED, "email": "", "phone": ""}


def messages_redact(pks: list[int]) -> int:
    return Message.objects.filter(pk__in=pks).update(**MESSAGE_REDACTED)


def conversations_anonymise(pks: list[int]) -> int:
    return Conversation.objects.filter(pk__in=pks).update(**CONVERSATION_ANONYMISED)


def contacts_anonymise(pks: list[int]) -> int:
    return Contact.objects.filter(pk__in=pks).update(**CONTACT_ANONYMISED)


def erase(model: str, pks: list[int], fields: tuple[str, ...], *, request_id: int,
          today: date, dry_run: bool) -> int:
    """An erasure request: `fields` of the rows `pks` of this app's `model` erased (the value
    per field type of core.forgetting); the rows changed, or that would be in a dry run."""
    return forgetting.erase_rows(apps.get_model("inbox", model), pks, fields,
                                 request_id=request_id, today=today, dry_run=dry_run)

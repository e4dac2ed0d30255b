"""What the desk forgets when the privacy app's retention schedules or an erasure request ask.

Plain functions over its own tables, called by the privacy app (which decides the rule,
the cutoff, the rows and the batches): each takes primary keys and returns the rows changed.
The values say what « forgotten » means for each table."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.apps import apps

from permanence.core import forgetting

from .models import Call, CallEvent

# A call's recording reference, past the recordings' duration (the provider's copy is the
# privacy app's business, after the commit).
RECORDING_FORGOTTEN: dict[str, Any] = {"recording_url": ""}
# A call of an account ended long ago.
CALL_ANONYMISED: dict[str, Any] = {"from_number": "", "caller_name": "", "message": "",
                                   "recording_url": "", "answers": {}}
PAYLOAD_EMPTIED: dict[str, Any] = {"payload": {}}


def calls_recording_forget(pks: list[int]) -> int:
    return Call.objects.filter(pk__in=pks).update(**RECORDING_FORGOTTEN)


def calls_anonymise(pks: list[int]) -> int:
    return Call.objects.filter(pk__in=pks).update(**CALL_ANONYMISED)


def call_events_payload_forget(pks: list[int]) -> int:
    return CallEvent.objects.filter(pk__in=pks).update(**PAYLOAD_EMPTIED)


def erase(model: str, pks: list[int], fields: tuple[str, ...], *, request_id: int,
          today: date, dry_run: bool) -> int:
    """An erasure request: `fields` of the rows `pks` of this app's `model` erased (the value
    per field type of core.forgetting); the rows changed, or that would be in a dry run."""
    return forgetting.erase_rows(apps.get_model("desk", model), pks, fields,
                                 request_id=request_id, today=today, dry_run=dry_run)

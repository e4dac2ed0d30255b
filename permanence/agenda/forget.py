"""What the agenda forgets when the privacy app's retention schedules or an erasure request ask.

Plain functions over its own tables, called by the privacy app (which decides the rule,
the cutoff, the rows and the batches): each takes primary keys and returns the rows changed."""

from __future__ import annotations

from datetime import date

from django.apps import apps

from permanence.core import forgetting


def erase(model: str, pks: list[int], fields: tuple[str, ...], *, request_id: int,
          today: date, dry_run: bool) -> int:
    """An erasure request: `fields` of the rows `pks` of this app's `model` erased (the value
    per field type of core.forgetting); the rows changed, or that would be in a dry run."""
    return forgetting.erase_rows(apps.get_model("agenda", model), pks, fields,
                                 request_id=request_id, today=today, dry_run=dry_run)

"""What the inbox registers once the apps are loaded (imported by InboxConfig.ready())."""

from __future__ import annotations

from datetime import timedelta

from permanence.calendars.services import CALENDAR_CHANGED_HOOKS
from permanence.core.scheduler import every

from .tasks import sla_check, sla_recompute

every(timedelta(minutes=1), name="inbox.sla_check")(sla_check)


def _recompute(account_ids: list[int]) -> None:
    """A business calendar changed: the open conversations' deadlines move with it."""
    sla_recompute.enqueue(account_ids)


CALENDAR_CHANGED_HOOKS.append(_recompute)

"""Template context shared by every page (project wiring: it may read any app)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from permanence.accounts.permissions import Actor, can_use_agenda, is_staff_member
from permanence.accounts.services import operator_identity
from permanence.billing.permissions import can_view_billing
from permanence.catalog.permissions import can_manage_catalog
from permanence.channels_sms.permissions import can_view_opt_outs
from permanence.core import local_cache
from permanence.desk.agents import agent_status_sql
from permanence.desk.models import AgentStatus
from permanence.desk.permissions import can_supervise_desk, can_take_calls
from permanence.feedback.permissions import can_view_feedback
from permanence.inbox.selectors import menu_row, unread_label
from permanence.payments.permissions import can_view_payments
from permanence.planning.permissions import can_answer_pulse, can_view_planning
from permanence.quality.permissions import can_review_quality, can_view_quality
from permanence.reports.permissions import can_plan_staff
from permanence.shop.permissions import can_manage_quotes
from permanence.status.selectors import announced_incidents


@dataclass(frozen=True)
class Can:
    """What the navigation may offer: templates ask this, they never compare role strings."""

    manage_quotes: bool
    view_payments: bool
    manage_catalog: bool
    view_billing: bool
    use_agenda: bool
    take_calls: bool = False
    supervise_desk: bool = False
    view_sms_opt_outs: bool = False
    view_feedback: bool = False
    plan_staff: bool = False
    view_planning: bool = False
    answer_pulse: bool = False
    view_quality: bool = False
    review_quality: bool = False

    @classmethod
    def of(cls, user: Actor) -> Can:
        return cls(manage_quotes=can_manage_quotes(user), view_payments=can_view_payments(user),
                   manage_catalog=can_manage_catalog(user), view_billing=can_view_billing(user),
                   use_agenda=can_use_agenda(user), take_calls=can_take_calls(user),
                   supervise_desk=can_supervise_desk(user),
                   view_sms_opt_outs=can_view_opt_outs(user),
                   view_feedback=can_view_feedback(user), plan_staff=can_plan_staff(user),
                   view_planning=can_view_planning(user), answer_pulse=can_answer_pulse(user),
                   view_quality=can_view_quality(user),
                   review_quality=can_review_quality(user))


# The operator's identity heads every page: a setting, cached like the others
# (core.local_cache: a change shows at once in the process that made it, within
# LOCAL_CACHE_SECONDS in the others).
local_cache.watch("accounts.OperatorIdentity")
_OPERATOR = local_cache.LocalCache("operator_identity")


def _operator() -> Any:
    return _OPERATOR.get_or_compute(None, operator_identity)


def platform(request: HttpRequest) -> dict[str, Any]:
    """Operator identity for headers/footers, the unread notifications and the user's
    permissions; computed lazily so pages that don't use them pay nothing."""

    @functools.cache
    def counts() -> tuple[Any, ...]:
        """(unread conversations, unread notifications, desk status): one query for all —
        the status only for staff who take calls (None otherwise; the switcher's tag then
        reads it itself)."""
        user = request.user
        if not is_staff_member(user) or user.pk is None:
            return 0, 0, None
        extra = [agent_status_sql(user)] if can_take_calls(user) else []
        row = menu_row(user, extra)
        return row[0], row[1], (row[2] or AgentStatus.AWAY) if extra else None

    def unread() -> int:
        return counts()[1]

    def inbox_unread() -> str:
        """The menu's and the tab title's unread count ("" when none): "3", "99+"."""
        count = counts()[0]
        return unread_label(count) if count else ""

    return {"operator": SimpleLazyObject(_operator),
            "unread_notifications": SimpleLazyObject(unread),
            "inbox_unread": SimpleLazyObject(inbox_unread),
            # Called by desk_agent.agent_state_switcher: the status read with the counts.
            "desk_status": lambda: counts()[2],
            "can": SimpleLazyObject(lambda: Can.of(request.user)),
            # Ongoing and upcoming public incidents (partials/notices.html): read only by the
            # pages that show the notices, and cached (no query while the cache is warm).
            "status_notices": SimpleLazyObject(announced_incidents)}

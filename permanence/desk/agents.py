"""Agent states (disponible, en appel, post-appel, en pause, absent): services and reads.

Set by call events (desk.calls: a call ringing for or answered by an agent → en appel; hung up
→ post-appel) and by the agent (the switcher of the desk pages, POST /api/v1/agents/state).
Closing the call form ends the wrap-up: the call screen calls `agent_wrapup_done`.

The inbox's routing reads `inbox.AgentPresence.available`: it follows the state through the
inbox's service (en pause and absent are unavailable; on the phone still takes conversations,
which wait in the agent's queue). Every change is a history row (AgentStateChange) and a live
push to the supervisors' board.

Seed 001: 10 minutes of break per 2 hours of calls. `stretch_started_at` marks the start of
the current stretch on the phone (reset by a pause or an absence); the scheduler job
`desk.break_reminders` proposes the break once per stretch (a notification, pushed live)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from permanence.accounts.models import ClientAccount, Role, User
from permanence.core import clock
from permanence.core.errors import invalid
from permanence.inbox.live import notifications_create
from permanence.inbox.selectors import presence_of
from permanence.inbox.services import presence_set

from . import live
from .models import AgentState, AgentStateChange, AgentStatus, Call, CallbackStatus

# Statuses in which the inbox may route conversations to the agent.
ROUTABLE = frozenset({AgentStatus.AVAILABLE, AgentStatus.ON_CALL, AgentStatus.WRAPUP})
# Statuses the agent may choose by hand (on the phone and wrap-up come from the calls).
MANUAL = (AgentStatus.AVAILABLE, AgentStatus.BREAK, AgentStatus.AWAY)
ON_PHONE = frozenset({AgentStatus.ON_CALL, AgentStatus.WRAPUP})
STRETCH = timedelta(hours=2)
BREAK_MINUTES = 10
# Who has a desk state: staff who answer calls.
DESK_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


# The menu's statement, per user: see agent_status_sql.
_STATUS_SQL: dict[int, tuple[str, tuple[Any, ...]]] = {}


def agent_status_sql(user: User) -> tuple[str, tuple[Any, ...]]:
    """The user's desk status as a scalar subquery (NULL: never set, that is « absent »), for
    the staff menu's one statement (context_processors): every staff page shows the
    switcher, and a query of its own cost a round trip. Compiled once per user."""
    cached = _STATUS_SQL.get(user.pk)
    if cached is None:
        sql, params = (AgentState.objects.filter(user_id=user.pk).values("status")[:1]
                       .query.sql_with_params())
        if len(_STATUS_SQL) >= 2048:
            _STATUS_SQL.clear()
        cached = _STATUS_SQL[user.pk] = (sql, tuple(params))
    return cached


def agent_state_of(user: User) -> AgentState:
    """The user's state; an unsaved « absent » for someone who never set one."""
    state = AgentState.objects.filter(user=user).first()
    if state is None:
        state = AgentState(user=user, status=AgentStatus.AWAY, since=clock.now())
    return state


def _lock_state(user: User, now: datetime) -> AgentState:
    AgentState.objects.get_or_create(user=user, defaults={"status": AgentStatus.AWAY,
                                                          "since": now})
    return AgentState.objects.select_for_update().get(user=user)


@transaction.atomic
def agent_state_set(*, user: User, status: str, call: Call | None = None,
                    now: datetime | None = None) -> AgentState:
    """Move the agent to `status` (any status: calls may reach an agent on a break), record
    the change, keep the inbox's presence in step, push the board after commit."""
    if status not in AgentStatus.values:
        raise invalid(status=_("État inconnu."))
    at = now or clock.now()
    state = _lock_state(user, at)
    if state.status == status and (call is None or state.current_call_id == call.pk):
        return state
    previous = state.status
    state.status = status
    state.since = at
    if status in ON_PHONE:
        state.current_call = call or state.current_call
        if state.stretch_started_at is None:
            state.stretch_started_at = at
    else:
        state.current_call = None
    if status in (AgentStatus.BREAK, AgentStatus.AWAY):
        state.stretch_started_at = None
        state.break_proposed_at = None
    state.save()
    AgentStateChange.objects.create(user=user, from_status=previous, to_status=status, at=at,
                                    call=call)
    if presence_of(user).available != (status in ROUTABLE):
        presence_set(user=user, available=status in ROUTABLE)
    transaction.on_commit(partial(live.agent_changed, user.pk, status))
    return state


def agent_state_choose(*, user: User, status: str) -> AgentState:
    """The agent's own choice (switcher, API): disponible, en pause or absent."""
    if status not in MANUAL:
        raise invalid(status=_("Choisissez disponible, en pause ou absent."))
    return agent_state_set(user=user, status=status)


def agent_follow_call(*, user: User, call: Call, ringing_or_talking: bool,
                      now: datetime | None = None) -> None:
    """A call event concerns the agent: on the phone while it rings or is answered; when it
    ends, post-appel if the agent took it, back to disponible if it only rang. Only the call
    the agent is on moves them out of « en appel » (a late event of an older call does not)."""
    state = agent_state_of(user)
    if ringing_or_talking:
        if state.status != AgentStatus.ON_CALL or state.current_call_id != call.pk:
            agent_state_set(user=user, status=AgentStatus.ON_CALL, call=call, now=now)
        return
    if state.status != AgentStatus.ON_CALL or state.current_call_id not in (None, call.pk):
        return
    answered = call.answered_at is not None
    agent_state_set(user=user, status=AgentStatus.WRAPUP if answered else AgentStatus.AVAILABLE,
                    call=call if answered else None, now=now)


def agent_wrapup_done(user: User, call: Call) -> None:
    """The agent closed the call form: the wrap-up is over, the agent is available again
    (unless they moved on meanwhile: another call, a break)."""
    state = agent_state_of(user)
    if state.status == AgentStatus.WRAPUP and state.current_call_id in (None, call.pk):
        agent_state_set(user=user, status=AgentStatus.AVAILABLE)


def agents_available_for(account: ClientAccount) -> list[User]:
    """The agents assigned to the account who can take its call now: disponible, or with no
    desk state yet (never used the switcher: they are not known to be away)."""
    busy = AgentState.objects.exclude(status=AgentStatus.AVAILABLE).values("user_id")
    return list(account.assigned_agents.filter(is_active=True).exclude(pk__in=busy)
                .order_by("pk"))


def agent_for_callback(account: ClientAccount) -> User | None:
    """Who calls back for this account: an available assigned agent with the fewest call
    backs to make, else any assigned agent, else nobody (the supervisors' list shows it)."""
    candidates = agents_available_for(account)
    pool = account.assigned_agents.filter(is_active=True)
    if candidates:
        pool = pool.filter(pk__in=[u.pk for u in candidates])
    return (pool.annotate(todo=Count("desk_callbacks",
                                     filter=Q(desk_callbacks__status=CallbackStatus.TODO)))
            .order_by("todo", "pk").first())


def agents_board() -> QuerySet[User]:
    """Everyone who answers calls, with their state (supervisors' board)."""
    return (User.objects.filter(is_active=True, role__in=DESK_ROLES)
            .select_related("desk_state", "desk_state__current_call",
                            "desk_state__current_call__account")
            .order_by("full_name", "email"))


@transaction.atomic
def break_reminders(*, now: datetime | None = None) -> int:
    """Scheduler job: propose a 10-minute break to agents on the phone for 2 hours without
    one (once per stretch). Returns how many were reminded."""
    at = now or clock.now()
    due = list(AgentState.objects.select_for_update(skip_locked=True).filter(
        stretch_started_at__lte=at - STRETCH, break_proposed_at__isnull=True,
        status__in=[AgentStatus.AVAILABLE, *ON_PHONE]).select_related("user"))
    for state in due:
        state.break_proposed_at = at
        state.save(update_fields=["break_proposed_at"])
        notifications_create(
            [state.user], kind="desk_break",
            text=ngettext(
                "Vous êtes au téléphone depuis 2 h : prenez une pause de %(n)s minute.",
                "Vous êtes au téléphone depuis 2 h : prenez une pause de %(n)s minutes.",
                BREAK_MINUTES) % {"n": BREAK_MINUTES}, link=reverse("desk:callbacks"), now=at)
    return len(due)

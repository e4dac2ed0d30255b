"""The call state machine: CALL_TRANSITIONS (beside the model) driven by the kernel's helper.

`call_transition` is the only code that changes a call's state. Telephony events may arrive
twice or out of order, so the event processing asks `call_can` first and skips a move the
call has already gone past; a person's action (closing the wrap-up) goes through the same
helper and gets a 409 when it is not allowed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import models, transaction

from permanence.accounts.models import User
from permanence.core.transitions import Machine, apply, transition

from .models import CALL_TRANSITIONS, Call, CallState, CallStateChange

CALL_MACHINE: Machine[Call] = Machine(
    model=Call, transitions=CALL_TRANSITIONS, history_model=CallStateChange,
    history_fk="call", status_choices=CallState, status_field="state", ref_field="call_id")


def call_can(call: Call, to: str) -> bool:
    """May `call` move to `to` now? (False when it is already there.)"""
    return CALL_MACHINE.can(call.state, to)


@transaction.atomic
def call_transition(*, call: Call | int, to: str, actor: User | None = None, note: str = "",
                    stamp: Callable[[Call, str, str, User | None, datetime], None] | None = None,
                    now: datetime | None = None) -> Call:
    """Move `call` to `to` (validated against CALL_TRANSITIONS) or raise DomainError (409);
    `stamp` sets the timings that go with the move (answered_at, talk seconds…)."""
    return transition(CALL_MACHINE, instance=call, to=to, actor=actor, note=note,
                      stamp=stamp, now=now).instance


def call_apply(*, call: Call, to: str, note: str = "", now: datetime | None = None,
               history: list[models.Model] | None = None) -> None:
    """The same move on a call the caller has locked and saves itself (the event processing,
    which writes the call's other fields in the same UPDATE, and its history rows for a
    whole batch of calls at once: `history`, see core.transitions.apply)."""
    apply(CALL_MACHINE, call, to=to, note=note, now=now, history=history)

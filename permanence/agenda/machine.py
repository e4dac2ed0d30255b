"""The appointment state machine: APPOINTMENT_TRANSITIONS (beside the model) driven by the
kernel's helper. `appointment_transition` is the only code that changes a status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import transaction

from permanence.accounts.models import User
from permanence.core.transitions import Machine, transition

from .models import APPOINTMENT_TRANSITIONS, Appointment, AppointmentStatus, AppointmentStatusChange

APPOINTMENT_MACHINE: Machine[Appointment] = Machine(
    model=Appointment, transitions=APPOINTMENT_TRANSITIONS,
    history_model=AppointmentStatusChange, history_fk="appointment",
    status_choices=AppointmentStatus, ref_field="pk")


@transaction.atomic
def appointment_transition(
        *, appointment: Appointment | int, to: str, actor: User | None = None, note: str = "",
        stamp: Callable[[Appointment, str, str, User | None, datetime], None] | None = None,
        now: datetime | None = None) -> Appointment:
    """Move `appointment` to `to` (validated) or raise DomainError (409)."""
    return transition(APPOINTMENT_MACHINE, instance=appointment, to=to, actor=actor, note=note,
                      stamp=stamp, now=now).instance

"""One way to write a state machine.

A machine is a status field, a `TRANSITIONS` table (status → the statuses it may move to) and a
history model. `transition()` is the only code that changes such a status: it locks the row,
validates the move against the table, sets the status, lets the caller stamp its own fields
(deadlines, "paid at"…), saves, appends one history row and returns the locked instance with the
status it left. The machine's own service (`order_transition`, `quote_transition`…) wraps it to
add the audit row and schedule side effects on commit.

Status history is only status changes: a `from == to` row is never written here. Events that do
not change the status (information completed, a note) belong to the app's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext as _

from . import clock
from .errors import DomainError

if TYPE_CHECKING:  # the kernel names the identity layer's user for the type checker only
    from permanence.accounts.models import User

M = TypeVar("M", bound=models.Model)

# A stamp sets the fields that go with entering a status: (instance, from, to, actor, now).
Stamp: TypeAlias = "Callable[[Any, str, str, User | None, datetime], None]"


@dataclass(frozen=True)
class Machine(Generic[M]):
    """Declares a state machine; `history_model` rows get (<history_fk>, from_status,
    to_status, actor, at, note)."""

    model: type[M]
    transitions: Mapping[str, set[str] | frozenset[str]]
    history_model: type[models.Model] | None
    history_fk: str
    status_choices: type[models.TextChoices]
    status_field: str = "status"
    error_code: str = "invalid_transition"
    # Translated at call time; may use %(from)s (or %(a)s, %(s)s), %(to)s/%(b)s and %(ref)s.
    error_message: Callable[[], str] = field(
        default=lambda: _("Passage de « %(a)s » à « %(b)s » impossible."))
    note_max_length: int = 300
    ref_field: str = "reference"  # shown as %(ref)s in the error
    history_note: bool = True  # the history model has a `note` column

    def allowed(self, current: str) -> set[str] | frozenset[str]:
        return self.transitions.get(current, frozenset())

    def can(self, current: str, to: str) -> bool:
        return to in self.allowed(current)

    def label(self, status: str) -> str:
        try:
            return str(self.status_choices(status).label)
        except ValueError:
            return status


@dataclass
class Moved(Generic[M]):
    instance: M
    previous: str
    at: datetime


def lock(machine: Machine[M], instance: M | int) -> M:
    pk = instance if isinstance(instance, int) else instance.pk
    return machine.model._default_manager.select_for_update().get(pk=pk)


def transition(machine: Machine[M], *, instance: M | int, to: str, actor: User | None = None,
               note: str = "", stamp: Stamp | None = None, same_is_noop: bool = True,
               now: datetime | None = None) -> Moved[M]:
    """Lock `instance`, move it to `to` or raise DomainError (409), stamp, save, record.

    Must run inside the caller's transaction (the lock is held until it commits)."""
    obj = lock(machine, instance)
    moved = apply(machine, obj, to=to, actor=actor, note=note, stamp=stamp,
                  same_is_noop=same_is_noop, now=now)
    if moved.previous != to:
        obj.save()
    return moved


def apply(machine: Machine[M], obj: M, *, to: str, actor: User | None = None, note: str = "",
          stamp: Stamp | None = None, same_is_noop: bool = True,
          now: datetime | None = None,
          history: list[models.Model] | None = None) -> Moved[M]:
    """The same move on a row the caller has already locked and will save itself (a service
    that changes other fields of the row in the same write). With `history`, the history
    row is appended to it, unsaved, for the caller to bulk_create with others in the same
    transaction (a batch of moves)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a state transition must run inside transaction.atomic")
    previous: str = getattr(obj, machine.status_field)
    at = now or clock.now()
    if to == previous and same_is_noop:
        return Moved(obj, previous, at)
    if not machine.can(previous, to):
        labels = {"from": machine.label(previous), "to": machine.label(to)}
        raise DomainError(machine.error_code, machine.error_message() % {
            **labels, "a": labels["from"], "b": labels["to"], "s": labels["from"],
            "ref": getattr(obj, machine.ref_field, "")}, status=409)
    setattr(obj, machine.status_field, to)
    if stamp is not None:
        stamp(obj, previous, to, actor, at)
    if machine.history_model is not None:
        row = {machine.history_fk: obj, "from_status": previous, "to_status": to,
               "actor": actor if getattr(actor, "pk", None) else None, "at": at}
        if machine.history_note:
            row["note"] = note[:machine.note_max_length]
        if history is not None:
            history.append(machine.history_model(**row))
        else:
            machine.history_model._default_manager.create(**row)
    return Moved(obj, previous, at)

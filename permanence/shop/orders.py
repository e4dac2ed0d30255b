"""The order state machine: one transition service validates, stamps deadlines in the
operator's business calendar, appends history + audit, and schedules e-mails on commit.

Deadlines (seed 000, "Délais de traitement des commandes en ligne"):
- validation within 24 business hours after payment — the clock starts when the order is
  paid AND the information the client must provide is complete;
- activation within 48 business hours after validation, unless an offer of the order says
  otherwise (Offer.activation_business_hours; the longest of the order's offers applies).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.services import account_activate_for_order
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.calendars.services import spec_for_account_cached
from permanence.catalog.models import DEFAULT_ACTIVATION_BUSINESS_HOURS, VALIDATION_BUSINESS_HOURS
from permanence.core import clock
from permanence.core.business_time import add_business_time, clock_view
from permanence.core.errors import DomainError, Forbidden
from permanence.core.transitions import Machine, lock, transition
from permanence.inbox.sla import operator_clock

from . import hooks, order_alerts, order_emails, permissions
from .models import (
    ORDER_TRANSITIONS,
    CustomerKind,
    Order,
    OrderEvent,
    OrderStatus,
    OrderStatusChange,
)


def operator_deadline(start: datetime, hours: int) -> datetime:
    """`hours` business hours after `start`, in the operator's calendar (cached per process
    like the inbox's SLA computations: webhook processing calls this for every payment),
    counted with the operator's one clock setting (the default SLA policy's: "24 heures
    ouvrées" is one working day under the seeded jours-ouvrés clock)."""
    return add_business_time(clock_view(spec_for_account_cached(None), operator_clock()),
                             start, timedelta(hours=hours))


def activation_hours(order: Order) -> int:
    hours = [line.offer.activation_business_hours for line in
             order.lines.select_related("offer") if line.offer is not None]
    return max(hours) if hours else DEFAULT_ACTIVATION_BUSINESS_HOURS


def activation_waits_for_withdrawal(order: Order, now: datetime) -> datetime | None:
    """When a consumer who did not ask to start early may be served: the end of the 14-day
    withdrawal period while it runs (the staff page warns before activating), else None."""
    if (order.customer_kind != CustomerKind.CONSUMER or order.start_before_withdrawal_end
            or order.withdrawal_ends_at is None or order.withdrawal_ends_at <= now):
        return None
    return order.withdrawal_ends_at


@dataclass(frozen=True)
class NextStep:
    """What the client waits for now, and by when: the one answer every page gives."""

    kind: str  # awaiting_payment, awaiting_information, validation, activation, active, ""
    at: datetime | None = None


def order_next_step(order: Order) -> NextStep:
    """The order's next step as promised to the client (espace client, order pages)."""
    if order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.FAILED):
        return NextStep("awaiting_payment")
    if order.status == OrderStatus.PAID:
        if order.validation_due_at is None:
            return NextStep("awaiting_information")
        return NextStep("validation", order.validation_due_at)
    if order.status == OrderStatus.VALIDATED and order.activation_due_at:
        return NextStep("activation", order.activation_due_at)
    if order.status == OrderStatus.ACTIVATED:
        return NextStep("active", order.activated_at)
    return NextStep("")


def lock_order(order: Order | int) -> Order:
    return lock(ORDER_MACHINE, order)


def _stamp(order: Order, previous: str, to: str, actor: User | None, now: datetime) -> None:
    if to == OrderStatus.PAID:
        order.paid_at = order.paid_at or now
        _start_validation_clock(order, now)
    elif to == OrderStatus.VALIDATED:
        order.validated_at = now
        order.validated_by = actor if getattr(actor, "pk", None) else None
        order.activation_due_at = operator_deadline(now, activation_hours(order))
    elif to == OrderStatus.ACTIVATED:
        order.activated_at = now
        order.activated_by = actor if getattr(actor, "pk", None) else None
    elif to in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        order.closed_at = now


def _start_validation_clock(order: Order, now: datetime) -> None:
    if order.paid_at is None or not order.information_complete:
        order.validation_due_at = None
        return
    start = max(order.paid_at, order.information_completed_at or order.paid_at)
    order.validation_due_at = operator_deadline(start, VALIDATION_BUSINESS_HOURS)


ORDER_MACHINE: Machine[Order] = Machine(
    model=Order, transitions=ORDER_TRANSITIONS, history_model=OrderStatusChange,
    history_fk="order", status_choices=OrderStatus,
    error_message=lambda: _("Impossible de passer la commande %(ref)s de « %(from)s » à "
                            "« %(to)s »."))

# « Payée » or past it (validated, activated, cancelled, refunded): the statuses from which the
# machine no longer leads to « payée ». A payment arriving for such an order does not move it.
PAID_OR_LATER: frozenset[str] = frozenset(
    status for status in OrderStatus
    if status == OrderStatus.PAID or not ORDER_MACHINE.can(status, OrderStatus.PAID))


def order_checks_pending(order: Order) -> list[str]:
    """The checks still to do before `order` may be validated, in words for the staff: the
    daily check (« Vérifier », order_checks.py) and the client's information."""
    pending = []
    if order.checked_at is None:
        pending.append(_("la commande n'a pas été vérifiée"))
    if not order.information_complete:
        pending.append(_("les informations du client sont incomplètes"))
    return pending


def _check_before_validation(order: Order, actor: User | None, override_reason: str,
                             now: datetime) -> bool:
    """Refuse to validate a locked, paid order whose checks are pending, unless a supervisor
    overrides them with a reason (written to the order's timeline)."""
    pending = order_checks_pending(order)
    if not pending:
        return False
    if not override_reason:
        message = _("Validation impossible : %(pending)s. Faites les contrôles, ou un "
                    "superviseur peut valider en indiquant le motif.") % {
            "pending": ", ".join(pending)}
        raise DomainError("checks_pending", message, status=409,
                          fields={"override_reason": [message]})
    if actor is None or not permissions.can_override_order_checks(actor):
        raise Forbidden(_("Seul un superviseur peut valider une commande dont les contrôles "
                          "ne sont pas faits."))
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.CHECKS_OVERRIDDEN, actor=actor, at=now,
        note=(_("Validée sans contrôles complets (%(pending)s) — motif : %(reason)s") % {
            "pending": ", ".join(pending), "reason": override_reason})[:300])
    return True


@transaction.atomic
def order_transition(*, order: Order | int, to: str, actor: User | None = None, note: str = "",
                     actor_label: str = "", override_reason: str = "") -> Order:
    """Move `order` to `to` (validated against ORDER_TRANSITIONS), or raise DomainError.

    Validation needs the order's checks done (order_checks_pending); a supervisor may
    validate without them by giving `override_reason`, kept in the order's timeline.

    The order row is locked for the whole transaction, so concurrent callers (webhook
    redeliveries, two staff clicking) serialise here and the second sees the new status."""
    override_reason = override_reason.strip()
    overridden = False
    if to == OrderStatus.VALIDATED:
        order = lock_order(order)
        if ORDER_MACHINE.can(order.status, to):
            overridden = _check_before_validation(order, actor, override_reason, clock.now())
    moved = transition(ORDER_MACHINE, instance=order, to=to, actor=actor, note=note,
                       stamp=_stamp)
    order, previous, now = moved.instance, moved.previous, moved.at
    if previous == to:
        return order
    changes: dict[str, object] = {"status": [previous, to]}
    if overridden:
        changes["checks_overridden"] = override_reason
    audit_record(actor=actor, action=Action.UPDATE, target=order,
                 account=order.account, changes=changes, actor_label=actor_label)
    if to == OrderStatus.PAID:
        order_alerts.order_paid_alert(order, now)  # live, to each supervisor's bell
        # Billing (the invoice of what was paid) registered here: the shop does not import it.
        hooks.order_paid(order=order, at=now)
    if to == OrderStatus.ACTIVATED:
        # The buyer's account becomes a client (« Actif »): the accounts app writes it.
        account_activate_for_order(account=order.account_id, actor=actor,
                                   order_reference=order.reference, actor_label=actor_label)
        # Billing (its subscriptions) registered here: the shop does not import billing.
        hooks.order_activated(order=order, at=now)
    order_emails.order_status_changed(order, previous, to)
    return order


@transaction.atomic
def order_set_information_complete(*, order: Order | int, actor: User,
                                   complete: bool = True) -> Order:
    """The client's information (consignes, documents) is complete: the validation clock
    starts now if the order is already paid (seed 000: "le délai démarre à réception des
    éléments complets")."""
    order = lock_order(order)
    if order.information_complete == complete:
        return order
    now = clock.now()
    order.information_complete = complete
    order.information_completed_at = now if complete else None
    if order.status == OrderStatus.PAID:
        _start_validation_clock(order, now)
    order.save()
    OrderEvent.objects.create(
        order=order, kind=OrderEvent.Kind.INFORMATION, actor=actor, at=now,
        note=_("Informations du client complètes") if complete
        else _("Informations du client à compléter"))
    audit_record(actor=actor, action=Action.UPDATE, target=order,
                 account=order.account,
                 changes={"information_complete": [not complete, complete]})
    return order

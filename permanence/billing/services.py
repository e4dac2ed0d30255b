"""Subscriptions: created when an order is activated (one per recurring or usage-billed line),
then moved only by `subscription_transition` (SUBSCRIPTION_TRANSITIONS, beside the model)."""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.transitions import Machine, transition
from permanence.payments.selectors import payment_for_recurring_debits
from permanence.shop.models import Order

from .models import (
    SUBSCRIPTION_TRANSITIONS,
    Subscription,
    SubscriptionStatus,
    SubscriptionStatusChange,
)

SUBSCRIPTION_MACHINE: Machine[Subscription] = Machine(
    model=Subscription, transitions=SUBSCRIPTION_TRANSITIONS,
    history_model=SubscriptionStatusChange, history_fk="subscription",
    status_choices=SubscriptionStatus, ref_field="label")


@transaction.atomic
def subscriptions_create_for_order(*, order: Order, at: datetime) -> list[Subscription]:
    """Idempotent: an order activated twice (it cannot be, but a retried task could try)
    keeps one subscription per offer. Called by the shop's order_transition on activation
    (the hook this app registers, apps.py)."""
    created = []
    # The payment method saved at checkout (Stripe customer + payment method) pays the
    # recurring debits; provider ids only, never card data.
    paid = payment_for_recurring_debits(order)
    for line in order.lines.select_related("offer"):
        offer = line.offer
        if offer is None or (not line.recurring_cents and not offer.unit_price_cents
                             and not offer.hourly_rate_cents):
            continue  # one-off services end with the order
        commitment = None
        if offer.commitment_months:
            commitment = (timezone.localtime(at).date()
                          + relativedelta(months=offer.commitment_months))
        sub, was_created = Subscription.objects.get_or_create(
            order=order, offer=offer,
            defaults={"account": order.account, "label": line.label, "quantity": line.quantity,
                      "monthly_price_cents": line.recurring_cents,
                      "unit_price_cents": offer.unit_price_cents,
                      "included_quantity": offer.included_quantity * line.quantity,
                      "vat_rate": line.vat_rate, "started_at": at,
                      "commitment_ends_on": commitment,
                      "provider_customer_id": paid.provider_customer_id if paid else "",
                      "provider_payment_method_id":
                          paid.provider_payment_method_id if paid else ""})
        if was_created:
            audit_record(actor=None, action=Action.CREATE, target=sub,
                         account=order.account, actor_label="system")
            created.append(sub)
    return created


@transaction.atomic
def subscription_transition(*, subscription: Subscription | int, to: str,
                            actor: User | None = None,
                            note: str = "", actor_label: str = "") -> Subscription:
    """Move `subscription` to `to` (validated against SUBSCRIPTION_TRANSITIONS), or raise
    DomainError (409): locks it, appends a SubscriptionStatusChange and an audit row, returns
    the locked subscription. Moving to the status it has is a no-op."""
    moved = transition(SUBSCRIPTION_MACHINE, instance=subscription, to=to, actor=actor,
                       note=note)
    if moved.previous != to:
        audit_record(actor=actor, action=Action.UPDATE, target=moved.instance,
                     account=moved.instance.account, changes={"status": [moved.previous, to]},
                     actor_label=actor_label)
    return moved.instance

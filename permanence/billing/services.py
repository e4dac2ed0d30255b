"""Subscriptions: created when an order is activated (one per recurring or usage-billed line),
then moved only by `subscription_transition` (SUBSCRIPTION_TRANSITIONS, beside the model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.catalog.models import PLAN_KINDS, Offer, OfferKind, Unit
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


# Catalog units → usage metrics (models_usage.Metric); an hour is billed by time, not counted.
METRIC_OF_UNIT: dict[str, str] = {Unit.CALL: "calls", Unit.MINUTE: "call_minutes", Unit.MESSAGE: "messages",
                  Unit.APPOINTMENT: "appointments"}


def plan_terms(offer: Offer, quantity: int = 1) -> dict[str, Any]:
    """The plan's terms as a subscription keeps them (issue 12): what is included per metric
    each period, the price of each unit (beyond it), the time rate."""
    included: dict[str, int] = {}
    unit_prices: dict[str, int] = {}
    if offer.included_quantity and offer.included_unit in METRIC_OF_UNIT:
        included[METRIC_OF_UNIT[offer.included_unit]] = offer.included_quantity * quantity
    if offer.unit_price_cents and offer.unit in METRIC_OF_UNIT:
        unit_prices[METRIC_OF_UNIT[offer.unit]] = offer.unit_price_cents
    return {"plan_kind": offer.kind, "included": included, "unit_prices": unit_prices,
            "unit_price_cents": offer.unit_price_cents,
            "included_quantity": offer.included_quantity * quantity,
            "hourly_rate_cents": offer.hourly_rate_cents,
            "increment_minutes": offer.increment_minutes or 1,
            "notice_days": offer.notice_days}


def option_entry(offer: Offer, monthly_price_cents: int) -> dict[str, Any]:
    return {"offer": offer.pk, "label": offer.name, "monthly_price_cents": monthly_price_cents}


@transaction.atomic
def subscriptions_create_for_order(*, order: Order, at: datetime) -> list[Subscription]:
    """Idempotent: an order activated twice (it cannot be, but a retried task could try)
    keeps one subscription per offer. Called by the shop's order_transition on activation
    (the hook this app registers, apps.py). The option lines of an order that has a plan go
    into the plan subscription's `options`; the first period starts on the activation day."""
    created = []
    # The payment method saved at checkout (Stripe customer + payment method) pays the
    # recurring debits; provider ids only, never card data.
    paid = payment_for_recurring_debits(order)
    day = timezone.localtime(at).date()
    lines = list(order.lines.select_related("offer"))
    has_plan = any(line.offer is not None and line.offer.kind in PLAN_KINDS for line in lines)
    options = [option_entry(line.offer, line.recurring_cents) for line in lines
               if has_plan and line.offer is not None and line.offer.kind == OfferKind.OPTION
               and line.recurring_cents]
    for line in lines:
        offer = line.offer
        if offer is None or (not line.recurring_cents and not offer.unit_price_cents
                             and not offer.hourly_rate_cents):
            continue  # one-off services end with the order
        if has_plan and offer.kind == OfferKind.OPTION:
            continue  # carried by the plan's subscription (`options`)
        commitment = None
        if offer.commitment_months:
            commitment = day + relativedelta(months=offer.commitment_months)
        sub, was_created = Subscription.objects.get_or_create(
            order=order, offer=offer,
            defaults={"account": order.account, "label": line.label, "quantity": line.quantity,
                      "monthly_price_cents": line.recurring_cents,
                      **plan_terms(offer, line.quantity),
                      "options": options if offer.kind in PLAN_KINDS else [],
                      "current_period_start": day,
                      "next_invoice_on": day + relativedelta(months=1),
                      "vat_rate": line.vat_rate, "started_at": at,
                      "commitment_ends_on": commitment,
                      "provider_customer_id": paid.provider_customer_id if paid else "",
                      "provider_payment_method_id":
                          paid.provider_payment_method_id if paid else ""})
        if was_created:
            audit_record(actor=None, action=Action.CREATE, target=sub,
                         account=order.account, actor_label="system")
            created.append(sub)
            options = [] if offer.kind in PLAN_KINDS else options  # one plan carries them
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

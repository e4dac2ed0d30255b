"""Subscriptions: created when an order is activated (one per recurring or usage-billed line)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record

from .models import Subscription


@transaction.atomic
def subscriptions_create_for_order(*, order: Any, at: datetime) -> list[Subscription]:
    """Idempotent: an order activated twice (it cannot be, but a retried task could try)
    keeps one subscription per offer."""
    created = []
    # The payment method saved at checkout (Stripe customer + payment method) pays the
    # recurring debits; provider ids only, never card data.
    from permanence.payments.models import Payment, PaymentStatus

    paid = (Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED)
            .exclude(provider_customer_id="").order_by("-succeeded_at", "-pk").first())
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
            audit_record(actor=None, action=AuditEvent.Action.CREATE, target=sub,
                         account=order.account, actor_label="system")
            created.append(sub)
    return created

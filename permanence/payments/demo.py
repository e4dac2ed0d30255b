"""Demo orders with their payments (seed_demo): the shop's demo orders (shop/demo.py), each one
paid through the provider with the payment row the webhook would have made."""

from __future__ import annotations

from permanence.core import clock
from permanence.shop.demo import seed_orders as seed_shop_orders
from permanence.shop.models import Order

from .models import Payment, PaymentStatus, Provider


def _succeeded_payment(order: Order) -> None:
    now = clock.now()
    Payment.objects.create(
        order=order, provider=Provider.STRIPE, method=order.payment_method,
        status=PaymentStatus.SUCCEEDED, amount_cents=order.total_ttc_cents,
        idempotency_key=f"demo-{order.reference}", provider_session_id=f"cs_test_demo_{order.pk}",
        provider_payment_id=f"pi_test_demo_{order.pk}", created_at=now, succeeded_at=now)


def seed_orders() -> int:
    """Idempotent (the shop's seeding is): returns how many demo orders were created."""
    return seed_shop_orders(paid_by_provider=_succeeded_payment)

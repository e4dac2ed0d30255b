"""Reads for the billing staff pages (payments are operator-wide: no per-account scoping; the
pages are for roles that see every account)."""

from __future__ import annotations

from django.db.models import QuerySet

from permanence.shop.models import Order

from .models import Payment, PaymentStatus, Provider, ProviderEvent


def payments_filtered(*, status: str = "", provider: str = "", method: str = "",
                      order: str = "") -> QuerySet[Payment]:
    qs = Payment.objects.select_related("order", "order__account", "matched_by")
    if order:
        qs = qs.filter(order__reference__iexact=order.strip())
    if status:
        qs = qs.filter(status=status)
    if provider:
        qs = qs.filter(provider=provider)
    if method:
        qs = qs.filter(method=method)
    return qs.order_by("-created_at", "-pk")


def pending_transfers() -> QuerySet[Payment]:
    return (Payment.objects.select_related("order", "order__account")
            .filter(provider=Provider.TRANSFER, status=PaymentStatus.PENDING)
            .order_by("created_at", "pk"))


EVENT_STATES = ("pending", "error", "processed")


def provider_events(*, state: str = "", type_: str = "") -> QuerySet[ProviderEvent]:
    qs = ProviderEvent.objects.select_related("payment", "payment__order").defer("payload")
    if state == "pending":
        qs = qs.filter(processed_at__isnull=True, last_error="")
    elif state == "error":
        qs = qs.filter(processed_at__isnull=True).exclude(last_error="")
    elif state == "processed":
        qs = qs.filter(processed_at__isnull=False)
    if type_:
        qs = qs.filter(type=type_)
    return qs.order_by("-received_at", "-pk")


def payment_for_recurring_debits(order: Order) -> Payment | None:
    """The order's latest succeeded payment that saved a provider customer (and payment
    method): it pays the subscriptions' monthly debits (provider ids only, no card data)."""
    return (Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED)
            .exclude(provider_customer_id="").order_by("-succeeded_at", "-pk").first())

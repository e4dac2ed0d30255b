"""Builders shared by the storefront tests (and the authorization matrix, the benchmarks):
offers, terms, orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from permanence.catalog.models import Offer, OfferKind, TermsVersion, Unit
from permanence.catalog.pricing import line_from_offer
from permanence.core import clock
from permanence.shop.models import CustomerKind, Order, PaymentMethod
from permanence.shop.services import order_create


def make_offer(slug: str = "essentiel", **fields: Any) -> Offer:
    defaults: dict[str, Any] = {
        "kind": OfferKind.PACKAGE, "name": f"Forfait {slug.title()}",
        "name_en": f"{slug.title()} plan", "monthly_price_cents": 14900,
        "included_quantity": 100, "included_unit": Unit.CALL, "unit_price_cents": 120,
        "unit": Unit.CALL, "vat_rate": Decimal("20.00"), "is_published": True}
    defaults.update(fields)
    offer, _ = Offer.objects.get_or_create(slug=slug, defaults=defaults)
    return offer


def make_terms(version: str = "2026-11") -> TermsVersion:
    terms, _ = TermsVersion.objects.get_or_create(
        version=version, defaults={"body": "Conditions générales de vente.",
                                   "published_at": clock.now()})
    return terms


def make_order(account: Any, buyer: Any = None, *, offers: list[Offer] | None = None,
               customer_kind: str = CustomerKind.PRO,
               payment_method: str = PaymentMethod.CARD, **kwargs: Any) -> Order:
    offers = offers or [make_offer()]
    email = getattr(buyer, "email", "") or f"compta@{account.slug}.fr"
    return order_create(
        account=account, buyer=buyer, lines=[line_from_offer(o) for o in offers],
        billing={"name": account.name, "legal_name": account.name, "email": email,
                 "address": "1 rue de la Paix\n75002 Paris", "siret": ""},
        customer_kind=customer_kind, payment_method=payment_method, terms=make_terms(),
        **kwargs)


def mark_checked(order: Order) -> Order:
    """The order as staff leave it after « Vérifier » (order_checks.order_mark_checked), for
    tests that walk an order to « validée », which needs its checks done."""
    now = clock.now()
    Order.objects.filter(pk=order.pk).update(checked_at=now)
    order.checked_at = now
    return order

"""Demo orders (idempotent): one per pipeline stage, so the order board is not empty.

The payments app seeds them (payments/demo.py), adding the payment rows the provider's webhook
would have made: the shop does not import payments."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from permanence.accounts.models import ClientAccount, Membership
from permanence.catalog.models import PLAN_KINDS, Offer, OfferKind, TermsVersion
from permanence.catalog.pricing import line_from_offer

from .models import Order, OrderStatus, PaymentMethod
from .orders import order_transition
from .services import order_create

# (statuses to walk through, payment method), one demo account each
STAGES: list[tuple[list[str], str]] = [
    ([OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED], PaymentMethod.CARD),
    ([OrderStatus.PAID], PaymentMethod.SEPA),
    ([OrderStatus.PAID, OrderStatus.VALIDATED], PaymentMethod.CARD),
    ([], PaymentMethod.TRANSFER),
]


@transaction.atomic
def seed_orders(*, paid_by_provider: Callable[[Order], object] | None = None) -> int:
    """`paid_by_provider(order)` records the payment of an order paid through the provider,
    before it moves to « payée »."""
    accounts = list(ClientAccount.objects.filter(is_operator=False, memberships__isnull=False)
                    .distinct().order_by("pk")[:len(STAGES)])
    plans = list(Offer.objects.filter(is_published=True, kind__in=PLAN_KINDS))
    options = list(Offer.objects.filter(is_published=True, kind=OfferKind.OPTION)[:2])
    terms = TermsVersion.objects.filter(published_at__isnull=False).first()
    if not plans or Order.objects.filter(account__in=accounts).exists():
        return 0
    created = 0
    for i, (account, (steps, method)) in enumerate(zip(accounts, STAGES, strict=False)):
        buyer = Membership.objects.filter(account=account).select_related("user").first()
        offers = [plans[i % len(plans)]] + options[: i % 2 + 1]
        order = order_create(
            account=account, buyer=buyer.user if buyer else None,
            lines=[line_from_offer(o) for o in offers], payment_method=method, terms=terms,
            billing={"name": account.name, "legal_name": account.legal_name or account.name,
                     "siret": account.siret, "vat_number": account.vat_number,
                     "address": account.billing_address or "12 rue de la République\n69002 Lyon",
                     "email": account.billing_email or (buyer.user.email if buyer else
                                                        "compta@permanence.test")})
        if steps and paid_by_provider is not None:
            paid_by_provider(order)
        for status in steps:
            order_transition(order=order, to=status, actor_label="demo")
        created += 1
    return created

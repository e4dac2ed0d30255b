"""Demo orders (idempotent): one per pipeline stage, so the order board is not empty.

The payments app seeds them (payments/demo.py), adding the payment rows the provider's webhook
would have made: the shop does not import payments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from permanence.accounts.models import ClientAccount, Membership, Role, User
from permanence.catalog.models import PLAN_KINDS, Offer, OfferKind, TermsVersion
from permanence.catalog.pricing import line_from_offer
from permanence.core import clock

from .consents import privacy_acceptance, terms_acceptance
from .models import Order, OrderStatus, PaymentMethod, Quote, QuoteStatus
from .order_alerts import supervisors
from .order_checks import order_mark_checked
from .orders import order_transition
from .quotes.services import (
    line_input_from_offer,
    quote_accept,
    quote_create,
    quote_decline,
    quote_request,
    quote_send,
    quote_transition,
)
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
    checker = next(iter(supervisors()), None)
    for i, (account, (steps, method)) in enumerate(zip(accounts, STAGES, strict=False)):
        buyer = Membership.objects.filter(account=account).select_related("user").first()
        offers = [plans[i % len(plans)]] + options[: i % 2 + 1]
        order = order_create(
            account=account, buyer=buyer.user if buyer else None,
            lines=[line_from_offer(o) for o in offers], payment_method=method, terms=terms,
            # As the checkout records them (Paramètres › Consentements shows them).
            accepted=[terms_acceptance(terms), privacy_acceptance()] if terms else [],
            billing={"name": account.name, "legal_name": account.legal_name or account.name,
                     "siret": account.siret, "vat_number": account.vat_number,
                     "address": account.billing_address or "12 rue de la République\n69002 Lyon",
                     "email": account.billing_email or (buyer.user.email if buyer else
                                                        "compta@permanence.test")})
        if steps and paid_by_provider is not None:
            paid_by_provider(order)
        for status in steps:
            if status == OrderStatus.VALIDATED and checker is not None:
                # Validation needs the order checked first, as staff would (« Vérifier »).
                order_mark_checked(order=order, actor=checker)
            order_transition(order=order, to=status, actor_label="demo")
        created += 1
    return created


# --- Demo quotes: one at each stage of the quote machine --------------------------------------

DEMO_QUOTE_NEEDS = "Permanence téléphonique du lundi au vendredi, prise de rendez-vous en ligne."


@transaction.atomic
def seed_quotes() -> int:
    """Idempotent: quotes requested, in preparation, sent, accepted (its order awaits payment),
    refused and expired, through the quote services as staff and clients would. Run after
    seed_orders (an accepted quote creates an order)."""
    if Quote.objects.filter(requester_email__endswith=".test").exists():
        return 0
    manager = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    plans = list(Offer.objects.filter(is_published=True, kind__in=PLAN_KINDS).order_by("pk"))
    accounts = list(ClientAccount.objects.filter(is_operator=False, memberships__isnull=False)
                    .distinct().order_by("pk"))
    if manager is None or not plans or not accounts:
        return 0

    def built(account: ClientAccount, plan: Offer) -> Quote:
        return quote_create(actor=manager, account=account, lines=[line_input_from_offer(plan)],
                            data={"message": "Proposition établie à partir de votre demande."})

    quote_request(name="Hélène Moreau", email="h.moreau@exemple-demo.test", phone="+33612345678",
                  company="Kinésithérapie Moreau", sector=accounts[0].sector,
                  needs=DEMO_QUOTE_NEEDS, expected_volume="40 appels par jour",
                  hours="8 h – 19 h", consent_text="demo")
    built(accounts[0], plans[0])  # brouillon
    quote_send(actor=manager, quote=built(accounts[1 % len(accounts)], plans[-1]))  # envoyé
    client = accounts[2 % len(accounts)]
    accepted = quote_send(actor=manager, quote=built(client, plans[0]))
    buyer = Membership.objects.filter(account=client).select_related("user").first()
    quote_accept(quote=accepted, user=buyer.user if buyer else None, terms_accepted=True,
                 billing_address=client.billing_address or "12 rue de la République\n69002 Lyon")
    refused = quote_send(actor=manager, quote=built(accounts[3 % len(accounts)], plans[-1]))
    quote_decline(quote=refused, reason="Budget reporté à l'an prochain.")
    expired = quote_send(actor=manager, quote=built(accounts[1 % len(accounts)], plans[0]))
    yesterday = timezone.localdate(clock.now()) - timedelta(days=1)
    Quote.objects.filter(pk=expired.pk).update(valid_until=yesterday)
    quote_transition(quote=expired.pk, to=QuoteStatus.EXPIRED,
                     note="Date de validité dépassée", actor_label="demo")
    return Quote.objects.filter(requester_email__endswith=".test").count()

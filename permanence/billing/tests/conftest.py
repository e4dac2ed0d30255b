"""Billing fixtures: the operator's identity (the seller), a business client's billing
identity, and builders of subscriptions and usage."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.accounts.models import OperatorIdentity
from testkit.payments import standin  # noqa: F401 (the Stripe stand-in fixture)

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def operator(db: Any) -> OperatorIdentity:
    identity, _created = OperatorIdentity.objects.update_or_create(pk=1, defaults={
        "legal_name": "Permanence Télésecrétariat SAS", "siren": "552081317",
        "siret": "55208131700018", "vat_number": "FR03552081317",
        "address": "12 rue de la République\n69002 Lyon",
        "iban": "FR7630006000011234567890189", "support_email": "support@permanence.test"})
    return identity


@pytest.fixture
def business(account: Any) -> Any:
    account.legal_name = "Cabinet Martin SELARL"
    account.siret = "73282932000074"
    account.vat_number = "FR39732829320"
    account.billing_address = "14 rue des Lilas\n75011 Paris"
    account.billing_email = "compta@cabinet-martin.fr"
    account.save()
    return account


def subscription_for(account: Any, **terms: Any) -> Any:
    """A subscription as activation leaves it, with the plan terms given."""
    from permanence.billing.models import Subscription
    from testkit.shop import make_offer, make_order

    order = make_order(account)
    defaults = {"label": "Forfait Essentiel", "monthly_price_cents": 14900,
                "vat_rate": Decimal("20.00"), "started_at": datetime(2027, 1, 1, 9,
                                                                     tzinfo=PARIS),
                "current_period_start": date(2027, 1, 1), "next_invoice_on": date(2027, 2, 1),
                "plan_kind": "forfait"}
    defaults.update(terms)
    return Subscription.objects.create(account=account, offer=make_offer(), order=order,
                                       **defaults)


def usage(account: Any, metric: str, quantity: Any, day: date, source: str) -> Any:
    from permanence.billing.models_usage import UsageRecord

    at = datetime(day.year, day.month, day.day, 10, tzinfo=PARIS)
    return UsageRecord.objects.create(account=account, metric=metric,
                                      quantity=Decimal(quantity), occurred_at=at,
                                      source_id=source, recorded_at=at)

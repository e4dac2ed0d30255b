"""Recovery fixtures: the seller's identity, a business client with a subscription whose
card (or SEPA mandate) is on file, invoices issued by billing's own issuing service, and the
Stripe stand-in at the HTTP boundary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

# The seller of billing's tests (one definition for both apps).
from permanence.billing.tests.conftest import operator  # noqa: F401 (the fixture)
from testkit.payments import standin  # noqa: F401 (the fixture)

PARIS = ZoneInfo("Europe/Paris")


def paris(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=PARIS)


@pytest.fixture
def business(account: Any) -> Any:
    account.legal_name = "Cabinet Martin SELARL"
    account.siret = "73282932000074"
    account.billing_address = "14 rue des Lilas\n75011 Paris"
    account.billing_email = "compta@cabinet-martin.fr"
    account.save()
    return account


def make_subscription(account: Any, *, payment_method: str = "pm_card_visa",
                      method: str = "carte") -> Any:
    """A subscription as activation leaves it, with the Stripe customer and payment method
    saved at checkout (Stripe's test payment methods)."""
    from permanence.billing.models import Subscription
    from testkit.shop import make_offer, make_order

    order = make_order(account, payment_method=method)
    return Subscription.objects.create(
        account=account, offer=make_offer(), order=order, label="Forfait Essentiel",
        monthly_price_cents=10000, vat_rate=Decimal("20.00"), started_at=paris(2027, 1, 1),
        plan_kind="forfait", provider_customer_id="cus_test_martin",
        provider_payment_method_id=payment_method)


def make_invoice(account: Any, subscription: Any, at: datetime,
                 price_cents: int = 10000) -> Any:
    """An invoice issued by billing (due 15 days later): 120,00 € TTC by default."""
    from permanence.billing.issuing import Draft, Line, issue

    draft = Draft(account=account, subscription_id=subscription.pk, lines=[
        Line(label="Forfait Essentiel — mars 2027", unit_price_cents=price_cents,
             vat_rate=Decimal("20.00"))])
    return issue(draft, now=at)


@pytest.fixture
def subscription(business: Any) -> Any:
    return make_subscription(business)


@pytest.fixture
def run_committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run a job or service as if its transactions committed: the e-mails queued on commit
    are sent (the test's own transaction never commits)."""

    def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run

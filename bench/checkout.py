"""Checkout throughput through the service layer: a cart of 2–3 lines (cart_add) turned into
an order by checkout_place (lock the cart, order_create with its lines, history, audit and
confirmation e-mail on commit, then a bank-transfer payment_start), on DATABASE_URL.
BENCH_CHECKOUT_ORDERS sets how many orders (default 300)."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from typing import Any

from .stats import percentile, summary_ms

N_ORDERS = int(os.environ.get("BENCH_CHECKOUT_ORDERS", "300"))
WARMUP = 10


def seed() -> tuple[Any, Any]:
    from permanence.accounts.models import ClientAccount, Membership, Role, User
    from permanence.catalog.models import OfferKind
    from testkit.shop import make_offer, make_terms

    user = User.objects.filter(email="bench-buyer@permanence.test").first() or \
        User.objects.create_user("bench-buyer@permanence.test", None, role=Role.CLIENT,
                                 full_name="Acheteur Bench")
    account, _ = ClientAccount.objects.get_or_create(
        slug="bench-checkout", defaults={"name": "Cabinet Bench", "status": "actif"})
    Membership.objects.get_or_create(user=user, account=account,
                                     defaults={"role": "titulaire"})
    make_offer("bench-forfait", monthly_price_cents=14900)
    make_offer("bench-rdv", kind=OfferKind.OPTION, monthly_price_cents=2900)
    make_offer("bench-sms", kind=OfferKind.OPTION, monthly_price_cents=990,
               vat_rate=Decimal("20.00"))
    make_offer("bench-setup", kind=OfferKind.ONE_OFF, monthly_price_cents=0,
               one_off_price_cents=9900)
    make_terms("bench-2026")
    return user, account


def one_order(user: Any, account: Any, i: int) -> Any:
    from permanence.shop.cart import cart_add
    from permanence.shop.checkout import CheckoutDetails, checkout_place

    options = ["bench-rdv", "bench-sms"] if i % 2 else ["bench-setup"]
    cart = cart_add(cart=None, user=user, offer="bench-forfait", quantity=1 + i % 3,
                    options=options)
    details = CheckoutDetails(customer_kind="professionnel", name="Acheteur Bench",
                              email="compta@bench.test", address="1 rue du Bench\n75001 Paris",
                              legal_name="Cabinet Bench SARL", siret="73282932000074",
                              account_id=account.pk)
    return checkout_place(cart=cart, user=user, details=details, payment_method="virement",
                          accept_terms=True, accept_privacy=True, base_url="http://127.0.0.1:8000").order


def run() -> list[tuple[str, str, str, bool]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"\n== Checkout: {N_ORDERS} orders through cart_add + checkout_place (transfer) ==")
    user, account = seed()
    for i in range(WARMUP):
        one_order(user, account, i)
    timings: list[float] = []
    with CaptureQueriesContext(connection) as ctx:
        one_order(user, account, 1)
    queries = len(ctx.captured_queries)
    started = time.perf_counter()
    for i in range(N_ORDERS):
        t = time.perf_counter()
        one_order(user, account, i)
        timings.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - started
    rate = N_ORDERS / elapsed
    p50, p95 = percentile(timings, 50), percentile(timings, 95)
    print(f"  per order (cart + checkout): {summary_ms(timings)}; {queries} queries")
    print(f"  throughput: {rate:.1f} orders/s (one process, sequential)")
    return [
        ("checkout p50 per order", f"{p50:.1f} ms", "< 100 ms", p50 < 100),
        ("checkout p95 per order", f"{p95:.1f} ms", "< 150 ms", p95 < 150),
        ("checkout throughput", f"{rate:.1f} orders/s", "≥ 10 orders/s", rate >= 10),
        ("checkout queries per order", str(queries), "≤ 40", queries <= 40),
    ]

"""Order board at scale: 100,000 orders over 50 accounts (scaled by BENCH_ORDERS_SCALE), then
the board's p50/p95 and query counts (supervisor and agent, several tabs and filters, the
counters recomputed on every request: the per-user cache is cleared each time), an order page,
and GET /api/v1/orders."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta
from typing import Any

from .stats import percentile, summary_ms

SCALE = float(os.environ.get("BENCH_ORDERS_SCALE", "1"))
N_ACCOUNTS = 50
N_ORDERS = int(100_000 * SCALE)
SPAN_DAYS = 3 * 365  # orders spread over three years, the newest a few minutes old
NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André"]
OFFERS = [("Forfait Essentiel", 14900), ("Forfait Pro", 29900), ("Option agenda", 2900),
          ("Mise en place", 9900), ("Permanence samedi", 4900)]


def _status(rng: random.Random, age: timedelta) -> str:
    """Old orders are settled; the last days hold the work in progress."""
    if age > timedelta(days=10):
        return rng.choices(["activee", "annulee", "remboursee", "echec"],
                           weights=[90, 5, 2, 3])[0]
    return rng.choices(["attente_paiement", "paiement_en_cours", "echec", "payee", "validee",
                        "activee", "annulee"], weights=[8, 3, 3, 25, 20, 38, 3])[0]


def seed() -> tuple[Any, Any, list[int]]:
    from django.db import connection, transaction

    from permanence.core import clock
    from permanence.shop.models import Order, OrderLine

    from .people import staff_and_accounts

    supervisor, agent, accounts = staff_and_accounts(
        agent_email="bench-orders-agent@permanence.test", slug_prefix="bench-orders-",
        name_format="Société {:02d}", count=N_ACCOUNTS)
    have = Order.objects.filter(account__in=accounts).count()
    if have >= N_ORDERS:
        return supervisor, agent, [a.pk for a in accounts]
    rng = random.Random(4)
    now = clock.now()
    step = timedelta(days=SPAN_DAYS) / N_ORDERS
    batch = 5000
    started = time.perf_counter()
    for start in range(have, N_ORDERS, batch):
        count = min(batch, N_ORDERS - start)
        orders, lines_of = [], []
        for i in range(count):
            n = start + i
            age = step * (N_ORDERS - n) + timedelta(minutes=5)
            created = now - age
            status = _status(rng, age)
            picked = rng.sample(OFFERS, rng.choice([1, 1, 2, 3]))
            ht = sum(price for _label, price in picked)
            name = f"{rng.choice(NAMES)} {rng.choice(NAMES)}"
            o = Order(reference=f"CM-{created.year}-B{n + 1:06d}",
                      account=accounts[n % N_ACCOUNTS], status=status, billing_name=name,
                      billing_email=f"client{n}@exemple.fr", billing_address="1 rue de la Paix",
                      payment_method=rng.choices(["carte", "sepa", "virement"],
                                                 weights=[70, 15, 15])[0],
                      total_ht_cents=ht, total_vat_cents=ht // 5, total_ttc_cents=ht * 6 // 5,
                      created_at=created, checked_at=created + timedelta(hours=20)
                      if age > timedelta(days=2) else None)
            if status not in ("attente_paiement", "paiement_en_cours", "echec"):
                o.paid_at = created + timedelta(minutes=3)
                # 24 business hours ≈ 3 calendar days (roughly: the bench needs deadlines
                # spread around "now", not the exact calendar).
                o.validation_due_at = o.paid_at + timedelta(days=3)
            if status in ("validee", "activee"):
                validated = created + timedelta(hours=rng.randint(2, 70))
                o.validated_at = validated
                o.activation_due_at = validated + timedelta(days=5)
                if status == "activee":
                    o.activated_at = validated + timedelta(hours=rng.randint(2, 100))
            orders.append(o)
            lines_of.append(picked)
        with transaction.atomic():
            created_orders = Order.objects.bulk_create(orders)
            OrderLine.objects.bulk_create([
                OrderLine(order=o, label=label, quantity=1, unit_price_cents=price,
                          total_ht_cents=price)
                for o, picked in zip(created_orders, lines_of, strict=True)
                for label, price in picked], batch_size=5000)
        done = start + count
        if done % 20_000 == 0 or done == N_ORDERS:
            rate = (done - have) / (time.perf_counter() - started)
            print(f"  seeded {done:,} orders ({rate:,.0f}/s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return supervisor, agent, [a.pk for a in accounts]


def _measure(client: Any, urls: list[str], n: int, *,
             cold: bool = False) -> tuple[list[float], list[int]]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], []
    for i in range(n):
        url = urls[i % len(urls)]
        if cold:  # worst case: the tab counters (cached 15 s per user) recomputed each time
            cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(ctx.captured_queries))
    return timings, queries


def run() -> list[tuple[str, str, str, bool]]:
    from django.test import Client

    from permanence.shop.models import Order

    print(f"\n== Order board: {N_ORDERS:,} orders, {N_ACCOUNTS} accounts ==")
    t0 = time.perf_counter()
    supervisor, agent, account_ids = seed()
    print(f"  data ready in {time.perf_counter() - t0:.0f} s")
    out = []
    board = "/app/boutique/commandes/"
    recent_ref = Order.objects.filter(account_id__in=account_ids).order_by(
        "-created_at").values_list("reference", flat=True)[300]
    urls = [board, f"{board}?tab=en_retard", f"{board}?tab=a_activer",
            f"{board}?tab=toutes", f"{board}?tab=toutes&page=7",
            f"{board}?tab=activees&account={account_ids[3]}",
            f"{board}?tab=a_verifier", f"{board}?tab=toutes&method=virement",
            f"{board}?tab=paiement_echec&sort=anciennes",
            f"{board}?tab=toutes&q={recent_ref}"]
    for label, user in (("supervisor", supervisor), ("agent", agent)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        client.get(board)  # warm-up
        for cold in (False, True):
            timings, queries = _measure(client, urls, 80, cold=cold)
            p95 = percentile(timings, 95)
            what = f"{label}, counters {'recomputed' if cold else 'as cached'}"
            print(f"  board ({what}): {summary_ms(timings)}; queries {min(queries)}–"
                  f"{max(queries)}")
            out.append((f"order board p95 ({what})", f"{p95:.0f} ms", "< 150 ms", p95 < 150))
            out.append((f"order board queries ({what})", str(max(queries)), "≤ 10",
                        max(queries) <= 10))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(supervisor)
    ids = list(Order.objects.filter(account_id__in=account_ids).order_by("-created_at")
               .values_list("pk", flat=True)[:2000:50])
    timings, queries = _measure(client, [f"{board}{pk}/" for pk in ids], 40, cold=True)
    p95 = percentile(timings, 95)
    print(f"  order page: {summary_ms(timings)}; queries {min(queries)}–{max(queries)}")
    out.append(("order page p95", f"{p95:.0f} ms", "< 150 ms", p95 < 150))
    api = [f"/api/v1/orders?limit={50}", "/api/v1/orders?status=payee",
           f"/api/v1/orders?account={account_ids[5]}&offset=100",
           "/api/v1/orders?payment_method=virement&created_after=2025-01-01T00:00:00Z"]
    timings, queries = _measure(client, api, 60)
    p95 = percentile(timings, 95)
    print(f"  GET /api/v1/orders: {summary_ms(timings)}; queries {min(queries)}–"
          f"{max(queries)}")
    out.append(("GET /api/v1/orders p95", f"{p95:.0f} ms", "< 150 ms", p95 < 150))
    return out

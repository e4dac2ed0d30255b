"""The monthly invoicing run at volume (issue 12): BENCH_BILLING_SUBS (default 10,000)
subscriptions over as many accounts, BENCH_BILLING_USAGE (default 3,000,000) usage records
of last month (PostgreSQL: one INSERT … SELECT over a generated series; SQLite: a tenth by
default), then `invoicing_run.run()` on the first of the month: seconds, invoices/s, memory growth
during the run (resident memory, sampled), queries per invoice. Target (PostgreSQL): < 60 s.

Seeded once: a later run finds the subscriptions already invoiced and seeds a new set.
The invoices it issues stay (the database refuses to delete them): use a bench database."""

from __future__ import annotations

import os
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
RUN_DAY = date(2031, 2, 1)
PREFIX = "bench-billing-"


def _sizes() -> tuple[int, int]:
    from django.db import connection

    subs = int(os.environ.get("BENCH_BILLING_SUBS", "10000"))
    default_usage = "3000000" if connection.vendor == "postgresql" else "300000"
    return subs, int(os.environ.get("BENCH_BILLING_USAGE", default_usage))


def seed(subs: int, records: int) -> None:
    from django.db import connection, transaction

    from permanence.accounts.models import ClientAccount
    from permanence.billing.models import Subscription
    from permanence.billing.models_usage import UsageRecord
    from permanence.shop.models import Order
    from testkit.shop import make_offer

    if Subscription.objects.filter(account__slug__startswith=PREFIX,
                                   next_invoice_on=RUN_DAY).count() == subs:
        return
    offer = make_offer("bench-forfait")
    t0 = time.perf_counter()
    with transaction.atomic():
        accounts = ClientAccount.objects.bulk_create([ClientAccount(
            name=f"Bench client {n}", slug=f"{PREFIX}{n}-{int(t0)}", legal_name=f"Bench {n} SAS",
            siret="73282932000074", billing_address="1 rue de la Paix\n75002 Paris",
            billing_email=f"compta{n}@bench.test") for n in range(subs)], batch_size=2000)
        orders = Order.objects.bulk_create([Order(
            reference=f"B{int(t0) % 10**8}{n:06d}"[:20], account=a, billing_name=a.name,
            billing_address="1 rue de la Paix\n75002 Paris", billing_email=a.billing_email,
            created_at=datetime(2031, 1, 1, tzinfo=PARIS)) for n, a in enumerate(accounts)],
            batch_size=2000)
        Subscription.objects.bulk_create([Subscription(
            account=a, offer=offer, order=o, label="Forfait Essentiel",
            monthly_price_cents=14900, vat_rate=Decimal("20.00"),
            started_at=datetime(2031, 1, 1, 9, tzinfo=PARIS), plan_kind="forfait",
            included={"calls": 250}, unit_prices={"calls": 120, "sms": 10},
            current_period_start=date(2031, 1, 1), next_invoice_on=RUN_DAY)
            for a, o in zip(accounts, orders, strict=True)], batch_size=2000)
    first, last = accounts[0].pk, accounts[-1].pk
    per = max(records // subs, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO billing_usagerecord (account_id, metric, quantity, occurred_at,
                                                     source_id, recorded_at)
                   SELECT %s + (g %% %s), CASE WHEN g %% 10 = 0 THEN 'sms' ELSE 'calls' END,
                          1, timestamptz '2031-01-01 08:00+01' + (g %% 2600000) * interval '1s',
                          'bench:' || %s || ':' || g, now()
                   FROM generate_series(1, %s) AS g""",
                [first, last - first + 1, int(t0), records])
    else:
        now = datetime(2031, 1, 15, 10, tzinfo=PARIS)
        batch: list[Any] = []
        for n in range(records):
            batch.append(UsageRecord(account_id=first + n % subs, metric="calls",
                                     quantity=Decimal(1), occurred_at=now,
                                     source_id=f"bench:{int(t0)}:{n}", recorded_at=now))
            if len(batch) == 5000:
                UsageRecord.objects.bulk_create(batch)
                batch = []
        UsageRecord.objects.bulk_create(batch)
    print(f"  seeded {subs} subscriptions and {records} usage records (~{per} per account) "
          f"in {time.perf_counter() - t0:.1f} s")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run() -> list[tuple[str, str, str, bool]]:
    from django.db import connection

    from permanence.billing import invoicing_run

    subs, records = _sizes()
    print(f"\n== Billing: the invoicing run, {subs} subscriptions, {records} usage records ==")
    seed(subs, records)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE billing_usagerecord")
    count = [0]

    def counted(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        count[0] += 1
        return execute(sql, params, many, context)

    baseline = _rss()
    peak_rss = [baseline]
    done = threading.Event()

    def sample() -> None:  # the process's resident memory, every 50 ms (no tracing cost)
        while not done.wait(0.05):
            peak_rss[0] = max(peak_rss[0], _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    with connection.execute_wrapper(counted):
        result = invoicing_run.run(RUN_DAY)
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    peak = peak_rss[0] - baseline
    issued = result["issued"]
    per = count[0] / issued if issued else 0
    print(f"  {issued} invoices in {elapsed:.1f} s ({issued / elapsed:.0f}/s), memory growth "
          f"during the run {peak / 2**20:.1f} MiB (resident, sampled), {count[0]} queries "
          f"({per:.3f} per invoice)")
    target = 60.0 if connection.vendor == "postgresql" else 600.0
    return [(f"billing run ({subs} subscriptions, {records} usage records)",
             f"{elapsed:.1f} s, {issued} invoices, +{peak / 2**20:.0f} MiB",
             f"< {target:.0f} s", elapsed < target and issued == subs)]

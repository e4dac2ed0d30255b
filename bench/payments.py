"""Stripe webhooks: signed events stored + acknowledged through the endpoint (events/s), then
processed by the worker function (payment succeeded, order paid: events/s).

BENCH_PAYMENTS_EVENTS (default 300) orders, each with a pending Stripe payment, each receiving
one checkout.session.completed; each event is also redelivered once (de-duplicated).

Targets: an operator's shop sees a few payment events per minute at its peak (Stripe retries
failed deliveries for three days), so ≥ 20 events/s both at the endpoint and in one worker is
two orders of magnitude of headroom; the endpoint's p95 stays far below Stripe's timeout.
Processing time is dominated by the order transition (business-calendar deadline, history,
audit, e-mail), one event per transaction with its rows locked."""

from __future__ import annotations

import json
import os
import secrets
import time
from typing import Any

from .stats import percentile, summary_ms

N_EVENTS = int(os.environ.get("BENCH_PAYMENTS_EVENTS", "300"))


def seed(run: str) -> list[Any]:
    from django.db import transaction

    from permanence.accounts.models import ClientAccount
    from permanence.core import clock
    from permanence.payments.models import Payment
    from testkit.shop import make_offer, make_order

    account, _ = ClientAccount.objects.get_or_create(
        slug="bench-payments", defaults={"name": "Bench paiements", "status": "actif"})
    offer = make_offer("bench-paiements")
    payments = []
    with transaction.atomic():
        for i in range(N_EVENTS):
            order = make_order(account, None, offers=[offer])
            payments.append(Payment(
                order=order, provider="stripe", method="carte",
                amount_cents=order.total_ttc_cents,
                idempotency_key=f"bench-{run}-{i}", provider_session_id=f"cs_bench_{run}_{i}",
                checkout_url="https://checkout.invalid/", created_at=clock.now()))
        Payment.objects.bulk_create(payments)
    return payments


def event_for(payment: Any, run: str, i: int) -> dict[str, Any]:
    return {"id": f"evt_bench_{run}_{i}", "object": "event", "api_version": "2025-09-30.clover",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "type": "checkout.session.completed",
            "data": {"object": {
                "id": payment.provider_session_id, "object": "checkout.session",
                "amount_total": payment.amount_cents, "currency": "eur", "mode": "payment",
                "payment_status": "paid", "status": "complete",
                "payment_intent": f"pi_bench_{run}_{i}", "customer": f"cus_bench_{run}_{i}",
                "metadata": {"idempotency_key": payment.idempotency_key}}}}


def run() -> list[tuple[str, str, str, bool]]:
    from django.conf import settings
    from django.test import Client, override_settings

    from permanence.payments.events import event_process
    from permanence.payments.models import ProviderEvent
    from permanence.shop.models import Order
    from testkit.stripe_standin import signature_header

    print(f"\n== Payments: {N_EVENTS} signed Stripe webhooks ==")
    run_id = secrets.token_hex(4)
    secret = settings.STRIPE_WEBHOOK_SECRET or "whsec_bench"
    t0 = time.perf_counter()
    payments = seed(run_id)
    print(f"  {N_EVENTS} orders with a pending payment in {time.perf_counter() - t0:.1f} s")
    bodies = []
    for i, payment in enumerate(payments):
        payload = json.dumps(event_for(payment, run_id, i))
        bodies.append((payload, signature_header(payload, secret)))
    client = Client(HTTP_HOST="127.0.0.1")
    timings = []
    with override_settings(STRIPE_WEBHOOK_SECRET=secret):
        client.post("/api/v1/payments/stripe/webhook", data="{}",  # warm-up (a 400)
                    content_type="application/json", headers={"Stripe-Signature": "t=1,v1=x"})
        started = time.perf_counter()
        for payload, header in bodies:
            t = time.perf_counter()
            response = client.post("/api/v1/payments/stripe/webhook", data=payload,
                                   content_type="application/json",
                                   headers={"Stripe-Signature": header})
            timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.content
        stored_rate = N_EVENTS / (time.perf_counter() - started)
        started = time.perf_counter()
        for payload, header in bodies:  # redeliveries: acknowledged, nothing stored
            response = client.post("/api/v1/payments/stripe/webhook", data=payload,
                                   content_type="application/json",
                                   headers={"Stripe-Signature": header})
            assert response.json()["duplicate"] is True
        duplicate_rate = N_EVENTS / (time.perf_counter() - started)
    print(f"  webhook (verify + store + ack): {stored_rate:.0f} events/s; "
          f"{summary_ms(timings)}; redeliveries {duplicate_rate:.0f}/s")
    pks = list(ProviderEvent.objects.filter(event_id__startswith=f"evt_bench_{run_id}_")
               .values_list("pk", flat=True))
    assert len(pks) == N_EVENTS
    started = time.perf_counter()
    for pk in pks:
        event_process(pk)
    processed_rate = N_EVENTS / (time.perf_counter() - started)
    paid = Order.objects.filter(payments__provider_session_id__startswith=f"cs_bench_{run_id}_",
                                status="payee").count()
    print(f"  worker processing (payment succeeded, order paid): {processed_rate:.0f} events/s;"
          f" {paid}/{N_EVENTS} orders paid")
    p95 = percentile(timings, 95)
    return [
        ("webhook stored + acknowledged", f"{stored_rate:.0f} events/s", "≥ 20 events/s",
         stored_rate >= 20),
        ("webhook p95", f"{p95:.1f} ms", "< 100 ms", p95 < 100),
        ("webhook redeliveries de-duplicated", f"{duplicate_rate:.0f} events/s",
         "≥ 20 events/s", duplicate_rate >= 20),
        ("webhook events processed by the worker", f"{processed_rate:.0f} events/s",
         "≥ 20 events/s", processed_rate >= 20 and paid == N_EVENTS),
    ]

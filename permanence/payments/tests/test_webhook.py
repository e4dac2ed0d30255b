"""The Stripe webhook: signature checks, storage before processing, de-duplication, the
state rules (also for events delivered out of order), recovery of events stored but not
processed. Payments are started against the local stand-in over real HTTP; its signed events
are delivered to the endpoint through the Django test client."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail

from permanence.core import clock
from permanence.payments import events
from permanence.payments.models import Payment, ProviderEvent
from permanence.payments.services import payment_start
from permanence.shop.models import OrderStatusChange
from testkit.payments import WEBHOOK_PATH, signed

pytestmark = pytest.mark.django_db

OK_URL = "https://permanence.test/commande/ok?session={CHECKOUT_SESSION_ID}"
KO_URL = "https://permanence.test/commande/ko"


def start(order: Any, method: str = "carte") -> Payment:
    return payment_start(order=order, method=method, success_url=OK_URL, cancel_url=KO_URL)


def post(client: Any, body: bytes, header: str | None) -> Any:
    headers = {"Stripe-Signature": header} if header is not None else {}
    return client.post(WEBHOOK_PATH, data=body, content_type="application/json",
                       headers=headers)


def refresh(*objs: Any) -> None:
    for obj in objs:
        obj.refresh_from_db()


def subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


# --- Signature -----------------------------------------------------------------------------------


def _paid_event(standin: Any, order: Any) -> tuple[Payment, dict[str, Any]]:
    payment = start(order)
    event = standin.app.event("checkout.session.completed",
                              {**standin.app.sessions[payment.provider_session_id],
                               "payment_status": "paid", "status": "complete"})
    return payment, event


def test_missing_signature_is_refused_and_nothing_is_stored(standin: Any, order: Any,
                                                            client: Any) -> None:
    payment, event = _paid_event(standin, order)
    body, _header = signed(event, standin.secret)
    response = post(client, body, None)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_signature"
    assert not ProviderEvent.objects.exists()
    refresh(order, payment)
    assert (order.status, payment.status) == ("attente_paiement", "en_attente")


def test_wrong_signature_is_refused(standin: Any, order: Any, client: Any) -> None:
    payment, event = _paid_event(standin, order)
    body, _header = signed(event, "whsec_not_ours")
    assert post(client, body, _header).status_code == 400
    # A right signature of another body does not sign this one either.
    _other, header = signed({**event, "id": "evt_other"}, standin.secret)
    assert post(client, body, header).status_code == 400
    assert post(client, body, "t=abc,v1=zzz").status_code == 400
    assert not ProviderEvent.objects.exists()
    refresh(order)
    assert order.status == "attente_paiement"


def test_stale_signature_is_refused(standin: Any, order: Any, client: Any) -> None:
    payment, event = _paid_event(standin, order)
    body, header = signed(event, standin.secret, timestamp=int(time.time()) - 301)
    response = post(client, body, header)
    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()
    refresh(order, payment)
    assert payment.status == "en_attente"


def test_signed_but_unreadable_body_is_refused(standin: Any, client: Any) -> None:
    for payload in (b"not json", b"[1, 2]", json.dumps({"type": "x"}).encode()):
        from testkit.stripe_standin import signature_header

        response = post(client, payload, signature_header(payload.decode(), standin.secret))
        assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_fresh_signature_within_tolerance_is_accepted(standin: Any, order: Any,
                                                      client: Any) -> None:
    payment, event = _paid_event(standin, order)
    body, header = signed(event, standin.secret, timestamp=int(time.time()) - 240)
    assert post(client, body, header).status_code == 200
    assert ProviderEvent.objects.get().event_id == event["id"]


# --- Card payments ---------------------------------------------------------------------------------


def test_card_payment_is_stored_then_processed(standin: Any, order: Any, client: Any) -> None:
    payment = start(order)
    standin.app.pay(payment.provider_session_id)
    [response] = standin.deliver(client)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    event = ProviderEvent.objects.get()
    assert event.type == "checkout.session.completed"
    assert event.payload["data"]["object"]["id"] == payment.provider_session_id
    assert event.processed_at is not None and event.attempts == 1
    assert event.payment == payment
    refresh(order, payment)
    assert payment.status == "reussi" and payment.succeeded_at is not None
    assert payment.provider_customer_id.startswith("cus_")
    assert order.status == "payee" and order.paid_at is not None
    assert order.validation_due_at is not None
    assert sum("CM-" in s for s in subjects()) == 1


def test_redelivery_is_acknowledged_without_a_second_row(standin: Any, order: Any,
                                                         client: Any) -> None:
    payment = start(order)
    standin.app.pay(payment.provider_session_id)
    body, header = standin.app.outbox[0]
    standin.deliver(client)
    mails = len(mail.outbox)
    for _ in range(3):
        response = post(client, body, header)
        assert response.status_code == 200
        assert response.json()["duplicate"] is True
    assert ProviderEvent.objects.count() == 1
    assert OrderStatusChange.objects.filter(order=order, to_status="payee").count() == 1
    assert len(mail.outbox) == mails


def test_declined_card_fails_the_order_and_a_retry_gets_a_new_session(
        standin: Any, order: Any, client: Any) -> None:
    first = start(order)
    standin.app.decline(first.provider_session_id)
    standin.deliver(client)
    refresh(order, first)
    assert first.status == "echec"
    assert "Your card was declined." in first.failure_message
    assert order.status == "echec"
    failure_mail = mail.outbox[-1]
    assert f"/commande/{order.reference}/payer/" in failure_mail.body
    # Retry: a new attempt, a new idempotency key, a new Checkout Session.
    second = start(order)
    assert second.pk != first.pk and second.attempt == 2
    assert second.idempotency_key != first.idempotency_key
    assert second.provider_session_id != first.provider_session_id
    standin.app.pay(second.provider_session_id)
    standin.deliver(client)
    refresh(order, second)
    assert (second.status, order.status) == ("reussi", "payee")


def test_expired_session_cancels_the_payment_and_the_order_keeps_waiting(
        standin: Any, order: Any, client: Any) -> None:
    payment = start(order)
    standin.app.expire(payment.provider_session_id)
    standin.deliver(client)
    refresh(order, payment)
    assert payment.status == "annule"
    assert order.status == "attente_paiement"
    # The buyer can pay again: a new session.
    again = start(order)
    assert again.attempt == 2 and again.provider_session_id != payment.provider_session_id


# --- SEPA -----------------------------------------------------------------------------------------


def test_sepa_mandate_is_a_pending_state_then_settles(standin: Any, sepa_order: Any,
                                                      client: Any) -> None:
    payment = start(sepa_order, "sepa")
    assert standin.app.requests[-1]["params"]["payment_method_types"] == ["sepa_debit"]
    standin.app.mandate(payment.provider_session_id)
    standin.deliver(client)
    refresh(sepa_order, payment)
    assert payment.status == "en_cours"
    assert sepa_order.status == "paiement_en_cours"
    assert sepa_order.validation_due_at is None
    standin.control(f"sessions/{payment.provider_session_id}/settle?outcome=succeeded")
    standin.deliver(client)
    refresh(sepa_order, payment)
    assert (payment.status, sepa_order.status) == ("reussi", "payee")


def test_sepa_debit_rejected_fails_the_order(standin: Any, sepa_order: Any,
                                             client: Any) -> None:
    payment = start(sepa_order, "sepa")
    standin.app.mandate(payment.provider_session_id)
    standin.control(f"sessions/{payment.provider_session_id}/settle?outcome=failed")
    standin.deliver(client)
    refresh(sepa_order, payment)
    assert payment.status == "echec"
    assert sepa_order.status == "echec"
    assert "SEPA" in payment.failure_message


# --- Out of order ---------------------------------------------------------------------------------


def test_async_success_before_completed_ends_paid(standin: Any, sepa_order: Any,
                                                  client: Any) -> None:
    payment = start(sepa_order, "sepa")
    standin.app.mandate(payment.provider_session_id)
    standin.app.settle(payment.provider_session_id, "succeeded")
    standin.app.outbox.reverse()  # async_payment_succeeded arrives first
    standin.deliver(client)
    refresh(sepa_order, payment)
    assert (payment.status, sepa_order.status) == ("reussi", "payee")
    steps = list(OrderStatusChange.objects.filter(order=sepa_order)
                 .values_list("to_status", flat=True))
    assert "paiement_en_cours" not in steps and steps.count("payee") == 1


def test_failure_before_completed_stays_failed(standin: Any, sepa_order: Any,
                                               client: Any) -> None:
    payment = start(sepa_order, "sepa")
    standin.app.mandate(payment.provider_session_id)
    standin.app.settle(payment.provider_session_id, "failed")
    standin.app.outbox.reverse()
    standin.deliver(client)
    refresh(sepa_order, payment)
    assert (payment.status, sepa_order.status) == ("echec", "echec")


def test_late_failure_of_an_old_attempt_does_not_fail_a_paid_order(
        standin: Any, order: Any, client: Any) -> None:
    first = start(order)
    standin.app.decline(first.provider_session_id)
    late_failure = standin.app.outbox.pop()
    standin.app.expire(first.provider_session_id)
    standin.deliver(client)  # the first attempt expired (cancelled)
    second = start(order)
    standin.app.pay(second.provider_session_id)
    standin.deliver(client)
    standin.app.outbox.append(late_failure)
    standin.deliver(client)
    refresh(order, first, second)
    assert order.status == "payee" and second.status == "reussi"
    assert first.status == "annule"


def test_refund_event_before_payment_event_is_harmless(standin: Any, order: Any,
                                                       client: Any) -> None:
    payment = start(order)
    standin.app.pay(payment.provider_session_id)
    standin.app.refund(payment.provider_session_id)
    standin.deliver(client)
    refresh(order, payment)
    assert (payment.status, order.status) == ("rembourse", "remboursee")
    assert payment.refunded_cents == payment.amount_cents


# --- Processing failures and recovery -------------------------------------------------------------


def test_crash_after_storing_is_recovered_by_the_scheduler_job(
        standin: Any, order: Any, client: Any, monkeypatch: Any) -> None:
    from permanence.core.scheduler import REGISTRY
    from permanence.payments.tasks import reprocess_provider_events

    payment = start(order)
    standin.app.pay(payment.provider_session_id)

    def crash(event: Any) -> Any:
        raise RuntimeError("worker died")

    monkeypatch.setattr(events, "_apply", crash)
    [response] = standin.deliver(client)
    assert response.status_code == 200  # stored and acknowledged all the same
    event = ProviderEvent.objects.get()
    assert event.processed_at is None and event.attempts == 1
    assert "worker died" in event.last_error
    refresh(order, payment)
    assert (order.status, payment.status) == ("attente_paiement", "en_attente")
    monkeypatch.undo()
    assert REGISTRY["payments.reprocess_events"].task is reprocess_provider_events
    # Too recent for the job: left to the normal path.
    assert events.events_reprocess_pending() == 0
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        reprocess_provider_events.enqueue()
    event.refresh_from_db()
    assert event.processed_at is not None and event.attempts == 2 and not event.last_error
    refresh(order, payment)
    assert (order.status, payment.status) == ("payee", "reussi")


def test_event_stored_but_never_enqueued_is_recovered(standin: Any, order: Any,
                                                      client: Any) -> None:
    payment = start(order)
    standin.app.pay(payment.provider_session_id)
    body, header = standin.app.outbox.pop()
    # No on-commit callbacks run here: as if the process died right after the commit.
    assert post(client, body, header).status_code == 200
    event = ProviderEvent.objects.get()
    assert event.processed_at is None and event.attempts == 0
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        assert events.events_reprocess_pending() == 1
    refresh(order)
    assert order.status == "payee"
    assert events.event_process(event.pk) == "already processed"


def test_events_for_unknown_payments_or_types_are_recorded_and_ignored(
        standin: Any, client: Any) -> None:
    for event_type, obj in (("checkout.session.completed", {"id": "cs_unknown"}),
                            ("customer.created", {"id": "cus_1"})):
        body, header = signed(standin.app.event(event_type, obj), standin.secret)
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            assert post(client, body, header).status_code == 200
    outcomes = sorted(ProviderEvent.objects.values_list("outcome", flat=True))
    assert outcomes == ["ignored: customer.created", "ignored: no matching payment"]
    assert all(ProviderEvent.objects.values_list("processed_at", flat=True))

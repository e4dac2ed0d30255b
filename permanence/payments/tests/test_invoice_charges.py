"""Invoice payments (issue 12) in payments alone, against the Stripe stand-in over HTTP: an
off-session PaymentIntent per invoice and attempt (idempotency key, journal committed first),
Stripe's test payment methods (pm_card_visa succeeds, pm_card_chargeDeclined is declined with
a 402 carrying the PaymentIntent), a SEPA debit processing then returned (charge.dispute
.created), and the outcome told to the apps above through the hook, once."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.payments import charges, hooks, stripe_client
from permanence.payments.models import Payment, ProviderCall, ProviderEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(monkeypatch: Any) -> list[tuple[str, str]]:
    """The outcomes told to the apps above (only this recorder listens in these tests)."""
    seen: list[tuple[str, str]] = []

    def record(*, payment: Payment, outcome: str, note: str) -> None:
        seen.append((payment.invoice_number, outcome))

    monkeypatch.setattr(hooks, "_HOOKS", [record])
    return seen


def charge(number: str = "F2027-000042", pm: str = "pm_card_visa",
           method: str = "carte") -> Payment:
    return charges.invoice_charge(invoice_number=number, salt="1800000000", amount_cents=12000,
                                  customer="cus_test_1", payment_method=pm, method=method,
                                  description=f"Facture {number}")


def intents_sent(standin: Any) -> list[dict[str, Any]]:
    return [r for r in standin.app.requests if r["path"] == "/v1/payment_intents"]


def test_card_on_file_is_charged_off_session(standin: Any, client: Any,
                                             told: list[Any]) -> None:
    payment = charge()
    assert (payment.status, payment.order_id, payment.invoice_number) == (
        "reussi", None, "F2027-000042")
    sent = intents_sent(standin)
    assert len(sent) == 1
    assert sent[0]["idempotency_key"] == "perm-inv-F2027-000042-1800000000-a1"
    assert sent[0]["params"]["off_session"] == "true" and sent[0]["params"]["confirm"] == "true"
    call = ProviderCall.objects.get(invoice_number="F2027-000042")
    assert (call.kind, call.status, call.payment_id) == ("intent", "reussi", payment.pk)
    standin.deliver(client)  # payment_intent.succeeded, after the answer: nothing more
    assert told == [("F2027-000042", "succeeded")]
    assert charge().pk == payment.pk  # succeeded: never charged again
    assert len(intents_sent(standin)) == 1


def test_declined_card_is_a_failed_attempt_then_a_new_key(standin: Any, client: Any,
                                                          told: list[Any]) -> None:
    payment = charge(pm="pm_card_chargeDeclined")
    assert payment.status == "echec"
    assert "declined" in payment.failure_message
    standin.deliver(client)  # payment_intent.payment_failed
    assert ProviderEvent.objects.get().outcome == "payment stays echec"
    assert told == [("F2027-000042", "failed")]
    second = charge(pm="pm_card_chargeDeclined")
    assert second.pk != payment.pk and second.attempt == 2
    keys = [r["idempotency_key"] for r in intents_sent(standin)]
    assert keys == ["perm-inv-F2027-000042-1800000000-a1",
                    "perm-inv-F2027-000042-1800000000-a2"]


def test_a_declined_answer_is_replayed_under_its_key(standin: Any) -> None:
    params = {"amount": 500, "currency": "eur", "customer": "cus_1",
              "payment_method": "pm_card_chargeDeclined", "confirm": True,
              "off_session": True}
    first = stripe_client.payment_intent_create(params, idempotency_key="k-1")
    again = stripe_client.payment_intent_create(params, idempotency_key="k-1")
    assert first["status"] == "requires_payment_method"
    assert first["last_payment_error"]["code"] == "card_declined"
    assert again["id"] == first["id"]
    assert len(standin.app.intents) == 1


def test_unknown_outcome_is_sent_again_with_the_same_key(standin: Any, told: list[Any],
                                                         monkeypatch: Any) -> None:
    real = stripe_client.payment_intent_create

    def lost_answer(params: Any, *, idempotency_key: str) -> Any:
        real(params, idempotency_key=idempotency_key)
        raise ConnectionResetError("the answer was lost on the way back")

    monkeypatch.setattr(stripe_client, "payment_intent_create", lost_answer)
    with pytest.raises(ConnectionResetError):
        charge()
    assert ProviderCall.objects.get().status == "sans_reponse"
    monkeypatch.setattr(stripe_client, "payment_intent_create", real)
    payment = charge()
    keys = [r["idempotency_key"] for r in intents_sent(standin)]
    assert keys == ["perm-inv-F2027-000042-1800000000-a1"] * 2
    assert len(standin.app.intents) == 1
    assert payment.status == "reussi" and told == [("F2027-000042", "succeeded")]


def test_sepa_debit_processing_settled_then_returned(standin: Any, client: Any,
                                                     told: list[Any]) -> None:
    payment = charge(pm="pm_sepa_debit_1", method="sepa")
    assert payment.status == "en_cours"
    assert charge(pm="pm_sepa_debit_1", method="sepa").pk == payment.pk  # in flight
    standin.deliver(client)
    standin.control(f"payment_intents/{payment.provider_payment_id}/settle?outcome=succeeded")
    standin.deliver(client)
    payment.refresh_from_db()
    assert payment.status == "reussi"
    standin.control(f"payment_intents/{payment.provider_payment_id}/dispute")
    standin.deliver(client)
    standin.deliver(client)
    payment.refresh_from_db()
    assert payment.status == "retourne"
    assert told == [("F2027-000042", "succeeded"), ("F2027-000042", "returned")]
    dispute = ProviderEvent.objects.get(type="charge.dispute.created")
    assert dispute.payload["data"]["object"]["object"] == "dispute"
    assert dispute.payment_id == payment.pk


def test_invoice_checkout_is_reused_then_paid(standin: Any, client: Any,
                                              told: list[Any]) -> None:
    def start() -> Payment:
        return charges.invoice_checkout_start(
            invoice_number="F2027-000042", salt="1", amount_cents=7000,
            email="compta@exemple.fr", label="Facture F2027-000042",
            success_url="https://permanence.test/ok", cancel_url="https://permanence.test/ko")

    payment = start()
    assert start().pk == payment.pk  # a double click: the same open session
    session = standin.app.sessions[payment.provider_session_id]
    assert session["amount_total"] == 7000
    assert session["metadata"]["invoice_number"] == "F2027-000042"
    standin.app.pay(payment.provider_session_id)
    standin.deliver(client)
    payment.refresh_from_db()
    assert payment.status == "reussi" and told == [("F2027-000042", "succeeded")]


def test_no_call_inside_a_transaction(standin: Any) -> None:
    from django.db import transaction

    with transaction.atomic(), pytest.raises(stripe_client.ProviderCallInTransaction):
        charge()
    assert not intents_sent(standin)
    assert not ProviderCall.objects.exists()


def test_invoice_payment_refunded_in_part(standin: Any, client: Any, told: list[Any],
                                          billing: Any) -> None:
    """Billing refunds a credit note through payment_refund: an invoice's payment (no
    order), in part, one key per refund reference."""
    from permanence.payments.services import payment_refund

    payment = charge()
    standin.deliver(client)
    answer = payment_refund(actor=billing, payment=payment, amount_cents=2000,
                            reference="av1", metadata={"credit_note": "AV2027-000001"})
    again = payment_refund(actor=billing, payment=payment, amount_cents=2000,
                           reference="av1", metadata={"credit_note": "AV2027-000001"})
    assert answer["amount"] == 2000 and again["id"] == answer["id"]
    refunds = [r for r in standin.app.requests if r["path"] == "/v1/refunds"]
    assert len(refunds) == 1
    assert refunds[0]["idempotency_key"] == f"perm-refund-{payment.pk}-av1"
    assert refunds[0]["params"]["metadata"]["invoice_number"] == "F2027-000042"
    standin.deliver(client)  # charge.refunded
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_cents) == ("reussi", 2000)


def test_checkout_payment_intent_event_records_the_saved_method(standin: Any, client: Any,
                                                                 order: Any) -> None:
    """Stripe follows a Checkout payment with payment_intent.succeeded, which names the
    payment method saved (setup_future_usage): recorded on the order's payment, for the
    subscriptions' off-session charges (payment_for_recurring_debits)."""
    from permanence.payments.selectors import payment_for_recurring_debits
    from permanence.payments.services import payment_start
    from testkit.payments import WEBHOOK_PATH, signed

    payment = payment_start(order=order, method="carte", success_url="https://p.test/ok",
                            cancel_url="https://p.test/ko")
    standin.app.pay(payment.provider_session_id)
    standin.deliver(client)
    session = standin.app.sessions[payment.provider_session_id]
    body, header = signed(standin.app.event("payment_intent.succeeded",
                                            standin.app._intent(session, "succeeded")),
                          standin.secret)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(WEBHOOK_PATH, data=body, content_type="application/json",
                           headers={"Stripe-Signature": header}).status_code == 200
    saved = payment_for_recurring_debits(order)
    assert saved is not None and saved.pk == payment.pk
    assert saved.provider_payment_method_id == session["_payment_method"]
    assert saved.provider_customer_id == session["customer"]
    assert ProviderEvent.objects.get(type="payment_intent.succeeded").outcome == \
        "payment method recorded"

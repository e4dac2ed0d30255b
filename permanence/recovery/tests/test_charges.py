"""Charging at the due date (off-session PaymentIntent on the Stripe stand-in): one charge
per invoice and attempt, the same idempotency key when the outcome is unknown (a crash after
the journal row was committed), no double charge; webhook duplicates ignored; partial
payments; past-due invoices; a SEPA debit returned weeks later reopens the invoice."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail

from permanence.payments import charges as payment_charges
from permanence.payments import stripe_client
from permanence.payments.models import Payment, ProviderCall, ProviderEvent
from permanence.recovery.charges import charges_run
from permanence.recovery.models import PaymentIncident
from permanence.recovery.services import dunning_run, transfer_match
from testkit.payments import WEBHOOK_PATH

from .conftest import make_invoice, make_subscription, paris

pytestmark = pytest.mark.django_db


def intent_requests(standin: Any) -> list[dict[str, Any]]:
    return [r for r in standin.app.requests if r["path"] == "/v1/payment_intents"]


def test_due_invoice_is_charged_once_and_paid(business: Any, subscription: Any, standin: Any,
                                              client: Any, run_committed: Any) -> None:
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 15), tick=False):
        assert run_committed(charges_run)["charged"] == 0  # not due yet
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        assert run_committed(charges_run)["charged"] == 1
        assert run_committed(charges_run)["charged"] == 0  # charged: never twice
        responses = standin.deliver(client)  # payment_intent.succeeded
    assert [r.status_code for r in responses] == [200]
    assert len(intent_requests(standin)) == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_cents) == ("payee", 12000)
    payment = Payment.objects.get(invoice_number=invoice.number)
    assert payment.order_id is None and payment.status == "reussi"
    assert payment.idempotency_key.startswith(f"perm-inv-{invoice.number}-")
    event = ProviderEvent.objects.get(type="payment_intent.succeeded")
    assert event.outcome == "payment stays reussi"  # the answer had applied it already
    assert not PaymentIncident.objects.exists()


def test_webhook_duplicate_is_ignored(business: Any, subscription: Any, standin: Any,
                                      client: Any, run_committed: Any) -> None:
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        run_committed(charges_run)
        body, header = standin.app.outbox[0]
        for _ in range(3):
            with django_on_commit():
                response = client.post(WEBHOOK_PATH, data=body,
                                       content_type="application/json",
                                       headers={"Stripe-Signature": header})
            assert response.status_code == 200
    assert ProviderEvent.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.paid_cents == 12000
    assert invoice.history.filter(to_status="payee").count() == 1


def django_on_commit() -> Any:
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_crash_after_the_journal_commit_replays_the_same_key(
        business: Any, subscription: Any, standin: Any, client: Any,
        run_committed: Any, monkeypatch: Any) -> None:
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
    real = stripe_client.payment_intent_create

    def sent_then_died(params: Any, *, idempotency_key: str) -> Any:
        real(params, idempotency_key=idempotency_key)  # Stripe charged the card...
        raise SystemExit("the worker died before the answer was recorded")

    with time_machine.travel(paris(2027, 3, 16), tick=False):
        monkeypatch.setattr(stripe_client, "payment_intent_create", sent_then_died)
        with pytest.raises(SystemExit):
            charges_run()
        call = ProviderCall.objects.get(invoice_number=invoice.number)
        assert call.status in ("en_attente", "sans_reponse")  # outcome unknown
        assert not Payment.objects.filter(invoice_number=invoice.number).exists()
        monkeypatch.setattr(stripe_client, "payment_intent_create", real)
        assert run_committed(charges_run)["charged"] == 1  # the same request again
        standin.deliver(client)
    keys = [r["idempotency_key"] for r in intent_requests(standin)]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert len(standin.app.intents) == 1  # Stripe replayed its answer: one charge
    call.refresh_from_db()
    assert (call.status, call.tries) == ("reussi", 2)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_cents) == ("payee", 12000)
    assert Payment.objects.filter(invoice_number=invoice.number).count() == 1


def test_pending_journal_row_is_sent_with_its_key(business: Any, subscription: Any,
                                                  standin: Any, run_committed: Any) -> None:
    """The process died right after committing the ProviderCall, before calling Stripe."""
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        call = payment_charges._charge_prepare(
            invoice_number=invoice.number, salt=str(int(invoice.created_at.timestamp())),
            amount_cents=12000, customer="cus_test_martin", payment_method="pm_card_visa",
            method="carte", description="Facture")
        run_committed(charges_run)
    assert [r["idempotency_key"] for r in intent_requests(standin)] == [call.idempotency_key]
    invoice.refresh_from_db()
    assert invoice.status == "payee"


def test_provider_is_never_called_inside_a_transaction(business: Any, subscription: Any,
                                                       standin: Any) -> None:
    from django.db import transaction

    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False), transaction.atomic(), \
            pytest.raises(stripe_client.ProviderCallInTransaction):
        payment_charges.invoice_charge(
            invoice_number=invoice.number, salt="1", amount_cents=12000,
            customer="cus_test_martin", payment_method="pm_card_visa", method="carte",
            description="Facture")
    assert not intent_requests(standin)


def test_partial_transfer_then_the_rest(business: Any, subscription: Any, billing: Any,
                                        run_committed: Any) -> None:
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
        run_committed(transfer_match, actor=billing, invoice=invoice, amount_cents=5000,
                      received_on=invoice.issued_on, bank_label="VIR CABINET MARTIN")
        invoice.refresh_from_db()
        assert (invoice.status, invoice.paid_cents) == ("partielle", 5000)
        run_committed(transfer_match, actor=billing, invoice=invoice, amount_cents=2000,
                      received_on=invoice.issued_on, bank_label="VIR 2")
        invoice.refresh_from_db()
        assert (invoice.status, invoice.paid_cents) == ("partielle", 7000)
        run_committed(transfer_match, actor=billing, invoice=invoice, amount_cents=5000,
                      received_on=invoice.issued_on, bank_label="VIR 3")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_cents) == ("payee", 12000)
    assert Payment.objects.filter(invoice_number=invoice.number, provider="virement",
                                  status="reussi").count() == 3


def test_transfer_over_the_balance_is_refused(business: Any, subscription: Any,
                                              billing: Any) -> None:
    from permanence.core.errors import DomainError

    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
        with pytest.raises(DomainError) as caught:
            transfer_match(actor=billing, invoice=invoice, amount_cents=12001,
                           received_on=invoice.issued_on, bank_label="VIR")
    assert "amount" in caught.value.fields
    assert not Payment.objects.filter(invoice_number=invoice.number).exists()


def test_overdue_job_marks_unpaid_invoices_once(business: Any, subscription: Any,
                                                run_committed: Any) -> None:
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, subscription, paris(2027, 3, 1))
        paid = make_invoice(business, subscription, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        assert dunning_run()["overdue"] == 0  # due today: not late yet
    with time_machine.travel(paris(2027, 3, 17), tick=False):
        from permanence.billing.settlement import invoice_payment_apply

        invoice_payment_apply(invoice=paid, amount_cents=12000, on=paid.due_on)
        assert dunning_run()["overdue"] == 1
        assert dunning_run()["overdue"] == 0
    invoice.refresh_from_db()
    paid.refresh_from_db()
    assert (invoice.status, paid.status) == ("en_retard", "payee")


def test_sepa_debit_returned_weeks_later_reopens_the_invoice(
        business: Any, standin: Any, client: Any, run_committed: Any) -> None:
    sub = make_subscription(business, payment_method="pm_sepa_debit_martin", method="sepa")
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, sub, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        run_committed(charges_run)
        standin.deliver(client)  # payment_intent.processing
    payment = Payment.objects.get(invoice_number=invoice.number)
    assert payment.status == "en_cours"
    assert intent_requests(standin)[0]["params"]["payment_method_types"] == ["sepa_debit"]
    with time_machine.travel(paris(2027, 3, 19), tick=False):
        standin.control(f"payment_intents/{payment.provider_payment_id}/settle"
                        "?outcome=succeeded")
        standin.deliver(client)
    invoice.refresh_from_db()
    assert invoice.status == "payee"
    # Five weeks later the payer's bank returns the debit: Stripe opens a dispute.
    with time_machine.travel(paris(2027, 4, 23), tick=False):
        standin.control(f"payment_intents/{payment.provider_payment_id}/dispute")
        standin.deliver(client)
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == "retourne"
    assert (invoice.status, invoice.paid_cents) == ("en_retard", 0)
    incident = PaymentIncident.objects.get(invoice=invoice)
    assert incident.state == "ouvert"
    assert list(incident.events.values_list("kind", flat=True))[:2] == ["retour", "avis"]
    assert sum("Échec du paiement" in m.subject for m in mail.outbox) == 1
    assert ProviderEvent.objects.get(type="charge.dispute.created").payment_id == payment.pk

"""Dunning over a frozen clock (time-machine): a card declined at the due date → retries on
the schedule → reminders J+3, J+10, J+20 (each e-mailed exactly once, even when the daily job
runs twice) → suspension (subscription in payment default, account suspended) → the client
pays through the retry link (Stripe Checkout on the stand-in, signed webhook) → invoice paid,
incident resolved, subscription and account resumed. Stripe is the local stand-in, reached
over HTTP; its events are delivered to our webhook endpoint."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail

from permanence.billing.models import Subscription
from permanence.billing.models_invoices import Invoice
from permanence.payments.models import Payment, ProviderCall
from permanence.recovery.charges import charges_run
from permanence.recovery.models import IncidentEvent, PaymentIncident
from permanence.recovery.services import dunning_run

from .conftest import make_invoice, make_subscription, paris

pytestmark = pytest.mark.django_db


def subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


def count(word: str) -> int:
    return sum(word in s for s in subjects())


def test_failure_retries_reminders_suspension_payment_resumption(
        business: Any, standin: Any, client: Any, client_user: Any,
        run_committed: Any) -> None:
    sub = make_subscription(business, payment_method="pm_card_chargeDeclined")
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, sub, paris(2027, 3, 1))
    assert str(invoice.due_on) == "2027-03-16"

    # Due date: the saved card is charged off session, and declined.
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        assert run_committed(charges_run)["charged"] == 1
        standin.deliver(client)  # payment_intent.payment_failed: the same outcome again
        run_committed(dunning_run)
    intents = [r for r in standin.app.requests if r["path"] == "/v1/payment_intents"]
    assert len(intents) == 1
    params = intents[0]["params"]
    assert (params["confirm"], params["off_session"], params["customer"],
            params["payment_method"], params["amount"]) == (
        "true", "true", "cus_test_martin", "pm_card_chargeDeclined", "12000")
    incident = PaymentIncident.objects.get(invoice=invoice)
    assert incident.state == "ouvert" and incident.amount_cents == 12000
    assert count("Échec du paiement") == 1
    failure_mail = next(m for m in mail.outbox if "Échec du paiement" in m.subject)
    assert f"/espace/factures/{invoice.number}/payer/" in failure_mail.body
    assert failure_mail.to == ["compta@cabinet-martin.fr"]
    invoice.refresh_from_db()
    assert invoice.status == "emise"

    # The next day the invoice is past due.
    with time_machine.travel(paris(2027, 3, 17), tick=False):
        run_committed(dunning_run)
        run_committed(dunning_run)
    invoice.refresh_from_db()
    assert invoice.status == "en_retard"
    assert invoice.history.filter(to_status="en_retard").count() == 1

    # Retries (J+2, J+9, J+19) and reminders (J+3, J+10, J+20), each job run twice a day.
    for day, retry_expected in ((18, True), (19, False), (25, True), (26, False),
                                (35, True), (36, False)):
        month, dom = (3, day) if day <= 31 else (4, day - 31)
        with time_machine.travel(paris(2027, month, dom), tick=False):
            first = run_committed(charges_run)
            second = run_committed(charges_run)
            standin.deliver(client)
            run_committed(dunning_run)
            run_committed(dunning_run)
        assert first["retried"] == int(retry_expected), day
        assert second["retried"] == 0
    keys = [r["idempotency_key"] for r in standin.app.requests
            if r["path"] == "/v1/payment_intents"]
    assert len(keys) == 4 and len(set(keys)) == 4  # the due date + 3 retries, a key each
    assert [c.attempt for c in ProviderCall.objects.filter(
        invoice_number=invoice.number).order_by("attempt")] == [1, 2, 3, 4]
    assert Payment.objects.filter(invoice_number=invoice.number, status="echec").count() == 4
    assert count("Rappel") == 3  # J+3, J+10, J+20: once each
    assert count("Échec du paiement") == 1  # a failed retry sends no new notice
    steps = set(IncidentEvent.objects.filter(incident=incident).values_list("step", flat=True))
    assert {"reminder-3", "reminder-10", "reminder-20", "retry-1", "retry-2", "retry-3",
            "notice"} <= steps

    # Grace period over (J+30): suspended once.
    with time_machine.travel(paris(2027, 4, 15), tick=False):
        run_committed(dunning_run)
        run_committed(dunning_run)
    incident.refresh_from_db()
    sub.refresh_from_db()
    business.refresh_from_db()
    assert incident.state == "suspendu"
    assert sub.status == "defaut"
    assert business.status == "suspendu"
    assert count("Service suspendu") == 1

    # The client pays through the retry link: Stripe Checkout, then the signed webhook.
    with time_machine.travel(paris(2027, 4, 20), tick=False):
        client.force_login(client_user)
        page = client.get(f"/espace/factures/{invoice.number}/payer/")
        assert page.status_code == 200
        assert "120,00" in page.content.decode()
        response = client.post(f"/espace/factures/{invoice.number}/payer/")
        assert response.status_code == 302
        payment = Payment.objects.get(invoice_number=invoice.number,
                                      provider_session_id__startswith="cs_")
        assert response["Location"] == payment.checkout_url
        standin.app.pay(payment.provider_session_id)
        with_hooks = standin.deliver(client)
        assert [r.status_code for r in with_hooks] == [200]
    invoice.refresh_from_db()
    incident.refresh_from_db()
    sub.refresh_from_db()
    business.refresh_from_db()
    assert (invoice.status, invoice.paid_cents) == ("payee", 12000)
    assert incident.state == "resolu"
    assert sub.status == "active"
    assert business.status == "actif"
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds[0] == "echec" and kinds[-3:] == ["paiement", "reprise", "resolu"]

    # Nothing more happens afterwards: no retry, no reminder, no second payment.
    sent = len(mail.outbox)
    with time_machine.travel(paris(2027, 4, 30), tick=False):
        run_committed(charges_run)
        run_committed(dunning_run)
    assert len(mail.outbox) == sent
    assert count("Paiement reçu") == 1


def test_reminder_days_are_configurable(business: Any, standin: Any,
                                        settings: Any, run_committed: Any) -> None:
    settings.BILLING_DUNNING_REMINDER_DAYS = (5,)
    settings.BILLING_DUNNING_RETRY_DAYS = ()
    sub = make_subscription(business, payment_method="pm_card_chargeDeclined")
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, sub, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        run_committed(charges_run)
    for day in (19, 21, 22):
        with time_machine.travel(paris(2027, 3, day), tick=False):
            run_committed(dunning_run)
    assert count("Rappel") == 1
    incident = PaymentIncident.objects.get(invoice=invoice)
    assert incident.events.filter(step="reminder-5").exists()
    assert Subscription.objects.get(pk=sub.pk).status == "active"
    assert Invoice.objects.get(pk=invoice.pk).status == "en_retard"


def test_invoice_cancelled_by_a_credit_note_closes_the_incident_and_resumes(
        business: Any, standin: Any, billing: Any, run_committed: Any) -> None:
    from permanence.billing.credit_notes import credit_note_issue

    sub = make_subscription(business, payment_method="pm_card_chargeDeclined")
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, sub, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        run_committed(charges_run)
    with time_machine.travel(paris(2027, 4, 15), tick=False):
        run_committed(dunning_run)
    assert Subscription.objects.get(pk=sub.pk).status == "defaut"
    with time_machine.travel(paris(2027, 4, 16), tick=False):
        credit_note_issue(actor=billing, invoice=invoice, reason="Erreur de facturation")
        sent = len(mail.outbox)
        run_committed(dunning_run)
    incident = PaymentIncident.objects.get(invoice=invoice)
    assert incident.state == "resolu"
    assert Subscription.objects.get(pk=sub.pk).status == "active"
    assert len(mail.outbox) == sent  # no « paiement reçu »: nothing was paid

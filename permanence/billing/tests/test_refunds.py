"""Refunds of credit notes through the provider (the Stripe stand-in at the HTTP boundary):
the credit note's amount, within what was paid, refunded on the payment that paid the
invoice, once (asked again: the same refund, no second call); by transfer when the invoice
was not paid by card; a partial credit note on an unpaid invoice lowers what is due."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from permanence.billing import credit_notes, issuing, refunds
from permanence.billing.models_credits import Refund
from permanence.billing.models_invoices import Invoice, InvoiceStatus
from permanence.core.errors import DomainError
from permanence.payments.models import ProviderCall, ProviderCallKind
from permanence.payments.services import payment_start
from testkit.shop import make_offer, make_order

from .test_invoicing import line

pytestmark = pytest.mark.django_db(transaction=True)


def _paid_by_card(standin: Any, account: Any) -> Invoice:
    order = make_order(account, offers=[make_offer("essentiel")])
    payment = payment_start(order=order, method="carte", success_url="https://x/ok",
                            cancel_url="https://x/ko")
    standin.app.pay(payment.provider_session_id)
    standin.deliver(Client())
    return Invoice.objects.get(order=order)


def test_a_partial_credit_note_is_refunded_on_the_card_once(standin: Any, business: Any,
                                                            billing: Any) -> None:
    invoice = _paid_by_card(standin, business)
    assert invoice.status == InvoiceStatus.PAID
    note = credit_notes.credit_note_issue(actor=billing, invoice=invoice,
                                          reason="Appels perdus", amount_ht_cents=2500,
                                          complaint_conversation_id=12)
    refund = refunds.credit_note_refund(actor=billing, note=note)
    assert (refund.status, refund.amount_cents) == ("effectue", note.total_ttc_cents == 3000
                                                    and 3000)
    assert refund.provider_refund_id.startswith("re_")
    call = ProviderCall.objects.get(kind=ProviderCallKind.REFUND)
    assert call.amount_cents == 3000 and call.params["amount"] == 3000
    with pytest.raises(DomainError) as again:
        refunds.credit_note_refund(actor=billing, note=note)
    assert again.value.status == 409
    assert ProviderCall.objects.filter(kind=ProviderCallKind.REFUND).count() == 1
    page = Client()
    page.force_login(billing)
    html = page.get(f"/app/facturation/factures/{note.number}/").content.decode()
    assert 'data-refund-status="effectue"' in html and "30,00" in html


def test_transfer_payers_are_refunded_by_transfer_and_unpaid_invoices_are_not(
        business: Any, billing: Any) -> None:
    unpaid = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    note = credit_notes.credit_note_issue(actor=billing, invoice=unpaid, reason="Erreur",
                                          amount_ht_cents=1000)
    unpaid.refresh_from_db()
    # Imputed on what was due: 120 € − 12 € left to pay, nothing to refund.
    assert (unpaid.status, unpaid.balance_cents) == (InvoiceStatus.PARTLY_PAID, 10800)
    with pytest.raises(DomainError) as settled:
        refunds.credit_note_refund(actor=billing, note=note, by_transfer=True)
    assert settled.value.code == "already_refunded"  # settled by the imputation
    paid = issuing.issue(issuing.Draft(account=business, lines=[line(10000)], paid=True))
    full = credit_notes.credit_note_issue(actor=billing, invoice=paid, reason="Résiliation")
    with pytest.raises(DomainError) as no_card:
        refunds.credit_note_refund(actor=billing, note=full)
    assert no_card.value.code == "no_provider_payment"
    by_transfer = refunds.credit_note_refund(actor=billing, note=full, by_transfer=True)
    assert (by_transfer.status, by_transfer.amount_cents) == ("effectue", 12000)
    assert Refund.objects.filter(method="virement").count() == 1

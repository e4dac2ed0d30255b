"""Billing staff issue a credit note from a complaint, in a real Chromium at 1366 and 390 px:
from the complaint's conversation, « Avoir ou geste commercial » lists the client's invoices,
the invoice's form already cites the complaint, the credit note is issued (gapless AV
number, citing the invoice), and the client downloads it in the espace client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}



@pytest.mark.parametrize("size", list(SIZES))
def test_billing_staff_issue_a_credit_note_from_a_complaint(
        size: str, new_page: Any, login: Any, billing: Any, client_user: Any,
        account: Any,
        page_checked: Any) -> None:
    from decimal import Decimal

    from permanence.accounts.models import OperatorIdentity
    from permanence.billing import issuing
    from permanence.billing.models_invoices import Invoice
    from permanence.inbox import services as inbox
    from permanence.inbox.models import Kind

    OperatorIdentity.objects.update_or_create(pk=1, defaults={
        "legal_name": "Permanence Télésecrétariat SAS", "siren": "552081317",
        "siret": "55208131700018", "vat_number": "FR03552081317",
        "address": "12 rue de la République\n69002 Lyon", "iban": "FR7630006000011234567890189"})
    account.legal_name, account.siret = "Cabinet Martin SELARL", "73282932000074"
    account.billing_address = "14 rue des Lilas\n75011 Paris"
    account.save()
    invoice = issuing.issue(issuing.Draft(account=account, lines=[issuing.Line(
        label="Forfait Essentiel — mars", unit_price_cents=14900, vat_rate=Decimal(20))]))
    complaint = inbox.conversation_open(inbox.Incoming(
        account=account, channel="email", subject="Appels non pris le 3 mars",
        body_text="Personne n'a répondu de 9 h à 11 h.", contact_email="dr.martin@example.org",
        kind=Kind.COMPLAINT, acknowledge=False))

    staff = new_page(**SIZES[size])
    login(staff, billing.email)
    staff.goto(f"/app/boite/{complaint.pk}/")
    staff.get_by_role("link", name="Avoir ou geste commercial pour cette réclamation").click()
    expect(staff.get_by_role("status")).to_contain_text("Réclamation")
    page_checked(staff)
    staff.get_by_role("link", name=invoice.number, exact=True).click()
    credit = staff.get_by_role("region", name="Émettre un avoir")
    expect(credit.get_by_label(re.compile("Réclamation à l'origine"))).to_have_value(
        str(complaint.pk))
    # The gesture's form cites the complaint too.
    expect(staff.get_by_role("region", name="Geste commercial sur la prochaine facture")
           .get_by_label(re.compile("Réclamation à l'origine"))).to_have_value(str(complaint.pk))
    credit.get_by_label("Motif").fill("Appels non pris le 3 mars : geste commercial")
    credit.get_by_label(re.compile("Montant HT")).fill("30,00")
    page_checked(staff)
    credit.get_by_role("button", name="Émettre l'avoir").click()
    note = Invoice.objects.get(kind="avoir")
    expect(staff.get_by_role("heading", level=1)).to_contain_text(note.number)
    assert note.credit_of == invoice and note.complaint_conversation_id == complaint.pk
    assert note.total_ht_cents == 3000 and note.approved_by == billing
    page_checked(staff)

    portal = new_page(**SIZES[size])
    login(portal, client_user.email)
    portal.goto("/espace/factures/")
    expect(portal.get_by_role("link", name=note.number, exact=True)).to_be_visible()
    page_checked(portal)
    with portal.expect_download() as download:
        portal.get_by_role("link", name=f"PDF {note.number}").click()
    assert download.value.suggested_filename == f"{note.number}.pdf"

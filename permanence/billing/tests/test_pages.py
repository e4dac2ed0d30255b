"""Facturation pages (billing staff) and Espace client → Factures: who sees what, the run's
preview then issue, the credit note form, the archived PDF."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from permanence.billing import issuing
from permanence.billing.models_invoices import Invoice

from .conftest import subscription_for, usage
from .test_invoicing import line


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_billing_staff_list_and_open_an_invoice_agents_cannot(business: Any, billing: Any,
                                                              agent: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(14900)]))
    staff = logged(billing)
    page = staff.get("/app/facturation/")
    assert page.status_code == 200 and invoice.number in page.content.decode()
    detail = staff.get(f"/app/facturation/factures/{invoice.number}/")
    assert detail.status_code == 200 and "178,80" in detail.content.decode()
    assert logged(agent).get("/app/facturation/").status_code == 403


@pytest.mark.django_db
def test_the_run_is_previewed_then_issued(business: Any, billing: Any, supervisor: Any,
                                          monkeypatch: Any) -> None:
    from django.utils import timezone

    sub = subscription_for(business, included={"calls": 10}, unit_prices={"calls": 100})
    for n in range(15):
        usage(business, "calls", 1, date(2027, 1, 5), f"p-call:{n}")
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2027, 2, 1))
    preview = logged(billing).get("/app/facturation/facturation-mensuelle/")
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Dépassement" in body and "Émettre 1 facture" in body
    assert not Invoice.objects.exists()  # a preview stores nothing
    assert logged(supervisor).post("/app/facturation/facturation-mensuelle/").status_code == 403
    issued = logged(billing).post("/app/facturation/facturation-mensuelle/")
    assert issued.status_code == 302
    invoice = Invoice.objects.get(subscription=sub)
    assert invoice.total_ht_cents == 14900 + 500


@pytest.mark.django_db
def test_credit_note_from_the_invoice_page(business: Any, billing: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    staff = logged(billing)
    bad = staff.post(f"/app/facturation/factures/{invoice.number}/avoir/",
                     {"reason": "", "amount": "abc"})
    assert bad.status_code == 422
    done = staff.post(f"/app/facturation/factures/{invoice.number}/avoir/",
                      {"reason": "Appels non traités le 3 mars", "amount": "25,00",
                       "complaint": "7"})
    note = Invoice.objects.get(kind="avoir")
    assert done.status_code == 302 and done["Location"].endswith(f"/{note.number}/")
    assert note.total_ht_cents == 2500 and note.complaint_conversation_id == 7


@pytest.mark.django_db
def test_the_client_reads_and_downloads_its_own_invoices_only(business: Any,
                                                              client_user: Any,
                                                              outsider_client: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(14900)]))
    client = logged(client_user)
    listing = client.get("/espace/factures/")
    assert invoice.number in listing.content.decode()
    pdf = client.get(f"/espace/factures/{invoice.number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    invoice.refresh_from_db()
    assert invoice.pdf_sha256  # stored once, the archive's copy
    outsider = logged(outsider_client)
    assert outsider.get(f"/espace/factures/{invoice.number}/").status_code == 404
    assert outsider.get(f"/espace/factures/{invoice.number}/pdf/").status_code == 404

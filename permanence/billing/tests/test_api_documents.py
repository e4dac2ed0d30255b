"""/api/v1/invoices, /api/v1/credit-notes, /api/v1/subscriptions: read-only, by role."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.billing import credit_notes, issuing

from .conftest import subscription_for
from .test_invoicing import line

pytestmark = pytest.mark.django_db


def test_billing_staff_read_invoices_their_pdf_and_facturx(business: Any, billing: Any,
                                                           api_client_for: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(14900)]))
    api = api_client_for(billing)
    listing = api.get("/api/v1/invoices").json()
    assert [i["number"] for i in listing["items"]] == [invoice.number]
    one = api.get(f"/api/v1/invoices/{invoice.number}").json()
    assert one["total_ttc_cents"] == 17880 and one["lines"][0]["total_ht_cents"] == 14900
    assert one["content_hash"] == invoice.content_hash
    xml = api.get(f"/api/v1/invoices/{invoice.number}/facturx")
    assert xml.status_code == 200 and invoice.number.encode() in xml.content
    pdf = api.get(f"/api/v1/invoices/{invoice.number}/pdf")
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_credit_notes_are_their_own_collection(business: Any, billing: Any,
                                               api_client_for: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(14900)]))
    note = credit_notes.credit_note_issue(actor=billing, invoice=invoice, reason="Erreur")
    api = api_client_for(billing)
    items = api.get("/api/v1/credit-notes").json()["items"]
    assert [(i["number"], i["credit_of"]) for i in items] == [(note.number, invoice.number)]
    assert api.get(f"/api/v1/credit-notes/{invoice.number}").status_code == 404
    assert api.get(f"/api/v1/invoices/{note.number}").status_code == 404


def test_clients_see_their_own_agents_nothing(business: Any, client_user: Any,
                                              outsider_client: Any, agent: Any,
                                              api_client_for: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(14900)]))
    subscription_for(business)
    own = api_client_for(client_user)
    assert [i["number"] for i in own.get("/api/v1/invoices").json()["items"]] == [
        invoice.number]
    assert len(own.get("/api/v1/subscriptions").json()) == 1
    outsider = api_client_for(outsider_client)
    assert outsider.get("/api/v1/invoices").json()["items"] == []
    assert outsider.get(f"/api/v1/invoices/{invoice.number}").status_code == 404
    assert outsider.get("/api/v1/subscriptions").json() == []
    assert api_client_for(agent).get("/api/v1/invoices").status_code == 403
    assert api_client_for(agent).get("/api/v1/subscriptions").status_code == 403


def test_bad_input_is_a_422_never_a_500(billing: Any, api_client_for: Any) -> None:
    api = api_client_for(billing)
    for url in ("/api/v1/invoices?account=abc", "/api/v1/invoices?cursor=99999999999999999999",
                "/api/v1/invoices?limit=0", "/api/v1/invoices?status=inconnu"):
        assert api.get(url).status_code == 422, url
    assert api.get("/api/v1/subscriptions/99999999999999999999").status_code in (404, 422)

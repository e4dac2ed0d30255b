"""E-reporting, on a worked example for May 2026: sales to consumers per day and VAT rate (a
credit note subtracts; business buyers, French or foreign, are left out), receipts per day of
settlement and VAT rate (Paris days), the staff page and its JSON download."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from permanence.billing import credit_notes, parties
from permanence.billing.models_invoices import InvoiceStatus
from permanence.billing.statuses import invoice_transition
from permanence.core import clock
from permanence.einvoicing import ereporting

from .conftest import TEN, TWENTY, consumer, issue

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int = 10, minute: int = 0, month: int = 5) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def paid(invoice: Any, when: datetime) -> None:
    with clock.frozen(when):
        invoice_transition(invoice=invoice, to=InvoiceStatus.PAID,
                           paid_cents=invoice.total_ttc_cents)


@pytest.fixture
def may(account: Any, business: Any, billing: Any) -> None:
    """Consumers: A (4 May, 100 € at 20 % + 50 € at 10 %, settled 6 May), B (4 May, 30 € at
    20 %, cancelled by a credit note on 12 May), C (30 April, 40 € at 20 %, settled 2 May),
    E (20 May, 10 € at 20 %, settled 31 May 23:30 Paris), F (20 May, 5 € at 20 %, settled
    1 June 00:30 Paris), G (1 June). Businesses: the French account (4 May) and a German
    company (4 May, reverse charge)."""
    with clock.frozen(at(4)):
        a = issue(account, [("Permanence", 10000, TWENTY), ("Agenda", 5000, TEN)],
                  buyer=consumer("A"), pdf=False)
        b = issue(account, [("Permanence", 3000, TWENTY)], buyer=consumer("B"), pdf=False)
        issue(business, [("Forfait", 14900, TWENTY)], pdf=False)
        issue(account, [("Forfait", 14900, TWENTY)], pdf=False, buyer={
            "name": "Muster GmbH", "legal_name": "Muster GmbH", "siren": "", "siret": "",
            "vat_number": "DE123456789", "email": "", "is_business": True,
            "address": parties.address("Hauptstraße 1\n10115 Berlin")})
    with clock.frozen(at(30, month=4)):
        c = issue(account, [("Permanence", 4000, TWENTY)], buyer=consumer("C"), pdf=False)
    with clock.frozen(at(20)):
        e = issue(account, [("SMS", 1000, TWENTY)], buyer=consumer("E"), pdf=False)
        f = issue(account, [("SMS", 500, TWENTY)], buyer=consumer("F"), pdf=False)
    with clock.frozen(at(1, month=6)):
        issue(account, [("Permanence", 7000, TWENTY)], buyer=consumer("G"), pdf=False)
    paid(c, at(2))
    paid(a, at(6))
    paid(e, at(31, hour=23, minute=30))
    paid(f, at(1, hour=0, minute=30, month=6))
    with clock.frozen(at(12)):
        credit_notes.credit_note_issue(actor=billing, invoice=b, reason="Erreur")


def rows(report_rows: list[Any]) -> list[tuple[date, str, int, int, int]]:
    return [(r.day, f"{r.rate:.2f}", r.base_cents, r.vat_cents, r.count) for r in report_rows]


def test_may_figures(may: None) -> None:
    report = ereporting.report(start=date(2026, 5, 1), end=date(2026, 5, 31))

    assert rows(report.transactions) == [
        (date(2026, 5, 4), "10.00", 5000, 500, 1),
        (date(2026, 5, 4), "20.00", 13000, 2600, 2),
        (date(2026, 5, 12), "20.00", -3000, -600, 1),  # B's credit note
        (date(2026, 5, 20), "20.00", 1500, 300, 2),
    ]
    assert rows(report.totals(report.transactions)) == [
        (date(2026, 5, 31), "10.00", 5000, 500, 1),
        (date(2026, 5, 31), "20.00", 11500, 2300, 5),
    ]
    assert report.b2b_documents == 1  # the French business: e-invoiced, not here
    [german] = report.international  # reverse charge, reported invoice by invoice
    assert (german["buyer"], german["vat_number"], german["country"], german["base_cents"],
            german["vat_cents"]) == ("Muster GmbH", "DE123456789", "DE", 14900, 0)
    assert rows(report.payments) == [
        (date(2026, 5, 2), "20.00", 4000, 800, 1),  # C: issued in April, paid in May
        (date(2026, 5, 6), "10.00", 5000, 500, 1),
        (date(2026, 5, 6), "20.00", 10000, 2000, 1),
        (date(2026, 5, 31), "20.00", 1000, 200, 1),  # 23:30 in Paris is still May
    ]  # F, settled 1 June 00:30 in Paris (31 May in UTC), is June's
    june = ereporting.report(start=date(2026, 6, 1), end=date(2026, 6, 30))
    assert rows(june.payments) == [(date(2026, 6, 1), "20.00", 500, 100, 1)]
    assert rows(june.transactions) == [(date(2026, 6, 1), "20.00", 7000, 1400, 1)]


def test_the_page_and_the_json_download(may: None, billing: Any, client: Any) -> None:
    client.force_login(billing)
    page = client.get(reverse("einvoicing:ereporting") + "?mois=2026-05").content.decode()
    assert "E-reporting du 01/05/2026 au 31/05/2026" in page
    assert "e-reporting/json/?mois=2026-05" in page

    response = client.get(reverse("einvoicing:ereporting_json") + "?mois=2026-05")
    assert response["Content-Disposition"] == 'attachment; filename="e-reporting-2026-05.json"'
    data = json.loads(response.content)
    assert data["declarant"] == {"name": "Permanence Télésecrétariat SAS",
                                 "siren": "552081317", "vat_number": "FR03552081317"}
    assert data["period"] == {"start": "2026-05-01", "end": "2026-05-31"}
    assert data["transactions"][0] == {
        "date": "2026-05-04", "category": "TPS1", "vat_rate": "10.00",
        "taxable_amount": "50.00", "vat_amount": "5.00", "documents": 1}
    assert data["totals"]["transactions"] == [
        {"vat_rate": "10.00", "taxable_amount": "50.00", "vat_amount": "5.00"},
        {"vat_rate": "20.00", "taxable_amount": "115.00", "vat_amount": "23.00"}]
    assert data["totals"]["payments"] == [
        {"vat_rate": "10.00", "amount_received": "55.00", "vat_amount": "5.00"},
        {"vat_rate": "20.00", "amount_received": "180.00", "vat_amount": "30.00"}]
    assert sum(Decimal(p["amount_received"]) for p in data["payments"]) == Decimal("235.00")
    [german] = data["international_transactions"]
    assert german["buyer_vat_number"] == "DE123456789" and german["type"] == "380"
    assert german["lines"] == [{"vat_rate": "0.00", "taxable_amount": "149.00",
                                "vat_amount": "0.00"}]
    assert "Muster GmbH" in page


def test_the_default_period_is_the_previous_month() -> None:
    assert ereporting.month_bounds("", today=date(2026, 3, 15)) == (date(2026, 2, 1),
                                                                    date(2026, 2, 28))
    assert ereporting.month_bounds("2026-12", today=date(2026, 3, 15)) == (
        date(2026, 12, 1), date(2026, 12, 31))
    assert ereporting.month_bounds("n'importe", today=date(2026, 1, 5)) == (
        date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize("role", ["agent", "client_user"])
def test_the_pages_are_for_billing_roles(role: str, request: Any, client: Any) -> None:
    client.force_login(request.getfixturevalue(role))
    for name in ("einvoicing:ereporting", "einvoicing:ereporting_json", "einvoicing:platform"):
        assert client.get(reverse(name)).status_code == 403

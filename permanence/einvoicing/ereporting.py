"""E-reporting: what the reform asks to transmit for the sales that are not e-invoiced — the
sales to consumers (B2C) — for a period, ready to hand to the platform.

Two blocks, after the e-reporting "flux 10" of the external specifications:

- transactions (10.3, aggregated): the B2C invoices and credit notes issued, per day and VAT
  rate — category TPS1 (services subject to VAT), taxable base and VAT (a credit note
  subtracts), number of documents;
- payments (10.4, aggregated): for services the VAT is due on receipt ("TVA acquittée sur les
  encaissements"), so the amounts received on B2C invoices per day and VAT rate. Domestic B2B
  receipts are not here: they travel as the invoice's lifecycle status "212 Encaissée".

A buyer with no SIREN and no VAT number is a consumer; a foreign business (a VAT number, no
SIREN) is international B2B, reported invoice by invoice (10.1) in a third block. Amounts are in cents in `report()`, in euros with two
decimals in the JSON of `as_flux10()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from permanence.accounts.services import operator_identity
from permanence.billing import platform as billing_platform
from permanence.billing.models_invoices import DocumentKind, Invoice

CATEGORY_SERVICES = "TPS1"


@dataclass
class Row:
    day: date
    rate: Decimal
    base_cents: int = 0
    vat_cents: int = 0
    count: int = 0

    @property
    def total_cents(self) -> int:
        return self.base_cents + self.vat_cents


@dataclass
class Report:
    start: date
    end: date
    seller: dict[str, str]
    transactions: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    b2b_documents: int = 0  # French businesses: e-invoiced instead (the page says so)
    # Foreign businesses (a VAT number, no SIREN): reported one by one (flux 10.1).
    international: list[dict[str, Any]] = field(default_factory=list)

    def totals(self, rows: list[Row]) -> list[Row]:
        """Per VAT rate over the period."""
        by_rate: dict[Decimal, Row] = {}
        for row in rows:
            total = by_rate.setdefault(row.rate, Row(day=self.end, rate=row.rate))
            total.base_cents += row.base_cents
            total.vat_cents += row.vat_cents
            total.count += row.count
        return [by_rate[r] for r in sorted(by_rate)]


def is_consumer(buyer: dict[str, Any]) -> bool:
    return not (buyer or {}).get("siren") and not (buyer or {}).get("vat_number")


def _rates(invoice: Invoice) -> list[tuple[Decimal, int, int]]:
    return [(Decimal(str(v["rate"])), int(v["base_cents"]), int(v["vat_cents"]))
            for v in invoice.vat_breakdown]


def _unitary(invoice: Invoice, sign: int) -> dict[str, Any]:
    buyer = invoice.buyer or {}
    return {"number": invoice.number, "date": invoice.issued_on, "kind": invoice.kind,
            "buyer": buyer.get("legal_name") or buyer.get("name") or "",
            "vat_number": buyer.get("vat_number", ""),
            "country": str(buyer.get("vat_number", ""))[:2],
            "rates": [(rate, sign * base, sign * vat) for rate, base, vat in _rates(invoice)],
            "base_cents": sign * invoice.total_ht_cents, "vat_cents": sign * invoice.total_vat_cents}


def _sorted(rows: dict[tuple[date, Decimal], Row]) -> list[Row]:
    return [rows[key] for key in sorted(rows)]


def report(*, start: date, end: date) -> Report:
    """The B2C transactions issued and the B2C receipts from `start` to `end` included."""
    operator = operator_identity()
    out = Report(start=start, end=end, seller={
        "name": operator.legal_name, "siren": operator.siren or operator.siret[:9],
        "vat_number": operator.vat_number})
    transactions: dict[tuple[date, Decimal], Row] = {}
    for invoice in billing_platform.invoices_issued_between(start, end):
        sign = -1 if invoice.kind == DocumentKind.CREDIT_NOTE else 1
        if (invoice.buyer or {}).get("siren"):
            out.b2b_documents += 1
            continue
        if not is_consumer(invoice.buyer):
            out.international.append(_unitary(invoice, sign))
            continue
        for rate, base, vat in _rates(invoice):
            row = transactions.setdefault((invoice.issued_on, rate),
                                          Row(day=invoice.issued_on, rate=rate))
            row.base_cents += sign * base
            row.vat_cents += sign * vat
            row.count += 1
    out.transactions = _sorted(transactions)
    zone = timezone.get_current_timezone()
    window = (datetime.combine(start, time.min, tzinfo=zone),
              datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
    payments: dict[tuple[date, Decimal], Row] = {}
    for invoice, at in billing_platform.payment_receipts_between(*window):
        if invoice.kind != DocumentKind.INVOICE or not is_consumer(invoice.buyer):
            continue
        day = timezone.localtime(at, zone).date()
        for rate, base, vat in _rates(invoice):
            row = payments.setdefault((day, rate), Row(day=day, rate=rate))
            row.base_cents += base
            row.vat_cents += vat
            row.count += 1
    out.payments = _sorted(payments)
    return out


def _euros(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def as_flux10(data: Report) -> dict[str, Any]:
    """The JSON handed to the platform (or to the accountant)."""
    return {
        "flux": "10",
        "type": "e-reporting: B2C agrégé (transactions 10.3, paiements 10.4), "
                "B2B international unitaire (10.1)",
        "declarant": data.seller,
        "period": {"start": data.start.isoformat(), "end": data.end.isoformat()},
        "currency": "EUR",
        "transactions": [{
            "date": row.day.isoformat(), "category": CATEGORY_SERVICES,
            "vat_rate": f"{row.rate:.2f}", "taxable_amount": _euros(row.base_cents),
            "vat_amount": _euros(row.vat_cents), "documents": row.count,
        } for row in data.transactions],
        "payments": [{
            "date": row.day.isoformat(), "vat_rate": f"{row.rate:.2f}",
            "amount_received": _euros(row.total_cents), "taxable_amount": _euros(row.base_cents),
            "vat_amount": _euros(row.vat_cents), "invoices": row.count,
        } for row in data.payments],
        "international_transactions": [{
            "invoice": item["number"], "date": item["date"].isoformat(),
            "type": "381" if item["kind"] == DocumentKind.CREDIT_NOTE else "380",
            "category": CATEGORY_SERVICES, "buyer": item["buyer"],
            "buyer_vat_number": item["vat_number"], "buyer_country": item["country"],
            "lines": [{"vat_rate": f"{rate:.2f}", "taxable_amount": _euros(base),
                       "vat_amount": _euros(vat)} for rate, base, vat in item["rates"]],
        } for item in data.international],
        "totals": {
            "transactions": [{"vat_rate": f"{r.rate:.2f}", "taxable_amount": _euros(r.base_cents),
                              "vat_amount": _euros(r.vat_cents)}
                             for r in data.totals(data.transactions)],
            "payments": [{"vat_rate": f"{r.rate:.2f}", "amount_received": _euros(r.total_cents),
                          "vat_amount": _euros(r.vat_cents)}
                         for r in data.totals(data.payments)],
        },
    }


def month_bounds(value: str, *, today: date) -> tuple[date, date]:
    """"2026-05" → (1 May, 31 May); anything else → the previous month (what is reported)."""
    try:
        year, month = (int(x) for x in value.split("-", 1))
        start = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
        start = (first - timedelta(days=1)).replace(day=1)
    end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return start, end

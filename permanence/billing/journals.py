"""The accounting journals of a period, as rows (reads only): the sales journal (invoices and
credit notes) and the payments journal (money received, money refunded).

Each journal is one query per source, read in chunks (`.iterator(chunk_size=...)`) and
yielded row by row: a year of documents streams in bounded memory and a constant number of
queries, whatever its size. `values()` keeps the big columns (Factur-X XML, mentions) out of
the read. The CSV/XLSX files (export_formats.py) and the FEC (fec.py) are built from these
rows, so the three always agree.

Signs: a credit note (avoir) is stored with positive amounts and reverses an invoice, so the
sales journal shows it negative; a refund or a returned payment is money leaving the bank,
negative in the payments journal.

The payments journal reads payments' tables (read only) here rather than through
payments.selectors because each row joins billing's invoices (the invoice paid, its
client), and payments must not import billing."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.payments.models import (
    Payment,
    PaymentStatus,
    PaymentStatusChange,
    Provider,
    ProviderEvent,
)

from .models_invoices import DocumentKind, Invoice, InvoiceStatus

CHUNK = 2000
# Stripe's event for a refund (full or partial): its charge carries the amount refunded so
# far (`amount_refunded`, cumulative), so each event's refund is the increase over the last.
REFUND_EVENT = "charge.refunded"


@dataclass(frozen=True)
class Period:
    """Inclusive dates, in the operator's time zone."""

    start: date
    end: date

    def instants(self) -> tuple[datetime, datetime]:
        """[start midnight, day after end midnight) as aware instants: an index range."""
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.start, time(0), tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz))


def aux_account(account_id: int | None) -> str:
    """The customer's auxiliary account (sub-ledger of 411): one per client account."""
    return f"C{account_id or 0:06d}"


# --------------------------------------------------------------------------- sales


@dataclass(frozen=True)
class SalesRow:
    day: date
    number: str
    kind: str  # DocumentKind value
    status: str  # InvoiceStatus value
    account_id: int
    client: str
    client_siren: str
    credit_of: str  # the invoice a credit note corrects
    vat_rate: Decimal
    ht_cents: int  # signed: negative for a credit note
    vat_cents: int
    ttc_cents: int

    @property
    def kind_label(self) -> str:
        return str(DocumentKind(self.kind).label)

    @property
    def status_label(self) -> str:
        return str(InvoiceStatus(self.status).label)


SALES_FIELDS = ("pk", "issued_on", "number", "kind", "status", "account_id", "account__name",
                "buyer",
                "credit_of__number", "total_ht_cents", "total_vat_cents", "total_ttc_cents",
                "vat_breakdown")


def sales_documents(period: Period) -> Iterator[dict[str, Any]]:
    """The invoices and credit notes issued in the period, oldest first (one query)."""
    qs = (Invoice.objects.filter(issued_on__gte=period.start, issued_on__lte=period.end)
          .order_by("issued_on", "kind", "number").values(*SALES_FIELDS))
    return qs.iterator(chunk_size=CHUNK)


def document_rates(doc: dict[str, Any]) -> list[tuple[Decimal, int, int]]:
    """(rate, base HT, VAT) per VAT rate of a document, as printed on it (unsigned)."""
    rates = [(Decimal(str(r["rate"])), int(r["base_cents"]), int(r["vat_cents"]))
             for r in doc["vat_breakdown"] or []]
    if not rates:  # a document always has one, but never lose its totals
        rates = [(Decimal(0), doc["total_ht_cents"], doc["total_vat_cents"])]
    return rates


def sign_of(doc: dict[str, Any]) -> int:
    return -1 if doc["kind"] == DocumentKind.CREDIT_NOTE else 1


def client_name(buyer: dict[str, Any] | None) -> str:
    buyer = buyer or {}
    return str(buyer.get("legal_name") or buyer.get("name") or "")


def sales_rows(period: Period) -> Iterator[SalesRow]:
    """One row per document and per VAT rate."""
    for doc in sales_documents(period):
        sign = sign_of(doc)
        buyer = doc["buyer"] or {}
        for rate, base, vat in document_rates(doc):
            yield SalesRow(
                day=doc["issued_on"], number=doc["number"], kind=doc["kind"],
                status=doc["status"], account_id=doc["account_id"], client=client_name(buyer),
                client_siren=str(buyer.get("siren") or ""),
                credit_of=doc["credit_of__number"] or "", vat_rate=rate,
                ht_cents=sign * base, vat_cents=sign * vat, ttc_cents=sign * (base + vat))


def sales_summary(period: Period) -> list[dict[str, Any]]:
    """Per kind (invoices, then credit notes): how many, totals HT, VAT, TTC (one query)."""
    qs = (Invoice.objects.filter(issued_on__gte=period.start, issued_on__lte=period.end)
          .values("kind").annotate(n=Count("pk"), ht=Sum("total_ht_cents"),
                                   vat=Sum("total_vat_cents"), ttc=Sum("total_ttc_cents"))
          .order_by("-kind"))
    return [{**row, "label": DocumentKind(row["kind"]).label} for row in qs]


# --------------------------------------------------------------------------- payments


RECEIPT = "encaissement"
REFUND = "remboursement"
RETURN = "retour"
KIND_LABELS = {RECEIPT: _("Encaissement"), REFUND: _("Remboursement"),
               RETURN: _("Retour (rejet ou contestation)")}


@dataclass(frozen=True)
class PaymentRow:
    at: datetime  # local time
    kind: str  # RECEIPT, REFUND or RETURN
    payment_id: int
    provider: str
    method: str
    reference: str
    order: str
    invoice: str
    account_id: int | None
    client: str
    amount_cents: int  # signed: negative when money goes back

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def provider_label(self) -> str:
        return str(Provider(self.provider).label) if self.provider in Provider.values \
            else self.provider

    @property
    def method_label(self) -> str:
        return str(dict(Payment._meta.get_field("method").choices or []).get(
            self.method, self.method))

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])


PAYMENT_FIELDS = ("provider", "method", "amount_cents", "provider_payment_id",
                  "provider_session_id", "bank_label", "order__reference",
                  "order__transfer_reference")


def _payment_reads(prefix: str) -> tuple[dict[str, Any], list[str]]:
    """What a journal row needs of a payment reached through `prefix` ("" from Payment,
    "payment__" from its events and history), as subquery annotations and value names: the
    invoice it pays (its own invoice number, or its order's invoice) and the client (the
    order's account, or the invoice's)."""
    own = Invoice.objects.filter(number=OuterRef(f"{prefix}invoice_number"))
    of_order = Invoice.objects.filter(order=OuterRef(f"{prefix}order_id"),
                                      kind=DocumentKind.INVOICE).order_by("pk")
    annotations = {
        "j_invoice": Coalesce(NullIf(F(f"{prefix}invoice_number"), Value("")),
                              Subquery(of_order.values("number")[:1]),
                              output_field=CharField()),
        "j_account": Coalesce(F(f"{prefix}order__account_id"),
                              Subquery(own.values("account_id")[:1]),
                              output_field=BigIntegerField()),
        "j_client": Coalesce(F(f"{prefix}order__account__name"),
                             Subquery(own.values("account__name")[:1]),
                             output_field=CharField()),
    }
    return annotations, [f"{prefix}{f}" for f in PAYMENT_FIELDS]


def _row(values: dict[str, Any], prefix: str, *, at: datetime, kind: str, payment_id: int,
         amount_cents: int) -> PaymentRow:
    p = {k.removeprefix(prefix): v for k, v in values.items()}
    if p["provider"] == Provider.TRANSFER:
        reference = p["bank_label"] or p["order__transfer_reference"] or ""
    else:
        reference = p["provider_payment_id"] or p["provider_session_id"] or ""
    return PaymentRow(at=timezone.localtime(at), kind=kind, payment_id=payment_id,
                      provider=p["provider"], method=p["method"], reference=str(reference),
                      order=p["order__reference"] or "", invoice=values["j_invoice"] or "",
                      account_id=values["j_account"], client=values["j_client"] or "",
                      amount_cents=amount_cents)


def receipts(period: Period) -> Iterator[PaymentRow]:
    """Payments that succeeded in the period, whatever happened to them since (a later
    refund or return is its own row, on its own date). One query."""
    start, end = period.instants()
    annotations, fields = _payment_reads("")
    qs = (Payment.objects.filter(succeeded_at__gte=start, succeeded_at__lt=end)
          .annotate(**annotations).order_by("succeeded_at", "pk")
          .values("pk", "succeeded_at", *annotations, *fields))
    for p in qs.iterator(chunk_size=CHUNK):
        yield _row(p, "", at=p["succeeded_at"], kind=RECEIPT, payment_id=p["pk"],
                   amount_cents=p["amount_cents"])


def refunds(period: Period) -> list[PaymentRow]:
    """Refunds confirmed by the provider in the period: one row per refund event, dated when
    we received it (as a payment is dated when we learnt it succeeded). One query: the
    period's refund events and, for the same payments, the earlier ones (what had already
    been refunded)."""
    start, end = period.instants()
    done = ProviderEvent.objects.filter(type=REFUND_EVENT, processed_at__isnull=False,
                                        payment__isnull=False)
    in_period = done.filter(received_at__gte=start, received_at__lt=end).values("payment_id")
    annotations, fields = _payment_reads("payment__")
    qs = (done.filter(payment_id__in=in_period, received_at__lt=end)
          .annotate(cumulative=Cast(KT("payload__data__object__amount_refunded"),
                                    IntegerField()), **annotations)
          .order_by("payment_id", "received_at", "pk")
          .values("payment_id", "received_at", "cumulative", "payment__refunded_cents",
                  *annotations, *fields))
    rows: list[PaymentRow] = []
    current, before = None, 0
    for e in qs.iterator(chunk_size=CHUNK):
        if e["payment_id"] != current:
            current, before = e["payment_id"], 0
        cumulative = e["cumulative"]
        if cumulative is None:  # an event without the amount: what the payment says now
            cumulative = e["payment__refunded_cents"]
        amount = max(0, min(cumulative, e["payment__amount_cents"]) - before)
        before = max(before, cumulative)
        if amount and e["received_at"] >= start:
            rows.append(_row(e, "payment__", at=e["received_at"], kind=REFUND,
                             payment_id=e["payment_id"], amount_cents=-amount))
    return rows


def returns(period: Period) -> list[PaymentRow]:
    """Payments that succeeded and came back in the period (a SEPA debit rejected weeks
    later, a dispute): the whole amount leaves again, on the day it was recorded."""
    start, end = period.instants()
    annotations, fields = _payment_reads("payment__")
    qs = (PaymentStatusChange.objects
          .filter(to_status=PaymentStatus.RETURNED, at__gte=start, at__lt=end)
          .annotate(**annotations).order_by("at", "pk")
          .values("payment_id", "at", *annotations, *fields))
    return [_row(h, "payment__", at=h["at"], kind=RETURN, payment_id=h["payment_id"],
                 amount_cents=-h["payment__amount_cents"])
            for h in qs.iterator(chunk_size=CHUNK)]


def payment_rows(period: Period) -> Iterator[PaymentRow]:
    """Receipts, refunds and returns of the period, in date order. A period has few refunds
    and returns next to its payments: those two are read into lists and sorted; the
    receipts stream."""
    back = sorted(refunds(period) + returns(period), key=lambda r: (r.at, r.payment_id))
    return heapq.merge(receipts(period), back, key=lambda r: (r.at, r.payment_id))

"""Issuing invoices and credit notes: the one place a number is given.

`issue(draft)` runs in one transaction: it locks the series' counter (InvoiceSequence) and
takes the next number, snapshots seller and buyer, writes the legal mentions, computes the
totals per VAT rate (core.money's rules), builds the Factur-X XML (cii.py), stores the SHA-256
of the canonical content, and inserts the invoice and its lines — which the database then
refuses to change (migration 0006). `issue_many(drafts)` does the same for a
batch of the invoicing run. The PDF/A-3 with the XML embedded is rendered after the
commit (a task: rendering takes a while and must not hold the counter's lock), stored once,
and e-mailed to the buyer.

A `Draft` is what a preview shows: the same computation, never stored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.services import operator_identity
from permanence.audit.actions import Action
from permanence.audit.services import audit_record_many
from permanence.core import background, clock
from permanence.core.money import compute_totals, line_total_cents

from . import cii, parties
from .models_invoices import DocumentKind, Invoice, InvoiceLine, InvoiceSequence, LineKind

SERIES: dict[str, str] = {DocumentKind.INVOICE: "F", DocumentKind.CREDIT_NOTE: "AV"}
EU_VAT_PREFIXES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "HR",
                   "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE",
                   "SI", "SK")
PDF_TASK = "billing.invoice_pdf"
PDF_BATCH_TASK = "billing.invoice_pdfs"


@dataclass(frozen=True)
class Line:
    label: str
    unit_price_cents: int
    vat_rate: Decimal
    quantity: Decimal = Decimal(1)
    kind: str = LineKind.BASE
    unit: str = "C62"
    period_start: date | None = None
    period_end: date | None = None

    @property
    def total_ht_cents(self) -> int:
        return line_total_cents(self.unit_price_cents, self.quantity)


@dataclass
class Draft:
    account: ClientAccount
    lines: list[Line]
    kind: str = DocumentKind.INVOICE
    period_start: date | None = None
    period_end: date | None = None
    subscription_id: int | None = None
    order_id: int | None = None
    credit_of: Invoice | None = None
    reason: str = ""
    complaint_conversation_id: int | None = None
    buyer: dict[str, Any] = field(default_factory=dict)  # else the account's identity
    paid: bool = False  # already paid (the order's payment): due at issue

    def buyer_snapshot(self) -> dict[str, Any]:
        return self.buyer or parties.buyer(self.account)

    def reverse_charge(self) -> bool:
        """Autoliquidation: a business buyer identified for VAT in another EU country."""
        vat = (self.buyer_snapshot().get("vat_number") or "").upper()
        return bool(vat) and vat[:2] in EU_VAT_PREFIXES

    def effective_lines(self) -> list[Line]:
        if not self.reverse_charge():
            return self.lines
        return [Line(label=ln.label, unit_price_cents=ln.unit_price_cents,
                     vat_rate=Decimal(0), quantity=ln.quantity, kind=ln.kind, unit=ln.unit,
                     period_start=ln.period_start, period_end=ln.period_end)
                for ln in self.lines]

    def totals(self) -> Any:
        return compute_totals((ln.total_ht_cents, ln.vat_rate) for ln in self.effective_lines())


def payment_days() -> int:
    return int(getattr(settings, "BILLING_PAYMENT_DAYS", 15))


def mentions(draft: Draft, *, issued_on: date, due_on: date) -> dict[str, str]:
    """The legal texts printed on the document (Code de commerce L441-9, CGI art. 242
    nonies A), in French whatever the screen's language."""
    buyer = draft.buyer_snapshot()
    with override("fr"):
        out = {
            "operation": _("Prestation de services"),
            "vat_regime": (_("Option pour le paiement de la taxe d'après les débits")
                           if getattr(settings, "BILLING_VAT_ON_DEBITS", False)
                           else _("TVA acquittée sur les encaissements")),
            "payment_terms": (_("Payée le %(date)s.") % {"date": issued_on.strftime("%d/%m/%Y")}
                              if draft.paid else
                              _("Paiement à %(days)s jours, au plus tard le %(date)s, par "
                                "prélèvement, carte ou virement.") % {
                                  "days": (due_on - issued_on).days,
                                  "date": due_on.strftime("%d/%m/%Y")}),
            "discount": _("Pas d'escompte pour paiement anticipé."),
            "late_penalty": _("En cas de retard de paiement, pénalités au taux de trois fois "
                              "le taux d'intérêt légal, exigibles dès le lendemain de "
                              "l'échéance."),
        }
        if buyer.get("is_business"):
            out["recovery_indemnity"] = _("Indemnité forfaitaire pour frais de recouvrement "
                                          "due en cas de retard de paiement : 40 €.")
        if draft.reverse_charge():
            out["reverse_charge"] = _("Autoliquidation : TVA due par le preneur (article 196 "
                                      "de la directive 2006/112/CE, article 283-2 du CGI).")
        if draft.credit_of is not None:
            out["corrects"] = _("Avoir sur la facture n° %(number)s du %(date)s.") % {
                "number": draft.credit_of.number,
                "date": draft.credit_of.issued_on.strftime("%d/%m/%Y")}
    return out


def _reserve_numbers(kind: str, year: int, count: int) -> list[str]:
    """The next `count` numbers of the series, in the caller's transaction (gapless: the
    counter row stays locked until the invoices are committed, and rolls back with them)."""
    series = SERIES[kind]
    counter, _created = InvoiceSequence.objects.select_for_update().get_or_create(
        series=series, year=year)
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return [f"{series}{year}-{n:06d}" for n in range(first, counter.last + 1)]


def content_hash(invoice: Invoice, lines: list[InvoiceLine]) -> str:
    """SHA-256 of the canonical content (what the triggers freeze), for the archive."""
    data = {
        "kind": invoice.kind, "number": invoice.number, "account": invoice.account_id,
        "issued_on": invoice.issued_on.isoformat(), "due_on": invoice.due_on.isoformat(),
        "period": [d.isoformat() if d else None for d in (invoice.period_start,
                                                          invoice.period_end)],
        "seller": invoice.seller, "buyer": invoice.buyer, "currency": invoice.currency,
        "totals": [invoice.total_ht_cents, invoice.total_vat_cents, invoice.total_ttc_cents],
        "vat": invoice.vat_breakdown, "mentions": invoice.mentions,
        "credit_of": invoice.credit_of_id, "reason": invoice.reason,
        # Decimals at their columns' scale: the hash is the same recomputed from the
        # database (billing.archive) as computed in memory at issue.
        "lines": [[ln.position, ln.kind, ln.label, f"{Decimal(ln.quantity):.3f}", ln.unit,
                   ln.unit_price_cents, f"{Decimal(ln.vat_rate):.2f}", ln.total_ht_cents]
                  for ln in lines],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


def _build(draft: Draft, *, number: str, now: datetime, seller: dict[str, Any],
           approved_by: User | None = None) -> tuple[Invoice, list[InvoiceLine]]:
    """The invoice and its lines as they will be stored (not saved): one computation for a
    single issue and for the invoicing run's batches."""
    issued_on = timezone.localdate(now)  # the operator's date (TIME_ZONE, Paris)
    due_on = issued_on if draft.paid else issued_on + timedelta(days=payment_days())
    totals = draft.totals()
    invoice = Invoice(
        kind=draft.kind, number=number, account=draft.account,
        subscription_id=draft.subscription_id, order_id=draft.order_id,
        credit_of=draft.credit_of, issued_on=issued_on, period_start=draft.period_start,
        period_end=draft.period_end, due_on=due_on, seller=seller,
        buyer=draft.buyer_snapshot(),
        total_ht_cents=totals.ht, total_vat_cents=totals.vat, total_ttc_cents=totals.ttc,
        # Paid at the order: the XML says so (nothing left due), the status follows.
        paid_cents=totals.ttc if draft.paid else 0,
        vat_breakdown=[{"rate": f"{rate:.2f}", "base_cents": base, "vat_cents": vat}
                       for rate, base, vat in totals.by_rate],
        mentions=mentions(draft, issued_on=issued_on, due_on=due_on), reason=draft.reason,
        complaint_conversation_id=draft.complaint_conversation_id, approved_by=approved_by,
        created_at=now)
    lines = [InvoiceLine(position=n, kind=ln.kind, label=ln.label[:300], quantity=ln.quantity,
                         unit=ln.unit, unit_price_cents=ln.unit_price_cents,
                         vat_rate=ln.vat_rate, total_ht_cents=ln.total_ht_cents,
                         period_start=ln.period_start, period_end=ln.period_end)
             for n, ln in enumerate(draft.effective_lines(), start=1)]
    invoice.facturx_xml = cii.build_cii(invoice, lines).decode()
    invoice.content_hash = content_hash(invoice, lines)
    return invoice, lines


def _audit_issued(invoices: list[Invoice], actor: User | None) -> None:
    audit_record_many(actor=actor, action=Action.CREATE, actor_label="" if actor else "system",
                      items=[(inv, inv.account, {"number": inv.number,
                                                 "total_ttc_cents": inv.total_ttc_cents})
                             for inv in invoices])


@transaction.atomic
def issue(draft: Draft, *, actor: User | None = None, now: datetime | None = None,
          approved_by: User | None = None) -> Invoice:
    """Number, freeze and store `draft`; the PDF and the e-mail follow after the commit."""
    if not draft.lines:
        raise ValueError("an invoice has at least one line")
    now = now or clock.now()
    year = timezone.localdate(now).year
    invoice, lines = _build(draft, number=_reserve_numbers(draft.kind, year, 1)[0], now=now,
                            seller=parties.seller(operator_identity()),
                            approved_by=approved_by)
    invoice.save(force_insert=True)
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    _audit_issued([invoice], actor)
    background.enqueue_on_commit(PDF_TASK, invoice.pk)
    return invoice


@transaction.atomic
def issue_many(drafts: list[Draft], *, now: datetime) -> list[Invoice]:
    """Issue a batch of invoices (the invoicing run): numbers reserved in one counter update,
    invoices and lines in two inserts, one audit insert, one PDF task for the batch."""
    if not drafts:
        return []
    if any(not d.lines or d.kind != DocumentKind.INVOICE for d in drafts):
        raise ValueError("a batch holds invoices with at least one line")
    numbers = _reserve_numbers(DocumentKind.INVOICE, timezone.localdate(now).year,
                               len(drafts))
    seller = parties.seller(operator_identity())
    built = [_build(d, number=n, now=now, seller=seller)
             for d, n in zip(drafts, numbers, strict=True)]
    invoices = Invoice.objects.bulk_create([invoice for invoice, _lines in built])
    for invoice, lines in built:
        for line in lines:
            line.invoice = invoice
    InvoiceLine.objects.bulk_create([ln for _inv, lines in built for ln in lines],
                                    batch_size=2000)
    _audit_issued(invoices, None)
    background.enqueue_on_commit(PDF_BATCH_TASK, [invoice.pk for invoice in invoices])
    return invoices

"""The invoice's side of the e-invoicing reform: the lifecycle status a *plateforme agréée*
reports for an issued invoice (Invoice.platform_status), and the reads the e-invoicing app
needs (billing writes its own tables; einvoicing calls these, billing never imports it).

The statuses are the French "cycle de vie" (CDV) codes 200–214 of the reform's external
specifications, with their French labels, plus two of ours for the time before the platform
knows the invoice: "attente" (to be deposited) and "echec" (the deposit failed). The database
triggers of migration 0006 let `platform_status` and `platform_status_at` move after issue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models_invoices import Invoice, InvoiceStatus, InvoiceStatusChange


class PlatformStatus:
    """Codes stored in Invoice.platform_status and their labels (not a model choice: the
    column predates them and billing adds no migration for a label)."""

    PENDING = "attente"
    FAILED = "echec"
    DEPOSITED = "200"
    ISSUED_BY_PLATFORM = "201"
    RECEIVED_BY_PLATFORM = "202"
    MADE_AVAILABLE = "203"
    TAKEN_OVER = "204"
    APPROVED = "205"
    PARTLY_APPROVED = "206"
    DISPUTED = "207"
    SUSPENDED = "208"
    COMPLETED = "209"
    REFUSED = "210"
    PAYMENT_SENT = "211"
    CASHED = "212"
    REJECTED = "213"

    LABELS: dict[str, Any] = {
        PENDING: _("En attente de transmission"),
        FAILED: _("Échec de transmission"),
        DEPOSITED: _("Déposée"),
        ISSUED_BY_PLATFORM: _("Émise par la plateforme"),
        RECEIVED_BY_PLATFORM: _("Reçue par la plateforme"),
        MADE_AVAILABLE: _("Mise à disposition"),
        TAKEN_OVER: _("Prise en charge"),
        APPROVED: _("Approuvée"),
        PARTLY_APPROVED: _("Approuvée partiellement"),
        DISPUTED: _("En litige"),
        SUSPENDED: _("Suspendue"),
        COMPLETED: _("Complétée"),
        REFUSED: _("Refusée"),
        PAYMENT_SENT: _("Paiement transmis"),
        CASHED: _("Encaissée"),
        REJECTED: _("Rejetée"),
    }
    # Shown as a problem (badge colour, staff attention).
    PROBLEMS = frozenset({FAILED, DISPUTED, SUSPENDED, REFUSED, REJECTED})

    @classmethod
    def label(cls, code: str) -> str:
        return str(cls.LABELS.get(code, code))

    @classmethod
    def is_cdv(cls, code: str) -> bool:
        return code.isdigit() and code in cls.LABELS


@transaction.atomic
def invoice_platform_status_set(*, invoice_id: int, status: str, at: datetime) -> bool:
    """Record the platform's latest status on the invoice; a platform status older than the
    one stored (they may arrive out of order) changes nothing. True if written. Only the two
    movable columns are written: the database refuses any other change to an issued invoice."""
    if status not in PlatformStatus.LABELS:
        raise ValueError(f"unknown platform status {status!r}")
    invoice = Invoice.objects.select_for_update().only(
        "pk", "platform_status", "platform_status_at").get(pk=invoice_id)
    # Between two of the platform's statuses its clock decides; ours ("attente", "echec")
    # and the platform's first answer always replace what is shown (clocks may differ).
    if (PlatformStatus.is_cdv(status) and PlatformStatus.is_cdv(invoice.platform_status)
            and invoice.platform_status_at is not None and at < invoice.platform_status_at):
        return False
    if invoice.platform_status == status and invoice.platform_status_at == at:
        return False
    Invoice.objects.filter(pk=invoice.pk).update(platform_status=status, platform_status_at=at)
    return True


# --- Reads for the e-invoicing app --------------------------------------------------------------


def invoices_with_document(*, issued_from: date | None = None) -> QuerySet[Invoice]:
    """Issued invoices and credit notes whose Factur-X PDF is stored (what a platform can
    receive), oldest first."""
    qs = Invoice.objects.exclude(pdf_sha256="")
    if issued_from is not None:
        qs = qs.filter(issued_on__gte=issued_from)
    return qs.order_by("pk")


def invoice_by_id(invoice_id: int) -> Invoice:
    return Invoice.objects.get(pk=invoice_id)


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as handle:
        return bytes(handle.read())


def invoices_issued_between(start: date, end: date) -> QuerySet[Invoice]:
    """Invoices and credit notes issued from `start` to `end` included (e-reporting)."""
    return Invoice.objects.filter(issued_on__gte=start, issued_on__lte=end).order_by("pk")


def payment_receipts_between(start: datetime, end: datetime) -> list[tuple[Invoice, datetime]]:
    """Invoices settled in [start, end): (invoice, when it became "payée"). Billing knows an
    invoice's amount paid, not each payment's date: an invoice counts when it is settled (the
    order's invoice too: it moves to "payée" right after issue), a partial payment then."""
    settled: dict[int, datetime] = {}
    moves = (InvoiceStatusChange.objects
             .filter(to_status=InvoiceStatus.PAID, at__gte=start, at__lt=end)
             .order_by("invoice_id", "at").values_list("invoice_id", "at"))
    for invoice_id, at in moves:
        settled.setdefault(invoice_id, at)  # once per invoice and period
    invoices = Invoice.objects.filter(pk__in=list(settled)).order_by("pk")
    return [(invoice, settled[invoice.pk]) for invoice in invoices]

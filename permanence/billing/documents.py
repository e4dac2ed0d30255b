"""The invoice as a document: a PDF/A-3b with its Factur-X XML embedded, stored once and
e-mailed to the buyer.

`render_pdf(invoice)` renders the French HTML template with WeasyPrint as PDF/A-3b, then the
`factur-x` library embeds `invoice.facturx_xml` as `factur-x.xml` (AFRelationship
"Alternative": at the EN 16931 level the XML is the invoice's equivalent representation) and
writes the Factur-X XMP metadata. `invoice_pdf_store(invoice_id)` — the "billing.invoice_pdf"
task, enqueued by `issuing.issue` after the commit — stores that PDF once (the database
accepts the PDF's location and SHA-256 only while `pdf_sha256` is empty) and then e-mails it,
with no transaction open."""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal
from typing import Any

import facturx
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.money import format_eur
from permanence.core.pdf import html_to_pdf

from .models_invoices import DocumentKind, Invoice, InvoiceLine

logger = logging.getLogger(__name__)

UNIT_LABELS = {"C62": "unité", "HUR": "heure", "MIN": "minute", "DAY": "jour", "MON": "mois"}
PDF_VARIANT = "pdf/a-3b"


def title(invoice: Invoice) -> str:
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return _("Avoir n° %(number)s") % {"number": invoice.number}
    return _("Facture n° %(number)s") % {"number": invoice.number}


def _quantity(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


def context(invoice: Invoice, lines: list[InvoiceLine] | None = None) -> dict[str, Any]:
    lines = list(invoice.lines.all()) if lines is None else lines
    return {
        "invoice": invoice, "seller": invoice.seller, "buyer": invoice.buyer,
        "title": title(invoice), "original": invoice.credit_of,
        "is_credit_note": invoice.kind == DocumentKind.CREDIT_NOTE,
        "rows": [{"line": ln, "quantity": _quantity(ln.quantity),
                  "unit": UNIT_LABELS.get(ln.unit, ln.unit)} for ln in lines],
        "vat_rows": [{"rate": Decimal(row["rate"]), "base_cents": row["base_cents"],
                      "vat_cents": row["vat_cents"]} for row in invoice.vat_breakdown],
        "balance_cents": invoice.balance_cents,
        "mentions": [text for text in invoice.mentions.values() if text],
    }


def render_html(invoice: Invoice, lines: list[InvoiceLine] | None = None) -> str:
    """The document's HTML, in French whatever the caller's language (a legal document)."""
    with translation.override("fr"):
        return render_to_string("billing/invoice_pdf.html", context(invoice, lines))


def render_pdf(invoice: Invoice) -> bytes:
    """The Factur-X PDF/A-3b of an issued invoice."""
    html = render_html(invoice)
    pdf = html_to_pdf(html, base_url=str(settings.BASE_DIR), pdf_variant=PDF_VARIANT,
                      pdf_identifier=invoice.number.encode())
    with translation.override("fr"):
        metadata = {
            "author": invoice.seller.get("legal_name") or invoice.seller.get("name") or "",
            "keywords": "Factur-X, " + (_("Avoir") if invoice.kind == DocumentKind.CREDIT_NOTE
                                        else _("Facture")),
            "title": title(invoice),
            "subject": f"{title(invoice)} — {invoice.issued_on.strftime('%d/%m/%Y')}",
        }
    return bytes(facturx.generate_from_binary(
        bytes(pdf), invoice.facturx_xml.encode("utf-8"), flavor="factur-x", level="en16931",
        check_xsd=True, pdf_metadata=metadata, lang="fr-FR", afrelationship="alternative"))


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def _store(invoice_id: int) -> Invoice:
    """Render and store the PDF unless it is stored already (idempotent; the render happens
    outside the transaction, the row is locked only to write)."""
    invoice = Invoice.objects.select_related("credit_of").get(pk=invoice_id)
    if invoice.pdf_sha256:
        return invoice
    pdf = render_pdf(invoice)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.pdf_sha256:  # another worker got there first
            return invoice
        invoice.pdf.save(pdf_filename(invoice), ContentFile(pdf), save=False)
        invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        invoice.save(update_fields=["pdf", "pdf_sha256"])
    return invoice


def _email(invoice_id: int) -> bool:
    """E-mail the stored PDF to the buyer once; no transaction is open while sending (the
    mark is written after: a crash in between sends it again rather than never)."""
    invoice = Invoice.objects.get(pk=invoice_id)
    recipient = (invoice.buyer or {}).get("email") or ""
    if not recipient or invoice.emailed_at is not None or not invoice.pdf_sha256:
        return False
    with invoice.pdf.open("rb") as handle:
        pdf = handle.read()
    with translation.override("fr"):
        seller = invoice.seller.get("legal_name") or invoice.seller.get("name") or ""
        subject = f"{title(invoice)} — {seller}"
        what = (_("l'avoir n° %(number)s") if invoice.kind == DocumentKind.CREDIT_NOTE
                else _("la facture n° %(number)s")) % {"number": invoice.number}
        body = _("Bonjour,\n\nVeuillez trouver ci-joint %(what)s du %(date)s, d'un montant "
                 "de %(amount)s TTC.\n\nCe document PDF contient sa version électronique "
                 "structurée (Factur-X).\n\nCordialement,\n%(seller)s") % {
            "what": what, "date": invoice.issued_on.strftime("%d/%m/%Y"),
            "amount": format_eur(invoice.total_ttc_cents), "seller": seller}
    reply_to = [invoice.seller["email"]] if invoice.seller.get("email") else None
    message = EmailMessage(subject, body, to=[recipient], reply_to=reply_to)
    message.attach(pdf_filename(invoice), pdf, "application/pdf")
    message.send()
    Invoice.objects.filter(pk=invoice.pk, emailed_at__isnull=True).update(
        emailed_at=clock.now())
    return True


def invoice_pdf_store(invoice_id: int, *, send_email: bool = True) -> dict[str, Any]:
    """Store the invoice's PDF once, then e-mail it once to the buyer (if an address).
    `send_email=False` only stores it (a download before the task ran: the task still
    e-mails it)."""
    invoice = _store(invoice_id)
    emailed = False
    if send_email and transaction.get_connection().in_atomic_block:
        # Called inside a transaction: the e-mail leaves once it commits.
        transaction.on_commit(lambda: _email(invoice.pk), robust=True)
    elif send_email:
        emailed = _email(invoice.pk)
    return {"invoice": invoice.pk, "pdf_sha256": invoice.pdf_sha256, "emailed": emailed}

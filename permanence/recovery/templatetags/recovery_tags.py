"""`{% invoice_recovery invoice %}` on an invoice's page (billing/invoice.html, staff and
espace client): its payment incident, the client's « Payer » link, the staff's transfer
matching form. A tag, so billing's views need not know about recovery (it sits above them)."""

from __future__ import annotations

from typing import Any

from django import template

from permanence.billing.models_invoices import DocumentKind, Invoice, InvoiceStatus

from ..forms import TransferForm
from ..permissions import can_work_incidents
from ..selectors import incident_for_invoice

register = template.Library()

OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.OVERDUE)


@register.inclusion_tag("recovery/_invoice_section.html", takes_context=True)
def invoice_recovery(context: template.Context, invoice: Invoice) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    staff = context.get("base") != "portal_base.html"
    is_invoice = invoice.kind == DocumentKind.INVOICE
    return {
        "invoice": invoice, "staff": staff, "is_invoice": is_invoice,
        "incident": incident_for_invoice(invoice) if is_invoice else None,
        "payable": is_invoice and invoice.status in OPEN and invoice.balance_cents > 0,
        "can_work": staff and user is not None and can_work_incidents(user),
        "form": TransferForm(auto_id="virement-%s"), "csrf_token": context.get("csrf_token"),
    }

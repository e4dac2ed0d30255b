"""Order documents: the order summary (récapitulatif de commande) as a PDF, with WeasyPrint."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from permanence.accounts.services import operator_identity
from permanence.core.pdf import html_to_pdf

from . import selectors
from .models import Order


def order_summary_pdf(order: Order, *, language: str | None = None) -> bytes:
    """Lines, totals per VAT rate, billing details, CGV version, deadlines and history."""
    lines = list(order.lines.all())
    with translation.override(language or translation.get_language() or "fr"):
        html = render_to_string("shop/portal/summary_pdf.html", {
            "order": order, "lines": lines, "vat": selectors.vat_breakdown(order, lines),
            "steps": selectors.progress_steps(order), "operator": operator_identity()})
    return html_to_pdf(html)

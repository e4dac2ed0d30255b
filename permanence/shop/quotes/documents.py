"""The quote as a PDF (WeasyPrint): what the client receives by e-mail and downloads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from permanence.accounts.services import operator_identity
from permanence.core.money import compute_totals
from permanence.core.pdf import html_to_pdf
from permanence.shop.models import Quote

from .selectors import quote_lines


def quote_document_context(quote: Quote) -> dict[str, Any]:

    lines = quote_lines(quote)
    totals = compute_totals((line.total_ht_cents, line.vat_rate) for line in lines)
    monthly = compute_totals((line.total_ht_cents, line.vat_rate) for line in lines
                             if line.recurring)
    return {"quote": quote, "lines": lines, "totals": totals, "monthly": monthly,
            "operator": operator_identity(), "site_url": settings.SITE_URL,
            "public_url": f"{settings.SITE_URL}/devis/{quote.token}/"}


def quote_pdf(quote: Quote, *, language: str | None = None) -> bytes:
    with translation.override(language or settings.LANGUAGE_CODE):
        html = render_to_string("shop/quotes/pdf.html", quote_document_context(quote))
    return html_to_pdf(html, base_url=settings.SITE_URL)


def quote_pdf_filename(quote: Quote) -> str:
    return f"devis-{quote.reference}.pdf"

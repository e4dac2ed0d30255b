"""Documents of the public site: the CGV as a PDF (durable medium for the order e-mail)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from .models import TermsVersion


def terms_pdf(terms: TermsVersion) -> bytes:
    """The CGV version as a PDF (French text; the English one is appended when it exists)."""
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    from permanence.accounts.services import operator_identity

    with translation.override("fr"):
        html = render_to_string("catalog/terms_pdf.html", {
            "terms": terms, "operator": operator_identity()})
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # noqa: S101 — write_pdf() without a target returns the bytes
    return bytes(pdf)

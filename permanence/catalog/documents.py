"""Documents of the public site: the CGV as a PDF (durable medium for the order e-mail)."""

from __future__ import annotations

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import translation

from permanence.accounts.services import operator_identity
from permanence.core.pdf import html_to_pdf

from .models import TermsVersion

PDF_CACHE_SECONDS = 7 * 24 * 3600


def terms_pdf(terms: TermsVersion) -> bytes:
    """The CGV version as a PDF (French text; the English one is appended when it exists).

    A published version never changes, so its PDF (about two seconds of WeasyPrint) is
    cached, keyed by the version and the operator identity shown in its header."""

    operator = operator_identity()
    key = None
    if terms.published_at is not None and terms.pk is not None:
        key = (f"catalog:terms-pdf:{terms.pk}:{terms.published_at.timestamp()}:"
               f"{operator.updated_at.timestamp() if operator.updated_at else 0}")
        cached = cache.get(key)
        if isinstance(cached, bytes):
            return cached
    pdf = _render(terms, operator)
    if key is not None:
        cache.set(key, pdf, PDF_CACHE_SECONDS)
    return pdf


def _render(terms: TermsVersion, operator: object) -> bytes:
    with translation.override("fr"):
        html = render_to_string("catalog/terms_pdf.html", {"terms": terms, "operator": operator})
    return html_to_pdf(html)

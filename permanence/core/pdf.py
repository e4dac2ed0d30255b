"""HTML → PDF with WeasyPrint, for every document the platform prints (terms, order
summaries, quotes, invoices). WeasyPrint takes a third of a second to import: it is loaded
here, on the first PDF, not when a process starts."""

from __future__ import annotations

from typing import Any


def html_to_pdf(html: str, *, base_url: str | None = None, **options: Any) -> bytes:
    """The PDF of `html`; `options` go to write_pdf (pdf_variant="pdf/a-3b",
    pdf_identifier=…)."""
    import weasyprint  # heavy import, only when a PDF is rendered

    pdf = weasyprint.HTML(string=html, base_url=base_url).write_pdf(**options)
    if pdf is None:  # pragma: no cover - write_pdf() without a target returns the bytes
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(pdf)

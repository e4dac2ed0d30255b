"""The archive check: are the issued documents of a period still what was issued?

Issued invoices and credit notes are kept ten years (Code de commerce L123-22, LPF L102 B;
CGI art. 289 for the invoices themselves) as they were issued: the database triggers of
migration 0006 refuse any change of their content and any deletion, `content_hash` is the
SHA-256 of their canonical content, and `pdf_sha256` the SHA-256 of the PDF/A-3 stored once
after issue (documents.py). This module recomputes both, so an auditor (or the scheduler) can
prove that nothing moved underneath: a file rewritten on disk, a row edited with the
triggers dropped. Used by `manage.py billing_archive_check`. (A future GDPR erasure must
leave these documents as they are: keeping them is a legal obligation, RGPD art. 17.3.b.)"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from .issuing import content_hash
from .journals import Period
from .models_invoices import Invoice, InvoiceLine

CHUNK = 200
OK = "ok"
PENDING = "pending"  # issued moments ago: its PDF task has not run yet
MISSING = "missing"  # the stored file is gone
PDF_MISMATCH = "pdf_mismatch"
CONTENT_MISMATCH = "content_mismatch"
PROBLEMS = (MISSING, PDF_MISMATCH, CONTENT_MISMATCH)


@dataclass(frozen=True)
class Finding:
    number: str
    outcome: str
    detail: str = ""


def file_sha256(invoice: Invoice) -> str:
    digest = hashlib.sha256()
    with invoice.pdf.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def content_matches(invoice: Invoice, lines: list[InvoiceLine]) -> bool:
    """`content_hash` hashes the lines' decimals at their columns' scale, as the database
    gives them back: the stored content recomputes to the same hash."""
    return content_hash(invoice, lines) == invoice.content_hash


def check(invoice: Invoice) -> Finding:
    lines = list(invoice.lines.all())
    if not content_matches(invoice, lines):
        return Finding(invoice.number, CONTENT_MISMATCH,
                       "content differs from its stored hash")
    if not invoice.pdf_sha256 or not invoice.pdf:
        return Finding(invoice.number, PENDING, "no PDF stored yet")
    try:
        found = file_sha256(invoice)
    except FileNotFoundError:
        return Finding(invoice.number, MISSING, invoice.pdf.name or "")
    if found != invoice.pdf_sha256:
        return Finding(invoice.number, PDF_MISMATCH,
                       f"{invoice.pdf.name}: {found} != {invoice.pdf_sha256}")
    return Finding(invoice.number, OK)


def archive_check(period: Period) -> Iterator[Finding]:
    """Every document issued in the period, oldest first (lines fetched per chunk)."""
    qs = (Invoice.objects.filter(issued_on__gte=period.start, issued_on__lte=period.end)
          .defer("facturx_xml").prefetch_related("lines").order_by("issued_on", "number"))
    for invoice in qs.iterator(chunk_size=CHUNK):
        yield check(invoice)

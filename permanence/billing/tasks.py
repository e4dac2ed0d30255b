"""Billing's background tasks (registered by name: services enqueue them through
core.background, never by importing this module)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from permanence.core import background
from permanence.core.isolation import each_isolated

from .documents import invoice_pdf_store
from .issuing import PDF_BATCH_TASK, PDF_TASK


@background.register(PDF_TASK)
@task()
def invoice_pdf(invoice_id: int) -> dict[str, Any]:
    """Render, store (once) and e-mail (once) an issued invoice's Factur-X PDF."""
    return invoice_pdf_store(invoice_id)


@background.register(PDF_BATCH_TASK)
@task()
def invoice_pdfs(invoice_ids: list[int]) -> dict[str, Any]:
    """The invoicing run's batch: each invoice's PDF (a failure does not stop the others; a
    re-run skips what is stored and e-mailed already)."""
    outcome = each_isolated(invoice_ids, invoice_pdf_store, job=PDF_BATCH_TASK)
    return {"done": len(outcome.results), "failed": outcome.failed}

"""Billing's background tasks (registered by name: services enqueue them through
core.background, never by importing this module)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from permanence.core import background

from .documents import invoice_pdf_store
from .issuing import PDF_TASK


@background.register(PDF_TASK)
@task()
def invoice_pdf(invoice_id: int) -> dict[str, Any]:
    """Render, store (once) and e-mail (once) an issued invoice's Factur-X PDF."""
    return invoice_pdf_store(invoice_id)

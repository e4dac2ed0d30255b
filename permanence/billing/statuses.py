"""The invoice status machine (INVOICE_TRANSITIONS, beside the model) on the kernel's helper:
the only code that changes an invoice's status."""

from __future__ import annotations

from django.db import transaction

from permanence.accounts.models import User
from permanence.core.transitions import Machine, transition

from .models_invoices import INVOICE_TRANSITIONS, Invoice, InvoiceStatus, InvoiceStatusChange

INVOICE_MACHINE: Machine[Invoice] = Machine(
    model=Invoice, transitions=INVOICE_TRANSITIONS, history_model=InvoiceStatusChange,
    history_fk="invoice", status_choices=InvoiceStatus, ref_field="number")


@transaction.atomic
def invoice_transition(*, invoice: Invoice | int, to: str, actor: User | None = None,
                       note: str = "", paid_cents: int | None = None) -> Invoice:
    """Move `invoice` to `to` (validated) or raise DomainError (409); `paid_cents` sets the
    amount paid with it. Only the movable columns are written (the triggers refuse the rest)."""

    def stamp(obj: Invoice, *_args: object) -> None:
        if paid_cents is not None:
            obj.paid_cents = paid_cents

    return transition(INVOICE_MACHINE, instance=invoice, to=to, actor=actor, note=note,
                      stamp=stamp).instance

"""Credit notes (avoirs): the only way to correct an issued invoice. Approved by the billing
staff member who issues it (recorded), with its reason and, when a complaint caused it, the
conversation it came from. A full credit note cancels the invoice (« annulée par avoir »);
a partial one (a commercial gesture) is imputed on what is still due on it, if anything."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from permanence.accounts.models import User
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid

from . import issuing, settlement
from .models_credits import Refund, RefundMethod, RefundStatus
from .models_invoices import DocumentKind, Invoice, InvoiceStatus, LineKind
from .permissions import can_manage_billing
from .statuses import invoice_transition


@transaction.atomic
def credit_note_issue(*, actor: User, invoice: Invoice, reason: str,
                      amount_ht_cents: int | None = None,
                      complaint_conversation_id: int | None = None) -> Invoice:
    """Issue a credit note for `invoice`: all of it (amount None) or `amount_ht_cents` HT at
    the invoice's main VAT rate."""
    if not can_manage_billing(actor):
        raise Forbidden(_("Seule la comptabilité émet des avoirs."))
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.kind != DocumentKind.INVOICE:
        raise invalid(invoice=_("Un avoir porte sur une facture."))
    if locked.status == InvoiceStatus.CREDITED:
        raise DomainError("already_credited", _("Cette facture est déjà annulée par un "
                                                "avoir."), status=409)
    reason = (reason or "").strip()
    if not reason:
        raise invalid(reason=_("Indiquez le motif de l'avoir."))
    credited = sum(c.total_ht_cents for c in locked.credit_notes.all())
    left = locked.total_ht_cents - credited
    full = amount_ht_cents is None or amount_ht_cents >= left
    if amount_ht_cents is not None and not 0 < amount_ht_cents <= left:
        raise invalid(amount=_("Entre 0,01 € et %(max)s € HT.") % {"max": f"{left / 100:.2f}"})
    with override("fr"):
        if full and credited == 0:
            lines = [issuing.Line(label=ln.label, unit_price_cents=ln.unit_price_cents,
                                  quantity=ln.quantity, unit=ln.unit, vat_rate=ln.vat_rate,
                                  kind=LineKind.CREDIT, period_start=ln.period_start,
                                  period_end=ln.period_end)
                     for ln in locked.lines.all()]
        else:
            rate = max(locked.lines.all(), key=lambda ln: ln.total_ht_cents).vat_rate
            lines = [issuing.Line(
                label=_("Avoir sur la facture n° %(number)s : %(reason)s") % {
                    "number": locked.number, "reason": reason[:200]},
                unit_price_cents=left if full else int(amount_ht_cents or 0),
                vat_rate=Decimal(rate), kind=LineKind.CREDIT)]
    draft = issuing.Draft(account=locked.account, lines=lines, kind=DocumentKind.CREDIT_NOTE,
                          credit_of=locked, reason=reason[:300],
                          complaint_conversation_id=complaint_conversation_id,
                          buyer=locked.buyer, period_start=locked.period_start,
                          period_end=locked.period_end)
    note = issuing.issue(draft, actor=actor, approved_by=actor)
    if full:
        invoice_transition(invoice=locked, to=InvoiceStatus.CREDITED, actor=actor,
                           note=note.number)
    elif locked.status in settlement.OPEN and locked.balance_cents > 0:
        # Imputed on what is still due: the client owes the invoice less the credit note
        # (charges, reminders and schedules then ask for the rest only); the credit note is
        # settled so, never refunded on top.
        imputed = min(note.total_ttc_cents, locked.balance_cents)
        settlement.invoice_payment_apply(
            invoice=locked, amount_cents=imputed, on=note.issued_on, actor=actor,
            note=_("Avoir %(number)s imputé") % {"number": note.number})
        now = clock.now()
        Refund.objects.create(credit_note=note, method=RefundMethod.IMPUTED,
                              amount_cents=imputed, status=RefundStatus.DONE, actor=actor,
                              created_at=now, updated_at=now)
    return note

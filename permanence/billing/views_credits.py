"""Facturation: what a credit note or a complaint gives back — a commercial gesture on the
next invoice (from an invoice's page), the refund of a credit note (from its page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError, error_text

from . import gestures, refunds, selectors
from .forms import GestureForm
from .views import _invoice_page, _manager, billing_required


@require_POST
@billing_required
def gesture_new(request: AuthedHttpRequest, number: str) -> HttpResponse:
    invoice = selectors.get_invoice_for_user(request.user, number)
    _manager(request)
    form = GestureForm(request.POST, prefix="geste")
    if not form.is_valid():
        return _invoice_page(request, invoice, gesture_form=form, status=422)
    try:
        gestures.gesture_grant(actor=request.user, account=invoice.account,
                               amount_ht_cents=form.cleaned_data["amount"],
                               reason=form.cleaned_data["reason"],
                               complaint_conversation_id=form.cleaned_data["complaint"])
    except DomainError as exc:
        if exc.status == 403:
            raise
        apply_field_errors(form, exc.fields, error_text(exc))
        return _invoice_page(request, invoice, gesture_form=form, status=exc.status)
    messages.success(request, _("Geste commercial accordé : il sera déduit de la prochaine "
                                "facture du client."))
    return redirect("billing:invoice", number=invoice.number)


@require_POST
@billing_required
def refund_new(request: AuthedHttpRequest, number: str) -> HttpResponse:
    """« Rembourser » (through the provider) or « Remboursé par virement » (`virement=1`)."""
    note = selectors.get_invoice_for_user(request.user, number)
    _manager(request)
    by_transfer = request.POST.get("virement") == "1"
    try:
        refund = refunds.credit_note_refund(actor=request.user, note=note,
                                            by_transfer=by_transfer)
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, error_text(exc))
        return redirect("billing:invoice", number=note.number)
    messages.success(request, _("Remboursement de %(amount)s : %(status)s.") % {
        "amount": f"{refund.amount_cents / 100:.2f} €".replace(".", ","),
        "status": refund.get_status_display().lower()})
    return redirect("billing:invoice", number=note.number)

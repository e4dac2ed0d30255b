"""Facturation (back office): invoices and credit notes, the invoicing run (preview, then
issue), an invoice's page (lines, totals, history, PDF, « Émettre un avoir »)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, Forbidden, error_text

from . import credit_notes, documents, invoicing_run, selectors
from .forms import CreditNoteForm, GestureForm, ScheduleForm
from .models_invoices import DocumentKind, InvoiceStatus
from .permissions import can_manage_billing, can_view_billing

billing_required = role_required(lambda u: u.is_active and can_view_billing(u))


def _manager(request: AuthedHttpRequest) -> None:
    if not can_manage_billing(request.user):
        raise Forbidden(_("Seule la comptabilité émet des factures et des avoirs."))


@billing_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    status = request.GET.get("statut", "")
    kind = request.GET.get("type", "")
    account = _int(request.GET.get("compte"))
    invoices = selectors.invoice_page(
        request.user, account=account, status=status if status in InvoiceStatus.values else "",
        kind=kind if kind in DocumentKind.values else "", before=request.GET.get("avant", ""))
    return render(request, "billing/home.html", {
        "invoices": invoices, "statuses": InvoiceStatus.choices, "kinds": DocumentKind.choices,
        "status": status, "kind": kind, "can_manage": can_manage_billing(request.user),
        "account": account, "complaint": _int(request.GET.get("reclamation")),
        "next": invoices[-1].pk if len(invoices) == selectors.PAGE else None})


def _int(value: Any) -> int | None:
    """A positive id from the query string, or None."""
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**62 else None


@billing_required
def run_page(request: AuthedHttpRequest) -> HttpResponse:
    """The invoicing run: what it would issue today (nothing stored), then « Émettre »."""
    today = timezone.localdate()
    if request.method == "POST":
        _manager(request)
        result = invoicing_run.run(today)
        messages.success(request, _("%(n)s facture(s) émise(s).") % {"n": result["issued"]})
        return redirect("billing:home")
    drafts = invoicing_run.previews(today)
    return render(request, "billing/run.html", {
        "today": today, "drafts": [(sub, draft, draft.totals()) for sub, draft in drafts],
        "can_manage": can_manage_billing(request.user)})


def _invoice_page(request: AuthedHttpRequest, invoice: Any, *, form: Any = None,
                  gesture_form: Any = None, schedule_form: Any = None,
                  status: int = 200) -> HttpResponse:
    complaint = _int(request.GET.get("reclamation"))
    return render(request, "billing/invoice.html", {
        "invoice": invoice, "lines": list(invoice.lines.all()),
        "history": list(invoice.history.select_related("actor")),
        "credit_notes": list(invoice.credit_notes.all()),
        "can_manage": can_manage_billing(request.user),
        "form": form or CreditNoteForm(initial={"complaint": complaint}),
        "gesture_form": gesture_form or GestureForm(prefix="geste",
                                                    initial={"complaint": complaint}),
        "refunds": list(invoice.refunds.all()) if invoice.kind == DocumentKind.CREDIT_NOTE
        else [],
        "schedules": list(invoice.schedules.all()),
        "schedule_form": schedule_form or ScheduleForm(prefix="echeancier", initial={
            "first_due": timezone.localdate() + timedelta(days=7)}),
        "base": "staff_base.html"}, status=status)


@billing_required
def invoice(request: AuthedHttpRequest, number: str) -> HttpResponse:
    """`?reclamation=<conversation id>`: the credit note form cites that complaint."""
    return _invoice_page(request, selectors.get_invoice_for_user(request.user, number))


@billing_required
def invoice_pdf(request: AuthedHttpRequest, number: str) -> FileResponse:
    return pdf_response(selectors.get_invoice_for_user(request.user, number))


def pdf_response(invoice: Any) -> FileResponse:
    """The archived PDF (rendered now if its task has not run yet: stored once)."""
    if not invoice.pdf_sha256:
        documents.invoice_pdf_store(invoice.pk, send_email=False)
        invoice.refresh_from_db(fields=["pdf", "pdf_sha256"])
    response = FileResponse(invoice.pdf.open("rb"), content_type="application/pdf",
                            as_attachment=True, filename=f"{invoice.number}.pdf")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@billing_required
def credit_note_new(request: AuthedHttpRequest, number: str) -> HttpResponse:
    target = selectors.get_invoice_for_user(request.user, number)
    _manager(request)
    form = CreditNoteForm(request.POST)
    if not form.is_valid():
        return _invoice_page(request, target, form=form, status=422)
    try:
        note = credit_notes.credit_note_issue(
            actor=request.user, invoice=target, reason=form.cleaned_data["reason"],
            amount_ht_cents=form.cleaned_data["amount"],
            complaint_conversation_id=form.cleaned_data["complaint"])
    except DomainError as exc:
        if exc.status == 403:
            raise
        apply_field_errors(form, {("amount" if k == "amount" else k): v
                                  for k, v in exc.fields.items()}, error_text(exc))
        return _invoice_page(request, target, form=form, status=exc.status)
    messages.success(request, _("Avoir %(n)s émis.") % {"n": note.number})
    return redirect("billing:invoice", number=note.number)

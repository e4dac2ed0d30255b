"""Facturation › Impayés (billing staff; supervisors read): the board of payment incidents,
an incident's page with its timeline and actions; the transfer matched on an invoice's page.
Espace client: the invoice's payment page (the retry link of the e-mails)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.billing.selectors import get_invoice_for_user
from permanence.core.access import AuthedHttpRequest, client_required, role_required
from permanence.core.errors import DomainError, Forbidden, error_text

from . import charges, selectors, services
from .forms import NoteForm, ResolveForm, TransferForm
from .models import IncidentState
from .permissions import can_view_incidents, can_work_incidents

viewer_required = role_required(lambda u: u.is_active and can_view_incidents(u))


def _worker(request: AuthedHttpRequest) -> None:
    if not can_work_incidents(request.user):
        raise Forbidden(_("Seule la comptabilité traite les impayés."))


@viewer_required
def board(request: AuthedHttpRequest) -> HttpResponse:
    closed = request.GET.get("etat") == "clos"
    return render(request, "recovery/board.html", {
        "incidents": selectors.incident_board(request.user, closed=closed), "closed": closed})


def _incident_page(request: AuthedHttpRequest, incident: object, *, note_form: object = None,
                   status: int = 200) -> HttpResponse:
    return render(request, "recovery/incident.html", {
        "incident": incident, "events": list(incident.events.select_related("actor")),  # type: ignore[attr-defined]
        "can_work": can_work_incidents(request.user),
        "live": incident.state != IncidentState.RESOLVED,  # type: ignore[attr-defined]
        "note_form": note_form or NoteForm(), "resolve_form": ResolveForm()}, status=status)


@viewer_required
def incident(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _incident_page(request, selectors.get_incident_for_user(request.user, pk))


ACTIONS = ("relancer", "note", "clore")


@require_POST
@viewer_required
def incident_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    found = selectors.get_incident_for_user(request.user, pk)
    if action not in ACTIONS:
        raise Http404
    _worker(request)
    try:
        if action == "relancer":
            charges.retry_now(actor=request.user, incident=found)
            messages.success(request, _("Nouvel essai de prélèvement envoyé."))
        elif action == "note":
            form = NoteForm(request.POST)
            if not form.is_valid():
                return _incident_page(request, found, note_form=form, status=422)
            services.incident_note(actor=request.user, incident=found,
                                   text=form.cleaned_data["text"])
        else:
            closing = ResolveForm(request.POST)
            note = closing.cleaned_data["note"] if closing.is_valid() else ""
            services.incident_resolve(actor=request.user, incident=found, note=note)
            messages.success(request, _("Incident clos."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, error_text(exc))
    return redirect("recovery:incident", pk=found.pk)


@require_POST
@viewer_required
def transfer_match(request: AuthedHttpRequest, number: str) -> HttpResponse:
    """The form of the invoice's page (billing/invoice.html): a transfer received for it."""
    invoice = get_invoice_for_user(request.user, number)
    _worker(request)
    form = TransferForm(request.POST, auto_id="virement-%s")
    if form.is_valid():
        try:
            services.transfer_match(actor=request.user, invoice=invoice,
                                    amount_cents=form.cleaned_data["amount"],
                                    received_on=form.cleaned_data["received_on"],
                                    bank_label=form.cleaned_data["bank_label"])
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            apply_field_errors(form, exc.fields, error_text(exc))
        else:
            messages.success(request, _("Virement rapproché avec la facture %(n)s.") % {
                "n": invoice.number})
            return redirect("billing:invoice", number=invoice.number)
    messages.error(request, " ".join(str(e) for errors in form.errors.values()
                                     for e in errors))
    return redirect("billing:invoice", number=invoice.number)


@client_required
def pay(request: AuthedHttpRequest, number: str) -> HttpResponse:
    """Espace client: pay what is left on one of the client's invoices (card, Stripe
    Checkout). Another account's invoice: 404."""
    invoice = get_invoice_for_user(request.user, number)
    if request.method == "POST":
        here = request.build_absolute_uri(reverse("recovery:pay", args=[invoice.number]))
        try:
            payment = charges.pay_start(invoice=invoice, success_url=here + "?paiement=ok",
                                        cancel_url=here)
        except DomainError as exc:
            messages.error(request, error_text(exc))
            return redirect("recovery:pay", number=invoice.number)
        return redirect(payment.checkout_url)
    return render(request, "recovery/pay.html", {
        "invoice": invoice, "incident": selectors.incident_for_invoice(invoice),
        "payable": invoice.status in ("emise", "partielle", "en_retard")
        and invoice.balance_cents > 0 and invoice.kind == "facture",
        "returned": request.GET.get("paiement") == "ok", "base": "portal_base.html",
        "account": invoice.account})

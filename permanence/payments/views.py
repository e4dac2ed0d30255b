"""Boutique → Paiements (billing staff and administrators; supervisors read): payments with
filters, pending transfers, transfer matching, refunds, the provider event log."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError

from . import permissions, selectors, services
from .forms import EventFilterForm, PaymentFilterForm, TransferMatchForm
from .models import Payment, PaymentStatus, Provider, ProviderEvent

viewer_required = role_required(permissions.can_view_payments)
manager_required = role_required(permissions.can_manage_payments)

PAGE_SIZE = 50


@viewer_required
def payment_list(request: AuthedHttpRequest) -> HttpResponse:
    form = PaymentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(selectors.payments_filtered(**filters), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "payments/list.html", {
        "form": form, "page": page, "transfers": selectors.pending_transfers()[:PAGE_SIZE],
        "can_manage": permissions.can_manage_payments(request.user), "section": "shop"})


@viewer_required
def payment_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(
        Payment.objects.select_related("order", "order__account", "matched_by"), pk=pk)
    events = payment.events.defer("payload").order_by("-received_at", "-pk")[:PAGE_SIZE]
    refundable = (payment.provider == Provider.STRIPE
                  and payment.status == PaymentStatus.SUCCEEDED
                  and bool(payment.provider_payment_id))
    return render(request, "payments/detail.html", {
        "payment": payment, "events": events, "refundable": refundable,
        "can_manage": permissions.can_manage_payments(request.user), "section": "shop"})


@require_POST
@manager_required
def payment_refund(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    payment = get_object_or_404(Payment, pk=pk)
    try:
        services.payment_refund(actor=request.user, payment=payment)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Remboursement demandé au prestataire ; la commande "
                                    "passera « remboursée » à sa confirmation."))
    return redirect("payments:detail", pk=payment.pk)


@manager_required
def transfer_match(request: AuthedHttpRequest) -> HttpResponse:
    initial = {"reference": request.GET.get("reference", "")}
    form = TransferMatchForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.transfer_match(
                actor=request.user, order=data["reference"], amount_cents=data["amount"],
                bank_label=data["bank_label"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Virement rapproché : la commande %(ref)s est payée.")
                             % {"ref": payment.order.reference if payment.order else ""})
            return redirect("payments:list")
    return render(request, "payments/transfer_match.html", {"form": form, "section": "shop"},
                  status=422 if form.errors else 200)


@viewer_required
def event_list(request: AuthedHttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET or None)
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    page = Paginator(selectors.provider_events(state=state), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "payments/events.html", {
        "form": form, "page": page,
        "can_manage": permissions.can_manage_payments(request.user), "section": "shop"})


@require_POST
@manager_required
def event_retry(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(ProviderEvent, pk=pk)
    try:
        outcome = services.provider_event_retry(actor=request.user, event=event)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if outcome == "error":
            messages.error(request, _("Le traitement a encore échoué ; voir l'erreur."))
        else:
            messages.success(request, _("Événement retraité : %(outcome)s") % {
                "outcome": outcome})
    return redirect("payments:events")

"""Facturation › Échéanciers: propose one from an open invoice, follow its instalments,
record a transfer, charge now, cancel. Billing staff and administrators act; supervisors
read."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError, error_text

from . import schedules, selectors, settlement
from .forms import ScheduleForm
from .models_invoices import DocumentKind, Invoice
from .models_schedules import Instalment, PaymentSchedule
from .permissions import can_manage_billing
from .views import _invoice_page, _manager, billing_required


@billing_required
def schedule_list(request: AuthedHttpRequest) -> HttpResponse:
    rows = [(sc, sum(i.status == "payee" for i in sc.instalments.all()),
             len(sc.instalments.all()))
            for sc in PaymentSchedule.objects.select_related("account").prefetch_related(
                "instalments").order_by("-created_at", "-pk")[:200]]
    return render(request, "billing/schedules.html", {"schedules": rows})


@billing_required
def schedule_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(PaymentSchedule.objects.select_related("account",
                                                                         "agreed_by"), pk=pk)
    return render(request, "billing/schedule.html", {
        "schedule": schedule, "instalments": list(schedule.instalments.all()),
        "invoices": list(schedule.invoices.order_by("issued_on", "pk")),
        "can_manage": can_manage_billing(request.user)})


@require_POST
@billing_required
def schedule_new(request: AuthedHttpRequest, number: str) -> HttpResponse:
    invoice = selectors.get_invoice_for_user(request.user, number)
    _manager(request)
    form = ScheduleForm(request.POST, prefix="echeancier")
    if not form.is_valid():
        return _invoice_page(request, invoice, schedule_form=form, status=422)
    chosen = [invoice]
    if form.cleaned_data["all_open"]:
        chosen = list(Invoice.objects.filter(
            account_id=invoice.account_id, kind=DocumentKind.INVOICE,
            status__in=settlement.OPEN).exclude(schedules__status="en_cours"))
    try:
        schedule = schedules.schedule_create(
            actor=request.user, invoices=chosen, count=form.cleaned_data["count"],
            first_due=form.cleaned_data["first_due"], method=form.cleaned_data["method"],
            note=form.cleaned_data["note"])
    except DomainError as exc:
        if exc.status == 403:
            raise
        apply_field_errors(form, {k: v for k, v in exc.fields.items() if k in form.fields},
                           error_text(exc))
        return _invoice_page(request, invoice, schedule_form=form, status=exc.status)
    messages.success(request, _("Échéancier accordé : %(n)s échéances.") % {
        "n": form.cleaned_data["count"]})
    return redirect("billing:schedule", pk=schedule.pk)


@require_POST
@billing_required
def schedule_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    """`payee` (a transfer received for instalment `echeance`), `debiter` (charge or remind
    now), `annuler` (the whole schedule)."""
    schedule = get_object_or_404(PaymentSchedule, pk=pk)
    _manager(request)
    try:
        if action == "annuler":
            schedules.schedule_cancel(actor=request.user, schedule=schedule,
                                      note=request.POST.get("note", "")[:300])
            messages.success(request, _("Échéancier annulé : le solde est de nouveau dû."))
        elif action in ("payee", "debiter"):
            inst = get_object_or_404(Instalment, schedule=schedule,
                                     pk=_int(request.POST.get("echeance")))
            if action == "payee":
                schedules.instalment_paid(instalment=inst, actor=request.user, note=_(
                    "Virement reçu le %(date)s") % {
                        "date": timezone.localdate().strftime("%d/%m/%Y")})
                messages.success(request, _("Échéance enregistrée comme payée."))
            elif schedules.instalment_request(inst):
                messages.success(request, _("Échéance demandée."))
            else:
                messages.error(request, _("Cette échéance n'est plus à demander."))
        else:
            messages.error(request, _("Action inconnue."))
    except DomainError as exc:
        if exc.status == 403:
            raise
        messages.error(request, error_text(exc))
    return redirect("billing:schedule", pk=schedule.pk)


def _int(value: object) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return 0
    return number if 0 < number < 2**62 else 0

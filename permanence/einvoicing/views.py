"""Facturation › Plateforme (the transmissions to the plateforme agréée, « Retransmettre »)
and Facturation › E-reporting (the period's B2C figures, JSON download)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, Forbidden

from . import ereporting, selectors, services
from .models import TransmissionStatus
from .permissions import can_retransmit, can_view_einvoicing

einvoicing_required = role_required(lambda u: u.is_active and can_view_einvoicing(u))


@einvoicing_required
def platform(request: AuthedHttpRequest) -> HttpResponse:
    status = request.GET.get("statut", "")
    rows = selectors.transmissions_filtered(status=status)
    events = selectors.events_of(rows)
    for row in rows:
        row.timeline = events[row.pk]  # type: ignore[attr-defined]
    return render(request, "einvoicing/platform.html", {
        "rows": rows, "status": status,
        "statuses": TransmissionStatus.choices, "counts": selectors.transmission_counts(),
        "can_retransmit": can_retransmit(request.user),
        "retransmittable": (TransmissionStatus.FAILED, TransmissionStatus.REJECTED)})


@require_POST
@einvoicing_required
def retransmit(request: AuthedHttpRequest, number: str) -> HttpResponse:
    if not can_retransmit(request.user):
        raise Forbidden(_("Seule la comptabilité retransmet une facture à la plateforme."))
    try:
        row = services.transmission_retransmit(actor=request.user, invoice_number=number[:20])
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Facture %(n)s remise en file de transmission (%(t)s).")
                         % {"n": number, "t": row.tracking_id})
    return redirect("einvoicing:platform")


def _period(request: AuthedHttpRequest) -> tuple[str, ereporting.Report]:
    start, end = ereporting.month_bounds(request.GET.get("mois", ""),
                                         today=timezone.localdate())
    return start.strftime("%Y-%m"), ereporting.report(start=start, end=end)


@einvoicing_required
def ereporting_page(request: AuthedHttpRequest) -> HttpResponse:
    month, data = _period(request)
    return render(request, "einvoicing/ereporting.html", {
        "month": month, "report": data, "transaction_totals": data.totals(data.transactions),
        "payment_totals": data.totals(data.payments)})


@einvoicing_required
def ereporting_json(request: AuthedHttpRequest) -> HttpResponse:
    month, data = _period(request)
    response = HttpResponse(json.dumps(ereporting.as_flux10(data), ensure_ascii=False,
                                       indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="e-reporting-{month}.json"'
    response["Cache-Control"] = "private, no-store"
    return response

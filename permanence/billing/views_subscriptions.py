"""Facturation › Abonnements (back office): every subscription with its status, monthly
price and next invoice, and the staff actions (suspend, resume, cancel with notice, withdraw a
cancellation). Billing staff, administrators and supervisors (can_view_billing)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, error_text

from . import subscriptions as lifecycle
from .models import Subscription, SubscriptionStatus
from .permissions import can_view_billing

billing_required = role_required(lambda u: u.is_active and can_view_billing(u))
PER_PAGE = 50
ACTIONS = ("suspendre", "reprendre", "resilier", "annuler-resiliation")


@billing_required
def subscriptions(request: AuthedHttpRequest) -> HttpResponse:
    status = request.GET.get("statut", "")
    query = request.GET.get("q", "").strip()[:100]
    qs = Subscription.objects.select_related("account", "offer").order_by("account__name", "pk")
    if status in SubscriptionStatus.values:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(account__name__icontains=query)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(s, lifecycle.total_monthly_cents(s)) for s in page.object_list]
    return render(request, "billing/subscriptions.html", {
        "rows": rows, "page": page, "statuses": SubscriptionStatus.choices, "status": status,
        "q": query, "today": lifecycle.today()})


@require_POST
@billing_required
def subscription_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    sub = get_object_or_404(Subscription, pk=pk)
    on = lifecycle.today()
    try:
        if action == "suspendre":
            days = int(request.POST.get("jours") or 30)
            lifecycle.subscription_suspend(subscription=sub, on=on,
                                           until=on + timedelta(days=days),
                                           actor=request.user)
            messages.success(request, _("Abonnement suspendu."))
        elif action == "reprendre":
            lifecycle.subscription_resume(subscription=sub, actor=request.user)
            messages.success(request, _("Abonnement repris."))
        elif action == "resilier":
            done = lifecycle.cancel_apply(subscription=sub, on=on, actor=request.user)
            messages.success(request, _("Résiliation programmée au %(date)s.")
                             % {"date": date_format(done.ends_on or on)})
        elif action == "annuler-resiliation":
            lifecycle.cancel_withdraw(subscription=sub, on=on, actor=request.user)
            messages.success(request, _("Résiliation annulée."))
        else:
            messages.error(request, _("Action inconnue."))
    except ValueError:
        messages.error(request, _("Durée de suspension invalide."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, error_text(exc))
    return redirect("billing:subscriptions")

"""Paramètres → Webhooks (administrators): list, create, delete, delivery log, redeliver."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError

from . import permissions, services
from .forms import WebhookEndpointForm
from .models import WebhookDelivery, WebhookEndpoint

admin_required = role_required(permissions.can_manage_webhooks)

LOG_SIZE = 50


@admin_required
def webhook_list(request: AuthedHttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.webhook_endpoint_create(
                actor=request.user, url=data["url"], events=data["events"],
                account=data["account"], description=data["description"],
                allow_private=data["allow_private"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Webhook créé. Copiez son secret pour vérifier les "
                                        "signatures."))
            return redirect("integrations:webhook_detail", pk=endpoint.pk)
    endpoints = WebhookEndpoint.objects.select_related("account").order_by("-created_at")
    return render(request, "integrations/webhooks.html",
                  {"form": form, "endpoints": endpoints},
                  status=422 if form.errors else 200)


@admin_required
def webhook_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("account"), pk=pk)
    deliveries = (WebhookDelivery.objects.filter(endpoint=endpoint)
                  .prefetch_related("attempt_log").order_by("-created_at", "-id")[:LOG_SIZE])
    return render(request, "integrations/webhook_detail.html",
                  {"endpoint": endpoint, "deliveries": deliveries})


@require_POST
@admin_required
def webhook_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.webhook_endpoint_delete(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Webhook supprimé."))
    return redirect("integrations:webhooks")


@require_POST
@admin_required
def delivery_redeliver(request: AuthedHttpRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"),
                                 pk=delivery_id)
    services.webhook_delivery_redeliver(actor=request.user, delivery=delivery)
    messages.success(request, _("Nouvel envoi programmé."))
    return redirect("integrations:webhook_detail", pk=delivery.endpoint_id)

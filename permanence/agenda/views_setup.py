"""The agenda's set-up pages: per client account its resources (hours, absences, ICS feed,
CalDAV sync and its errors), its motifs, and its settings (public page, reminders).
Secretaries read them; supervisors and administrators change them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.selectors import accounts_visible_to, get_account_for_user
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError, Forbidden, NotFound, error_text

from . import selectors, services
from .forms import ExceptionForm
from .forms_setup import CaldavForm, ResourceForm, SettingsForm, TypeForm
from .models import AppointmentType, AvailabilityException, Resource
from .permissions import can_configure
from .views import agenda_required


def _configure_check(request: AuthedHttpRequest) -> None:
    if not can_configure(request.user):
        raise Forbidden(_("Seuls les superviseurs paramètrent les agendas."))


@agenda_required
def setup_home(request: AuthedHttpRequest) -> HttpResponse:
    accounts = (accounts_visible_to(request.user).filter(is_operator=False)
                .annotate(n_resources=Count("agenda_resources", distinct=True),
                          n_types=Count("appointment_types", distinct=True,
                                        filter=Q(appointment_types__active=True)))
                .order_by("-n_resources", "name")[:200])
    return render(request, "agenda/setup_home.html", {"accounts": accounts})


def _account_page(request: AuthedHttpRequest, account: Any, *, resource_form: Any = None,
                  type_form: Any = None, settings_form: Any = None,
                  status: int = 200) -> HttpResponse:
    resources = list(Resource.objects.filter(account=account))
    prefs = selectors.settings_for(account.pk)
    return render(request, "agenda/setup_account.html", {
        "account": account, "resources": resources,
        "types": list(AppointmentType.objects.filter(account=account)
                      .prefetch_related("resources")),
        "prefs": prefs, "can_configure": can_configure(request.user),
        "public_url": settings.SITE_URL.rstrip("/") + reverse("agenda_public:booking",
                                                               args=[account.slug]),
        "no_show_rate": selectors.no_show_rate(account.pk),
        "resource_form": resource_form or ResourceForm(initial={"timezone": "Europe/Paris",
                                                                 "holidays": "FR"}),
        "type_form": type_form or TypeForm(resources=resources),
        "settings_form": settings_form or SettingsForm(initial={
            "online_booking": prefs.online_booking, "public_intro": prefs.public_intro,
            "email_reminder": prefs.email_reminder, "sms_reminder": prefs.sms_reminder,
            "allowed_origins": prefs.allowed_origins}),
    }, status=status)


@agenda_required
def account_setup(request: AuthedHttpRequest, account_id: int) -> HttpResponse:
    account = get_account_for_user(request.user, account_id)
    if request.method != "POST":
        return _account_page(request, account)
    _configure_check(request)
    action = request.POST.get("action", "")
    resources = list(Resource.objects.filter(account=account))
    form: Any
    try:
        if action == "resource":
            form = ResourceForm(request.POST)
            if not form.is_valid():
                return _account_page(request, account, resource_form=form, status=422)
            services.resource_create(actor=request.user, account_id=account.pk,
                                     data=form.data_for_service())
        elif action == "type":
            form = TypeForm(request.POST, resources=resources)
            if not form.is_valid():
                return _account_page(request, account, type_form=form, status=422)
            data, ids = form.data_for_service()
            services.type_create(actor=request.user, account_id=account.pk, data=data,
                                 resource_ids=ids)
        elif action == "settings":
            form = SettingsForm(request.POST)
            if not form.is_valid():
                return _account_page(request, account, settings_form=form, status=422)
            services.settings_update(actor=request.user, account_id=account.pk,
                                     data=form.cleaned_data)
        else:
            raise NotFound()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        apply_field_errors(form, exc.fields, error_text(exc))
        key = {"resource": "resource_form", "type": "type_form"}.get(action, "settings_form")
        return _account_page(request, account, status=exc.status, **{key: form})
    messages.success(request, _("Enregistré."))
    return redirect("agenda:account_setup", account_id=account.pk)


def _resource_page(request: AuthedHttpRequest, resource: Resource, *, form: Any = None,
                   caldav_form: Any = None, exception_form: Any = None,
                   status: int = 200) -> HttpResponse:
    data = {"timezone": resource.timezone, "weekly": resource.weekly,
            "holidays": resource.holidays}
    return render(request, "agenda/setup_resource.html", {
        "resource": resource, "account": resource.account,
        "can_configure": can_configure(request.user),
        "ics_url": settings.SITE_URL.rstrip("/") + reverse("agenda_public:ics",
                                                            args=[resource.ics_token]),
        "exceptions": list(AvailabilityException.objects.filter(
            resource=resource).exclude(kind="busy").order_by("-start")[:50]),
        "busy_count": AvailabilityException.objects.filter(resource=resource,
                                                           kind="busy").count(),
        "form": form or ResourceForm(initial={"name": resource.name,
                                              **ResourceForm.initial_from_json(data)}),
        "caldav_form": caldav_form or CaldavForm(initial={
            "caldav_url": resource.caldav_url, "caldav_username": resource.caldav_username}),
        "exception_form": exception_form or ExceptionForm(),
        "tz": selectors.resource_tz(resource),
    }, status=status)


@agenda_required
def resource_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    resource = selectors.get_resource_for_user(request.user, pk)
    if request.method != "POST":
        return _resource_page(request, resource)
    _configure_check(request)
    action = request.POST.get("action", "")
    form: Any = ResourceForm(request.POST) if action == "hours" else CaldavForm(request.POST)
    if action not in ("hours", "caldav"):
        raise NotFound()
    key = "form" if action == "hours" else "caldav_form"
    if not form.is_valid():
        return _resource_page(request, resource, status=422, **{key: form})
    if action == "hours":
        data = form.data_for_service()
    else:
        data = {k: v for k, v in form.cleaned_data.items()
                if k != "caldav_password" or v}
    try:
        services.resource_update(actor=request.user, resource=resource, data=data)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        apply_field_errors(form, exc.fields, error_text(exc))
        return _resource_page(request, resource, status=exc.status, **{key: form})
    messages.success(request, _("Enregistré."))
    return redirect("agenda:resource", pk=resource.pk)


@require_POST
@agenda_required
def exception_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    resource = selectors.get_resource_for_user(request.user, pk)
    form = ExceptionForm(request.POST)
    if not form.is_valid():
        return _resource_page(request, resource, exception_form=form, status=422)
    start, end = form.in_zone(selectors.resource_tz(resource))
    try:
        services.exception_add(actor=request.user, resource=resource,
                               kind=form.cleaned_data["kind"], start=start, end=end,
                               note=form.cleaned_data["note"])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        apply_field_errors(form, exc.fields, error_text(exc))
        return _resource_page(request, resource, exception_form=form, status=exc.status)
    messages.success(request, _("Enregistré : les créneaux concernés sont à jour."))
    return redirect("agenda:resource", pk=resource.pk)


@require_POST
@agenda_required
def exception_remove(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    visible = selectors.resources_visible_to(request.user)
    exception = AvailabilityException.objects.select_related("resource").filter(
        pk=pk, resource__in=visible).first()
    if exception is None:
        raise NotFound()
    try:
        services.exception_remove(actor=request.user, exception=exception)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, error_text(exc))
    return redirect("agenda:resource", pk=exception.resource_id)


@require_POST
@agenda_required
def ics_revoke(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    resource = selectors.get_resource_for_user(request.user, pk)
    services.resource_ics_revoke(actor=request.user, resource=resource)
    messages.success(request, _("Nouvelle adresse du flux : l'ancienne ne fonctionne plus."))
    return redirect("agenda:resource", pk=resource.pk)

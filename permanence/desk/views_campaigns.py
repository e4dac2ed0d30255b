"""Outbound campaigns: list and creation, one campaign (import, status, results), and the
calling screen (the next person, the script, the result)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError, Forbidden, NotFound

from . import campaigns, dialer
from .forms_campaigns import AttemptForm, CampaignForm, ImportForm
from .models_campaigns import CampaignStatus, CampaignTarget, Disposition
from .permissions import can_supervise_desk, can_take_calls

PAGE_SIZE = 50


def _require_caller(request: AuthedHttpRequest) -> None:
    if not can_take_calls(request.user):
        raise Forbidden()


@staff_required
def campaign_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_caller(request)
    form = CampaignForm(accounts=accounts_visible_to(request.user).order_by("name"))
    status = 200
    if request.method == "POST":
        form = CampaignForm(request.POST, accounts=accounts_visible_to(request.user)
                            .order_by("name"))
        if form.is_valid():
            try:
                campaign = campaigns.campaign_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                apply_field_errors(form, exc.fields, str(exc.message))
                status = exc.status
            else:
                messages.success(request, _("Campagne créée : importez maintenant la liste."))
                return redirect("desk:campaign", pk=campaign.pk)
        else:
            status = 422
    return render(request, "desk/campaigns.html", {
        "campaigns": campaigns.campaign_list(request.user), "form": form,
        "can_create": can_supervise_desk(request.user)}, status=status)


def _render_campaign(request: AuthedHttpRequest, campaign: campaigns.Campaign, *,
                     import_form: ImportForm | None = None,
                     report: object = None, status: int = 200) -> HttpResponse:
    targets = campaign.targets.select_related("claimed_by").order_by("id")
    page = Paginator(targets, PAGE_SIZE).get_page(request.GET.get("page"))
    results = campaigns.campaign_results(campaign)
    return render(request, "desk/campaign.html", {
        "campaign": campaign, "page": page, "results": results,
        "dispositions": [(label, results.by_disposition.get(value, 0))
                         for value, label in Disposition.choices],
        "import_form": import_form or ImportForm(), "report": report,
        "can_manage": can_supervise_desk(request.user),
        "moves": sorted(campaigns.CAMPAIGN_TRANSITIONS.get(campaign.status, set())),
        "statuses": dict(CampaignStatus.choices),
        "opening": campaigns.campaign_opening(campaign),
    }, status=status)


@staff_required
def campaign_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_caller(request)
    return _render_campaign(request, campaigns.get_campaign_for_user(request.user, pk))


@require_POST
@staff_required
def campaign_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_caller(request)
    campaign = campaigns.get_campaign_for_user(request.user, pk)
    try:
        campaigns.campaign_transition(actor=request.user, campaign=campaign,
                                      to=request.POST.get("to", ""))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _render_campaign(request, campaign, status=exc.status)
    return redirect("desk:campaign", pk=campaign.pk)


@require_POST
@staff_required
def campaign_import(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_caller(request)
    campaign = campaigns.get_campaign_for_user(request.user, pk)
    if not can_supervise_desk(request.user):
        raise Forbidden(_("Seuls les superviseurs importent les listes."))
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_campaign(request, campaign, import_form=form, status=422)
    upload = form.cleaned_data["file"]
    try:
        report = campaigns.campaign_import_contacts(actor=request.user, campaign=campaign,
                                                    filename=upload.name, upload=upload)
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _render_campaign(request, campaign, import_form=form, status=exc.status)
    if not report.ok:
        messages.error(request, _("Rien n'a été importé : corrigez les lignes signalées et "
                                  "renvoyez le fichier."))
        return _render_campaign(request, campaign, report=report, status=422)
    messages.success(request, ngettext("%(n)s personne importée.", "%(n)s personnes importées.",
                                       report.imported) % {"n": report.imported})
    return _render_campaign(request, campaign, report=report)


@require_POST
@staff_required
def campaign_next(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    _require_caller(request)
    return _next(request, campaigns.get_campaign_for_user(request.user, pk))


def _next(request: AuthedHttpRequest, campaign: campaigns.Campaign) -> HttpResponse:
    try:
        target = campaigns.campaign_next_target(agent=request.user, campaign=campaign)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("desk:campaign", pk=campaign.pk)
    if target is None:
        messages.info(request, _("Personne à appeler pour l'instant : tout le monde a été "
                                 "appelé ou attend son prochain essai."))
        return redirect("desk:campaign", pk=campaign.pk)
    return redirect("desk:campaign_target", pk=target.pk)


def _target_for(request: AuthedHttpRequest, pk: int) -> CampaignTarget:
    _require_caller(request)
    try:
        target = (CampaignTarget.objects.select_related("campaign__account")
                  .filter(campaign__in=campaigns.campaigns_visible_to(request.user)).get(pk=pk))
    except CampaignTarget.DoesNotExist:
        raise NotFound(_("Personne introuvable.")) from None
    return target


def _render_target(request: AuthedHttpRequest, target: CampaignTarget,
                   form: AttemptForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "desk/campaign_target.html", {
        "target": target, "campaign": target.campaign, "form": form or AttemptForm(),
        "attempts": target.attempt_rows.select_related("agent").order_by("-at"),
        "dialer": dialer.dialer_mode(),
    }, status=status)


@staff_required
def campaign_target(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _render_target(request, _target_for(request, pk))


@require_POST
@staff_required
def campaign_attempt(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    target = _target_for(request, pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return _render_target(request, target, form, status=422)
    try:
        campaigns.campaign_attempt_record(agent=request.user, target=target,
                                          **form.cleaned_data)
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _render_target(request, target, form, status=exc.status)
    messages.success(request, _("Résultat enregistré."))
    if request.POST.get("then") == "next":
        return _next(request, target.campaign)
    return redirect("desk:campaign", pk=target.campaign_id)


@require_POST
@staff_required
def campaign_dial(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    target = _target_for(request, pk)
    try:
        dialer.click_to_call(agent=request.user, target=target)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _render_target(request, target, status=exc.status)
    messages.success(request, _("Votre téléphone va sonner, puis le numéro sera composé."))
    return redirect("desk:campaign_target", pk=target.pk)

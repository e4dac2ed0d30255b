"""The site editor at /app/site/ (administrators): offers, public pages, CGV versions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError

from . import selectors, services
from .forms import OfferForm, PageForm, TermsForm, apply_domain_error
from .models import Offer, PublicPage, TermsVersion
from .permissions import can_manage_catalog

admin_only = role_required(can_manage_catalog)


@admin_only
def home(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "catalog/staff/home.html", {
        "offers": Offer.objects.count(),
        "published": Offer.objects.filter(is_published=True).count(),
        "pages": PublicPage.objects.count(),
        "current_terms": selectors.current_terms(),
        "drafts": TermsVersion.objects.filter(published_at__isnull=True).count()})


@admin_only
def offers(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "catalog/staff/offers.html",
                  {"offers": list(selectors.offers_for_staff())})


@admin_only
def offer_create(request: AuthedHttpRequest) -> HttpResponse:
    return _offer_form(request, None)


@admin_only
def offer_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _offer_form(request, get_object_or_404(Offer, pk=pk))


def _offer_form(request: AuthedHttpRequest, offer: Offer | None) -> HttpResponse:
    form = OfferForm(request.POST or None, instance=offer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.offer_save(actor=request.user, offer=offer,
                                            data=form.service_data())
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Offre « %(name)s » enregistrée.") % {
                    "name": saved.name})
                return redirect("site_admin:offers")
        status = 422
    return render(request, "catalog/staff/offer_form.html",
                  {"form": form, "offer": offer}, status=status)


@admin_only
@require_POST
def offer_publish(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    offer = get_object_or_404(Offer, pk=pk)
    published = request.POST.get("published", "1") == "1"
    saved = services.offer_set_published(actor=request.user, offer=offer, published=published)
    messages.success(request, (_("« %(name)s » est publiée.") if saved.is_published
                               else _("« %(name)s » n'est plus publiée.")) % {"name": saved.name})
    return redirect("site_admin:offers")


@admin_only
def pages(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "catalog/staff/pages.html",
                  {"pages": list(PublicPage.objects.select_related("updated_by"))})


@admin_only
def page_create(request: AuthedHttpRequest) -> HttpResponse:
    return _page_form(request, None)


@admin_only
def page_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _page_form(request, get_object_or_404(PublicPage, pk=pk))


def _page_form(request: AuthedHttpRequest, page: PublicPage | None) -> HttpResponse:
    form = PageForm(request.POST or None, instance=page)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.page_save(actor=request.user, page=page,
                                           data=dict(form.cleaned_data))
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Page « %(title)s » enregistrée.") % {
                    "title": saved.title})
                return redirect("site_admin:pages")
        status = 422
    return render(request, "catalog/staff/page_form.html", {"form": form, "page": page},
                  status=status)


@admin_only
def terms_list(request: AuthedHttpRequest) -> HttpResponse:
    current = selectors.current_terms()
    return render(request, "catalog/staff/terms.html", {
        "versions": list(TermsVersion.objects.select_related("created_by")
                         .order_by("-created_at", "-pk")),
        "current": current})


@admin_only
def terms_create(request: AuthedHttpRequest) -> HttpResponse:
    initial = {}
    latest = selectors.current_terms()
    if latest is not None:  # start from the text in force
        initial = {"body": latest.body, "body_en": latest.body_en}
    return _terms_form(request, None, initial)


@admin_only
def terms_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _terms_form(request, get_object_or_404(TermsVersion, pk=pk), {})


def _terms_form(request: AuthedHttpRequest, terms: TermsVersion | None,
                initial: dict[str, str]) -> HttpResponse:
    readonly = terms is not None and terms.published_at is not None
    form = TermsForm(None if readonly else (request.POST or None), instance=terms,
                     initial=initial)
    status = 200
    if request.method == "POST":
        if readonly:
            messages.error(request, _("Une version publiée des CGV ne peut plus être "
                                      "modifiée : créez une nouvelle version."))
            return redirect("site_admin:terms")
        if form.is_valid():
            try:
                saved = services.terms_save(actor=request.user, terms=terms,
                                            data=dict(form.cleaned_data))
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("Brouillon des CGV %(v)s enregistré.") % {
                    "v": saved.version})
                return redirect("site_admin:terms")
        status = 422
    return render(request, "catalog/staff/terms_form.html",
                  {"form": form, "terms": terms, "readonly": readonly}, status=status)


@admin_only
@require_POST
def terms_publish(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    terms = get_object_or_404(TermsVersion, pk=pk)
    try:
        services.terms_publish(actor=request.user, terms=terms)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Les CGV %(v)s sont publiées et s'appliquent désormais "
                                    "aux nouvelles commandes.") % {"v": terms.version})
    return redirect("site_admin:terms")

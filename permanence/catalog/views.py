"""The operator's public site: offers, comparison, live price, sectors, service client, CGV,
editable pages. Anonymous visitors welcome; French first, English from the *_en fields."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from permanence.accounts.models import Sector
from permanence.calendars.selectors import active_notices
from permanence.core.errors import NotFound
from permanence.inbox.models_complaints import ComplaintStep

from . import selectors, service_promise
from .documents import terms_pdf

# Where the cart engineer's endpoint lives (POST offer, quantity, repeated options).
CART_ADD_PATH = "/panier/ajouter/"


def _page(request: HttpRequest, template: str, context: dict[str, Any],
          status: int = 200) -> HttpResponse:
    context.setdefault("notices", active_notices(audience="public"))
    return render(request, template, context, status=status)


def sector_slug(sector: str) -> str:
    """The editable page of a sector: secteur-medical, secteur-artisan-btp, ..."""
    return "secteur-" + sector.replace("_", "-")


def sector_links() -> list[tuple[str, str]]:
    return [(value, str(Sector(value).label)) for value in selectors.PUBLIC_SECTORS]


@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    options, one_offs = selectors.extras()
    intro = selectors.published_page_or_none("offres")
    return _page(request, "catalog/plans.html", {
        "plans": selectors.comparison_plans(), "options": options, "one_offs": one_offs,
        "intro_body": selectors.page_body(intro) if intro else "", "sectors": sector_links()})


def _offer_or_404(slug: str) -> Any:
    try:
        return selectors.get_published_offer(slug)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None


@require_GET
def plan(request: HttpRequest, slug: str) -> HttpResponse:
    offer = _offer_or_404(slug)
    quote = selectors.parse_price_request(offer, request.GET)
    return _page(request, "catalog/plan.html", {
        "offer": offer, "quote": quote, "cart_add_path": CART_ADD_PATH,
        "chosen": {o.slug for o in quote.options}, "max_quantity": selectors.MAX_QUANTITY})


@require_GET
def plan_price(request: HttpRequest, slug: str) -> HttpResponse:
    """The live price fragment (htmx): totals computed here, with core/money."""
    offer = _offer_or_404(slug)
    quote = selectors.parse_price_request(offer, request.GET)
    return render(request, "catalog/_price.html", {"offer": offer, "quote": quote},
                  status=422 if quote.errors else 200)


@require_GET
def sectors(request: HttpRequest) -> HttpResponse:
    return _page(request, "catalog/sectors.html", {"sectors": sector_links()})


@require_GET
def sector(request: HttpRequest, sector: str) -> HttpResponse:
    if sector not in selectors.PUBLIC_SECTORS:
        raise Http404(_("Ce secteur n'existe pas."))
    page = selectors.published_page_or_none(sector_slug(sector))
    return _page(request, "catalog/sector.html", {
        "sector": sector, "sector_label": Sector(sector).label, "page": page,
        "page_title": selectors.page_title(page) if page else "",
        "page_body": selectors.page_body(page) if page else "",
        "plans": selectors.offers_for_sector(sector), "sectors": sector_links()})


@require_GET
def service_client(request: HttpRequest) -> HttpResponse:

    page = selectors.published_page_or_none("service-client")
    steps = [
        (ComplaintStep.RECEPTION.label, _(
            "Votre réclamation est enregistrée et horodatée, rattachée à votre compte et à la "
            "commande concernée ; un accusé de réception vous est adressé.")),
        (ComplaintStep.ANALYSIS.label, _(
            "Nous vérifions la commande, le contrat, les factures et l'historique des "
            "échanges, qualifions la demande et évaluons son urgence.")),
        (ComplaintStep.TREATMENT.label, _(
            "Nous mettons en œuvre la solution adaptée (correction de commande, ajustement ou "
            "remboursement, geste commercial, explication détaillée) et vous répondons dans "
            "les délais annoncés.")),
        (ComplaintStep.CLOSURE.label, _(
            "Nous vérifions votre satisfaction, clôturons la réclamation et archivons le "
            "dossier de manière sécurisée, conformément au RGPD.")),
    ]
    return _page(request, "catalog/service_client.html", {
        "page": page, "page_body": selectors.page_body(page) if page else "",
        "delays": service_promise.response_delays(), "opening": service_promise.opening(),
        "announcements": service_promise.upcoming_announcements(), "complaint_steps": steps})


@require_GET
def terms(request: HttpRequest) -> HttpResponse:
    current = selectors.current_terms()
    if current is None:
        raise Http404(_("Les conditions générales de vente ne sont pas encore publiées."))
    return _terms_page(request, current)


@require_GET
def terms_version(request: HttpRequest, version: str) -> HttpResponse:
    try:
        terms_row = selectors.get_published_terms(version)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    return _terms_page(request, terms_row)


def _terms_page(request: HttpRequest, terms_row: Any) -> HttpResponse:
    current = selectors.current_terms()
    return _page(request, "catalog/terms.html", {
        "terms": terms_row, "body": selectors.terms_body(terms_row),
        "is_current": current is not None and current.pk == terms_row.pk,
        "current": current, "versions": list(selectors.published_terms()[:50])})


@require_GET
def terms_version_pdf(request: HttpRequest, version: str) -> HttpResponse:
    try:
        terms_row = selectors.get_published_terms(version)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    response = HttpResponse(terms_pdf(terms_row), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="CGV-{terms_row.version}.pdf"'
    return response


@require_GET
def page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        row = selectors.get_published_page(slug)
    except NotFound as exc:
        raise Http404(str(exc.message)) from None
    return _page(request, "catalog/page.html", {
        "page": row, "title": selectors.page_title(row), "body": selectors.page_body(row)})

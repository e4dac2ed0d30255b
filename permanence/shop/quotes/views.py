"""Quote pages: the staff list and editor (/app/boutique/devis/), the public request form
(/devis/demande/) and the client's page behind the quote's link (/devis/<token>/)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import Role
from permanence.accounts.selectors import (
    PORTAL_ACCOUNT_SESSION_KEY,
    accounts_of_client,
    client_current_account,
)
from permanence.audit.services import audit_view
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, NotFound
from permanence.core.middleware import client_ip
from permanence.shop.models import QUOTE_TRANSITIONS, Quote, QuoteStatus
from permanence.shop.permissions import can_manage_quotes

from . import selectors, services
from .documents import quote_pdf, quote_pdf_filename
from .forms import (
    CONSENT_TEXT,
    HONEYPOT_FIELD,
    LinkAccountForm,
    QuoteAcceptForm,
    QuoteCreateForm,
    QuoteDeclineForm,
    QuoteFilterForm,
    QuoteHeaderForm,
    QuoteLineFormSet,
    QuoteRequestForm,
    kept_line_forms,
    line_initial,
    lines_from_formset,
    offer_choices,
)

PAGE_SIZE = 50
RATE_LIMIT_MESSAGE = gettext_lazy("Trop de demandes ont été envoyées depuis votre connexion. "
                                  "Merci de patienter quelques minutes avant de réessayer.")
# Statuses in which the client sees the quote's content (lines, totals, PDF).
SHOWN_STATUSES = (QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED,
                  QuoteStatus.EXPIRED)

manager_required = role_required(can_manage_quotes)


def _pay_url(order: Any) -> str:
    return f"/commande/{order.reference}/payer/"


# --- Staff ------------------------------------------------------------------------------------

@require_GET
@manager_required
def quote_list(request: AuthedHttpRequest) -> HttpResponse:
    form = QuoteFilterForm(request.GET or None)
    filters: dict[str, Any] = {"status": "", "overdue": False, "q": ""}
    if form.is_valid():
        filters.update({k: form.cleaned_data.get(k) or v for k, v in filters.items()})
    qs = selectors.quote_list(request.user, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "shop/quotes/list.html", {
        "form": form, "page": page, "counters": selectors.quote_counters(request.user),
        "filtered": any(filters.values()), "query": query.urlencode(),
        "statuses": QuoteStatus.choices, "now": clock.now(),
    })


@require_http_methods(["GET", "POST"])
@manager_required
def quote_new(request: AuthedHttpRequest) -> HttpResponse:
    form = QuoteCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            account = data.pop("account", None)
            try:
                quote = services.quote_create(actor=request.user, data=data, account=account)
            except DomainError as exc:
                apply_field_errors(form, exc.fields, str(exc.message))
            else:
                messages.success(request, _("Devis %(ref)s créé : ajoutez ses lignes.")
                                 % {"ref": quote.reference})
                return redirect("quotes:detail", pk=quote.pk)
        status = 422
    return render(request, "shop/quotes/new.html", {"form": form}, status=status)


def _header_initial(quote: Quote) -> dict[str, Any]:
    fields = (*services.REQUESTER_FIELDS, "message", "valid_until")
    return {name: getattr(quote, name) for name in fields}


def _apply_line_errors(formset: Any, fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """`lines.<n>.<field>` errors go to the n-th kept line form; the rest is returned."""
    kept = kept_line_forms(formset)
    rest: dict[str, list[str]] = {}
    for key, msgs in fields.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() \
                and int(parts[1]) < len(kept):
            form = kept[int(parts[1])]
            name = parts[2] if parts[2] in form.fields else None
            for msg in msgs:
                form.add_error(name, msg)
        else:
            rest[key] = msgs
    return rest


@require_http_methods(["GET", "POST"])
@manager_required
def quote_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    quote = selectors.get_quote_for_staff(request.user, pk)
    editable = quote.status in selectors.EDITABLE_STATUSES
    lines = selectors.quote_lines(quote)
    status = 200
    if request.method == "POST" and editable:
        header = QuoteHeaderForm(request.POST, prefix="q")
        formset = QuoteLineFormSet(request.POST, prefix="lines",
                                   form_kwargs={"offer_choices": offer_choices()})
        if header.is_valid() and formset.is_valid():
            try:
                services.quote_save(actor=request.user, quote=quote,
                                    data=header.cleaned_data,
                                    lines=lines_from_formset(formset))
            except DomainError as exc:
                rest = _apply_line_errors(formset, exc.fields)
                apply_field_errors(header, rest, str(exc.message))
            else:
                messages.success(request, _("Devis enregistré."))
                return redirect("quotes:detail", pk=quote.pk)
        status = 422
    else:
        if request.method == "POST":
            messages.error(request, _("Ce devis n'est plus modifiable : repassez-le en "
                                      "brouillon pour le changer."))
            status = 409
        header = QuoteHeaderForm(initial=_header_initial(quote), prefix="q")
        formset = QuoteLineFormSet(initial=[line_initial(line) for line in lines],
                                   prefix="lines",
                                   form_kwargs={"offer_choices": offer_choices()})
    audit_view(actor=request.user, target=quote, account=quote.account)
    return render(request, "shop/quotes/detail.html", {
        "quote": quote, "lines": lines, "editable": editable, "header": header,
        "formset": formset, "history": _labelled(selectors.quote_history(quote)),
        "orders": list(quote.orders.order_by("pk")),
        "link_form": LinkAccountForm(initial={"account": quote.account_id}),
        "can_send": QuoteStatus.SENT in QUOTE_TRANSITIONS.get(quote.status, set()),
        "can_cancel": QuoteStatus.CANCELLED in QUOTE_TRANSITIONS.get(quote.status, set()),
        "can_reopen": quote.status in (QuoteStatus.SENT, QuoteStatus.EXPIRED,
                                       QuoteStatus.DECLINED),
        "overdue": quote.status in selectors.OPEN_REQUEST_STATUSES
        and quote.response_due_at is not None and quote.response_due_at < clock.now(),
    }, status=status)


def _labelled(history: Any) -> list[Any]:
    labels = dict(QuoteStatus.choices)
    rows = list(history)
    for row in rows:
        row.from_label = labels.get(row.from_status, row.from_status)
        row.to_label = labels.get(row.to_status, row.to_status)
    return rows


def _action(request: AuthedHttpRequest, pk: int, run: Any, success: str) -> HttpResponse:
    quote = selectors.get_quote_for_staff(request.user, pk)
    try:
        result = run(quote)
    except DomainError as exc:
        details = [m for msgs in exc.fields.values() for m in msgs]
        messages.error(request, " ".join(details) or str(exc.message))
        return redirect("quotes:detail", pk=quote.pk)
    target = result if isinstance(result, Quote) else quote
    messages.success(request, success % {"ref": target.reference})
    return redirect("quotes:detail", pk=target.pk)


@require_POST
@manager_required
def quote_send(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, lambda q: services.quote_send(actor=request.user, quote=q),
                   _("Devis %(ref)s envoyé au client (PDF et lien)."))


@require_POST
@manager_required
def quote_cancel(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, lambda q: services.quote_cancel(
        actor=request.user, quote=q, note=request.POST.get("note", "")[:300]),
        _("Devis %(ref)s annulé."))


@require_POST
@manager_required
def quote_reopen(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, lambda q: services.quote_reopen(actor=request.user, quote=q),
                   _("Devis %(ref)s repassé en brouillon."))


@require_POST
@manager_required
def quote_duplicate(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _action(request, pk, lambda q: services.quote_duplicate(actor=request.user, quote=q),
                   _("Nouveau brouillon %(ref)s créé à partir du devis."))


@require_POST
@manager_required
def quote_link_account(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    form = LinkAccountForm(request.POST)
    if not form.is_valid():
        quote = selectors.get_quote_for_staff(request.user, pk)
        messages.error(request, _("Choisissez un compte client dans la liste."))
        return redirect("quotes:detail", pk=quote.pk)
    account = form.cleaned_data.get("account")
    return _action(request, pk, lambda q: services.quote_link_account(
        actor=request.user, quote=q, account=account), _("Compte client du devis %(ref)s "
                                                         "mis à jour."))


@require_GET
@manager_required
def quote_staff_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    quote = selectors.get_quote_for_staff(request.user, pk)
    return _pdf_response(quote)


def _pdf_response(quote: Quote) -> HttpResponse:
    response = HttpResponse(quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote_pdf_filename(quote)}"'
    return response


# --- Public: request ----------------------------------------------------------------------------

def _request_page(request: HttpRequest, form: QuoteRequestForm, *, status: int = 200,
                  **extra: Any) -> HttpResponse:
    return render(request, "shop/quotes/request.html",
                  {"form": form, "honeypot": HONEYPOT_FIELD, **extra}, status=status)


def _request_account(request: HttpRequest) -> Any:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.role == Role.CLIENT):
        return None
    account, _accounts = client_current_account(
        user, request.session.get(PORTAL_ACCOUNT_SESSION_KEY))
    return account


def _request_initial(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    initial: dict[str, Any] = {"name": user.full_name, "email": user.email,
                               "phone": user.phone}
    if user.role == Role.CLIENT:
        account = accounts_of_client(user).first()
        if account is not None:
            initial.update(company=account.legal_name or account.name, sector=account.sector,
                           customer_kind=account.kind)
    return initial


@require_http_methods(["GET", "POST"])
def quote_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _request_page(request, QuoteRequestForm(initial=_request_initial(request)))
    ip = client_ip(request) or "inconnue"
    if services.request_rate_limited(ip):
        kept = {k: v for k, v in request.POST.items()
                if k not in (HONEYPOT_FIELD, "csrfmiddlewaretoken")}
        response = _request_page(request, QuoteRequestForm(initial=kept), status=429,
                                 refused=RATE_LIMIT_MESSAGE)
        response["Retry-After"] = str(services.request_retry_after_seconds())
        return response
    if request.POST.get(HONEYPOT_FIELD, "").strip():
        services.request_rate_hit(ip)  # a robot: look successful, keep nothing
        return render(request, "shop/quotes/request_done.html", {"quote": None})
    form = QuoteRequestForm(request.POST)
    if not form.is_valid():
        return _request_page(request, form, status=422)
    services.request_rate_hit(ip)
    data = form.cleaned_data
    try:
        quote = services.quote_request(
            name=data["name"], email=data["email"], phone=data["phone"],
            company=data["company"], customer_kind=data["customer_kind"],
            sector=data["sector"], needs=data["needs"],
            expected_volume=data["expected_volume"], hours=data["hours"],
            user=request.user, account=_request_account(request),
            consent_text=str(CONSENT_TEXT))
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _request_page(request, form, status=exc.status)
    return render(request, "shop/quotes/request_done.html", {
        "quote": quote, "due": services._format_due(quote.response_due_at)})


# --- Public: the quote behind its link --------------------------------------------------------

def _public_page(request: HttpRequest, quote: Quote, *, accept_form: QuoteAcceptForm | None = None,
                 status: int = 200, error: str = "") -> HttpResponse:
    shown = quote.status in SHOWN_STATUSES
    terms = selectors.current_terms()
    if accept_form is None:
        address = quote.account.billing_address if quote.account else ""
        accept_form = _accept_form(request, quote, initial={"billing_address": address})
    expired = quote.status == QuoteStatus.EXPIRED or (
        quote.status == QuoteStatus.SENT and selectors.is_expired(quote))
    return render(request, "shop/quotes/public.html", {
        "quote": quote, "shown": shown, "lines": selectors.quote_lines(quote) if shown else [],
        "terms": terms, "accept_form": accept_form, "decline_form": QuoteDeclineForm(),
        "expired": expired, "answerable": quote.status == QuoteStatus.SENT and not expired,
        "order": quote.orders.order_by("pk").first()
        if quote.status == QuoteStatus.ACCEPTED else None,
        "error": error,
    }, status=status)


def _accept_form(request: HttpRequest, quote: Quote, data: Any = None,
                 **kwargs: Any) -> QuoteAcceptForm:
    return QuoteAcceptForm(data, with_password=services.requester_needs_login(
        quote, request.user), email=quote.requester_email, **kwargs)


@require_GET
def quote_public(request: HttpRequest, token: str) -> HttpResponse:
    quote = selectors.get_quote_by_token(token)
    return _public_page(request, quote)


@require_GET
def quote_public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    quote = selectors.get_quote_by_token(token)
    if quote.status not in SHOWN_STATUSES:
        raise NotFound(_("Ce devis est en cours de préparation."))
    return _pdf_response(quote)


@require_POST
def quote_accept(request: HttpRequest, token: str) -> HttpResponse:
    quote = selectors.get_quote_by_token(token)
    if quote.status == QuoteStatus.ACCEPTED:
        order = quote.orders.order_by("pk").first()
        if order is not None:  # a second click: the same order, to pay
            return redirect(_pay_url(order))
    form = _accept_form(request, quote, request.POST)
    if not form.is_valid():
        return _public_page(request, quote, accept_form=form, status=422)
    try:
        order = services.quote_accept(
            quote=quote, user=request.user, terms_accepted=form.cleaned_data["accept_terms"],
            billing_address=form.cleaned_data["billing_address"],
            password=form.cleaned_data.get("password1") if form.with_password else None)
    except DomainError as exc:
        if exc.fields:
            apply_field_errors(form, exc.fields, str(exc.message))
            return _public_page(request, quote, accept_form=form, status=exc.status)
        return _public_page(request, quote, accept_form=form, status=exc.status,
                            error=str(exc.message))
    if form.with_password and order.buyer is not None and not request.user.is_authenticated:
        # The login was just made with the password typed here: sign the buyer in to pay.
        login(request, order.buyer, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_pay_url(order))


@require_POST
def quote_decline(request: HttpRequest, token: str) -> HttpResponse:
    quote = selectors.get_quote_by_token(token)
    form = QuoteDeclineForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        services.quote_decline(quote=quote, user=request.user, reason=reason)
    except DomainError as exc:
        return _public_page(request, quote, status=exc.status, error=str(exc.message))
    messages.success(request, _("Vous avez refusé ce devis. Merci de nous avoir répondu."))
    return redirect("quote_public:detail", token=quote.token)

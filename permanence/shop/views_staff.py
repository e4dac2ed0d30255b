"""The order board and the staff order pages (/app/boutique/commandes/).

Thin views: selectors read (orders_visible_to is the gate), services write (orders.py for
the state machine, order_checks.py for "Vérifier", contact.py for "Contacter le client")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.audit.services import audit_view
from permanence.core import clock, counting
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError

from . import permissions, selectors
from .contact import order_contact_client
from .documents import order_summary_pdf
from .forms_staff import BoardFilterForm, ContactForm, InformationForm, TransitionForm
from .models import ORDER_TRANSITIONS, Order, OrderStatus, PaymentMethod
from .order_checks import order_mark_checked
from .orders import (
    activation_waits_for_withdrawal,
    order_checks_pending,
    order_set_information_complete,
    order_transition,
)

PAGE_SIZE = 50
ACTIONS = [(OrderStatus.VALIDATED, gettext_lazy("Valider")),
           (OrderStatus.ACTIVATED, gettext_lazy("Activer")),
           (OrderStatus.CANCELLED, gettext_lazy("Annuler"))]


@staff_required
def shop_home(request: AuthedHttpRequest) -> HttpResponse:
    """/app/boutique/: the storefront's back office starts at the order board."""
    return redirect("orders:board")


@staff_required
def board(request: AuthedHttpRequest) -> HttpResponse:
    form = BoardFilterForm(request.GET)
    f = form.filters()
    now = clock.now()
    qs = selectors.board_list(
        request.user, tab=f["tab"], status=f["status"], account=f.get("account"),
        method=f["method"], date_from=f.get("date_from"), date_to=f.get("date_to"), q=f["q"],
        sort=f["sort"], now=now)
    page = selectors.CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = selectors.board_counts(request.user)
    context = {
        "page": page, "rows": _rows(page.object_list, now), "f": f, "form": form,
        "tabs": [(key, label, counts.get(key, 0)) for key, label in selectors.TABS.items()],
        "cap": counting.COUNT_CAP,
        "accounts": selectors.filter_accounts(request.user, f.get("account")),
        "statuses": OrderStatus.choices, "methods": PaymentMethod.choices,
        "sorts": selectors.SORTS, "now": now, "query": query.urlencode(),
        "can_process": permissions.can_process_orders(request.user),
    }
    template = "shop/staff/board.html#results" if request.htmx else "shop/staff/board.html"
    return render(request, template, context)


def _rows(orders: Any, now: Any) -> list[Order]:
    """What each board row shows, computed once here (cheaper than in the template)."""
    statuses = {k: str(v) for k, v in OrderStatus.choices}
    methods = {k: str(v) for k, v in PaymentMethod.choices}
    rows = list(orders)
    for o in rows:
        due = o.due_at
        o.due = due  # type: ignore[attr-defined]
        o.overdue = due is not None and due <= now  # type: ignore[attr-defined]
        o.status_label = statuses.get(o.status, o.status)  # type: ignore[attr-defined]
        method = o.payment_method
        o.method_label = methods.get(method, method)  # type: ignore[attr-defined]
        o.url = reverse("orders:detail", args=[o.pk])  # type: ignore[attr-defined]
    return rows


def _detail_context(request: AuthedHttpRequest, order: Order, **extra: Any) -> dict[str, Any]:
    lines = list(order.lines.all())
    allowed = ORDER_TRANSITIONS.get(order.status, set())
    now = clock.now()
    return {
        "order": order, "lines": lines, "vat": selectors.vat_breakdown(order, lines),
        "history": selectors.order_history(order),
        "payments": selectors.order_payments(order),
        "conversations": selectors.order_conversations(order),
        "subscriptions": selectors.order_subscriptions(order),
        "actions": [(to, label) for to, label in ACTIONS if to in allowed],
        "can_process": permissions.can_process_orders(request.user),
        "now": now, "due": order.due_at,
        "withdrawal_wait_until": activation_waits_for_withdrawal(order, now),
        "checks_pending": order_checks_pending(order)
        if order.status == OrderStatus.PAID else [],
        "can_override_checks": permissions.can_override_order_checks(request.user),
        "transition_form": extra.get("transition_form"),
    }


def _contact_form(order: Order) -> ContactForm:
    return ContactForm(auto_id="contact_%s", initial={
        "subject": _("Votre commande %(ref)s") % {"ref": order.reference}})


def _render_detail(request: AuthedHttpRequest, order: Order, status: int = 200,
                   **extra: Any) -> HttpResponse:
    return render(request, "shop/staff/detail.html", _detail_context(request, order, **extra),
                  status=status)


@staff_required
def detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    order = selectors.get_order_for_user(request.user, pk)
    audit_view(actor=request.user, target=order, account=order.account)
    return _render_detail(request, order)


def _done(request: AuthedHttpRequest, order: Order, text: str) -> HttpResponse:
    selectors.board_counts_forget(request.user)
    messages.success(request, text)
    return redirect("orders:detail", pk=order.pk)


@require_POST
@staff_required
def check(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    order = selectors.get_order_for_user(request.user, pk, action="process")
    try:
        order_mark_checked(order=order, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _render_detail(request, order, status=exc.status)
    return _done(request, order, _("Commande marquée comme vérifiée."))


@require_POST
@staff_required
def information(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    order = selectors.get_order_for_user(request.user, pk, action="process")
    form = InformationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choix invalide."))
        return _render_detail(request, order, status=422)
    try:
        order_set_information_complete(order=order, actor=request.user,
                                       complete=form.cleaned_data["complete"])
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _render_detail(request, order, status=exc.status)
    return _done(request, order, _("Informations du client enregistrées."))


@require_POST
@staff_required
def transition(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    order = selectors.get_order_for_user(request.user, pk, action="process")
    form = TransitionForm(request.POST, auto_id="t_%s")
    if not form.is_valid():
        return _render_detail(request, order, status=422, transition_form=form)
    to = form.cleaned_data["to"]
    try:
        order_transition(order=order, to=to, actor=request.user,
                         note=form.cleaned_data["note"].strip(),
                         override_reason=form.cleaned_data["override_reason"]
                         if to == OrderStatus.VALIDATED else "")
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        messages.error(request, str(exc.message))
        order.refresh_from_db()
        return _render_detail(request, order, status=exc.status, transition_form=form)
    texts = {OrderStatus.VALIDATED: _("Commande validée."),
             OrderStatus.ACTIVATED: _("Commande activée : abonnement créé, client prévenu."),
             OrderStatus.CANCELLED: _("Commande annulée.")}
    return _done(request, order, texts[to])


@require_http_methods(["GET", "POST"])
@staff_required
def contact(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    order = selectors.get_order_for_user(request.user, pk, action="process")
    if request.method == "GET":
        return render(request, "shop/staff/contact.html", {
            "order": order, "form": _contact_form(order)})
    form = ContactForm(request.POST, auto_id="contact_%s")
    if form.is_valid():
        try:
            conversation = order_contact_client(
                order=order, actor=request.user, subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Message envoyé au client (dossier %(ref)s).") % {
                "ref": conversation.reference})
            return redirect("orders:detail", pk=order.pk)
    return render(request, "shop/staff/contact.html", {"order": order, "form": form},
                  status=422)


@staff_required
def summary_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:

    order = selectors.get_order_for_user(request.user, pk)
    response = HttpResponse(order_summary_pdf(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.reference}.pdf"'
    return response

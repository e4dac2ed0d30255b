"""Storefront pages: the cart, the two checkout steps, the buyer's order pages.

Thin views: a form parses, one service writes (shop/cart.py, shop/checkout.py), DomainErrors
become field errors or messages — never a 500."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import ClientAccount, Role, User
from permanence.accounts.services import operator_identity
from permanence.catalog.selectors import current_terms, published_page_or_none
from permanence.core.errors import DomainError
from permanence.core.money import compute_totals

from . import cart as carts
from .checkout import (
    CheckoutDetails,
    CheckoutResult,
    checkout_place,
    order_for_buyer,
    order_retry_payment,
)
from .consents import PRIVACY_PAGE
from .forms_public import CheckoutDetailsForm, CheckoutPaymentForm, QuantityForm, RetryPaymentForm
from .models import Cart, CustomerKind, Order, OrderStatus, PaymentMethod

CHECKOUT_SESSION_KEY = "shop_checkout"
REDIRECT_METHODS = (PaymentMethod.CARD, PaymentMethod.SEPA)


def _token(request: HttpRequest) -> str | None:
    token = request.session.get(carts.SESSION_KEY)
    return token if isinstance(token, str) else None


def _cart(request: HttpRequest, *, include_checked_out: bool = False) -> Cart | None:
    return carts.cart_find(user=request.user, token=_token(request),
                           include_checked_out=include_checked_out)


def _remember(request: HttpRequest, cart: Cart) -> None:
    if request.session.get(carts.SESSION_KEY) != cart.token:
        request.session[carts.SESSION_KEY] = cart.token


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _test_mode() -> bool:
    return bool(getattr(settings, "PAYMENTS_TEST_MODE", False))


def _consumer_account(request: HttpRequest) -> bool:
    """A logged-in client whose (first) account is a particulier's: prices shown TTC first."""
    if not request.user.is_authenticated:
        return False
    return ClientAccount.objects.filter(memberships__user=request.user,
                                        kind="particulier").exists()


# --- Cart --------------------------------------------------------------------------------------


def _cart_page(request: HttpRequest, cart: Cart | None, *, status: int = 200,
               error: str = "") -> HttpResponse:
    summary = carts.cart_summary(cart)
    saved = CheckoutDetails.from_session(request.session.get(CHECKOUT_SESSION_KEY))
    consumer = saved.is_consumer if saved is not None else _consumer_account(request)
    context = {"summary": summary, "error": error, "consumer": consumer,
               "max_quantity": carts.MAX_QUANTITY}
    template = "shop/public/_cart.html" if getattr(request, "htmx", False) else \
        "shop/public/cart.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "HEAD"])
def cart_view(request: HttpRequest) -> HttpResponse:
    return _cart_page(request, _cart(request))


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    try:
        cart = carts.cart_add(cart=_cart(request), user=request.user,
                              offer=request.POST.get("offer"),
                              quantity=request.POST.get("quantity", "1"),
                              options=request.POST.getlist("options"))
    except DomainError as exc:
        message = " ".join(str(m) for msgs in exc.fields.values() for m in msgs) or \
            str(exc.message)
        return _cart_page(request, _cart(request), status=400, error=message)
    _remember(request, cart)
    if getattr(request, "htmx", False):
        return _cart_page(request, cart)
    messages.success(request, _("Ajouté à votre panier."))
    return redirect("shop:cart")


def _line_change(request: HttpRequest, action: Any, **kwargs: Any) -> HttpResponse:
    try:
        cart = action(cart=_cart(request), **kwargs)
    except DomainError as exc:
        if exc.status == 404:
            raise
        message = " ".join(str(m) for msgs in exc.fields.values() for m in msgs) or \
            str(exc.message)
        return _cart_page(request, _cart(request), status=400, error=message)
    if getattr(request, "htmx", False):
        return _cart_page(request, cart)
    return redirect("shop:cart")


@require_POST
def cart_line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    form = QuantityForm(request.POST)
    quantity = form.cleaned_data["quantity"] if form.is_valid() else request.POST.get(
        "quantity", "")
    return _line_change(request, carts.cart_line_update, line_id=line_id, quantity=quantity)


@require_POST
def cart_line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    return _line_change(request, carts.cart_line_remove, line_id=line_id)


# --- Checkout ----------------------------------------------------------------------------------


def _client_accounts(request: HttpRequest) -> list[ClientAccount]:
    if not request.user.is_authenticated:
        return []
    return list(ClientAccount.objects.filter(memberships__user=request.user).order_by("name"))


def _cannot_order(request: HttpRequest) -> str:
    """Why this logged-in user cannot order online ('' when they can)."""
    user = request.user
    if not isinstance(user, User):  # anonymous
        return ""
    if user.role != Role.CLIENT:
        return _("Vous êtes connecté avec un compte de l'équipe : la commande en ligne est "
                 "réservée aux clients.")
    return ""


def _details_initial(request: HttpRequest, accounts: list[ClientAccount]) -> dict[str, Any]:
    saved = CheckoutDetails.from_session(request.session.get(CHECKOUT_SESSION_KEY))
    if saved is not None:
        initial = saved.as_session()
        initial.pop("password_hash", None)
        initial["account"] = initial.pop("account_id", None)
        return initial
    user = request.user
    if not isinstance(user, User):  # anonymous
        return {"customer_kind": CustomerKind.PRO}
    account = accounts[0] if accounts else None
    consumer = account is not None and account.kind == "particulier"
    return {"customer_kind": CustomerKind.CONSUMER if consumer else CustomerKind.PRO,
            "name": user.full_name, "email": (account.billing_email if account else "")
            or user.email, "phone": user.phone,
            "legal_name": account.legal_name if account else "",
            "siret": account.siret if account else "",
            "vat_number": account.vat_number if account else "",
            "address": account.billing_address if account else "",
            "account": account.pk if account else None}


@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Step 1: who is buying (professionnel / particulier), billing details, login."""
    cart = _cart(request)
    summary = carts.cart_summary(cart)
    if summary.is_empty:
        messages.info(request, _("Votre panier est vide."))
        return redirect("shop:cart")
    refusal = _cannot_order(request)
    accounts = _client_accounts(request)
    if not refusal and request.user.is_authenticated and not accounts:
        refusal = _("Votre identifiant n'est rattaché à aucun compte client : contactez-nous "
                    "pour commander.")
    if refusal:
        return render(request, "shop/public/checkout_details.html",
                      {"summary": summary, "refusal": refusal, "form": None})
    form = CheckoutDetailsForm(request.POST or None, user=request.user, accounts=accounts,
                               initial=_details_initial(request, accounts))
    if request.method == "POST" and form.is_valid():
        request.session[CHECKOUT_SESSION_KEY] = form.details().as_session()
        return redirect("shop:checkout_payment")
    return render(request, "shop/public/checkout_details.html",
                  {"summary": summary, "form": form, "step": 1},
                  status=422 if form.errors else 200)


def _to_order(request: HttpRequest, order: Order) -> HttpResponseRedirect:
    return redirect("shop:order_detail", reference=order.reference)


@require_http_methods(["GET", "HEAD", "POST"])
def checkout_payment(request: HttpRequest) -> HttpResponse:
    """Step 2: payment method, CGV, withdrawal period; "Commande avec obligation de
    paiement" places the order and starts the payment."""
    cart = _cart_for_payment(request)
    if isinstance(cart, HttpResponse):
        return cart
    summary = carts.cart_summary(cart)
    refusal = _payment_refusal(request, summary)
    if refusal is not None:
        return refusal
    details = _payment_details(request)
    if details is None:
        return redirect("shop:checkout")
    form = CheckoutPaymentForm(request.POST or None, consumer=details.is_consumer)
    if request.method == "POST" and form.is_valid():
        assert cart is not None  # noqa: S101 — summary is not empty  # nosec B101
        response = _place_order(request, cart, form, details)
        if response is not None:
            return response

    return render(request, "shop/public/checkout_payment.html",
                  {"summary": summary, "form": form, "details": details, "step": 2,
                   "terms": current_terms(), "test_mode": _test_mode(),
                   "privacy_page": published_page_or_none(PRIVACY_PAGE)},
                  status=422 if form.errors else 200)


def _cart_for_payment(request: HttpRequest) -> Cart | HttpResponse | None:
    """The cart to pay; once it was turned into an order (a second submit, or a back button
    after the order was placed), a redirect to that order for its logged-in buyer."""
    cart = _cart(request, include_checked_out=True)
    if cart is None or cart.checked_out_at is None:
        return cart
    order = cart.order
    if order is not None and request.user.is_authenticated:
        messages.info(request, _("Cette commande a déjà été enregistrée."))
        return _to_order(request, order)
    return _cart(request)


def _payment_refusal(request: HttpRequest,
                     summary: carts.CartSummary) -> HttpResponse | None:
    """Where to send a buyer who cannot pay this cart (None: they can)."""
    if summary.is_empty:
        messages.info(request, _("Votre panier est vide."))
        return redirect("shop:cart")
    if _cannot_order(request):
        return redirect("shop:checkout")
    return None


def _payment_details(request: HttpRequest) -> CheckoutDetails | None:
    """The details of step 1 (None: step 1 is to do, or redo — an anonymous buyer must have
    chosen a password there)."""
    details = CheckoutDetails.from_session(request.session.get(CHECKOUT_SESSION_KEY))
    if details is None or (not request.user.is_authenticated and not details.password_hash):
        return None
    return details


def _place_order(request: HttpRequest, cart: Cart, form: CheckoutPaymentForm,
                 details: CheckoutDetails) -> HttpResponse | None:
    """Places the order and starts its payment. None: the refusal is now on the form."""
    data = form.cleaned_data
    try:
        result = checkout_place(
            cart=cart, user=request.user, details=details,
            payment_method=data["payment_method"], accept_terms=data["accept_terms"],
            accept_privacy=data["accept_privacy"],
            start_before_withdrawal_end=data.get("start_before_withdrawal_end", False),
            base_url=_base_url(request))
    except DomainError as exc:
        return _placement_refused(request, cart, form, exc)
    return _order_placed(request, cart, result)


# Fields of step 1 (CheckoutDetailsForm): refused there, the buyer goes back to that step.
_STEP1_FIELDS = frozenset({"email", "password1", "account", "name", "address", "siret",
                           "legal_name", "vat_number"})


def _placement_refused(request: HttpRequest, cart: Cart, form: CheckoutPaymentForm,
                       exc: DomainError) -> HttpResponse | None:
    if exc.code == "checked_out":
        return _placed_meanwhile(request, cart, exc)
    if set(exc.fields) & _STEP1_FIELDS:
        messages.error(request, " ".join(str(m) for msgs in exc.fields.values()
                                         for m in msgs))
        return redirect("shop:checkout")
    apply_field_errors(form, exc.fields, str(exc.message))
    return None


def _placed_meanwhile(request: HttpRequest, cart: Cart, exc: DomainError) -> HttpResponse:
    """The cart became an order in another request: that order, for its logged-in buyer."""
    placed = Cart.objects.filter(pk=cart.pk).values_list("order", flat=True).first()
    if placed and request.user.is_authenticated:
        messages.info(request, str(exc.message))
        return redirect("shop:order_detail", reference=Order.objects.get(
            pk=placed).reference)
    return redirect("shop:cart")


def _order_placed(request: HttpRequest, cart: Cart, result: CheckoutResult) -> HttpResponse:
    request.session.pop(CHECKOUT_SESSION_KEY, None)
    if result.created_user:
        login(request, result.user,
              backend="django.contrib.auth.backends.ModelBackend")
    _remember(request, cart)  # a second submit finds the order through the cart
    payment = result.payment
    url = getattr(payment, "checkout_url", "")
    if result.order.payment_method in REDIRECT_METHODS and url:
        return HttpResponseRedirect(url)
    return _to_order(request, result.order)


# --- Order pages for the buyer -----------------------------------------------------------------


def _order_or_login(request: HttpRequest, reference: str) -> Order | HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return order_for_buyer(request.user, reference)


def _order_context(order: Order) -> dict[str, Any]:
    lines = list(order.lines.all())
    totals = compute_totals((line.total_ht_cents, line.vat_rate) for line in lines)
    awaiting = order.status in (OrderStatus.AWAITING_PAYMENT, OrderStatus.FAILED)
    return {"order": order, "lines": lines, "totals": totals, "test_mode": _test_mode(),
            "awaiting": awaiting, "operator_identity": operator_identity(),
            "show_transfer": awaiting and order.payment_method == PaymentMethod.TRANSFER,
            "can_retry": awaiting, "consumer": order.customer_kind == CustomerKind.CONSUMER,
            "paid": order.status in (OrderStatus.PAID, OrderStatus.VALIDATED,
                                     OrderStatus.ACTIVATED)}


@require_http_methods(["GET", "HEAD"])
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    order = _order_or_login(request, reference)
    if isinstance(order, HttpResponse):
        return order
    return render(request, "shop/public/order_detail.html", _order_context(order))


@require_http_methods(["GET", "HEAD", "POST"])
def order_pay(request: HttpRequest, reference: str) -> HttpResponse:
    """Retry the payment of an order in échec (or still awaiting payment)."""
    order = _order_or_login(request, reference)
    if isinstance(order, HttpResponse):
        return order
    context = _order_context(order)
    if not context["can_retry"]:
        messages.info(request, _("Cette commande n'attend pas de paiement."))
        return _to_order(request, order)
    form = RetryPaymentForm(request.POST or None,
                            initial={"payment_method": order.payment_method})
    if request.method == "POST" and form.is_valid():
        try:
            payment = order_retry_payment(order=order, actor=request.user,
                                          method=form.cleaned_data["payment_method"] or None,
                                          base_url=_base_url(request))
        except DomainError as exc:
            if exc.status == 409:
                messages.info(request, str(exc.message))
                return _to_order(request, order)
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            order.refresh_from_db()
            url = getattr(payment, "checkout_url", "")
            if order.payment_method in REDIRECT_METHODS and url:
                return HttpResponseRedirect(url)
            messages.success(request, _("Vous pouvez régler votre commande par virement."))
            return _to_order(request, order)
    context["form"] = form
    return render(request, "shop/public/order_pay.html", context,
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "HEAD"])
def order_thanks(request: HttpRequest, reference: str) -> HttpResponse:
    """Where the hosted payment page sends the buyer back. The webhook, not this page,
    marks the order paid."""
    order = _order_or_login(request, reference)
    if isinstance(order, HttpResponse):
        return order
    return render(request, "shop/public/order_thanks.html", _order_context(order))


def order_url(order: Order) -> str:
    return reverse("shop:order_detail", args=[order.reference])

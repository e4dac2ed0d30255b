"""Checkout: the cart becomes an order — the customer's login, client account and membership
when they are new, the order (shop/services.order_create), the cart marked checked out, and
the payment started (payment_start, which the payments app registers in shop/hooks.py).
Everything or nothing.

The cart row is locked first: a double submit waits for the first one, then finds the cart
checked out and is refused (the caller sends the buyer to the order already placed).

Bank transfer: all of it in one transaction (no provider is called). Card / SEPA: the
provider is never called with a transaction open (ARCHITECTURE.md, "Side effects"), so the
checkout runs in steps: (1) the order is placed and committed — without its audit rows and
confirmation e-mail yet; (2) payment_start calls Stripe with no transaction open (its own
short transactions before and after); (3) a short transaction writes the audit rows and
queues the confirmation. If (2) fails, `_checkout_undo` removes what (1) wrote — the order,
the new customer, the cart's checkout, the reference — which nothing else refers to yet, so
the buyer finds their cart as before and an error message, as when it was one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from permanence.accounts.models import (
    AccountKind,
    ClientAccount,
    Membership,
    MembershipRole,
    Role,
    User,
)
from permanence.accounts.permissions import Actor
from permanence.accounts.services import (
    client_login_create,
    login_exists,
    owner_membership_create,
    prospect_account_create,
)
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.catalog.pricing import line_from_offer
from permanence.catalog.selectors import current_terms
from permanence.core import clock
from permanence.core.errors import DomainError, NotFound, invalid, invalid_fields

from . import hooks
from .consents import PRIVACY_REQUIRED, privacy_acceptance, terms_acceptance
from .models import Cart, CustomerKind, Order, OrderStatus, PaymentMethod
from .orders import lock_order, order_transition
from .references import reference_release
from .services import order_announce, order_create

logger = logging.getLogger(__name__)

# Paid through the provider's hosted page: the provider is called to start the payment.
PROVIDER_METHODS = (PaymentMethod.CARD, PaymentMethod.SEPA)


@dataclass(frozen=True)
class CheckoutDetails:
    """Step 1 of the checkout (kept in the session until step 2 is submitted)."""

    customer_kind: str
    name: str
    email: str
    address: str
    phone: str = ""
    legal_name: str = ""
    siret: str = ""
    vat_number: str = ""
    account_id: int | None = None  # a logged-in client's chosen account
    password_hash: str = ""  # a new customer's password, already hashed

    def as_session(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_session(cls, data: Any) -> CheckoutDetails | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(**data)
        except TypeError:
            return None

    @property
    def is_consumer(self) -> bool:
        return self.customer_kind == CustomerKind.CONSUMER

    def billing(self) -> dict[str, str]:
        return {"name": self.name, "legal_name": self.legal_name if not self.is_consumer else "",
                "siret": self.siret if not self.is_consumer else "",
                "vat_number": self.vat_number if not self.is_consumer else "",
                "address": self.address, "email": self.email, "phone": self.phone}


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    payment: Any
    user: User
    created_user: bool


def _customer_rows(details: CheckoutDetails) -> tuple[User, ClientAccount, Membership]:
    """A new customer: a client login, their client account (prospect until an order is
    activated) and their titulaire membership, created by the accounts services inside the
    checkout's transaction; their audit rows are `_customer_audit`'s."""
    email = details.email.strip().lower()
    if login_exists(email):
        raise invalid(email=_("Un compte existe déjà avec cette adresse e-mail : connectez-vous "
                              "pour commander."))
    if not details.password_hash:
        raise invalid(password1=_("Choisissez un mot de passe."))
    user = client_login_create(email=email, full_name=details.name, phone=details.phone,
                               password_hash=details.password_hash)
    consumer = details.is_consumer
    name = details.name if consumer else (details.legal_name or details.name)
    account = prospect_account_create(
        name=name, kind=AccountKind.INDIVIDUAL if consumer else AccountKind.PROFESSIONAL,
        legal_name="" if consumer else details.legal_name,
        siret="" if consumer else details.siret,
        vat_number="" if consumer else details.vat_number,
        billing_address=details.address, billing_email=email)
    return user, account, owner_membership_create(user=user, account=account)


def _customer_audit(user: User, account: ClientAccount, membership: Membership) -> None:
    audit_record(actor=user, action=Action.CREATE, target=account, account=account,
                 changes={"source": "checkout", "kind": account.kind})
    audit_record(actor=user, action=Action.CREATE, target=membership,
                 account=account, changes={"email": user.email, "role": MembershipRole.OWNER})


def account_for_buyer(user: Actor, account_id: int | None) -> ClientAccount:
    """The account a logged-in client orders for: one they are a member of."""
    if not isinstance(user, User) or user.role != Role.CLIENT:  # anonymous, or staff
        raise DomainError("not_a_client", _("Seuls les clients peuvent commander en ligne. "
                                            "Connectez-vous avec un compte client."),
                          status=403)
    accounts = ClientAccount.objects.filter(memberships__user=user).order_by("name")
    account = (accounts.filter(pk=account_id).first() if account_id is not None
               else accounts.first())
    if account is None:
        raise invalid(account=_("Choisissez un de vos comptes clients."))
    return account


def order_urls(order: Order, base_url: str) -> tuple[str, str]:
    """(success_url, cancel_url) of the hosted payment page for this order."""
    base = base_url.rstrip("/")
    return (base + reverse("shop:order_thanks", args=[order.reference]),
            base + reverse("shop:order_detail", args=[order.reference]))


def start_payment(*, order: Order, method: str, base_url: str) -> Any:
    """The payments app's payment_start with our return URLs; provider failures become a
    DomainError (the caller's transaction is rolled back, the buyer can try again)."""
    success_url, cancel_url = order_urls(order, base_url)
    try:
        # Through the hook payments registers: the shop does not import payments.
        return hooks.start_payment(order=order, method=method, success_url=success_url,
                                   cancel_url=cancel_url)
    except DomainError:
        raise
    except Exception as exc:  # the provider is down or refused: never a 500 for the buyer
        raise DomainError("payment_unavailable",
                          _("Le paiement n'a pas pu être démarré. Réessayez dans un instant "
                            "ou choisissez le virement bancaire."), status=503) from exc


@dataclass
class _Placed:
    """What step (1) of a checkout wrote, to announce it (3) or undo it."""

    order: Order
    buyer: User
    cart_pk: int
    cart_user_id: int | None  # the cart's user before the checkout
    new_customer: tuple[User, ClientAccount, Membership] | None


def checkout_place(*, cart: Cart, user: Actor | None, details: CheckoutDetails,
                   payment_method: str,
                   accept_terms: bool, accept_privacy: bool,
                   start_before_withdrawal_end: bool = False,
                   base_url: str) -> CheckoutResult:
    """Turn `cart` into an order for `user` (None or anonymous: a new customer is created
    from `details`) and start its payment. Everything or nothing (see the module's doc)."""
    if payment_method not in PROVIDER_METHODS:
        with transaction.atomic():
            placed = _place(cart=cart, user=user, details=details,
                            payment_method=payment_method, accept_terms=accept_terms,
                            accept_privacy=accept_privacy,
                            start_before_withdrawal_end=start_before_withdrawal_end,
                            announce=True)
            payment = start_payment(order=placed.order, method=payment_method,
                                    base_url=base_url)
        return _result(placed, payment)
    with transaction.atomic():
        placed = _place(cart=cart, user=user, details=details, payment_method=payment_method,
                        accept_terms=accept_terms, accept_privacy=accept_privacy,
                        start_before_withdrawal_end=start_before_withdrawal_end,
                        announce=False)
    try:
        payment = start_payment(order=placed.order, method=payment_method, base_url=base_url)
    except BaseException:
        _checkout_undo(placed)
        raise
    with transaction.atomic():
        _announce(placed)
    return _result(placed, payment)


def _result(placed: _Placed, payment: Any) -> CheckoutResult:
    return CheckoutResult(order=placed.order, payment=payment, user=placed.buyer,
                          created_user=placed.new_customer is not None)


def _check_accepted(*, accept_terms: bool, accept_privacy: bool) -> None:
    """Both boxes are required; each missing one is named next to its box."""
    refused: dict[str, list[str]] = {}
    if not accept_terms:
        refused["accept_terms"] = [_("Vous devez accepter les conditions générales de vente.")]
    if not accept_privacy:
        refused["accept_privacy"] = [str(PRIVACY_REQUIRED)]
    if refused:
        raise invalid_fields(refused)


def _place(*, cart: Cart, user: Actor | None, details: CheckoutDetails, payment_method: str,
           accept_terms: bool, accept_privacy: bool, start_before_withdrawal_end: bool,
           announce: bool) -> _Placed:
    """Step (1), inside the caller's transaction: checks, customer, order, cart checked out.
    `announce=False` leaves out the audit rows and the confirmation (see `_announce`)."""
    locked = Cart.objects.select_for_update().filter(pk=cart.pk).first()
    if locked is None:
        raise DomainError("cart_gone", _("Votre panier est vide."), status=409)
    if locked.checked_out_at is not None:
        raise DomainError("checked_out", _("Cette commande a déjà été enregistrée."),
                          status=409)
    lines = list(locked.lines.select_related("offer").order_by("pk"))
    if not lines:
        raise DomainError("empty_cart", _("Votre panier est vide."), status=409)
    withdrawn = [line.offer.display_name for line in lines if not line.offer.is_published]
    if withdrawn:
        raise DomainError("offer_withdrawn",
                          _("Ces offres ne sont plus proposées, retirez-les de votre panier : "
                            "%(names)s.") % {"names": ", ".join(withdrawn)}, status=409)
    if payment_method not in PaymentMethod.values:
        raise invalid(payment_method=_("Choisissez un moyen de paiement."))
    _check_accepted(accept_terms=accept_terms, accept_privacy=accept_privacy)
    terms = current_terms()
    if terms is None:
        raise DomainError("no_terms", _("Les conditions générales de vente ne sont pas encore "
                                        "publiées : la commande en ligne est indisponible."),
                          status=503)
    new_customer = None
    if isinstance(user, User):  # logged in
        account = account_for_buyer(user, details.account_id)
        buyer = user
    else:
        new_customer = _customer_rows(details)
        buyer, account, _membership = new_customer
        if announce:
            _customer_audit(*new_customer)
    cart_user_id = locked.user_id
    if locked.user_id is None:
        locked.user = buyer
    order = order_create(
        account=account, buyer=buyer,
        lines=[line_from_offer(line.offer, line.quantity) for line in lines],
        billing=details.billing(), customer_kind=details.customer_kind,
        payment_method=payment_method, terms=terms,
        start_before_withdrawal_end=start_before_withdrawal_end, announce=announce,
        accepted=[terms_acceptance(terms), privacy_acceptance()])
    locked.checked_out_at = clock.now()
    locked.order = order
    locked.save(update_fields=["user", "checked_out_at", "order", "updated_at"])
    return _Placed(order=order, buyer=buyer, cart_pk=locked.pk, cart_user_id=cart_user_id,
                   new_customer=new_customer)


def _announce(placed: _Placed) -> None:
    """Step (3): the audit rows of step (1), and the confirmation e-mail (on commit)."""
    if placed.new_customer is not None:
        _customer_audit(*placed.new_customer)
    order_announce(order=placed.order, actor=placed.buyer)


def _checkout_undo(placed: _Placed) -> None:
    """The payment could not start: remove what step (1) committed. Nothing refers to it yet
    — no audit row, no payment, no e-mail, the buyer was not logged in — so it goes without a
    trace, as a rolled-back transaction would (the failed provider call stays in payments,
    detached from the order). Should the order have moved on meanwhile, or the undo fail, the
    order is kept and announced instead: an order awaiting payment, payable from its page.
    Never raises: the caller re-raises the payment's error, which the buyer is shown."""
    try:
        with transaction.atomic():
            undone = _undo_rows(placed)
        if not undone:
            with transaction.atomic():
                _announce(placed)
    except Exception:
        logger.exception("checkout of order %s: could not be undone or kept after its "
                         "payment failed to start", placed.order.reference)


def _undo_rows(placed: _Placed) -> bool:
    order = Order.objects.select_for_update().filter(pk=placed.order.pk).first()
    if order is None:
        return True
    if order.status != OrderStatus.AWAITING_PAYMENT or order.payments.exists():
        logger.warning("checkout of order %s: its payment failed to start but it moved on "
                       "meanwhile; kept", order.reference)
        return False
    cart = Cart.objects.select_for_update().filter(pk=placed.cart_pk).first()
    if cart is not None and cart.order_id == order.pk:
        cart.checked_out_at = None
        cart.order = None
        cart.user_id = placed.cart_user_id
        cart.save(update_fields=["user", "checked_out_at", "order", "updated_at"])
    order.delete()
    reference_release(order.reference)
    if placed.new_customer is not None:
        user, account, membership = placed.new_customer
        membership.delete()
        account.delete()
        user.delete()
    return True


def order_retry_payment(*, order: Order, actor: Actor, method: str | None = None,
                        base_url: str) -> Any:
    """A failed (or still unpaid) order: a new payment, and the order back to awaiting
    payment.

    The payment is started first — payment_start calls the provider, never with a
    transaction open — and the order moves only once it has started, in a short transaction
    of its own: if the provider fails, nothing about the order has changed."""
    current = Order.objects.get(pk=order.pk)
    if current.status not in (OrderStatus.FAILED, OrderStatus.AWAITING_PAYMENT):
        raise DomainError("not_payable", _("Cette commande n'attend pas de paiement."),
                          status=409)
    method = method or current.payment_method
    if method not in PaymentMethod.values:
        raise invalid(payment_method=_("Choisissez un moyen de paiement."))
    payment = start_payment(order=current, method=method, base_url=base_url)
    with transaction.atomic():
        locked = lock_order(current)
        if locked.status == OrderStatus.FAILED:
            # Anonymous: recorded as nobody, as the transition would have done.
            locked = order_transition(order=locked, to=OrderStatus.AWAITING_PAYMENT,
                                      actor=actor if isinstance(actor, User) else None,
                                      note=_("Nouvelle tentative de paiement"))
        if (method != locked.payment_method
                and locked.status in (OrderStatus.FAILED, OrderStatus.AWAITING_PAYMENT)):
            locked.payment_method = method
            locked.save(update_fields=["payment_method", "updated_at"])
    return payment


def order_for_buyer(user: Actor, reference: str) -> Order:
    """An order seen from the storefront: by its buyer or a member of its account; anybody
    else gets NotFound (404), whether the reference exists or not."""
    if not isinstance(user, User):  # anonymous
        raise NotFound(_("Commande introuvable."))
    order = (Order.objects.filter(reference=str(reference)[:20])
             .filter(Q(buyer=user) | Q(account__memberships__user=user))
             .select_related("account", "terms").distinct().first())
    if order is None:
        raise NotFound(_("Commande introuvable."))
    return order

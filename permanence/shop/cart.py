"""The shopping cart: found by a token kept in the session (anonymous visitors) or by its
user; merged into the user's cart at login. Services write (one transaction each, the cart
row locked), selectors read. Prices always come from the catalog at read time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.permissions import Actor
from permanence.catalog.models import Offer
from permanence.catalog.pricing import LineSpec, line_from_offer, recurring_totals_of, totals_of
from permanence.core import clock
from permanence.core.errors import DomainError, NotFound, invalid
from permanence.core.money import Totals

from .models import Cart, CartLine

SESSION_KEY = "shop_cart_token"
MAX_QUANTITY = 99
MAX_LINES = 30
ABANDONED_AFTER_DAYS = 30  # anonymous carts untouched this long are deleted


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters


# --- Selectors ---------------------------------------------------------------------------------


def _open(qs: Any) -> Any:
    return qs.filter(checked_out_at__isnull=True)


def cart_find(*, user: Actor, token: str | None,
              include_checked_out: bool = False) -> Cart | None:
    """The cart of this visitor: the session's token first (if it is not somebody else's),
    then, for a logged-in user, their most recent open cart."""
    owner = user if isinstance(user, User) else None  # None: an anonymous visitor
    if token:
        qs = Cart.objects.filter(token=token)
        if not include_checked_out:
            qs = _open(qs)
        cart = qs.first()
        if cart is not None and (cart.user_id is None or (owner is not None
                                                           and cart.user_id == owner.pk)):
            return cart
    if owner is not None:
        return _open(Cart.objects.filter(user=owner)).order_by("-updated_at", "-pk").first()
    return None


@dataclass(frozen=True)
class CartRow:
    line: CartLine
    spec: LineSpec

    @property
    def offer(self) -> Offer:
        return self.line.offer


@dataclass(frozen=True)
class CartSummary:
    cart: Cart | None
    rows: list[CartRow]
    totals: Totals
    recurring: Totals  # monthly, from the second month on

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @property
    def specs(self) -> list[LineSpec]:
        return [row.spec for row in self.rows]

    @property
    def count(self) -> int:
        return sum(row.line.quantity for row in self.rows)


def cart_lines(cart: Cart | None) -> list[CartLine]:
    if cart is None or cart.pk is None:
        return []
    return list(cart.lines.select_related("offer").order_by("pk"))


def cart_summary(cart: Cart | None) -> CartSummary:
    """Lines priced from the catalog, totals HT / VAT per rate / TTC and the monthly amount.
    Two queries whatever the number of lines (the cart, its lines with their offers)."""
    rows = [CartRow(line=line, spec=line_from_offer(line.offer, line.quantity))
            for line in cart_lines(cart)]
    specs = [row.spec for row in rows]
    return CartSummary(cart=cart, rows=rows, totals=totals_of(specs),
                       recurring=recurring_totals_of(specs))


# --- Services ----------------------------------------------------------------------------------


def _clean_quantity(value: Any, *, allow_zero: bool = False) -> int:
    text = str(value if value is not None else "").strip()
    if not text and not allow_zero:
        text = "1"  # adding: one by default
    try:
        quantity = int(text)
    except (TypeError, ValueError):
        raise invalid(quantity=_("La quantité doit être un nombre entier.")) from None
    low = 0 if allow_zero else 1
    if not low <= quantity <= MAX_QUANTITY:
        raise invalid(quantity=_("La quantité doit être comprise entre %(low)s et %(high)s.")
                      % {"low": low, "high": MAX_QUANTITY})
    return quantity


def _published_offer(slug: Any, field: str) -> Offer:
    slug = str(slug or "").strip()
    offer = Offer.objects.filter(slug=slug, is_published=True).first() if slug else None
    if offer is None:
        raise invalid(**{field: _("Cette offre n'existe pas ou n'est plus proposée.")})
    return offer


def _lock(cart: Cart) -> Cart:
    locked = Cart.objects.select_for_update().get(pk=cart.pk)
    if locked.checked_out_at is not None:
        raise DomainError("checked_out", _("Ce panier a déjà été commandé."), status=409)
    return locked


def _add_lines(cart: Cart, wanted: list[tuple[Offer, int]], *, new_cart: bool = False) -> None:
    """Add quantities to `cart` (locked by the caller): one line per offer, quantities of an
    offer already there added up, never more than MAX_QUANTITY of one offer."""
    existing = {} if new_cart else {line.offer_id: line for line in cart.lines.all()}
    fresh: dict[int, CartLine] = {}
    for offer, quantity in wanted:
        line = existing.get(offer.pk) or fresh.get(offer.pk)
        if line is None:
            fresh[offer.pk] = CartLine(cart=cart, offer=offer,
                                       quantity=min(quantity, MAX_QUANTITY))
        else:
            line.quantity = min(line.quantity + quantity, MAX_QUANTITY)
            if line.pk is not None:
                CartLine.objects.filter(pk=line.pk).update(quantity=line.quantity)
    if len(existing) + len(fresh) > MAX_LINES:
        raise invalid(offer=_("Votre panier est plein."))
    if fresh:
        CartLine.objects.bulk_create(fresh.values())


@transaction.atomic
def cart_add(*, cart: Cart | None, user: Actor, offer: Any, quantity: Any = 1,
             options: list[Any] | None = None) -> Cart:
    """Add `offer` (a slug) and each of `options` (slugs) to `cart`, creating the cart when
    there is none. Unknown or unpublished offers → DomainError (422), nothing written."""
    quantity = _clean_quantity(quantity)
    main = _published_offer(offer, "offer")
    slugs = [str(slug).strip()[:80] for slug in dict.fromkeys(options or [])
             if str(slug or "").strip()]
    found = {o.slug: o for o in Offer.objects.filter(slug__in=slugs, is_published=True)}
    if slugs and main.options.exists():
        # A plan that lists its options only takes those (as its option chooser shows).
        allowed = set(main.options.filter(slug__in=slugs).values_list("slug", flat=True))
        found = {slug: o for slug, o in found.items() if slug in allowed}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise invalid(options=_("L'option « %(slug)s » n'existe pas ou n'est plus proposée.")
                      % {"slug": missing[0]})
    wanted = [(main, quantity)] + [(found[slug], 1) for slug in slugs
                                   if found[slug].pk != main.pk]
    if cart is None:
        cart = Cart.objects.create(token=new_token(),
                                   user=user if isinstance(user, User) else None)
        _add_lines(cart, wanted, new_cart=True)
        return cart
    cart = _lock(cart)
    _add_lines(cart, wanted)
    cart.save(update_fields=["updated_at"])
    return cart


def _line_of(cart: Cart | None, line_id: Any) -> CartLine:
    try:
        pk = int(line_id)
    except (TypeError, ValueError):
        raise NotFound(_("Cette ligne n'est pas dans votre panier.")) from None
    line = CartLine.objects.filter(cart=cart, pk=pk).first() if cart is not None else None
    if line is None:
        raise NotFound(_("Cette ligne n'est pas dans votre panier."))
    return line


@transaction.atomic
def cart_line_update(*, cart: Cart | None, line_id: Any, quantity: Any) -> Cart:
    """Set a line's quantity (0 removes it). A line of another cart → NotFound."""
    line = _line_of(cart, line_id)
    quantity = _clean_quantity(quantity, allow_zero=True)
    locked = _lock(line.cart)
    if quantity == 0:
        line.delete()
    else:
        CartLine.objects.filter(pk=line.pk).update(quantity=quantity)
    locked.save(update_fields=["updated_at"])
    return locked


@transaction.atomic
def cart_line_remove(*, cart: Cart | None, line_id: Any) -> Cart:
    line = _line_of(cart, line_id)
    locked = _lock(line.cart)
    line.delete()
    locked.save(update_fields=["updated_at"])
    return locked


@transaction.atomic
def cart_merge_at_login(*, user: User, token: str | None) -> Cart | None:
    """The anonymous cart of the session joins the user's open cart: quantities of the same
    offer are added (one line per offer); the anonymous cart is then deleted. Without an open
    cart of their own, the anonymous cart simply becomes the user's. Returns the user's cart."""
    anonymous = (Cart.objects.select_for_update().filter(token=token, user__isnull=True,
                                                         checked_out_at__isnull=True).first()
                 if token else None)
    own = (_open(Cart.objects.select_for_update().filter(user=user))
           .order_by("-updated_at", "-pk").first())
    if anonymous is None:
        return own
    if own is None:
        anonymous.user = user
        anonymous.save(update_fields=["user", "updated_at"])
        return anonymous
    _add_lines(own, [(line.offer, line.quantity)
                     for line in anonymous.lines.select_related("offer")])
    anonymous.delete()
    own.save(update_fields=["updated_at"])
    return own



@transaction.atomic
def carts_purge_abandoned() -> int:
    """Delete anonymous, open carts untouched for ABANDONED_AFTER_DAYS; the number deleted."""

    cutoff = clock.now() - timedelta(days=ABANDONED_AFTER_DAYS)
    stale = Cart.objects.filter(user__isnull=True, checked_out_at__isnull=True,
                                updated_at__lt=cutoff)
    _total, per_model = stale.delete()
    return per_model.get(Cart._meta.label, 0)

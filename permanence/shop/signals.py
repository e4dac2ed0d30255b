"""At login, the visitor's anonymous cart joins the user's cart (shop/cart.py does it)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from permanence.accounts.models import User

from .cart import SESSION_KEY, cart_merge_at_login


@receiver(user_logged_in, dispatch_uid="shop_cart_merge_at_login")
def merge_cart_at_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:

    session = getattr(request, "session", None)
    if session is None:
        return
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return
    cart = cart_merge_at_login(user=user, token=token)
    if cart is not None:
        session[SESSION_KEY] = cart.token

"""Checkout step 2 (views_public.checkout_payment), branch by branch: where each refusal
sends the buyer, with which message, and how many queries each path makes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.accounts.models import User
from permanence.shop import cart as carts
from permanence.shop import views_public
from permanence.shop.checkout import CheckoutDetails, checkout_place
from permanence.shop.models import Cart, Order
from testkit.shop import make_offer, make_terms

from .test_checkout import GOOD_SIRET, PASSWORD, pro_details, step2

pytestmark = pytest.mark.django_db

STEP2 = reverse("shop:checkout_payment")


@pytest.fixture
def shop(db: Any) -> None:
    make_offer("essentiel", monthly_price_cents=14900)
    make_terms("2026-11")


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def counted(call: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response, len(queries)


def test_step2_page_for_a_new_customer(client: Client, shop: None) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    client.post(reverse("shop:checkout"), pro_details())
    response, queries = counted(lambda: client.get(STEP2))
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "shop/public/checkout_payment.html"
    assert response.context["step"] == 2 and response.context["details"].siret == GOOD_SIRET
    assert queries == EXPECTED["render"]


def test_empty_cart_goes_back_to_the_cart(client: Client, shop: None) -> None:
    response, queries = counted(lambda: client.get(STEP2))
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    assert texts(response) == ["Votre panier est vide."]
    assert queries == EXPECTED["empty"]


def test_staff_are_sent_back_to_step1(client: Client, shop: None, agent: Any) -> None:
    client.force_login(agent)
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    response, queries = counted(lambda: client.get(STEP2))
    assert response.status_code == 302 and response["Location"] == reverse("shop:checkout")
    assert "Votre panier est vide." not in texts(response)
    assert queries == EXPECTED["staff"]


def test_anonymous_details_without_a_password_go_back_to_step1(client: Client,
                                                               shop: None) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    session = client.session
    session[views_public.CHECKOUT_SESSION_KEY] = CheckoutDetails(
        customer_kind="professionnel", name="A", email="a@exemple.fr", address="1 rue",
        legal_name="A SARL", siret=GOOD_SIRET).as_session()
    session.save()
    response, queries = counted(lambda: client.get(STEP2))
    assert response.status_code == 302 and response["Location"] == reverse("shop:checkout")
    assert queries == EXPECTED["no_password"]


def test_a_placed_order_is_shown_again_to_its_buyer(client: Client, shop: None) -> None:
    fill_cart_and_details(client)
    step2(client)
    order = Order.objects.get()
    response, queries = counted(lambda: step2(client))
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_detail", args=[order.reference])
    assert "Cette commande a déjà été enregistrée." in texts(response)
    assert Order.objects.count() == 1
    assert queries == EXPECTED["placed_again"]


def test_a_checked_out_cart_without_its_order_is_an_empty_cart(client: Client,
                                                               shop: None) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    cart = Cart.objects.get()
    Cart.objects.filter(pk=cart.pk).update(checked_out_at=cart.created_at)
    response, queries = counted(lambda: client.get(STEP2))
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    assert "Votre panier est vide." in texts(response)
    assert queries == EXPECTED["checked_out_no_order"]


def fill_cart_and_details(client: Client, **overrides: str) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    assert client.post(reverse("shop:checkout"), pro_details(**overrides)).status_code == 302


def _placed_by_another_request(monkeypatch: Any) -> None:
    """The cart becomes an order in another request just before this one places it."""

    def racing(**kwargs: Any) -> Any:
        checkout_place(**kwargs)
        return checkout_place(**kwargs)

    monkeypatch.setattr(views_public, "checkout_place", racing)


def test_placed_meanwhile_by_the_logged_in_buyer(client: Client, shop: None, account: Any,
                                                client_user: Any, monkeypatch: Any) -> None:
    client.force_login(client_user)
    fill_cart_and_details(client, account=str(account.pk))
    _placed_by_another_request(monkeypatch)
    response = step2(client)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_detail", args=[order.reference])
    assert "Cette commande a déjà été enregistrée." in texts(response)


def test_placed_meanwhile_for_an_anonymous_buyer(client: Client, shop: None,
                                                 monkeypatch: Any) -> None:
    fill_cart_and_details(client)
    _placed_by_another_request(monkeypatch)
    response = step2(client)
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    assert Order.objects.count() == 1
    assert "Cette commande a déjà été enregistrée." not in texts(response)


def test_a_step1_refusal_goes_back_to_step1_with_its_message(client: Client,
                                                             shop: None) -> None:
    fill_cart_and_details(client)
    User.objects.create_user(email="jeanne@dupont.fr", password=PASSWORD, role="client")
    response = step2(client)
    assert response.status_code == 302 and response["Location"] == reverse("shop:checkout")
    assert any("existe déjà" in text for text in texts(response))
    assert not Order.objects.exists()
    assert views_public.CHECKOUT_SESSION_KEY in client.session  # step 1 is kept


def test_a_step2_refusal_is_a_field_error(client: Client, shop: None) -> None:
    fill_cart_and_details(client)
    response = client.post(STEP2, {"payment_method": "virement"})
    assert response.status_code == 422 and "accept_terms" in response.context["form"].errors
    assert [t.name for t in response.templates][0] == "shop/public/checkout_payment.html"


def test_a_new_customer_is_logged_in_and_sent_to_the_order(client: Client,
                                                           shop: None) -> None:
    fill_cart_and_details(client)
    response = step2(client)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_detail", args=[order.reference])
    assert views_public.CHECKOUT_SESSION_KEY not in client.session
    assert client.session[carts.SESSION_KEY] == Cart.objects.get().token
    assert int(client.session["_auth_user_id"]) == order.buyer_id


# Queries of each path (a refactoring of the view must not add any).
EXPECTED = {
    # the session, the cart, its lines, the CGV, the privacy notice (linked beside its box),
    # the operator's identity and the public incidents announced (both kept by the
    # process's settings caches once read)
    "render": 7,
    "empty": 0,  # no cart token, nobody logged in
    "staff": 4,  # the session, the user, the cart, its lines
    "no_password": 3,  # the session, the cart, its lines
    "placed_again": 4,  # the session, the user, the cart, its order
    "checked_out_no_order": 3,  # the session, the checked-out cart, the open one (none)
}

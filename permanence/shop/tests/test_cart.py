"""The cart: add (with options), update, remove, merge at login, bad input, query counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from permanence.catalog.models import OfferKind
from permanence.shop.cart import SESSION_KEY, cart_add, cart_merge_at_login, cart_summary
from permanence.shop.models import Cart, CartLine
from testkit.shop import make_offer

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers() -> dict[str, Any]:
    plan = make_offer("essentiel", monthly_price_cents=14900)
    rdv = make_offer("prise-rdv", kind=OfferKind.OPTION, name="Prise de rendez-vous",
                     monthly_price_cents=2900)
    setup = make_offer("mise-en-place", kind=OfferKind.ONE_OFF, name="Mise en place",
                       monthly_price_cents=0, one_off_price_cents=9900)
    hidden = make_offer("ancien", is_published=False)
    return {"plan": plan, "rdv": rdv, "setup": setup, "hidden": hidden}


def lines_of(client: Client) -> dict[str, int]:
    token = client.session.get(SESSION_KEY)
    cart = Cart.objects.get(token=token)
    return {line.offer.slug: line.quantity for line in cart.lines.select_related("offer")}


def test_add_offer_with_options_creates_an_anonymous_cart_in_the_session(
        client: Client, offers: Any) -> None:
    response = client.post(reverse("shop:cart_add"), {
        "offer": "essentiel", "quantity": "2", "options": ["prise-rdv", "mise-en-place"]})
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    assert lines_of(client) == {"essentiel": 2, "prise-rdv": 1, "mise-en-place": 1}
    cart = Cart.objects.get(token=client.session[SESSION_KEY])
    assert cart.user is None and len(cart.token) == 43


def test_adding_the_same_offer_again_adds_to_its_line(client: Client, offers: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    client.post(reverse("shop:cart_add"), {"offer": "essentiel", "quantity": "3"})
    assert lines_of(client) == {"essentiel": 4}
    assert CartLine.objects.count() == 1


def test_quantity_defaults_to_one(client: Client, offers: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "prise-rdv"})
    assert lines_of(client) == {"prise-rdv": 1}


@pytest.mark.parametrize("data", [
    {"offer": "inconnue"},
    {"offer": "ancien"},  # unpublished
    {"offer": ""},
    {},
    {"offer": "essentiel", "quantity": "abc"},
    {"offer": "essentiel", "quantity": "0"},
    {"offer": "essentiel", "quantity": "-3"},
    {"offer": "essentiel", "quantity": "100000000000000000000000"},
    {"offer": "essentiel", "options": ["n-existe-pas"]},
    {"offer": "essentiel", "options": ["ancien"]},
    {"offer": "x" * 5000},
])
def test_bad_input_is_a_400_with_a_french_message_and_writes_nothing(
        client: Client, offers: Any, data: dict[str, Any]) -> None:
    response = client.post(reverse("shop:cart_add"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body
    assert any(word in body for word in ("n'existe pas", "n&#x27;existe pas", "quantité"))
    assert not Cart.objects.exists() and not CartLine.objects.exists()


def test_unpublished_offer_message(client: Client, offers: Any) -> None:
    response = client.post(reverse("shop:cart_add"), {"offer": "ancien"})
    assert "plus proposée" in response.content.decode()


def test_cart_page_shows_lines_totals_per_rate_and_monthly_amount(
        client: Client, offers: Any) -> None:
    make_offer("sms", kind=OfferKind.OPTION, name="Pack SMS", monthly_price_cents=1000,
               vat_rate=Decimal("5.50"))
    client.post(reverse("shop:cart_add"), {"offer": "essentiel", "options": ["sms",
                                                                             "mise-en-place"]})
    response = client.get(reverse("shop:cart"))
    assert response.status_code == 200
    summary = response.context["summary"]
    # 149 + 99 at 20 %, 10 at 5.5 %.
    assert summary.totals.ht == 14900 + 9900 + 1000
    assert list(summary.totals.by_rate) == [(Decimal("5.5"), 1000, 55),
                                            (Decimal("20"), 24800, 4960)]
    assert summary.totals.ttc == 25800 + 55 + 4960
    assert summary.recurring.ht == 14900 + 1000  # the one-off set-up is not monthly
    body = response.content.decode()
    assert "Forfait Essentiel" in body and "Pack SMS" in body
    assert "TVA 5,5" in body or "TVA 5.5" in body
    assert "2<sup>e</sup> mois" in body


def test_consumer_sees_ttc_emphasised(client: Client, offers: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    session = client.session
    session["shop_checkout"] = {"customer_kind": "particulier", "name": "A", "email": "a@b.fr",
                                "address": "x"}
    session.save()
    body = client.get(reverse("shop:cart")).content.decode()
    assert '<strong class="big">178,80' in body  # 149 € HT + 20 %
    assert "TTC par mois" in body


def test_empty_cart_links_to_the_offers(client: Client) -> None:
    response = client.get(reverse("shop:cart"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Votre panier est vide" in body and 'href="/offres/"' in body


def test_update_quantity_and_remove(client: Client, offers: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel", "options": ["prise-rdv"]})
    cart = Cart.objects.get(token=client.session[SESSION_KEY])
    plan_line, option_line = list(cart.lines.order_by("pk"))
    response = client.post(reverse("shop:cart_line_update", args=[plan_line.pk]),
                           {"quantity": "5"})
    assert response.status_code == 302
    assert lines_of(client) == {"essentiel": 5, "prise-rdv": 1}
    client.post(reverse("shop:cart_line_remove", args=[option_line.pk]))
    assert lines_of(client) == {"essentiel": 5}
    client.post(reverse("shop:cart_line_update", args=[plan_line.pk]), {"quantity": "0"})
    assert lines_of(client) == {}


def test_update_with_htmx_returns_the_cart_fragment(client: Client, offers: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    line = CartLine.objects.get()
    response = client.post(reverse("shop:cart_line_update", args=[line.pk]), {"quantity": "2"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="cart"') and "<html" not in body


@pytest.mark.parametrize("quantity", ["", "abc", "-1", "100", "1e9"])
def test_bad_quantity_on_update_is_a_400(client: Client, offers: Any, quantity: str) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    line = CartLine.objects.get()
    response = client.post(reverse("shop:cart_line_update", args=[line.pk]),
                           {"quantity": quantity})
    assert response.status_code == 400
    assert CartLine.objects.get().quantity == 1


def test_someone_elses_line_is_a_404(client: Client, offers: Any) -> None:
    other = Client()
    other.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    line = CartLine.objects.get()
    client.post(reverse("shop:cart_add"), {"offer": "prise-rdv"})
    assert client.post(reverse("shop:cart_line_update", args=[line.pk]),
                       {"quantity": "9"}).status_code == 404
    assert client.post(reverse("shop:cart_line_remove", args=[line.pk])).status_code == 404
    assert CartLine.objects.get(pk=line.pk).quantity == 1


def test_get_on_add_is_not_allowed(client: Client, offers: Any) -> None:
    assert client.get(reverse("shop:cart_add")).status_code == 405


def test_login_merges_the_anonymous_cart_into_the_users_cart(
        client: Client, offers: Any, client_user: Any) -> None:
    own = cart_add(cart=None, user=client_user, offer="essentiel", quantity=1,
                   options=["prise-rdv"])
    client.post(reverse("shop:cart_add"), {"offer": "essentiel", "quantity": "2",
                                           "options": ["mise-en-place"]})
    anonymous_token = client.session[SESSION_KEY]
    response = client.post(reverse("login"), {"username": "client@test.fr",
                                              "password": PASSWORD})
    assert response.status_code == 302
    assert not Cart.objects.filter(token=anonymous_token).exists()
    assert client.session[SESSION_KEY] == own.token
    assert {line.offer.slug: line.quantity for line in own.lines.all()} == {
        "essentiel": 3, "prise-rdv": 1, "mise-en-place": 1}
    assert CartLine.objects.filter(cart=own, offer__slug="essentiel").count() == 1
    body = client.get(reverse("shop:cart")).content.decode()
    assert "Mise en place" in body and "Prise de rendez-vous" in body


def test_login_without_a_cart_of_ones_own_adopts_the_anonymous_cart(
        client: Client, offers: Any, client_user: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    token = client.session[SESSION_KEY]
    client.post(reverse("login"), {"username": "client@test.fr", "password": PASSWORD})
    cart = Cart.objects.get(token=token)
    assert cart.user == client_user


def test_merge_service_is_a_noop_without_anonymous_cart(offers: Any, client_user: Any) -> None:
    assert cart_merge_at_login(user=client_user, token="inconnu") is None
    assert cart_merge_at_login(user=client_user, token=None) is None


def test_a_logged_in_users_cart_follows_them_to_another_session(
        offers: Any, client_user: Any) -> None:
    cart_add(cart=None, user=client_user, offer="essentiel")
    other_device = Client()
    other_device.force_login(client_user)
    summary = other_device.get(reverse("shop:cart")).context["summary"]
    assert [row.offer.slug for row in summary.rows] == ["essentiel"]


def test_another_users_cart_token_is_ignored(offers: Any, client_user: Any,
                                             outsider_client: Any) -> None:
    theirs = cart_add(cart=None, user=outsider_client, offer="essentiel")
    browser = Client()
    browser.force_login(client_user)
    session = browser.session
    session[SESSION_KEY] = theirs.token
    session.save()
    assert browser.get(reverse("shop:cart")).context["summary"].is_empty


def test_cart_page_query_count_is_constant(client: Client, offers: Any,
                                          django_assert_max_num_queries: Any) -> None:
    client.post(reverse("shop:cart_add"), {"offer": "essentiel"})
    with django_assert_max_num_queries(5):  # session, cart, lines + offers, operator
        client.get(reverse("shop:cart"))
    for i in range(12):
        make_offer(f"option-{i}", kind=OfferKind.OPTION, monthly_price_cents=100 + i)
        client.post(reverse("shop:cart_add"), {"offer": f"option-{i}"})
    with django_assert_max_num_queries(5):
        response = client.get(reverse("shop:cart"))
    assert len(response.context["summary"].rows) == 13


def test_summary_of_no_cart_is_empty() -> None:
    summary = cart_summary(None)
    assert summary.is_empty and summary.totals.ttc == 0 and summary.count == 0


def test_quantity_of_one_offer_never_exceeds_the_maximum(client: Client, offers: Any) -> None:
    for _ in range(3):
        client.post(reverse("shop:cart_add"), {"offer": "essentiel", "quantity": "60"})
    assert lines_of(client) == {"essentiel": 99}


def test_pages_render_in_english(client: Client, offers: Any, settings: Any) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.post(reverse("shop:cart_add"), {"offer": "essentiel", "options": ["prise-rdv"]})
    response = client.get(reverse("shop:cart"))
    assert response.status_code == 200 and "Essentiel plan" in response.content.decode()
    assert client.get(reverse("shop:checkout")).status_code == 200


def test_a_plan_listing_its_options_only_takes_those(client: Client, offers: Any) -> None:
    listed = make_offer("samedi", kind=OfferKind.OPTION, monthly_price_cents=3900)
    offers["plan"].options.add(listed)
    response = client.post(reverse("shop:cart_add"), {"offer": "essentiel",
                                                      "options": ["samedi", "prise-rdv"]})
    assert response.status_code == 400 and not Cart.objects.exists()
    client.post(reverse("shop:cart_add"), {"offer": "essentiel", "options": ["samedi"]})
    assert lines_of(client) == {"essentiel": 1, "samedi": 1}


def test_abandoned_anonymous_carts_are_purged(offers: Any, client_user: Any) -> None:
    from datetime import timedelta

    from permanence.core import clock
    from permanence.core.scheduler import REGISTRY
    from permanence.shop.cart import carts_purge_abandoned
    from permanence.shop.tasks import purge_abandoned_carts

    old = cart_add(cart=None, user=None, offer="essentiel")
    recent = cart_add(cart=None, user=None, offer="essentiel")
    users = cart_add(cart=None, user=client_user, offer="essentiel")
    long_ago = clock.now() - timedelta(days=31)
    Cart.objects.filter(pk__in=[old.pk, users.pk]).update(updated_at=long_ago)
    assert carts_purge_abandoned() == 1
    assert set(Cart.objects.values_list("pk", flat=True)) == {recent.pk, users.pk}
    assert REGISTRY["shop.purge_abandoned_carts"].task is purge_abandoned_carts
    assert purge_abandoned_carts.call() == "0 cart(s) deleted"

"""Espace client « Mon abonnement »: the terms shown, the plan change through its preview,
the cancellation in three clicks from the home page with the end date before and after, and a
member (not the titulaire) who reads but cannot act."""

from __future__ import annotations

import re
from typing import Any

import pytest

from permanence.accounts.models import Membership, MembershipRole
from permanence.billing.models import Subscription, SubscriptionChange, SubscriptionStatus
from permanence.billing.subscriptions import cancel_preview, change_preview, today
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_offer, make_order, mark_checked

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub(account: Any, client_user: Any) -> Subscription:
    plan = make_offer("essentiel", commitment_months=12)
    make_offer("premium", monthly_price_cents=29900)
    order = mark_checked(make_order(account, client_user, offers=[plan]))
    for to in (OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED):
        order_transition(order=order, to=to)
    return Subscription.objects.get(order=order)


def _href(html: str, text: str) -> str:
    found = re.search(r'<a [^>]*href="([^"]+)"[^>]*>' + re.escape(text) + "</a>", html)
    assert found, text
    return found.group(1).replace("&amp;", "&")


def test_the_page_shows_the_terms(client: Any, client_user: Any, sub: Subscription) -> None:
    client.force_login(client_user)
    html = client.get("/espace/abonnement/").content.decode()
    assert sub.label in html and "Fin d'engagement" in html
    assert sub.commitment_ends_on.strftime("%d/%m/%Y") in html
    assert "Préavis de résiliation" in html and "149,00" in html


def test_upgrade_shows_the_preview_then_records_it(client: Any, client_user: Any,
                                                   sub: Subscription) -> None:
    client.force_login(client_user)
    premium = make_offer("premium")
    page = client.get("/espace/abonnement/formule/").content.decode()
    preview_url = _href(page, "Voir le prix pour Forfait Premium")
    html = client.get(preview_url).content.decode()
    expected = change_preview(subscription=sub, new_offer=premium, at=today())
    assert "data-prorated" in html and "299,00" in html
    response = client.post("/espace/abonnement/formule/", {"offer": premium.pk})
    assert response.status_code == 302
    change = SubscriptionChange.objects.get(subscription=sub)
    assert change.prorated_cents == expected.prorated_cents
    sub.refresh_from_db()
    assert sub.offer_id == premium.pk


def test_cancel_in_three_clicks_with_the_end_date_before_and_after(
        client: Any, client_user: Any, sub: Subscription) -> None:
    client.force_login(client_user)
    ends = cancel_preview(subscription=sub, on=today()).strftime("%d/%m/%Y")
    home = client.get("/espace/").content.decode()
    page = client.get(_href(home, "Abonnement")).content.decode()  # click 1
    confirm = client.get(_href(page, "Résilier votre contrat")).content.decode()  # click 2
    assert ends in confirm and "Confirmer la résiliation" in confirm
    done = client.post("/espace/abonnement/resilier/", follow=True)  # click 3
    assert ends in done.content.decode()
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCEL_SCHEDULED
    assert sub.ends_on.strftime("%d/%m/%Y") == ends


def test_a_member_reads_but_cannot_cancel(client: Any, make_user: Any, account: Any,
                                          sub: Subscription) -> None:
    member = make_user("membre@test.fr", "client")
    Membership.objects.create(user=member, account=account, role=MembershipRole.MEMBER)
    client.force_login(member)
    html = client.get("/espace/abonnement/").content.decode()
    assert sub.label in html and "Résilier votre contrat" not in html
    client.post("/espace/abonnement/resilier/")
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE

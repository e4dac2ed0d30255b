"""« Mon abonnement » in a real Chromium against the live server, at 1366 and 390 px:

- a client changes plan: the preview shows the prorated amount and the new monthly price
  before confirming; the change is recorded with that amount;
- a client cancels in three clicks from the espace client home (Abonnement → Résilier votre
  contrat → Confirmer la résiliation) and sees the end date before and after confirming.
Nothing scrolls sideways; axe-core finds nothing serious.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}



def _subscribed(account: Any, client_user: Any) -> Any:
    from permanence.billing.models import Subscription
    from permanence.shop.orders import order_transition
    from testkit.shop import make_offer, make_order, mark_checked

    plan = make_offer("essentiel", commitment_months=12, notice_days=30)
    make_offer("premium", name="Forfait Premium", monthly_price_cents=29900)
    order = mark_checked(make_order(account, client_user, offers=[plan]))
    for to in ("payee", "validee", "activee"):
        order_transition(order=order, to=to)
    return Subscription.objects.get(order=order)


@pytest.mark.parametrize("size", list(SIZES))
def test_client_upgrades_after_seeing_the_prorated_preview(
        size: str, new_page: Any, login: Any, client_user: Any, account: Any,
        page_checked: Any) -> None:
    from permanence.billing.models import SubscriptionChange
    from permanence.billing.subscriptions import change_preview, today
    from permanence.catalog.models import Offer
    from permanence.core.money import format_eur

    sub = _subscribed(account, client_user)
    premium = Offer.objects.get(slug="premium")
    expected = change_preview(subscription=sub, new_offer=premium, at=today())
    page = new_page(**SIZES[size])
    login(page, client_user.email)
    page.goto("/espace/abonnement/")
    page_checked(page)
    page.get_by_role("link", name="Changer de formule").click()
    page.get_by_role("link", name="Voir le prix pour Forfait Premium").click()
    preview = page.locator("[data-preview]")
    expect(preview.locator("[data-prorated]")).to_have_text(
        format_eur(expected.prorated_cents, lang="fr"))
    expect(preview.locator("[data-new-monthly]")).to_have_text(format_eur(29900, lang="fr"))
    page_checked(page)
    page.get_by_role("button", name="Confirmer le changement").click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text("Forfait Premium")
    page_checked(page)
    change = SubscriptionChange.objects.get(subscription=sub)
    assert change.prorated_cents == expected.prorated_cents


@pytest.mark.parametrize("size", list(SIZES))
def test_client_cancels_in_three_clicks_and_sees_the_end_date(
        size: str, new_page: Any, login: Any, client_user: Any, account: Any,
        page_checked: Any) -> None:
    from permanence.billing.subscriptions import cancel_preview, today

    sub = _subscribed(account, client_user)
    ends = cancel_preview(subscription=sub, on=today()).strftime("%d/%m/%Y")
    page = new_page(**SIZES[size])
    login(page, client_user.email)
    page.goto("/espace/")
    page.locator(".portal-header").get_by_role("link", name="Abonnement").click()  # 1
    page.get_by_role("link", name="Résilier votre contrat").click()  # 2
    expect(page.locator("[data-ends-on]")).to_contain_text(ends)
    page_checked(page)
    page.get_by_role("button", name="Confirmer la résiliation").click()  # 3
    expect(page.locator("[data-ends-on]")).to_contain_text(ends)
    expect(page.get_by_role("button", name="Annuler ma résiliation")).to_be_visible()
    page_checked(page)
    sub.refresh_from_db()
    assert sub.status == "resiliation" and sub.ends_on.strftime("%d/%m/%Y") == ends

"""The staff order page in a real Chromium (issue 9, "Orders and accounts"): a paid order whose
checks are not done cannot be validated until a supervisor gives the reason, which then reads
in the order's history; a card order shows « Carte bancaire » and no transfer reference; and
all of it works at 390 px wide."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid_card_order(account: Any, client_user: Any) -> Any:
    from permanence.shop.models import OrderStatus
    from permanence.shop.orders import order_transition
    from testkit.shop import make_order

    order = make_order(account, client_user, payment_method="carte")
    return order_transition(order=order, to=OrderStatus.PAID)


def open_validate(page: Any) -> Any:
    panel = page.locator("details").filter(
        has=page.locator("summary", has_text=re.compile("^Valider$")))
    panel.locator("summary").click()
    return panel


@pytest.mark.parametrize("width", [1280, 390])
def test_a_supervisor_validates_unchecked_order_only_with_a_reason(
        new_page: Any, login: Any, supervisor: Any, paid_card_order: Any, width: int) -> None:
    from permanence.shop.models import OrderEvent

    page = new_page(viewport={"width": width, "height": 900})
    login(page, supervisor.email)
    page.goto(f"/app/boutique/commandes/{paid_card_order.pk}/")
    main = page.get_by_role("main")
    # A card order: its method in words, and no transfer reference anywhere.
    expect(main).to_contain_text("Carte bancaire")
    expect(main).not_to_contain_text("Référence de virement")
    expect(main).not_to_contain_text(paid_card_order.transfer_reference)

    panel = open_validate(page)
    expect(panel.get_by_role("note")).to_contain_text(
        "Contrôles non faits : la commande n'a pas été vérifiée")
    reason = panel.get_by_label(re.compile("^Motif de la validation sans contrôles"))
    expect(reason).to_be_visible()
    panel.get_by_label(re.compile("^Je confirme la validation")).check()
    reason.fill("Client connu, pièces reçues par téléphone")
    panel.get_by_role("button", name="Valider", exact=True).click()

    expect(page.get_by_text("Commande validée.")).to_be_visible()
    expect(page.get_by_role("heading", level=1).locator(".badge")).to_have_text("Validée")
    history = page.locator("section").filter(
        has=page.get_by_role("heading", name="Historique"))
    expect(history).to_contain_text("Client connu, pièces reçues par téléphone")
    expect(history).to_contain_text("Validée sans contrôles complets")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    assert OrderEvent.objects.filter(order=paid_card_order,
                                     kind=OrderEvent.Kind.CHECKS_OVERRIDDEN).count() == 1


def test_without_a_reason_the_browser_and_the_server_refuse(
        new_page: Any, login: Any, supervisor: Any, paid_card_order: Any) -> None:
    page = new_page()
    login(page, supervisor.email)
    page.goto(f"/app/boutique/commandes/{paid_card_order.pk}/")
    panel = open_validate(page)
    panel.get_by_label(re.compile("^Je confirme la validation")).check()
    reason = panel.get_by_label(re.compile("^Motif de la validation sans contrôles"))
    # The field is required: the browser does not submit it empty…
    panel.get_by_role("button", name="Valider", exact=True).click()
    assert reason.evaluate("el => el.validity.valueMissing")
    # …and a reason of spaces is refused by the server, which says why.
    reason.fill("   ")
    panel.get_by_role("button", name="Valider", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("Validation impossible")
    paid_card_order.refresh_from_db()
    assert paid_card_order.status == "payee"

"""The back-office menu fits the role, on a phone (burger menu): télésecrétaires see no
Facturation, billing staff no Agenda nor "Enregistrer un appel"; what is hidden is also
refused. The bell is a drawn icon (no emoji font needed) and the pages carry a favicon."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVERY_SECTION = ["Tableau de bord", "Boîte de réception", "Chats", "Désinscriptions SMS",
                 "Poste", "Consignes", "Rappels", "Campagnes", "Mises en place",
                 "Équipe au téléphone", "Planning", "Comptes clients", "Boutique", "Devis", "Paiements",
                 "Site et catalogue", "Facturation", "Agenda", "Agendas et motifs",
                 "Connaissances", "Rapports", "Qualité", "Avis des visiteurs", "Paramètres"]
MENUS = {
    "admin": EVERY_SECTION,
    "supervisor": [s for s in EVERY_SECTION if s != "Site et catalogue"],
    "agent": ["Tableau de bord", "Boîte de réception", "Chats", "Désinscriptions SMS", "Poste",
              "Consignes", "Rappels", "Campagnes", "Mises en place", "Planning", "Baromètre",
              "Comptes clients",
              "Boutique", "Agenda", "Agendas et motifs", "Connaissances", "Rapports",
              "Qualité", "Paramètres"],
    # Billing staff take no call and write to no contact: no Poste, Rappels, Campagnes, SMS
    # opt-outs, chats; they read the consignes and the knowledge base.
    "billing": ["Tableau de bord", "Boîte de réception", "Consignes", "Comptes clients",
                "Boutique", "Devis", "Paiements", "Facturation", "Connaissances", "Rapports",
                "Paramètres"],
}
REFUSED = {"agent": ["/app/facturation/"],
           "billing": ["/app/agenda/", "/app/boite/appel/", "/app/sms/desinscriptions/"]}


@pytest.mark.parametrize("role", list(MENUS))
def test_menu_fits_the_role_on_a_phone(make_user: Any, new_page: Any, login: Any,
                                       role: str) -> None:
    make_user(f"{role}@test.fr", role)
    page = new_page(viewport={"width": 390, "height": 800})
    login(page, f"{role}@test.fr")
    page.locator("label.nav-burger").click()
    nav = page.get_by_role("navigation", name="Navigation")
    expect(nav).to_be_visible()
    # Each item by its name (the inbox item may carry its unread badge after it).
    expect(nav.get_by_role("link")).to_have_text(
        [re.compile("^" + re.escape(name) + r"(\s|$)") for name in MENUS[role]])

    bell = page.locator("#bell svg")
    expect(bell).to_be_visible()
    box = bell.bounding_box()
    assert box is not None and box["width"] >= 14 and box["height"] >= 14
    assert "🔔" not in page.locator("#bell").inner_text()
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and page.request.get(icon).ok
    assert page.request.get("/favicon.ico").ok  # follows the redirect to the SVG

    page.goto("/app/boite/")
    calls = page.get_by_role("link", name="Enregistrer un appel")
    expect(calls).to_have_count(0 if role == "billing" else 1)
    for url in REFUSED.get(role, []):
        response = page.goto(url)
        assert response is not None and response.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"\S"))

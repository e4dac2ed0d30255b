"""Consignes in a real browser, on the demo data: a secretary opens the medical practice's
sheet from the menu, reads the urgency triage and confirms reading; the form adds a row in
place (JavaScript) and saves a new version; the client reads and edits its own consignes.
Every consignes page fits a phone (390 px) and a laptop (1366 px) without sideways scroll,
and axe-core finds no serious or critical violation."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "permanence-demo"


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=StringIO())


def _login(page: Any, email: str) -> None:
    page.goto("/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label(re.compile(r"^Mot de passe\b")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def _overflow(page: Any) -> str:
    return str(page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth <= root.clientWidth) return "";
        const cw = root.clientWidth, out = [];
        for (const el of document.body.querySelectorAll("*")) {
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.right > cw + 1) out.push(el.tagName + "." + el.className + " → " + Math.round(r.right));
        }
        return "scrollWidth " + root.scrollWidth + " > " + cw + ": " + out.slice(0, 5).join(", ");
    }"""))


def _measure(page: Any, urls: list[str]) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    axe, problems = Axe(), []
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_timeout(150)
        if overflow := _overflow(page):
            problems.append(f"{url}: {overflow}")
        problems += [f"{url}: axe {v['impact']} {v['id']}"
                     for v in axe.run(page).response["violations"]
                     if v["impact"] in ("serious", "critical")]
    return problems


def test_secretary_reads_the_sheet_and_confirms(demo: None, new_page: Any) -> None:
    page = new_page(viewport={"width": 1366, "height": 900})
    _login(page, "agent@permanence.test")
    page.get_by_role("navigation", name="Navigation").get_by_role(
        "link", name="Consignes").click()
    page.get_by_role("link", name="Cabinet médical du Dr Martin").click()
    triage = page.locator(".cs-triage")
    expect(triage).to_contain_text("Douleur thoracique")
    expect(triage).to_contain_text("Appelez immédiatement le 15 (SAMU) ou le 112")
    expect(page.locator(".cs-greeting blockquote")).to_contain_text(
        "Cabinet médical du Dr Martin, bonjour, Amandine à votre écoute.")
    page.get_by_role("button", name="J'ai lu ces consignes").click()
    expect(page.get_by_text("Vous avez lu cette version.")).to_be_visible()


def test_form_adds_a_row_in_place_and_saves_a_version(demo: None, new_page: Any) -> None:
    page = new_page(viewport={"width": 390, "height": 900})
    _login(page, "superviseur@permanence.test")
    page.goto("/app/poste/consignes/")
    page.get_by_role("link", name="Cabinet médical du Dr Martin").click()
    page.get_by_role("link", name="Modifier les consignes").click()
    url = page.url
    total = page.locator("#id_vip-TOTAL_FORMS")
    before = int(total.input_value())
    page.get_by_role("button", name="Ajouter un appelant VIP").click()
    assert page.url == url  # no round trip: the blank row was cloned
    assert int(total.input_value()) == before + 1
    page.locator(f"[name='vip-{before}-number']").fill("06 11 22 33 44")
    page.locator(f"[name='vip-{before}-name']").fill("M. Girard, pharmacien")
    page.get_by_role("button", name="Enregistrer une nouvelle version").click()
    expect(page.get_by_text(re.compile(r"Consignes enregistrées : version \d+"))).to_be_visible()
    expect(page.locator(".cs-sheet")).to_contain_text("M. Girard, pharmacien")
    expect(page.locator(".cs-sheet")).to_contain_text("06 11 22 33 44")


@pytest.mark.parametrize("width", [390, 1366])
def test_consignes_pages_fit_and_pass_axe(demo: None, new_page: Any, width: int) -> None:
    from permanence.accounts.models import ClientAccount

    pk = ClientAccount.objects.get(slug="cabinet-martin").pk
    page = new_page(viewport={"width": width, "height": 900})
    _login(page, "superviseur@permanence.test")
    problems = _measure(page, ["/app/poste/consignes/", f"/app/poste/consignes/{pk}/",
                               f"/app/poste/consignes/{pk}/modifier/",
                               f"/app/poste/consignes/{pk}/historique/",
                               f"/app/poste/consignes/{pk}/versions/1/"])
    client = new_page(viewport={"width": width, "height": 900})
    _login(client, "cabinet-medical@permanence.test")
    problems += _measure(client, ["/espace/consignes/", "/espace/consignes/modifier/",
                                  "/espace/consignes/historique/"])
    assert not problems, "\n".join(problems)


def test_client_edits_its_consignes(demo: None, new_page: Any) -> None:
    page = new_page(viewport={"width": 390, "height": 900})
    _login(page, "artisan@permanence.test")
    page.goto("/espace/")
    page.locator(".portal-header").get_by_role("link", name="Consignes").click()
    expect(page.locator(".cs-triage")).to_contain_text("Odeur de gaz")
    page.get_by_role("link", name="Modifier mes consignes").click()
    page.get_by_label("Tarifs communicables").fill("Devis gratuit. Déplacement 70 € TTC.")
    page.get_by_role("button", name="Enregistrer une nouvelle version").click()
    expect(page.get_by_text("Consignes enregistrées : version 2.")).to_be_visible()
    expect(page.locator(".cs-sheet")).to_contain_text("Déplacement 70 € TTC.")

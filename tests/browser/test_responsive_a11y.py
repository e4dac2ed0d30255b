"""Every key page, for every role, on a phone (390 px) and a laptop (1366 px): nothing scrolls
sideways, and axe-core finds no serious or critical accessibility violation.

The data is the demo's (`seed_demo`: staff, four client accounts, conversations, orders at
each stage, quotes), so the pages are measured full, as a new user sees them. The pages come
from what each role is offered — the back-office menu, the espace client's navigation — plus
the first detail page of each list (a conversation, an account, an order, a quote), so a page
added to a menu is measured without touching this test.

axe-core is the copy bundled in the `axe-playwright-python` package (no CDN).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "permanence-demo"
WIDTHS = (390, 1366)
BLOCKING = ("serious", "critical")

NEXT_WEEK = (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(days=7)).date().isoformat()
# Detail pages: (list page, link pattern) — the first matching link of the list is measured.
STAFF_DETAILS = [
    ("/app/boite/", r"^/app/boite/\d+/$"),
    ("/app/comptes/", r"^/app/comptes/\d+/$"),
    ("/app/boutique/commandes/?tab=all", r"^/app/boutique/commandes/\d+/$"),
    ("/app/boutique/devis/", r"^/app/boutique/devis/\d+/$"),
    ("/app/poste/", r"^/app/poste/appels/\d+/$"),
    ("/app/poste/campagnes/", r"^/app/poste/campagnes/\d+/$"),
    # A list given as a pattern is a detail page found above: the campaign's calling screen.
    (r"^/app/poste/campagnes/\d+/$", r"^/app/poste/campagnes/appel/\d+/$"),
    ("/app/poste/mise-en-place/", r"^/app/poste/mise-en-place/\d+/$"),
    # The demo's appointments start tomorrow: next week's grid holds some.
    (f"/app/agenda/?date={NEXT_WEEK}", r"^/app/agenda/rendez-vous/\d+/$"),
    ("/app/agenda/parametres/", r"^/app/agenda/parametres/\d+/$"),
    (r"^/app/agenda/parametres/\d+/$", r"^/app/agenda/ressources/\d+/$"),
    # Quality: a review, a grid, and the scoring pages (« Évaluer » on a call, a conversation).
    ("/app/qualite/", r"^/app/qualite/\d+/$"),
    ("/app/qualite/grilles/", r"^/app/qualite/grilles/\d+/$"),
    (r"^/app/poste/appels/\d+/$", r"^/app/qualite/evaluer/appel/\d+/$"),
    (r"^/app/boite/\d+/$", r"^/app/qualite/evaluer/dossier/\d+/$"),
]
CLIENT_DETAILS = [
    ("/espace/commandes/", r"^/espace/commandes/[\w-]+/$"),
    ("/espace/demandes/", r"^/espace/demandes/\d+/$"),
    ("/espace/devis/", r"^/(espace/)?devis/[\w-]+/$"),
    ("/espace/appels/", r"^/espace/appels/\d+/$"),
    ("/espace/agenda/", r"^/espace/agenda/rendez-vous/\d+/$"),
]
PUBLIC_PAGES = ["/", "/offres/", "/secteurs/", "/service-client/", "/contact/", "/panier/",
                "/devis/demande/", "/connexion/", "/cgv/", "/rdv/cabinet-martin/", "/faq/",
                "/avis/?page=/offres/", "/statut/"]
EXTRA_STAFF_PAGES = {
    "superviseur": ["/app/boite/notifications/", "/app/boite/reclamations/",
                    "/app/sms/desinscriptions/", "/app/avis/", "/app/connaissances/",
                    "/app/rapports/satisfaction/", "/app/rapports/detail/?quoi=appels",
                    "/app/rapports/direct/", "/app/rapports/equipe/",
                    "/app/rapports/effectifs/", "/app/rapports/objectifs/",
                    "/app/rapports/envois/", "/app/planning/",
                    "/app/planning/creneaux/nouveau/", "/app/qualite/grilles/",
                    "/app/incidents/", "/app/incidents/nouveau/"],
    "admin": ["/app/audit/", "/app/parametres/", "/app/site/",
              "/app/confidentialite/registre/", "/app/confidentialite/consentements/",
              "/app/confidentialite/conservation/", "/app/confidentialite/sauvegardes/",
              "/app/confidentialite/violations/",
              "/app/confidentialite/violations/nouvelle/", "/app/profil/securite/",
              "/app/confidentialite/demandes/", "/app/confidentialite/demandes/nouvelle/"],
    "agent": ["/app/boite/appel/", "/app/boite/saisie-manuelle/", "/app/agenda/?vue=jour",
              "/app/confidentialite/consentements/",
              "/app/agenda/rendez-vous/nouveau/",
              "/app/planning/", "/app/barometre/"],
    "compta": ["/app/facturation/abonnements/", "/app/facturation/facturation-mensuelle/",
               "/app/facturation/impayes/", "/app/facturation/echeanciers/",
               "/app/facturation/exports/", "/app/facturation/plateforme/",
               "/app/facturation/e-reporting/"],
}


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=StringIO())


@pytest.fixture(scope="module")
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _login(page: Any, email: str) -> None:
    page.goto("/connexion/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label(re.compile(r"^Mot de passe\b")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def _links(page: Any, selector: str = "a") -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    return [h for h in hrefs if h]


def _first_link(page: Any, list_url: str, pattern: str) -> str | None:
    page.goto(list_url)
    wanted = re.compile(pattern)
    return next((h for h in _links(page, "main a") if wanted.match(h)), None)


def _pages_for(page: Any, nav_selector: str, details: list[tuple[str, str]],
               extra: list[str]) -> list[str]:
    page.goto("/espace/" if nav_selector.startswith(".portal") else "/app/")
    urls = [h for h in _links(page, nav_selector) if h.startswith("/")]
    for where, pattern in details:
        list_url = where
        if where.startswith("^"):
            list_url = next((u for u in urls if re.match(where, u)), "")
            if not list_url:
                continue
        found = _first_link(page, list_url, pattern)
        if found:
            urls.append(found)
    urls += extra
    return list(dict.fromkeys(urls))  # unique, in order


def _overflow(page: Any) -> str:
    """'' when the page does not scroll sideways; else the widest culprits, for the message."""
    return str(page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth <= root.clientWidth) return "";
        const cw = root.clientWidth, out = [];
        for (const el of document.body.querySelectorAll("*")) {
            const r = el.getBoundingClientRect();
            if (r.width > 0 && r.right > cw + 1) {
                out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
                         ? "." + el.className.trim().replace(/\\s+/g, ".") : "") + " → " + Math.round(r.right) + "px");
            }
        }
        return "scrollWidth " + root.scrollWidth + " > " + cw + ": " + out.slice(0, 5).join(", ");
    }"""))


def _violations(axe: Any, page: Any) -> list[str]:
    result = axe.run(page)
    return [f"{v['impact']} {v['id']}: " + " | ".join(
        str(n["target"]) for n in v["nodes"][:3])
        for v in result.response["violations"] if v["impact"] in BLOCKING]


def _measure(new_page: Any, axe: Any, email: str | None, pages: Any) -> None:
    problems: list[str] = []
    for width in WIDTHS:
        page = new_page(viewport={"width": width, "height": 900})
        # The Content-Security-Policy refuses inline scripts and handlers without the page's
        # nonce: Chromium reports each refusal on the console; none may happen.
        refused: list[str] = []
        page.on("console", lambda msg, refused=refused: refused.append(msg.text)
                if "Content Security Policy" in msg.text else None)
        if email:
            _login(page, email)
        urls = pages(page) if callable(pages) else pages
        assert len(urls) >= 3, urls
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.status == 200, (url, response and
                                                                     response.status)
            page.wait_for_load_state("load")
            page.wait_for_timeout(150)  # layout.js settles after resizes and swaps
            if overflow := _overflow(page):
                problems.append(f"{width}px {url}: {overflow}")
            problems += [f"{width}px {url}: axe {v}" for v in _violations(axe, page)]
            problems += [f"{width}px {url}: CSP {text}" for text in refused]
            refused.clear()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("login", ["superviseur", "admin", "agent", "compta"])
def test_back_office_pages_fit_a_phone_and_pass_axe(demo: None, new_page: Any, axe: Any,
                                                     login: str) -> None:
    _measure(new_page, axe, f"{login}@permanence.test", lambda page: _pages_for(
        page, "aside.sidebar a", STAFF_DETAILS, EXTRA_STAFF_PAGES[login]))


def test_espace_client_pages_fit_a_phone_and_pass_axe(demo: None, new_page: Any,
                                                       axe: Any) -> None:
    _measure(new_page, axe, "cabinet-medical@permanence.test", lambda page: _pages_for(
        page, ".portal-header a", CLIENT_DETAILS, ["/espace/mise-en-place/",
                                                     "/espace/agenda/rendez-vous/nouveau/",
                                                     "/espace/consommation/",
                                                     "/espace/abonnement/formule/",
                                                     "/espace/abonnement/resilier/",
                                                     "/espace/confidentialite/donnees/"]))


def test_public_pages_fit_a_phone_and_pass_axe(demo: None, new_page: Any, axe: Any) -> None:
    def pages(page: Any) -> list[str]:
        offer = _first_link(page, "/offres/", r"^/offres/[\w-]+/$")
        return PUBLIC_PAGES + ([offer] if offer else [])

    _measure(new_page, axe, None, pages)


def test_a_wide_table_scrolls_in_its_own_box_and_is_reachable_by_keyboard(
        demo: None, new_page: Any) -> None:
    """The order board has more columns than a phone is wide: the page does not move, the
    table scrolls inside itself and takes the keyboard focus (so its columns can be read)."""
    page = new_page(viewport={"width": 390, "height": 900})
    _login(page, "superviseur@permanence.test")
    page.goto("/app/boutique/commandes/?tab=all")
    table = page.locator("main table").first
    assert _overflow(page) == ""
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    assert table.get_attribute("tabindex") == "0"

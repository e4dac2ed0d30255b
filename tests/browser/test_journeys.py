"""End-to-end journeys in a real Chromium against the live server.

The spec journey: an administrator logs in, creates a client account with an invalid SIRET
(sees the French error), fixes it, assigns an agent; that agent sees it and another agent
does not; a client logs into the espace client. Plus: a wrong password, the account list's
live search (htmx) and the back-office menu on a phone-sized screen.

Users and fixtures are created with the ORM (the live server shares the test database, hence
`transaction=True`); everything the journey is about is done through the real forms.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVALID_SIRET = "732 829 320 00075"  # right length, wrong Luhn key
VALID_SIRET = "732 829 320 00074"
NAME_LABEL = re.compile(r"^Nom\b")  # the label also holds the "*" of required fields
DETAIL_URL = re.compile(r"/app/comptes/(\d+)/$")


def test_admin_creates_account_agent_sees_it_other_agent_does_not_client_logs_in(
        make_user: Any, new_page: Any, login: Any) -> None:
    from permanence.accounts.models import ClientAccount, Membership

    make_user("admin@test.fr", "admin", full_name="Anne Admin")
    make_user("alice@test.fr", "agent", full_name="Alice Martin")
    make_user("bruno@test.fr", "agent", full_name="Bruno Petit")
    client = make_user("client@test.fr", "client", full_name="Claire Client")

    # --- The administrator creates the account through the form. ---------------------------
    admin = new_page()
    login(admin, "admin@test.fr")
    expect(admin).to_have_url(re.compile(r"/app/$"))
    admin.get_by_role("navigation", name="Navigation").get_by_role(
        "link", name="Comptes clients").click()
    expect(admin).to_have_url(re.compile(r"/app/comptes/$"))
    admin.get_by_role("link", name="Nouveau compte").click()
    expect(admin).to_have_url(re.compile(r"/app/comptes/nouveau/$"))
    expect(admin.get_by_role("heading", name="Nouveau compte client")).to_be_visible()

    admin.get_by_label(NAME_LABEL).fill("Cabinet Lefèvre")
    admin.get_by_label("Secteur").select_option(label="Médical")
    admin.get_by_label("Raison sociale").fill("SCM Lefèvre")
    admin.get_by_label("SIRET").fill(INVALID_SIRET)
    admin.get_by_label("Alice Martin").check()
    admin.get_by_role("button", name="Enregistrer").click()

    # Refused, in French, next to the field; what was typed is kept.
    expect(admin).to_have_url(re.compile(r"/app/comptes/nouveau/$"))
    error = admin.locator(".field.has-error").filter(has=admin.get_by_label("SIRET"))
    expect(error.get_by_role("alert")).to_contain_text("SIRET invalide")
    expect(admin.get_by_label("SIRET")).to_have_value(INVALID_SIRET)
    expect(admin.get_by_label(NAME_LABEL)).to_have_value("Cabinet Lefèvre")
    assert not ClientAccount.objects.filter(name="Cabinet Lefèvre").exists()

    # Fix it, keep Alice (re-check in case the form did not keep the choice), save.
    admin.get_by_label("SIRET").fill(VALID_SIRET)
    admin.get_by_label("Alice Martin").check()
    expect(admin.get_by_label("Bruno Petit")).not_to_be_checked()
    admin.get_by_role("button", name="Enregistrer").click()

    expect(admin).to_have_url(DETAIL_URL)
    detail_path = DETAIL_URL.search(admin.url).group(0)  # type: ignore[union-attr]
    expect(admin.get_by_role("status")).to_contain_text("Compte « Cabinet Lefèvre » créé.")
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Cabinet Lefèvre")
    identity = admin.locator("section").filter(
        has=admin.get_by_role("heading", name="Identité"))
    expect(identity).to_contain_text("73282932000074")
    agents = admin.locator("section").filter(
        has=admin.get_by_role("heading", name="Télésecrétaires affectés"))
    expect(agents.get_by_role("listitem")).to_have_text(["Alice Martin"])

    account = ClientAccount.objects.get(name="Cabinet Lefèvre")
    assert account.siret == "73282932000074"
    assert [u.email for u in account.assigned_agents.all()] == ["alice@test.fr"]
    assert detail_path == f"/app/comptes/{account.pk}/"

    # --- The assigned agent sees it (own browser context = own session). -------------------
    alice = new_page()
    login(alice, "alice@test.fr")
    alice.goto("/app/comptes/")
    row_link = alice.get_by_role("table").get_by_role("link", name="Cabinet Lefèvre")
    expect(row_link).to_be_visible()
    row_link.click()
    expect(alice).to_have_url(re.compile(re.escape(detail_path) + "$"))
    expect(alice.get_by_role("heading", level=1)).to_contain_text("Cabinet Lefèvre")
    # An agent works on the account but does not manage it.
    expect(alice.get_by_role("link", name="Modifier")).to_have_count(0)

    # --- Another agent does not: not in the list, and the detail URL is a 404. --------------
    bruno = new_page()
    login(bruno, "bruno@test.fr")
    bruno.goto("/app/comptes/")
    expect(bruno.get_by_role("heading", name="Comptes clients")).to_be_visible()
    expect(bruno.get_by_text("Cabinet Lefèvre")).to_have_count(0)
    expect(bruno.get_by_text("Aucun compte client ne correspond.")).to_be_visible()
    response = bruno.goto(detail_path)
    assert response is not None and response.status == 404
    expect(bruno.get_by_role("heading", level=1)).to_have_text("Introuvable")
    expect(bruno.get_by_text("Cabinet Lefèvre")).to_have_count(0)

    # --- A client of the account logs into the espace client. -------------------------------
    Membership.objects.create(user=client, account=account, role="titulaire")
    customer = new_page()
    login(customer, "client@test.fr")
    expect(customer).to_have_url(re.compile(r"/espace/$"))
    expect(customer.get_by_role("heading", level=1)).to_have_text("Bonjour Claire Client")
    expect(customer.get_by_role("main")).to_contain_text("Compte : Cabinet Lefèvre")
    # …and the back-office is closed to them.
    response = customer.goto("/app/comptes/")
    assert response is not None and response.status == 403


def test_wrong_password_shows_french_error(make_user: Any, page: Any, login: Any) -> None:
    make_user("admin@test.fr", "admin")

    login(page, "admin@test.fr", "pas-le-bon-mot-de-passe")

    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Adresse e-mail ou mot de passe incorrect")
    expect(page.get_by_label("Adresse e-mail")).to_have_value("admin@test.fr")
    # Still anonymous.
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/connexion/\?next=/app/$"))


def test_account_list_live_search_filters_without_reload(
        make_user: Any, page: Any, login: Any) -> None:
    from permanence.accounts.models import ClientAccount

    make_user("admin@test.fr", "admin")
    for name, slug, sector in (("Cabinet Martin", "cabinet-martin", "medical"),
                               ("Durand Avocats", "durand-avocats", "juridique"),
                               ("Boulangerie Petit", "boulangerie-petit", "artisan_btp")):
        ClientAccount.objects.create(name=name, slug=slug, sector=sector, status="actif")

    login(page, "admin@test.fr")
    page.goto("/app/comptes/")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    # A marker on the window survives an htmx swap, not a page load.
    page.evaluate("window.__sameDocument = true")

    search = page.get_by_role("searchbox", name="Rechercher")
    search.press_sequentially("durand", delay=30)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Durand Avocats")
    expect(page).to_have_url(re.compile(r"/app/comptes/\?(.*&)?q=durand"))  # hx-push-url

    search.fill("zzz-aucun")
    expect(page.get_by_text("Aucun compte client ne correspond.")).to_be_visible()
    expect(rows).to_have_count(0)

    search.fill("")
    expect(rows).to_have_count(3)
    assert page.evaluate("window.__sameDocument") is True


def test_back_office_menu_on_a_phone(make_user: Any, new_page: Any, login: Any) -> None:
    make_user("admin@test.fr", "admin")
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(phone, "admin@test.fr")
    expect(phone).to_have_url(re.compile(r"/app/$"))

    nav = phone.get_by_role("navigation", name="Navigation")
    burger = phone.locator("label.nav-burger")
    expect(burger).to_be_visible()
    expect(nav).to_be_hidden()
    # The page fits the screen: no horizontal scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    burger.click()
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Comptes clients").click()
    expect(phone).to_have_url(re.compile(r"/app/comptes/$"))
    expect(phone.get_by_role("heading", name="Comptes clients")).to_be_visible()
    expect(nav).to_be_hidden()  # a new page starts with the menu closed

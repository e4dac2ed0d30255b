"""Staff two-factor authentication in a real Chromium, at 1366 and 390 px: an administrator
(whose role requires it) logs in, is sent to Profil › Sécurité, enrolls by reading the secret
from the page (the test computes the code with our TOTP function, as a phone would), sees the
backup codes once, logs out, then logs in with password and code."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from permanence.accounts import totp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_staff_member_enrols_then_logs_in_with_a_code(
        width: int, settings: Any, make_user: Any, new_page: Any, login: Any, password: str,
        page_checked: Any) -> None:
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin", "billing"]
    make_user("admin@test.fr", "admin", full_name="Anne Admin")
    page = new_page(viewport={"width": width, "height": 900})

    login(page, "admin@test.fr")
    # The policy: no back-office page before enrolment.
    expect(page).to_have_url(re.compile(r"/app/profil/securite/$"))
    expect(page.get_by_text("Votre rôle exige la double authentification").first).to_be_visible()
    page.get_by_role("button", name="Activer la double authentification").click()

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    expect(page.locator("#otpauth-uri")).to_have_attribute(
        "href", re.compile(r"^otpauth://totp/Permanence:admin@test\.fr\?secret=" + secret))
    page_checked(page)
    page.get_by_label("Code à 6 chiffres").fill(totp.totp_now(secret, time.time()))
    page.get_by_role("button", name="Activer", exact=True).click()

    codes = page.locator("#backup-codes li")
    expect(codes).to_have_count(10)
    page_checked(page)
    page.get_by_role("link", name="J'ai noté mes codes").click()
    expect(page.get_by_text("Il vous reste 10 codes de secours.")).to_be_visible()
    expect(page.locator("#backup-codes")).to_have_count(0)  # shown once only

    # The back-office is open now; log out.
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/$"))
    logout = page.get_by_role("button", name="Se déconnecter")
    if not logout.is_visible():  # on a phone, behind the menu
        page.locator("label.nav-burger").click()
    logout.click()
    expect(page).not_to_have_url(re.compile(r"/app/"))

    # Password, then the code (the next period's: the enrolment's code is used up).
    login(page, "admin@test.fr", password)
    expect(page).to_have_url(re.compile(r"/connexion/code/$"))
    page_checked(page)
    page.get_by_label("Code de l'application ou code de secours").fill("000000")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("Code incorrect ou expiré.").first).to_be_visible()
    page.get_by_label("Code de l'application ou code de secours").fill(
        totp.totp_now(secret, time.time() + 30))
    page.get_by_role("button", name="Valider").click()
    expect(page).to_have_url(re.compile(r"/app/$"))

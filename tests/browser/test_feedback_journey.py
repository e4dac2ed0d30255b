"""« Votre avis » in a real Chromium at 1366 and 390 px: a visitor on the offers page opens
the dialog, rates and comments, sees the thanks without leaving the page; a supervisor finds
the opinion on the improvement board, grouped by page, and takes it in hand."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.mark.parametrize("size", list(SIZES))
def test_a_visitor_leaves_feedback_and_a_supervisor_takes_it_in_hand(
        size: str, new_page: Any, login: Any, supervisor: Any, page_checked: Any) -> None:
    from permanence.feedback.models import Feedback

    visitor = new_page(**SIZES[size])
    visitor.goto("/offres/")
    visitor.get_by_role("link", name="Votre avis").click()
    dialog = visitor.get_by_role("dialog", name="Votre avis sur cette page")
    expect(dialog).to_be_visible()
    page_checked(visitor)
    dialog.get_by_label("Déçu", exact=True).check()
    dialog.get_by_label("Un commentaire (facultatif)").fill(
        "Je ne trouve pas le prix du forfait le week-end <script>alert(1)</script>")
    dialog.get_by_role("button", name="Envoyer").click()
    expect(dialog.get_by_role("status")).to_contain_text("Merci pour votre avis")
    expect(visitor).to_have_url(re.compile(r"/offres/$"))
    item = Feedback.objects.get()
    assert (item.page, item.rating, item.source) == ("/offres/", 2, "site")

    staff = new_page(**SIZES[size])
    login(staff, supervisor.email)
    staff.goto("/app/avis/")
    expect(staff.get_by_role("heading", name="Avis des visiteurs et clients")).to_be_visible()
    expect(staff.get_by_text("week-end <script>alert(1)</script>")).to_be_visible()
    page_checked(staff)
    staff.locator(f"tr[data-feedback-id=\"{item.pk}\"] a").click()
    staff.get_by_label("Statut").select_option("en_cours")
    staff.get_by_label("Thème").fill("Tarifs")
    staff.get_by_role("button", name="Enregistrer").click()
    expect(staff.get_by_text("Avis mis à jour.")).to_be_visible()
    page_checked(staff)
    item.refresh_from_db()
    assert (item.status, item.theme) == ("en_cours", "Tarifs")

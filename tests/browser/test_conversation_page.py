"""The conversation page in a real Chromium: secondary forms folded, resolve in one click then
"Rouvrir", the inbox's keyboard shortcuts (j/k, Enter, ?, r, never while typing) and a
phone-sized screen where the side panel goes below the thread and nothing scrolls sideways.

Data is created with the ORM (the live server shares the test database); everything the
journey is about is done in the browser."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_EMAIL = "jean-baptiste.de-la-fontaine-tres-long@cabinet-de-kinesitherapie-du-centre.fr"


@pytest.fixture
def three_conversations(make_user: Any) -> tuple[Any, list[Any]]:
    from permanence.accounts.models import ClientAccount
    from permanence.core import clock
    from permanence.inbox import services
    from permanence.inbox.services import Incoming

    agent = make_user("agent@test.fr", "agent")
    account = ClientAccount.objects.create(
        name="Cabinet Martin", slug="cabinet-martin", sector="medical", status="actif",
        notes="Jamais de rendez-vous le mercredi après-midi.")
    account.assigned_agents.add(agent)
    start = clock.now() - timedelta(hours=3)
    conversations = []
    for i, subject in enumerate(["Rendez-vous de contrôle", "Ordonnance à renouveler",
                                 "Question sur une facture"]):
        with clock.frozen(start + timedelta(minutes=i)):
            conversations.append(services.conversation_open(Incoming(
                account=account, channel="email", subject=subject,
                body_text="Bonjour, " + "je voudrais un rendez-vous " * 20,
                contact_email=LONG_EMAIL if i == 0 else f"patient{i}@exemple.fr",
                contact_name="Jean-Baptiste de La Fontaine")))
    return agent, conversations


def test_conversation_page_folds_resolves_in_one_click_and_answers_the_keyboard(
        three_conversations: tuple[Any, list[Any]], page: Any, login: Any) -> None:
    from permanence.inbox.models import Conversation

    agent, _ = three_conversations
    login(page, agent.email)
    page.goto("/app/boite/?view=open&sort=oldest")
    rows = page.locator("[data-kbd-list] tbody tr")
    expect(rows).to_have_count(3)

    # j / k move through the list, Enter opens.
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bkbd-current\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bkbd-current\b"))
    expect(rows.nth(0)).not_to_have_class(re.compile(r"\bkbd-current\b"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bkbd-current\b"))
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ordonnance à renouveler")).to_be_visible()
    second = page.url

    # ? shows the shortcuts in a modal dialog; Esc closes it.
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Raccourcis clavier")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Fermer")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Secondary forms are folded until needed.
    for fold in ("#fold-qualify", "#fold-order", "#fold-merge"):
        assert page.locator(fold).evaluate("el => el.open") is False, fold
    subject = page.locator("#q-subject")
    expect(subject).to_be_hidden()
    page.locator("#fold-qualify > summary").click()
    expect(subject).to_be_visible()  # loaded on opening (htmx)
    expect(subject).to_have_value("Ordonnance à renouveler")
    history = page.locator("#fold-history")
    history.locator("summary").click()
    expect(history.locator("li").first).to_be_visible()

    # r goes to the reply; typing there never fires a shortcut (e would resolve).
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("r")
    reply = page.locator("#reply-form textarea")
    expect(reply).to_be_focused()
    page.keyboard.type("Je vérifie et je reviens vers vous")
    expect(reply).to_have_value("Je vérifie et je reviens vers vous")
    expect(page).to_have_url(second)
    reply.fill("")
    page.keyboard.press("Escape")
    reply.blur()

    # j / k on the conversation: the next and previous of the list it was opened from.
    page.keyboard.press("j")
    expect(page.get_by_role("heading", name="Question sur une facture")).to_be_visible()
    page.keyboard.press("k")
    expect(page).to_have_url(second)

    # Resolving is one click; a resolved case offers "Rouvrir" instead of the reply form.
    page.get_by_role("button", name="Résoudre").click()
    expect(page.get_by_role("button", name="Rouvrir")).to_be_visible()
    expect(page.locator("#reply-form")).to_have_count(0)
    assert Conversation.objects.get(subject="Ordonnance à renouveler").status == "resolu"
    page.get_by_role("button", name="Rouvrir").click()
    expect(page.locator("#reply-form textarea")).to_be_visible()
    assert Conversation.objects.get(subject="Ordonnance à renouveler").status == "ouvert"

    # e resolves from the keyboard too.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    expect(page.get_by_role("button", name="Rouvrir")).to_be_visible()


def test_conversation_page_on_a_phone_puts_the_side_panel_below_and_never_scrolls_sideways(
        three_conversations: tuple[Any, list[Any]], new_page: Any, login: Any) -> None:
    agent, conversations = three_conversations
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(phone, agent.email)
    phone.goto(f"/app/boite/{conversations[0].pk}/")
    expect(phone.get_by_role("heading", name="Rendez-vous de contrôle")).to_be_visible()
    side = phone.locator("aside.conv-side")
    expect(side.get_by_text(LONG_EMAIL)).to_be_attached()
    expect(side.get_by_text("Jamais de rendez-vous le mercredi après-midi.")).to_be_attached()
    # The side panel comes after the thread, full width, and the page fits the screen.
    thread = phone.locator("#timeline").bounding_box()
    panel = side.bounding_box()
    assert panel["y"] >= thread["y"] + thread["height"]
    assert panel["width"] <= 390
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator("#fold-merge > summary").click()
    phone.locator("#fold-qualify > summary").click()
    # Their forms load on opening; the page still fits once they are in.
    expect(phone.locator("#m-target")).to_be_visible()
    expect(phone.locator("#q-subject")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.goto("/app/boite/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

"""Espace client journeys in a real Chromium against the live server.

1. The doctor logs in, finds his own request under "Mes demandes" and his patient's mail under
   "Activité" (worded from his side, no reply form), and leaves a consigne on it; the agent
   sees it on the conversation page as the client's instruction, and the conversation's status
   and deadlines have not moved.
2. At 390 px wide, no page of the espace client scrolls sideways.

Data is set up with the ORM (the live server shares the test database, hence
`transaction=True`); everything the journey is about is done through the real pages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DUE_FIELDS = ("status", "first_response_due_at", "next_response_due_at", "resolution_due_at",
              "next_due_at", "sla_paused_at", "last_inbound_at", "last_message_at")


def _world(account: Any, agent: Any, client_user: Any) -> tuple[Any, Any]:
    """The patient's mail (answered, waiting for the patient) and the doctor's own request."""
    from permanence.inbox.models import Origin, Status
    from permanence.inbox.services import Incoming, conversation_open, conversation_reply

    client_user.full_name = "Dr Paul Martin"
    client_user.save(update_fields=["full_name"])
    patient = conversation_open(Incoming(
        account=account, channel="email", subject="Demande de rendez-vous",
        body_text="Bonjour, je voudrais un rendez-vous mardi matin.",
        contact_name="Jean Dupont", contact_email="jean.dupont@exemple.fr", acknowledge=False))
    conversation_reply(actor=agent, conversation=patient,
                       body="Le Dr Martin peut vous recevoir mardi à 9 h 30. Cela vous convient-il ?",
                       status_after=Status.PENDING_CUSTOMER)
    own = conversation_open(Incoming(
        account=account, channel="espace_client", subject="Modifier mes horaires d'ouverture",
        body_text="Le cabinet sera fermé le mercredi après-midi à partir de janvier.",
        contact_name=client_user.full_name, contact_email=client_user.email,
        origin=Origin.CLIENT, acknowledge=False))
    patient.refresh_from_db()
    return patient, own


def test_client_sees_requests_apart_from_activity_and_leaves_a_consigne(
        new_page: Any, login: Any, agent: Any, client_user: Any, account: Any) -> None:
    from permanence.inbox.models import Conversation

    patient, own = _world(account, agent, client_user)
    before = {f: getattr(patient, f) for f in DUE_FIELDS}

    client = new_page()
    login(client, client_user.email)
    nav = client.get_by_role("navigation", name="Espace client")
    nav.get_by_role("link", name="Mes demandes", exact=True).click()
    expect(client.get_by_role("heading", name="Mes demandes")).to_be_visible()
    table = client.locator("table.requests-table")
    expect(table).to_contain_text("Modifier mes horaires d'ouverture")
    expect(table).not_to_contain_text("Demande de rendez-vous")

    nav.get_by_role("link", name="Activité", exact=True).click()
    expect(client.get_by_role("heading", name="Activité", level=1)).to_be_visible()
    item = client.locator(".activity-item").filter(has_text="Demande de rendez-vous")
    expect(item).to_contain_text("Jean Dupont")
    expect(item.locator(".badge")).to_have_text("En attente du contact")
    expect(client.locator("main")).not_to_contain_text("Modifier mes horaires")
    expect(client.locator("main")).not_to_contain_text("En attente de votre réponse")

    item.get_by_role("link", name="Demande de rendez-vous").click()
    expect(client).to_have_url(re.compile(rf"/espace/activite/{patient.pk}/$"))
    timeline = client.locator("ol.activity-timeline")
    expect(timeline.locator("li.msg-in")).to_contain_text("Message du contact")
    expect(timeline.locator("li.msg-in")).to_contain_text("Jean Dupont")
    expect(timeline.locator("li.msg-out")).to_contain_text("mardi à 9 h 30")
    expect(client.locator("#reply-form")).to_have_count(0)

    client.get_by_role("textbox", name="Consigne pour ce dossier").fill(
        "Ne pas lui donner de RDV : il doit d'abord rappeler le cabinet.")
    client.get_by_role("button", name="Transmettre la consigne").click()
    expect(client.get_by_role("status")).to_contain_text("Votre consigne a été transmise")
    expect(timeline.locator("li.msg-consigne")).to_contain_text("Votre consigne")
    expect(timeline.locator("li.msg-consigne")).to_contain_text("Ne pas lui donner de RDV")

    # The agent sees it as the client's instruction; nothing moved on the conversation.
    desk = new_page()
    login(desk, agent.email)
    desk.goto(f"/app/boite/{patient.pk}/")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Demande de rendez-vous")
    instruction = desk.locator("ol.timeline li.msg-consigne")
    expect(instruction).to_have_count(1)
    expect(instruction).to_contain_text("Consigne du client")
    expect(instruction).to_contain_text("Dr Paul Martin")
    expect(instruction).to_contain_text("Ne pas lui donner de RDV")
    expect(desk.locator(".conv-head .badge")).to_have_text("En attente client")
    after = Conversation.objects.get(pk=patient.pk)
    assert {f: getattr(after, f) for f in DUE_FIELDS} == before
    assert not after.messages.filter(direction="in").exclude(
        pk__in=patient.messages.filter(direction="in").values("pk")).exists()


def test_espace_client_pages_fit_a_phone(new_page: Any, login: Any, agent: Any,
                                         client_user: Any, account: Any) -> None:
    patient, own = _world(account, agent, client_user)
    phone = new_page(**PHONE)
    login(phone, client_user.email)
    for path in ("/espace/", "/espace/demandes/", "/espace/demandes/nouvelle/",
                 f"/espace/demandes/{own.pk}/", "/espace/activite/",
                 f"/espace/activite/{patient.pk}/", "/espace/commandes/", "/espace/devis/",
                 "/espace/profil/"):
        phone.goto(path)
        expect(phone.locator("main")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at 390 px ({width} px wide)"

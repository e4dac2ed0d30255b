"""Manual mode in a real Chromium against the live server, at 1366 and 390 px: the e-mail
channel was down; from the inbox's « Un canal en panne ? » link, a secretary registers a
request received by phone an hour ago, with its original time. The conversation page then
shows its first-response deadline counted from that hour (in the account's business time),
and the timeline says it was typed by hand, by whom, and when it was received. Nothing
scrolls sideways; axe finds nothing serious."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from permanence.inbox import sla
from permanence.inbox.models import Conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


@pytest.mark.parametrize("size", list(SIZES))
def test_an_agent_registers_a_request_received_an_hour_ago_and_sees_its_deadline(
        size: str, new_page: Any, login: Any, agent: Any, account: Any,
        page_checked: Any) -> None:
    received = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=1)
    page = new_page(**SIZES[size])
    login(page, agent.email)
    page.goto("/app/boite/")
    page.get_by_role("link", name="Saisir une demande reçue par téléphone ou e-mail").click()
    page.wait_for_url("**/app/boite/saisie-manuelle/")
    expect(page.get_by_role("heading", name="Saisie manuelle d'une demande")).to_be_visible()
    page_checked(page)

    page.get_by_label("Compte client").select_option(label=account.name)
    page.get_by_label("Reçue par").select_option(label="Téléphone")
    page.get_by_label("Reçue le").fill(received.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Nom du contact").fill("Jeanne Roux")
    page.get_by_label("Téléphone du contact").fill("06 12 34 56 78")
    page.get_by_label("Objet").fill("Renouvellement d'ordonnance")
    page.get_by_role("textbox", name="Message", exact=True).fill("Rappeler Mme Roux avant ce soir.")
    page.get_by_label("Source").fill("reçu sur le portable d'astreinte pendant la panne")
    page.get_by_role("button", name="Enregistrer la demande").click()
    page.wait_for_url(re.compile(r"/app/boite/\d+/$"))

    c = Conversation.objects.get()
    assert c.created_at == received
    targets = sla.targets_for(c)
    expected = sla.due(sla.account_spec(account), received, targets.first_response_hours,
                       same_day=targets.first_response_same_day, clock=targets.clock)
    assert c.first_response_due_at == expected
    deadline = page.locator("time.countdown").first
    expect(deadline).to_have_attribute(
        "title", timezone.localtime(expected).strftime("%d/%m/%Y %H:%M"))
    typed_by = page.locator(".manual-entry")
    expect(typed_by).to_contain_text(f"saisi manuellement par {agent.full_name} le ")
    expect(typed_by).to_contain_text(f"(reçu le {received:%d/%m/%Y %H:%M})")
    page_checked(page)

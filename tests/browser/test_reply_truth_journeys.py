"""A caller who left only a landline number: the conversation page says before anything is typed
that no reply can be sent, offers « Rappel effectué » and « Rappeler plus tard », and the
call back made counts as the first response — at 390 px wide too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_phone_only_caller_is_called_back_not_sent_a_phantom_reply(
        new_page: Any, login: Any, agent: Any, account: Any) -> None:
    from permanence.inbox import services
    from permanence.inbox.models import Conversation, Direction

    conversation = services.phone_message_record(
        # A landline: nothing can carry a reply (a mobile one would be answered by SMS).
        actor=agent, account=account, caller_name="Mme Garcia", caller_phone="01 45 00 00 04",
        reason="Résultats d'analyse", message="Souhaite être rappelée avant 18 h.",
        urgent=False)
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(page, agent.email)
    page.goto(f"/app/boite/{conversation.pk}/")
    region = page.locator("#reply-form")
    expect(region).to_contain_text("Ce contact n'a pas d'adresse e-mail : la réponse ne peut "
                                   "pas lui être envoyée")
    expect(region.get_by_role("button", name="Envoyer la réponse")).to_have_count(0)
    expect(region.get_by_role("heading", name="Rappeler plus tard")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    done = region.locator("#callback-done")
    done.get_by_label(re.compile("Ce qui a été dit")).fill("Résultats normaux, RDV jeudi.")
    done.get_by_role("button", name="Enregistrer le rappel").click()
    expect(page.get_by_role("status").filter(has_text="Rappel enregistré.")).to_be_visible()
    item = page.locator("#timeline li.msg-callback")
    expect(item).to_contain_text("Rappel effectué")
    expect(item).to_contain_text("Résultats normaux, RDV jeudi.")
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.first_response_at is not None
    assert not conversation.messages.filter(direction=Direction.OUT).exists()

"""An SMS conversation answered by SMS, and the operator's receipt reaching the badge: the
reply reads « Envoyé » once the provider took it, and « Délivré » (its instant in the title)
only after the provider's signed status callback says so — posted over HTTP to the live
server, the way Twilio calls it. The provider's API is a local stand-in (the only thing
faked: the HTTP boundary)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from testkit.provider_api import StandIn, provider_standin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNT_NUMBER = "+33180000001"
CONTACT_NUMBER = "+33612345678"
TWILIO_SID = "AC" + "0" * 30 + "ab"
TWILIO_TOKEN = "twilio-browser-test-token"
MESSAGE_SID = "SM" + "4" * 32


@pytest.fixture
def twilio_api() -> Iterator[StandIn]:
    """Twilio's Messages API on 127.0.0.1, answering the reply's POST 201 with MESSAGE_SID."""
    with provider_standin() as stand_in:
        stand_in.replies.append((201, {
            "sid": MESSAGE_SID, "status": "queued", "to": CONTACT_NUMBER,
            "account_sid": TWILIO_SID, "direction": "outbound-api", "error_code": None,
            "num_segments": "1"}))
        yield stand_in


def test_an_sms_reply_reads_delivered_only_once_the_operator_says_so(
        new_page: Any, login: Any, agent: Any, account: Any, settings: Any, tmp_path: Any,
        live_server: Any, twilio_api: StandIn) -> None:
    from permanence.accounts.models import ContactChannel
    from permanence.core.twilio_signature import twilio_signature
    from permanence.inbox.models import Conversation, Direction

    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = TWILIO_SID, TWILIO_TOKEN
    settings.SITE_URL = live_server.url
    ContactChannel.objects.create(account=account, kind="phone", value=ACCOUNT_NUMBER)
    # The contact's SMS, received the way a provider's webhook hands it over (the demo path).
    settings.SMS_BACKEND = "file"
    call_command("simulate_sms", "--to", ACCOUNT_NUMBER, "--from", CONTACT_NUMBER,
                 "--body", "Mon rendez-vous de jeudi tient toujours ?")
    conversation = Conversation.objects.get(account=account)
    # Replies now go through Twilio (its stand-in): taken, not yet delivered.
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_API_BASE = twilio_api.url

    page = new_page()
    login(page, agent.email)
    page.goto(f"/app/boite/{conversation.pk}/")
    reply = page.locator("#reply-form")
    reply.get_by_label(re.compile(r"^Réponse")).fill("Oui, jeudi 10 h, à bientôt.")
    reply.get_by_role("button", name="Envoyer la réponse").click()
    sent = page.locator("#timeline li.msg-out").filter(has_text="jeudi 10 h")
    expect(sent).to_have_count(1)
    page.reload()
    badge = page.locator("#timeline li.msg-out").filter(has_text="jeudi 10 h").locator(
        "[data-delivery]")
    expect(badge).to_have_text("Envoyé")
    assert len(twilio_api.requests) == 1 and b"To=%2B33612345678" in twilio_api.requests[0].body

    # Twilio's status callback, signed for the URL it calls.
    path = "/api/v1/sms/twilio/status"
    params = {"SmsSid": MESSAGE_SID, "SmsStatus": "delivered", "MessageStatus": "delivered",
              "To": CONTACT_NUMBER, "MessageSid": MESSAGE_SID, "AccountSid": TWILIO_SID,
              "From": ACCOUNT_NUMBER, "ApiVersion": "2010-04-01"}
    answer = page.request.post(path, form=params, headers={
        "X-Twilio-Signature": twilio_signature(live_server.url + path, params.items(),
                                               TWILIO_TOKEN)})
    assert answer.status == 200, answer.text()

    page.reload()
    badge = page.locator("#timeline li.msg-out").filter(has_text="jeudi 10 h").locator(
        "[data-delivery]")
    expect(badge).to_have_text("Délivré")
    expect(badge).to_have_attribute("title", re.compile(r"^Délivré au destinataire le "))
    message = conversation.messages.get(direction=Direction.OUT)
    assert message.delivered_at is not None

"""Inbound SMS (Twilio's incoming-message webhook) → the inbox: the dialled number picks the
account, the sender's open SMS conversation is continued, duplicates have one effect, STOP /
ARRET opt out (confirmed once, as the law asks), START opts back in."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.channels_sms.models import OptOut, Sms, SmsStatus
from permanence.core import sms
from permanence.core.errors import DomainError
from permanence.inbox.models import Conversation, Direction, Message

from .conftest import CONTACT_NUMBER, twilio_inbound_params, twilio_post

pytestmark = pytest.mark.django_db

INBOUND_URL = "/api/v1/sms/twilio/inbound"


def _receive(client: Any, capture: Any, body: str, sid: str, **kw: Any) -> Any:
    with capture(execute=True):
        response = twilio_post(client, INBOUND_URL, twilio_inbound_params(body, sid=sid, **kw))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return response


def test_inbound_sms_opens_then_continues_a_conversation(
        sms_account: Any, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    _receive(client, django_capture_on_commit_callbacks,
             "Bonjour, je voudrais décaler mon rendez-vous de jeudi.", "SM" + "1" * 32)
    conversation = Conversation.objects.get()
    assert conversation.account == sms_account and conversation.channel == "sms"
    assert conversation.contact.phone == CONTACT_NUMBER
    assert conversation.subject == "SMS de 06 12 34 56 78"
    _receive(client, django_capture_on_commit_callbacks, "Vendredi matin si possible.",
             "SM" + "2" * 32)
    # The same SMS delivered twice (Twilio retries on a timeout): one message.
    _receive(client, django_capture_on_commit_callbacks, "Vendredi matin si possible.",
             "SM" + "2" * 32)
    assert Conversation.objects.count() == 1
    bodies = list(conversation.messages.filter(direction=Direction.IN)
                  .values_list("body_text", flat=True))
    assert bodies == ["Bonjour, je voudrais décaler mon rendez-vous de jeudi.",
                      "Vendredi matin si possible."]
    assert Sms.objects.filter(direction="in").count() == 2
    # Another sender to the same account: a conversation of their own.
    _receive(client, django_capture_on_commit_callbacks, "Bonjour", "SM" + "3" * 32,
             from_number="+33698765432")
    assert Conversation.objects.count() == 2


def test_resolved_conversation_is_not_continued_after_the_reopen_window(
        sms_account: Any, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    from datetime import timedelta

    from permanence.core import clock

    _receive(client, django_capture_on_commit_callbacks, "Question", "SM" + "4" * 32)
    Conversation.objects.update(status="resolu",
                                resolved_at=clock.now() - timedelta(days=30))
    _receive(client, django_capture_on_commit_callbacks, "Nouvelle question", "SM" + "5" * 32)
    assert Conversation.objects.count() == 2


def test_sms_to_an_unknown_number_is_kept_but_opens_nothing(
        sms_account: Any, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    _receive(client, django_capture_on_commit_callbacks, "Allô ?", "SM" + "6" * 32,
             to_number="+33188888888")
    assert not Conversation.objects.exists()
    kept = Sms.objects.get(direction="in")
    assert kept.account is None and kept.body == "Allô ?"


def test_stop_opts_out_with_one_confirmation_and_start_opts_back_in(
        sms_account: Any, client: Any, django_capture_on_commit_callbacks: Any) -> None:
    _receive(client, django_capture_on_commit_callbacks, "Arrêt", "SM" + "7" * 32)
    assert OptOut.objects.filter(account=sms_account, number=CONTACT_NUMBER).exists()
    confirmations = Sms.objects.filter(direction="out", to_number=CONTACT_NUMBER)
    assert confirmations.count() == 1
    confirmation = confirmations.get()
    assert "vous ne recevrez plus de SMS" in confirmation.body and "START" in confirmation.body
    assert confirmation.status == SmsStatus.DELIVERED  # file backend
    assert confirmation.from_number == "+33180000001"  # from the number the STOP went to
    _receive(client, django_capture_on_commit_callbacks, "STOP", "SM" + "8" * 32)
    assert confirmations.count() == 1  # confirmed once
    assert not Message.objects.exists()  # keywords are not conversations
    with pytest.raises(DomainError) as refused:
        sms.sms_send(to=CONTACT_NUMBER, body="Rappel", account_id=sms_account.pk, ref="")
    assert refused.value.code == "sms_opted_out"

    _receive(client, django_capture_on_commit_callbacks, "start", "SM" + "9" * 32)
    assert not OptOut.objects.exists()
    assert sms.sms_send(to=CONTACT_NUMBER, body="Rappel", account_id=sms_account.pk, ref="")


def test_inbound_with_a_bad_signature_stores_nothing(sms_account: Any, client: Any) -> None:
    params = twilio_inbound_params("Bonjour", sid="SM" + "0" * 32)
    response = twilio_post(client, INBOUND_URL, params, token="wrong")
    assert response.status_code == 403
    assert not Sms.objects.exists() and not Conversation.objects.exists()


def test_simulate_sms_command_opens_a_conversation(sms_account: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("simulate_sms", "--to", "01 80 00 00 01", "--from", "06 12 34 56 78",
                 "--body", "Bonjour, c'est urgent", stdout=out)
    assert "opened:" in out.getvalue()
    conversation = Conversation.objects.get()
    assert conversation.account == sms_account and conversation.channel == "sms"
    assert conversation.messages.get().body_text == "Bonjour, c'est urgent"

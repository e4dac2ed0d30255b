"""Nothing is "sent" that was not sent: a reply goes out only on a channel that can reach the
contact; otherwise the page says so and offers the call back forms. The first response
counts only once something reached the contact; delivery badges tell the truth; one
signature, from one place."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox import delivery, reach, services
from permanence.inbox.canned import render_canned
from permanence.inbox.demo import CANNED, seed_inbox
from permanence.inbox.models import (
    CannedReply,
    Channel,
    Contact,
    Conversation,
    Delivery,
    Direction,
    Message,
    Status,
)
from permanence.inbox.services import Incoming
from permanence.inbox.signature import signed
from permanence.inbox.tasks import deliver_message

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday
UNREACHABLE = "Ce contact n'a pas d'adresse e-mail : la réponse ne peut pas lui être envoyée"

pytestmark = pytest.mark.django_db


def phone_message(account: Any, agent: Any, **extra: Any) -> Conversation:
    # A landline: no channel can reach it (a mobile number is answered by SMS, channels_sms).
    fields = {"caller_name": "Mme Garcia", "caller_phone": "01 45 00 00 04",
              "reason": "Résultats d'analyse", "message": "Souhaite être rappelée.",
              "urgent": False}
    fields.update(extra)
    with clock.frozen(T0):
        return services.phone_message_record(actor=agent, account=account, **fields)


def email_conv(account: Any, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande", "body_text": "Bonjour",
                              "contact_email": "jean@exemple.fr", "contact_name": "Jean",
                              "acknowledge": False}
    fields.update(extra)
    with clock.frozen(T0):
        return services.conversation_open(Incoming(**fields))


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, conversation: Conversation) -> str:
    with clock.frozen(T0 + timedelta(hours=1)):
        return html.unescape(client.get(reverse("inbox:detail", args=[conversation.pk]))
                             .content.decode())


def reload(c: Conversation) -> Conversation:
    return Conversation.objects.get(pk=c.pk)


# --- A reply goes out only where it can reach the contact --------------------------------------


def test_a_caller_with_only_a_phone_number_gets_no_phantom_reply(account: Any,
                                                                  agent: Any) -> None:
    c = phone_message(account, agent)
    assert reach.reply_channels(c) == []
    client = login(agent)
    # The page says so before anything is typed, and offers the call back forms instead.
    shown = page(client, c)
    assert UNREACHABLE in shown
    assert f'action="/app/boite/{c.pk}/repondre/"' not in shown
    assert "Rappel effectué" in shown and "Rappeler plus tard" in shown
    # Posted anyway (an old page, the API): refused, nothing recorded, nothing counted.
    with clock.frozen(T0 + timedelta(hours=1)):
        response = client.post(reverse("inbox:reply", args=[c.pk]), {"body": "Bonjour"})
    assert response.status_code == 409
    text = html.unescape(response.content.decode())
    assert UNREACHABLE in text and "Réponse envoyée" not in text
    assert not c.messages.filter(direction=Direction.OUT).exists()
    assert reload(c).first_response_at is None
    with pytest.raises(DomainError) as refused:
        services.conversation_reply(actor=agent, conversation=c, body="Bonjour")
    assert refused.value.code == "unreachable"


def test_the_api_refuses_a_reply_nothing_can_carry(account: Any, agent: Any,
                                                   api_client_for: Any) -> None:
    c = phone_message(account, agent)
    response = api_client_for(agent).post(
        f"/api/v1/conversations/{c.pk}/messages", {"type": "reply", "body": "Bonjour"},
        content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.json()["code"] == "unreachable"
    assert not c.messages.filter(direction=Direction.OUT).exists()


def test_a_callback_made_counts_as_the_first_response(account: Any, agent: Any) -> None:
    c = phone_message(account, agent)
    client = login(agent)
    at = T0 + timedelta(hours=2)
    with clock.frozen(at):
        empty = client.post(reverse("inbox:callback_done", args=[c.pk]), {"note": " "})
        assert empty.status_code == 422
        done = client.post(reverse("inbox:callback_done", args=[c.pk]),
                           {"note": "Rappelée : résultats normaux, RDV jeudi."})
    assert done.status_code == 302
    c = reload(c)
    assert (c.first_response_at, c.status, c.first_response_due_at) == (at, Status.OPEN, None)
    [event] = c.messages.filter(event="callback_done")
    assert event.data["note"] == "Rappelée : résultats normaux, RDV jeudi."
    assert "Rappelée : résultats normaux, RDV jeudi." in page(client, c)


def test_a_callback_planned_does_not_count_and_is_shown(account: Any, agent: Any) -> None:
    c = phone_message(account, agent)
    client = login(agent)
    url = reverse("inbox:callback_plan", args=[c.pk])
    with clock.frozen(T0):
        for bad in ({"at": "pas une date"}, {"at": "2026-11-01T10:00"}, {"at": ""}):
            assert client.post(url, bad).status_code == 422, bad
        ok = client.post(url, {"at": "2026-11-03T14:30", "note": "Après ses consultations"})
    assert ok.status_code == 302
    c = reload(c)
    assert c.first_response_at is None and c.first_response_due_at is not None
    shown = page(client, c)
    assert "Rappel prévu le mardi 3 novembre à 14:30" in shown
    assert "Après ses consultations" in shown


# --- The first response counts once something reached the contact ---------------------------


def test_a_reply_counts_only_once_sent(account: Any, agent: Any,
                                       django_capture_on_commit_callbacks: Any) -> None:
    c = email_conv(account)
    with clock.frozen(T0 + timedelta(hours=1)):
        message = services.conversation_reply(actor=agent, conversation=c, body="Bien reçu.")
    assert message.delivery_status == Delivery.PENDING
    assert reload(c).first_response_at is None  # written, not sent
    sent_at = T0 + timedelta(hours=2)
    with clock.frozen(sent_at):
        claimed = delivery.message_delivery_claim(message_id=message.pk, attempt=1)
        assert claimed is not None
        delivery.message_delivery_mark_sent(message=claimed)
    c = reload(c)
    assert c.first_response_at == sent_at and c.first_response_due_at is None


def test_a_reply_whose_address_vanished_is_undeliverable(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    c = email_conv(account)
    with clock.frozen(T0 + timedelta(hours=1)):
        message = services.conversation_reply(actor=agent, conversation=c, body="Bien reçu.")
    Contact.objects.filter(pk=c.contact_id).update(email="")  # removed before the worker ran
    with clock.frozen(T0 + timedelta(hours=1)), django_capture_on_commit_callbacks(
            execute=True):
        assert deliver_message.call(message.pk, 1) == "undeliverable"
    message.refresh_from_db()
    assert message.delivery_status == Delivery.UNDELIVERABLE
    assert "adresse e-mail" in message.delivery_error
    assert mail.outbox == []
    assert reload(c).first_response_at is None


def test_a_failed_reply_does_not_count(account: Any, agent: Any, settings: Any,
                                       django_capture_on_commit_callbacks: Any) -> None:
    settings.EMAIL_BACKEND = "permanence.inbox.tests.test_reply_truth.RefusingBackend"
    settings.EMAIL_MAX_ATTEMPTS = 1
    c = email_conv(account)
    with clock.frozen(T0 + timedelta(hours=1)), django_capture_on_commit_callbacks(
            execute=True):
        message = services.conversation_reply(actor=agent, conversation=c, body="Bien reçu.")
    message.refresh_from_db()
    assert message.delivery_status == Delivery.FAILED
    assert "550 mailbox unavailable" in message.delivery_error
    assert reload(c).first_response_at is None


class RefusingBackend:
    """A mail server that refuses everything (SMTP's answer, at the boundary)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise OSError("550 mailbox unavailable")


def test_delivery_badges_tell_the_truth(account: Any, agent: Any) -> None:
    c = email_conv(account)
    statuses = {
        Delivery.PENDING: ("", "En file"),
        Delivery.SENT: ("", "Envoyé"),
        Delivery.FAILED: ("SMTPRecipientsRefused: boîte inconnue", "Échec"),
        Delivery.UNDELIVERABLE: ("", "Non distribuable"),
    }
    for status, (error, _label) in statuses.items():
        Message.objects.create(conversation=c, direction=Direction.OUT, channel=c.channel,
                               author=agent, body_text=f"réponse {status}", created_at=T0,
                               delivery_status=status, delivery_error=error)
    shown = page(login(agent), c)
    for status, (_error, label) in statuses.items():
        assert f'data-delivery="{status}">{label}<' in shown, status
    assert "SMTPRecipientsRefused: boîte inconnue" in shown  # the reason, visible
    # An outgoing message is a "Réponse", never "Envoyé" by its direction alone.
    assert shown.count('data-delivery="sent"') == 1


# --- One signature, from one place -----------------------------------------------------------


def test_a_canned_reply_ending_with_a_signature_is_not_signed_twice(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    agent.full_name = "Claire Morel"
    agent.save()
    c = email_conv(account)
    canned = CannedReply.objects.create(
        title="Ancienne", body="Bonjour {contact},\n\nC'est noté.\n\nBien cordialement,\n"
                               "{agent}\n{compte}")
    body = render_canned(canned.body, c, agent)
    with clock.frozen(T0 + timedelta(hours=1)), django_capture_on_commit_callbacks(
            execute=True):
        message = services.conversation_reply(actor=agent, conversation=c, body=body)
    [sent] = mail.outbox
    assert sent.body.count("Claire Morel") == 1 and sent.body.count("Cabinet Martin") == 1
    assert message.body_text == body.strip()
    # A plain reply gets the signature, once, stored as sent.
    plain = signed("Merci.", account=account, author=agent)
    assert plain == "Merci.\n\n— Claire Morel\nCabinet Martin"
    assert signed(plain, account=account, author=agent) == plain


def test_seeded_canned_replies_neither_sign_nor_repeat_the_acknowledgement(
        account: Any) -> None:
    CannedReply.objects.create(title="Accusé de prise en charge", body="ancien")
    seed_inbox()
    titles = set(CannedReply.objects.values_list("title", flat=True))
    assert "Accusé de prise en charge" not in titles
    assert {title for _slug, title, _body in CANNED} <= titles
    for _slug, _title, body in CANNED:
        assert "{agent}" not in body and "{compte}" not in body

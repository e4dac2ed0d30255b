"""Agents' replies and acknowledgements: headers that thread back, signatures, failures."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest
from django.core import mail

from permanence.channels_email.models import AutoReplyLog
from permanence.channels_email.outbound import (
    format_deadline,
    reply_subject,
    send_acknowledgement,
    send_reply,
)
from permanence.inbox.models import Conversation, Message
from permanence.inbox.services import conversation_reply
from permanence.inbox.signature import signature_for

from .mailtools import ADDRESS, CUSTOMER, make_mail, send


def test_deadline_is_written_in_french_in_paris_time() -> None:
    assert format_deadline(datetime(2026, 11, 23, 11, 0, tzinfo=UTC)) == (
        "lundi 23 novembre 2026 à 12:00")
    assert format_deadline(datetime(2026, 8, 1, 7, 30, tzinfo=UTC)) == (
        "samedi 1er août 2026 à 09:30")


def test_signature_uses_the_agent_and_the_account() -> None:
    class Account:
        name = "Cabinet Martin"
        email_signature = ""

    class Agent:
        full_name = "Claire Morel"
        email = "claire@permanence.test"

    assert signature_for(Account(), Agent()) == "— Claire Morel\nCabinet Martin"
    custom = Account()
    custom.email_signature = "{agent}\nSecrétariat du Cabinet Martin"
    assert signature_for(custom, Agent()) == "Claire Morel\nSecrétariat du Cabinet Martin"


def test_reply_subject_does_not_pile_up_prefixes() -> None:
    conversation = Conversation(subject="RE: Re: Devis", reference="D-2026-000042")
    assert reply_subject(conversation) == "Re: Devis [D-2026-000042]"
    conversation.subject = "Suivi D-2026-000042"
    assert reply_subject(conversation) == "Re: Suivi D-2026-000042"


@pytest.mark.django_db(transaction=True)
def test_agent_reply_threads_back(gateway: Any, mail_account: Any, agent: Any) -> None:
    agent.full_name = "Claire Morel"
    agent.save()
    question = make_mail()
    send(gateway.port, question)
    conversation = Conversation.objects.get()
    mail.outbox.clear()

    reply = conversation_reply(actor=agent, conversation=conversation,
                               body="Bonjour,\nMardi 10 h vous convient-il ?",
                               attachments=[("plan.pdf", b"%PDF-1.4 plan")])

    [sent] = mail.outbox
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert reply.message_id and reply.message_id.endswith("@cabinet-martin.fr>")
    assert sent.extra_headers["Message-ID"] == reply.message_id
    assert sent.from_email == f"Cabinet Martin <{ADDRESS}>"
    assert sent.to == [f"Jeanne Dupont <{CUSTOMER}>"]
    assert sent.reply_to == [f"accueil+{conversation.reply_token}@cabinet-martin.fr"]
    assert sent.subject == f"Re: Demande de rendez-vous [{conversation.reference}]"
    assert sent.extra_headers["In-Reply-To"] == question["Message-ID"]
    assert sent.extra_headers["References"] == question["Message-ID"]
    assert "Auto-Submitted" not in sent.extra_headers  # a human answer
    assert sent.body == ("Bonjour,\nMardi 10 h vous convient-il ?\n\n"
                         "— Claire Morel\nCabinet Martin\n")
    html, mimetype = sent.alternatives[0]
    assert mimetype == "text/html" and "Claire Morel" in html
    assert [(a.filename, a.content) for a in sent.attachments] == [
        ("plan.pdf", b"%PDF-1.4 plan")]
    assert reply.in_reply_to == question["Message-ID"]
    assert reply.recipients == [CUSTOMER]

    # The customer answers the reply: In-Reply-To is our Message-ID.
    answer = make_mail(subject=f"Re: Demande de rendez-vous [{conversation.reference}]",
                       body="Parfait, merci.", headers={
                           "In-Reply-To": reply.message_id,
                           "References": f"{question['Message-ID']} {reply.message_id}"})
    send(gateway.port, answer)
    assert Conversation.objects.count() == 1
    last = conversation.messages.filter(direction="in").order_by("-created_at", "-id")[0]
    assert last.message_id == answer["Message-ID"]
    assert last.body_text.strip() == "Parfait, merci."


@pytest.mark.django_db(transaction=True)
def test_reply_goes_out_over_smtp_and_a_retry_keeps_its_message_id(
        gateway: Any, mail_account: Any, agent: Any, smtp_sink: Any) -> None:
    send(gateway.port, make_mail())
    conversation = Conversation.objects.get()
    smtp_sink.received.clear()

    reply = conversation_reply(actor=agent, conversation=conversation, body="C'est noté.")
    reply.refresh_from_db()
    [(mail_from, rcpt_tos, raw)] = smtp_sink.received
    assert (mail_from, rcpt_tos) == (ADDRESS, [CUSTOMER])
    sent = message_from_bytes(raw, policy=policy.default)
    assert sent["Message-ID"] == reply.message_id

    send_reply(Message.objects.get(pk=reply.pk))  # e.g. a retry after a lost answer
    assert message_from_bytes(smtp_sink.received[-1][2],
                              policy=policy.default)["Message-ID"] == reply.message_id


@pytest.mark.django_db(transaction=True)
def test_send_reply_raises_when_the_mail_server_is_down(gateway: Any, mail_account: Any,
                                                        agent: Any, settings: Any) -> None:
    send(gateway.port, make_mail())
    conversation = Conversation.objects.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard: nobody listens
    settings.EMAIL_TIMEOUT = 2
    message = Message.objects.create(conversation=conversation, direction="out",
                                     channel="email", author=agent, body_text="Test",
                                     contact=conversation.contact,
                                     created_at=conversation.created_at)
    with pytest.raises((OSError, smtplib.SMTPException)):
        send_reply(message)


@pytest.mark.django_db(transaction=True)
def test_acknowledgement_is_sent_once_per_conversation(gateway: Any,
                                                       mail_account: Any) -> None:
    send(gateway.port, make_mail())
    conversation = Conversation.objects.select_related("account", "contact").get()
    assert send_acknowledgement(conversation) == "skipped: already acknowledged"
    assert AutoReplyLog.objects.count() == 1
    assert len(mail.outbox) == 1

"""The inbound gateway over real SMTP/LMTP sessions (smtplib ↔ aiosmtpd in a thread).

transaction=True: the gateway works in other threads, with their own database connections,
so the data must really be committed; on_commit callbacks (acknowledgements) run for real.
"""

from __future__ import annotations

import dataclasses
import html
import smtplib
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError
from django.test import Client

from permanence.channels_email import addressing, inbound
from permanence.channels_email.models import AutoReplyLog
from permanence.channels_email.outbound import format_deadline
from permanence.channels_email.parsing import UNREADABLE_NOTICE
from permanence.core import clock, uploads
from permanence.inbox.models import Attachment, Contact, Conversation, Message
from testkit import files

from .mailtools import ADDRESS, CUSTOMER, OTHER_ADDRESS, make_mail, send

pytestmark = pytest.mark.django_db(transaction=True)


def inbound_messages(conversation: Conversation | None = None) -> Any:
    qs = Message.objects.filter(direction="in")
    return qs.filter(conversation=conversation) if conversation else qs


def acks() -> list[Any]:
    return [m for m in mail.outbox if "Accusé de réception" in m.subject]


# --- New conversations and acknowledgements -------------------------------------------------

def test_new_mail_opens_a_conversation_and_is_acknowledged(gateway: Any,
                                                           mail_account: Any) -> None:
    msg = make_mail(headers={"Cc": "secretariat@example.org"})
    # Monday 23 November 2026, 09:00 in Paris: the deadline falls in business hours.
    with clock.frozen(datetime(2026, 11, 23, 8, 0, tzinfo=UTC)):
        assert send(gateway.port, msg) == {}

    conversation = Conversation.objects.get()
    assert conversation.account == mail_account
    assert conversation.channel == "email"
    assert conversation.subject == "Demande de rendez-vous"
    assert conversation.contact.email == CUSTOMER
    assert conversation.contact.name == "Jeanne Dupont"
    message = inbound_messages().get()
    assert message.message_id == msg["Message-ID"]
    assert message.body_text.strip() == "Bonjour, je souhaite un rendez-vous mardi."
    assert message.sender == CUSTOMER
    assert set(message.recipients) == {ADDRESS, "secretariat@example.org"}
    assert message.data["envelope"] == {"from": CUSTOMER, "to": [ADDRESS]}
    assert not message.needs_review and not message.auto_generated

    [ack] = mail.outbox
    reference = conversation.reference
    assert ack.subject == f"[{reference}] Accusé de réception : Demande de rendez-vous"
    assert ack.from_email == f"Cabinet Martin <{ADDRESS}>"
    assert ack.to == [f"Jeanne Dupont <{CUSTOMER}>"]
    assert ack.reply_to == [f"accueil+{conversation.reply_token}@cabinet-martin.fr"]
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["In-Reply-To"] == msg["Message-ID"]
    assert ack.extra_headers["References"] == msg["Message-ID"]
    assert ack.extra_headers["Message-ID"].endswith("@cabinet-martin.fr>")
    deadline = format_deadline(conversation.first_response_due_at)
    # "24 heures ouvrées" read as one working day (the seeded jours-ouvrés clock): Monday
    # 09:00 → Tuesday 09:00 (counting only opening hours of 8 h days gave Thursday).
    assert deadline == "mardi 24 novembre 2026 à 09:00"
    assert "Nous avons bien reçu votre demande" in ack.body
    assert reference in ack.body and deadline in ack.body
    html, mimetype = ack.alternatives[0]
    assert mimetype == "text/html"
    assert "Nous avons bien reçu votre demande" in html and deadline in html

    # On the timeline, counted for the daily limit, its Message-ID kept for threading.
    event = conversation.messages.get(direction="system", event="acknowledged")
    assert event.message_id == ack.extra_headers["Message-ID"]
    assert AutoReplyLog.objects.filter(address=CUSTOMER).count() == 1


def test_acknowledgement_goes_out_over_smtp(gateway: Any, mail_account: Any,
                                            smtp_sink: Any) -> None:
    msg = make_mail()
    send(gateway.port, msg)

    conversation = Conversation.objects.get()
    [(mail_from, rcpt_tos, raw)] = smtp_sink.received
    assert mail_from == ADDRESS
    assert rcpt_tos == [CUSTOMER]
    sent = message_from_bytes(raw, policy=policy.default)
    # (Django folds long encoded subjects after "Subject:"; readers strip that space.)
    assert str(sent["Subject"]).strip().startswith(f"[{conversation.reference}] Accusé de réception")
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"] == msg["Message-ID"]
    assert sent["Reply-To"] == f"accueil+{conversation.reply_token}@cabinet-martin.fr"
    assert sent.get_body(("plain",)) is not None and sent.get_body(("html",)) is not None
    assert "Nous avons bien reçu votre demande" in sent.get_body(("plain",)).get_content()


def test_recipient_is_case_insensitive_and_html_only_mail_is_converted(
        gateway: Any, mail_account: Any) -> None:
    msg = EmailMessage()
    msg["From"] = CUSTOMER
    msg["To"] = "Accueil@Cabinet-Martin.FR"
    msg["Subject"] = "Horaires"
    msg.set_content("<html><body><p>Quels sont vos <b>horaires</b> ?</p>"
                    "<ul><li>lundi</li><li>mardi</li></ul></body></html>", subtype="html")
    send(gateway.port, msg, to=["Accueil@Cabinet-Martin.FR"])

    message = inbound_messages().get()
    assert message.body_text == "Quels sont vos horaires ?\n\n- lundi\n- mardi"
    assert "<b>horaires</b>" in message.body_html


def test_attachments_are_stored_and_oversized_ones_dropped_but_noted(
        gateway: Any, mail_account: Any) -> None:
    msg = make_mail()
    msg.add_attachment(b"%PDF-1.4 devis", maintype="application", subtype="pdf",
                       filename="devis.pdf")
    msg.add_attachment(b"x" * 5000, maintype="application", subtype="octet-stream",
                       filename="enorme.bin")
    with mock.patch("permanence.channels_email.parsing.MAX_ATTACHMENT_BYTES", 4000):
        send(gateway.port, msg)

    message = inbound_messages().get()
    assert [a.filename for a in message.attachments.all()] == ["devis.pdf"]
    assert message.attachments.get().content_type == "application/pdf"
    assert message.data["dropped_attachments"] == [
        {"filename": "enorme.bin", "size": 5000, "reason": "too_large"}]
    assert message.body_text.startswith("Bonjour")


def test_an_attachment_refused_by_the_inbox_does_not_lose_the_mail(
        gateway: Any, mail_account: Any) -> None:
    msg = make_mail()
    msg.add_attachment(b"%PDF-1.4 " + b"0" * 3000, maintype="application", subtype="pdf",
                       filename="scan.pdf")
    # A rule of the inbox the gateway did not apply itself (here a smaller size limit).
    with mock.patch("permanence.inbox.attachments.POLICY",
                    dataclasses.replace(uploads.ATTACHMENT, max_bytes=1000)):
        send(gateway.port, msg)

    message = inbound_messages().get()
    assert not Attachment.objects.exists()
    assert message.data["dropped_attachments"][0]["filename"] == "scan.pdf"
    assert message.raw  # the original keeps the file for an agent
    assert len(acks()) == 1


def test_refused_attachments_are_kept_out_but_the_mail_is_stored_and_they_are_noted(
        gateway: Any, mail_account: Any, agent: Any) -> None:
    msg = make_mail()
    msg.add_attachment(files.pdf(), maintype="application", subtype="pdf",
                       filename="devis.pdf")
    msg.add_attachment(files.windows_program(), maintype="application",
                       subtype="octet-stream", filename="facture.pdf.exe")
    msg.add_attachment(files.zip_bomb(5), maintype="application", subtype="zip",
                       filename="photos.zip")
    msg.add_attachment(files.HTML_PAGE, maintype="application", subtype="pdf",
                       filename="releve.pdf")
    assert send(gateway.port, msg) == {}  # 250: acknowledged, so nothing may be lost

    message = inbound_messages().get()
    assert message.body_text.startswith("Bonjour")
    assert [a.filename for a in message.attachments.all()] == ["devis.pdf"]
    assert [(d["filename"], d["reason"]) for d in message.data["dropped_attachments"]] == [
        ("facture.pdf.exe", "dangerous"), ("photos.zip", "archive_bomb"),
        ("releve.pdf", "mismatch")]
    assert not message.raw  # the original would hold the refused files
    assert len(acks()) == 1
    client = Client()
    client.force_login(agent)
    page = html.unescape(client.get(f"/app/boite/{message.conversation_id}/")
                         .content.decode())
    assert "Pièce jointe non conservée : facture.pdf.exe (programme ou script)" in page
    assert ("Pièce jointe non conservée : photos.zip (archive excessive une fois "
            "décompressée)") in page


def test_mail_html_is_sanitised_before_it_is_stored_and_never_rendered(
        gateway: Any, mail_account: Any, agent: Any) -> None:
    msg = make_mail(body="Bonjour")
    msg.add_alternative('<p onclick="alert(1)">Bonjour <img src=x onerror="alert(2)">'
                        '<script>alert(3)</script><a href="javascript:alert(4)">lien</a>'
                        '<a href="https://example.org/">site</a></p>', subtype="html")
    send(gateway.port, msg)

    message = inbound_messages().get()
    for payload in ("onclick", "onerror", "<script", "alert(3)", "javascript:", "<img"):
        assert payload not in message.body_html
    assert '<a href="https://example.org/" rel="noopener noreferrer nofollow">site</a>' in \
        message.body_html
    client = Client()
    client.force_login(agent)
    page = client.get(f"/app/boite/{message.conversation_id}/").content.decode()
    assert "alert(" not in page and "onerror" not in page


# --- Threading -----------------------------------------------------------------------------

def test_reply_with_in_reply_to_joins_the_conversation(gateway: Any,
                                                       mail_account: Any) -> None:
    first = make_mail()
    send(gateway.port, first)
    reply = make_mail(subject="Autre chose", body="Finalement jeudi.",
                      headers={"In-Reply-To": first["Message-ID"],
                               "References": first["Message-ID"]})
    send(gateway.port, reply)

    conversation = Conversation.objects.get()
    assert inbound_messages(conversation).count() == 2
    assert len(acks()) == 1  # only new conversations are acknowledged


def test_answer_to_the_acknowledgement_threads_on_its_message_id(gateway: Any,
                                                                 mail_account: Any) -> None:
    send(gateway.port, make_mail())
    [ack] = mail.outbox
    reply = make_mail(subject="Re: votre accusé", headers={
        "References": ack.extra_headers["Message-ID"]})
    send(gateway.port, reply)

    assert Conversation.objects.count() == 1
    assert inbound_messages().count() == 2


def test_reply_to_the_token_address_joins_the_conversation(gateway: Any,
                                                           mail_account: Any) -> None:
    send(gateway.port, make_mail())
    conversation = Conversation.objects.get()
    token_address = f"accueil+{conversation.reply_token}@cabinet-martin.fr"
    # No headers, another subject, even another sender (a colleague): the token decides.
    reply = make_mail(subject="Sans rapport", sender="collegue@example.org", name="",
                      to=token_address)
    send(gateway.port, reply, mail_from="collegue@example.org", to=[token_address])

    assert Conversation.objects.count() == 1
    message = inbound_messages(conversation).order_by("-created_at", "-id").first()
    assert message.sender == "collegue@example.org"
    assert message.data["envelope"]["to"] == [token_address]


def test_unknown_plus_address_still_reaches_the_account(gateway: Any,
                                                        mail_account: Any) -> None:
    send(gateway.port, make_mail(to="accueil+newsletter@cabinet-martin.fr"),
         to=["accueil+newsletter@cabinet-martin.fr"])
    assert Conversation.objects.get().account == mail_account


def test_reference_in_subject_threads_only_for_the_conversations_contact(
        gateway: Any, mail_account: Any) -> None:
    send(gateway.port, make_mail())
    conversation = Conversation.objects.get()
    subject = f"Complément {conversation.reference}"

    send(gateway.port, make_mail(subject=subject, sender=CUSTOMER.upper()))
    assert Conversation.objects.count() == 1
    assert inbound_messages(conversation).count() == 2

    stranger = "inconnu@example.net"
    send(gateway.port, make_mail(subject=subject, sender=stranger, name="Inconnu"),
         mail_from=stranger)
    assert Conversation.objects.count() == 2
    opened = Conversation.objects.exclude(pk=conversation.pk).get()
    assert opened.contact.email == stranger
    assert inbound_messages(conversation).count() == 2


def test_threading_never_crosses_accounts(gateway: Any, mail_account: Any,
                                          other_mail_account: Any) -> None:
    first = make_mail()
    send(gateway.port, first)
    reply = make_mail(to=OTHER_ADDRESS, headers={"In-Reply-To": first["Message-ID"]})
    # Same Message-ID family, other account: a new conversation there.
    reply.replace_header("Message-ID", "<autre@example.org>")
    send(gateway.port, reply, to=[OTHER_ADDRESS])

    assert Conversation.objects.filter(account=mail_account).count() == 1
    assert Conversation.objects.filter(account=other_mail_account).count() == 1


# --- Loop protection -----------------------------------------------------------------------

# (headers, From, envelope sender, expected reason). One test for all: each transactional
# test costs a database flush, and the cases are independent mails anyway.
AUTOMATIC = [
    ({"Auto-Submitted": "auto-replied"}, CUSTOMER, CUSTOMER, "auto_submitted"),
    ({"Auto-Submitted": "auto-generated"}, CUSTOMER, CUSTOMER, "auto_submitted"),
    ({"Precedence": "bulk"}, CUSTOMER, CUSTOMER, "precedence"),
    ({"Precedence": "junk"}, CUSTOMER, CUSTOMER, "precedence"),
    ({"Precedence": "list"}, CUSTOMER, CUSTOMER, "precedence"),
    ({"List-Id": "<infos.example.org>"}, CUSTOMER, CUSTOMER, "mailing_list"),
    ({"List-Unsubscribe": "<mailto:stop@example.org>"}, CUSTOMER, CUSTOMER, "mailing_list"),
    ({}, "MAILER-DAEMON@example.org", "MAILER-DAEMON@example.org", "robot_sender"),
    ({}, "postmaster@example.org", "postmaster@example.org", "robot_sender"),
    ({}, "noreply@shop.example", "bounces@shop.example", "robot_sender"),
    ({}, "no-reply@shop.example", "bounces@shop.example", "robot_sender"),
    ({}, CUSTOMER, "<>", "null_sender"),
]


def test_automatic_mail_is_stored_but_never_acknowledged(gateway: Any,
                                                         mail_account: Any) -> None:
    for n, (headers, sender, mail_from, _reason) in enumerate(AUTOMATIC):
        send(gateway.port, make_mail(subject=f"Auto {n}", sender=sender, headers=headers),
             mail_from=mail_from)

    for n, (headers, _sender, _mail_from, reason) in enumerate(AUTOMATIC):
        message = inbound_messages().get(subject=f"Auto {n}")
        assert message.auto_generated, headers
        assert message.data["auto_reason"] == reason, headers
    assert Conversation.objects.count() == len(AUTOMATIC)
    assert mail.outbox == []
    assert not AutoReplyLog.objects.exists()


def test_auto_submitted_no_is_a_human_mail(gateway: Any, mail_account: Any) -> None:
    send(gateway.port, make_mail(headers={"Auto-Submitted": "no"}))
    assert not inbound_messages().get().auto_generated
    assert len(acks()) == 1


def test_daily_limit_of_automatic_replies_per_address(gateway: Any, mail_account: Any,
                                                      settings: Any) -> None:
    settings.AUTO_REPLY_DAILY_LIMIT = 2
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    with clock.frozen(monday):
        for n in range(3):
            send(gateway.port, make_mail(subject=f"Question {n}"))

    assert Conversation.objects.count() == 3  # every mail is stored
    assert len(acks()) == 2
    assert AutoReplyLog.objects.filter(address=CUSTOMER).count() == 2
    # Another sender is not affected; the same one is answered again a day later.
    with clock.frozen(monday + timedelta(hours=1)):
        send(gateway.port, make_mail(sender="paul@example.org", subject="Autre"),
             mail_from="paul@example.org")
    with clock.frozen(monday + timedelta(hours=24, minutes=1)):
        send(gateway.port, make_mail(subject="Le lendemain"))
    assert len(acks()) == 4


# --- Refusals ------------------------------------------------------------------------------

def test_unknown_recipient_is_refused_at_rcpt(gateway: Any, mail_account: Any) -> None:
    for address in ("personne@cabinet-martin.fr", "inconnu+abc@cabinet-martin.fr",
                    "accueil@ailleurs.example"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(gateway.port, make_mail(to=address), to=[address])
        assert refused.value.recipients[address] == (550, b"5.1.1 Adresse inconnue")
    assert not Message.objects.exists()


def test_known_and_unknown_recipients_mixed(gateway: Any, mail_account: Any) -> None:
    refused = send(gateway.port, make_mail(), to=[ADDRESS, "personne@cabinet-martin.fr"])
    assert refused == {"personne@cabinet-martin.fr": (550, b"5.1.1 Adresse inconnue")}
    assert Conversation.objects.count() == 1


def test_oversized_mail_is_refused_with_552(gateway: Any, mail_account: Any) -> None:
    big = make_mail(body="x" * 80 + ("\n" + "y" * 80) * 15_000)  # ~1.2 Mo > 1 Mo
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("size")
        assert client.esmtp_features["size"] == str(1024 * 1024)
    # smtplib announces the size: refused at MAIL FROM.
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(gateway.port, big)
    assert refused.value.smtp_code == 552
    assert refused.value.smtp_error == b"5.3.4 Message trop volumineux (max 1 Mo)"
    # A client that does not announce it: refused once the data has been read.
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=10) as client:
        client.ehlo()
        client.mail(CUSTOMER)
        client.rcpt(ADDRESS)
        code, text = client.data(big.as_bytes(policy=policy.SMTP))
    assert (code, text) == (552, b"5.3.4 Message trop volumineux (max 1 Mo)")
    assert not Message.objects.exists()


# --- Robustness ----------------------------------------------------------------------------

GARBAGE = {
    "no headers, binary": b"\xff\xfe\x00\x01 ceci n'est pas un e-mail\r\n\x00\x00\r\n",
    "broken multipart": (b"From: jeanne.dupont@example.org\r\nSubject: Pieces\r\n"
                         b"Message-ID: <casse@example.org>\r\n"
                         b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
                         b"--sans-frontiere\r\nContent-Type: text/plain\r\n\r\nBonjour\r\n"),
    "bad base64": (b"From: jeanne.dupont@example.org\r\nSubject: Scan\r\n"
                   b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n@@@ pas du base64 !!\r\n"),
    "unknown charset": (b"From: jeanne.dupont@example.org\r\nSubject: Texte\r\n"
                        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-martien\r\n"
                        b"\r\nBonjour \xe9t\xe9\r\n"),
}


def test_unparseable_mail_is_kept_for_review(gateway: Any, mail_account: Any) -> None:
    for raw in GARBAGE.values():
        assert send(gateway.port, raw) == {}

    messages = list(inbound_messages().order_by("id"))
    assert len(messages) == len(GARBAGE)
    for (case, raw), message in zip(GARBAGE.items(), messages, strict=True):
        assert message.needs_review, case
        assert message.body_text.startswith(UNREADABLE_NOTICE), case
        assert message.data["problems"], case
        with message.raw.open("rb") as handle:
            assert handle.read() == raw, case
        assert message.raw.name.endswith(".eml"), case
        # Who sent it is known from the envelope at worst.
        assert message.conversation.contact.email == CUSTOMER, case


def test_duplicate_message_id_is_stored_once(gateway: Any, mail_account: Any) -> None:
    msg = make_mail()
    assert send(gateway.port, msg) == {}
    assert send(gateway.port, msg) == {}  # a retry after a lost "250": accepted, ignored

    assert inbound_messages().count() == 1
    assert Conversation.objects.count() == 1
    assert len(acks()) == 1


def test_same_message_to_two_accounts_is_stored_in_each(gateway: Any, mail_account: Any,
                                                        other_mail_account: Any) -> None:
    send(gateway.port, make_mail(), to=[ADDRESS, OTHER_ADDRESS])

    assert {c.account for c in Conversation.objects.all()} == {mail_account,
                                                               other_mail_account}
    contacts = Contact.objects.filter(email=CUSTOMER)
    assert {c.account for c in contacts} == {mail_account, other_mail_account}


def test_database_failure_answers_451_and_stores_nothing(gateway: Any,
                                                         mail_account: Any) -> None:
    original = inbound._ingest_for_account
    created: list[int] = []

    def fail_after_writing(*args: Any, **kwargs: Any) -> Any:
        outcome = original(*args, **kwargs)
        created.append(outcome.conversation_id)  # rows exist inside the transaction…
        raise OperationalError("database is locked")

    msg = make_mail()
    with mock.patch.object(inbound, "_ingest_for_account", fail_after_writing), \
            pytest.raises(smtplib.SMTPDataError) as failed:
        send(gateway.port, msg)
    assert failed.value.smtp_code == 451
    assert failed.value.smtp_error.decode() == "4.3.0 Erreur temporaire, réessayez plus tard"
    assert created and created[0] is not None
    # …and were rolled back: nothing half-stored, no acknowledgement.
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    assert mail.outbox == []

    # The sender retries later: stored once, acknowledged once.
    assert send(gateway.port, msg) == {}
    assert Conversation.objects.count() == 1
    assert len(acks()) == 1


def test_a_failing_side_effect_after_commit_still_answers_250(gateway: Any,
                                                             mail_account: Any) -> None:
    # The mail is committed before the side effects run; failing to push a live update
    # must not make the sender retry (it would only be de-duplicated).
    with mock.patch("permanence.inbox.live.inbox_changed",
                    side_effect=OperationalError("channel layer down")):
        assert send(gateway.port, make_mail()) == {}
    assert Conversation.objects.count() == 1


def test_recipients_are_looked_up_once_per_message(gateway: Any, mail_account: Any) -> None:
    # Routed as accepted at RCPT TO: DATA does not look the address up a second time.
    with mock.patch.object(addressing, "route_for", wraps=addressing.route_for) as lookup:
        assert send(gateway.port, make_mail()) == {}
    assert lookup.call_count == 1
    assert Conversation.objects.filter(account=mail_account).count() == 1


def test_addresses_and_accounts_are_read_once_per_process(gateway: Any,
                                                         mail_account: Any) -> None:
    from permanence.inbox import sla

    sla.ensure_default_policy()  # as in production (created with the first mail it empties
    # every cache of the process, as any change of a cached setting does)
    assert send(gateway.port, make_mail()) == {}
    # The next mails to the same address are routed (RCPT TO) and stored without reading
    # the address or the account again.
    with mock.patch.object(addressing, "_lookup", wraps=addressing._lookup) as lookup, \
            mock.patch.object(inbound, "ClientAccount", wraps=inbound.ClientAccount) as model:
        assert send(gateway.port, make_mail()) == {}  # cached by the first mail
        assert send(gateway.port, make_mail(), to=[ADDRESS.upper()]) == {}
    assert lookup.call_count == 0
    assert not [c for c in model.mock_calls if c[0] == "objects.get"]
    assert Conversation.objects.filter(account=mail_account).count() == 3


def test_address_changes_are_seen_at_once(gateway: Any, mail_account: Any,
                                          other_account: Any) -> None:
    from permanence.accounts.models import ContactChannel

    assert send(gateway.port, make_mail()) == {}  # ADDRESS is cached from now on
    # Moved to another account (in this process): the next mail follows it.
    ContactChannel.objects.filter(value=ADDRESS).delete()
    ContactChannel.objects.create(account=other_account, kind="email", value=ADDRESS)
    assert send(gateway.port, make_mail()) == {}
    assert Conversation.objects.filter(account=other_account).count() == 1
    # Removed: refused at once.
    ContactChannel.objects.filter(value=ADDRESS).delete()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(gateway.port, make_mail())
    # An unknown address is not remembered: created by another process a moment after a
    # refusal (no signal reaches this one), it is accepted at once, never bounced for long.
    ContactChannel.objects.bulk_create([ContactChannel(account=mail_account, kind="email",
                                                       value=ADDRESS)])
    assert send(gateway.port, make_mail()) == {}
    assert Conversation.objects.filter(account=mail_account).count() == 2


def test_the_gateway_process_keeps_its_database_connections(monkeypatch: Any) -> None:
    from django.db import connections

    from permanence.channels_email import gateway as gateway_module

    settings_dict = connections["default"].settings_dict
    pool = settings_dict.get("OPTIONS", {}).get("pool")
    if pool:  # a connection pool keeps the connections already: left as it is
        monkeypatch.setitem(settings_dict, "CONN_MAX_AGE", 0)
        gateway_module.keep_connections()
        assert settings_dict["CONN_MAX_AGE"] == 0
        # Without one, the gateway keeps its own.
        monkeypatch.setitem(settings_dict, "OPTIONS", {
            k: v for k, v in settings_dict["OPTIONS"].items() if k != "pool"})
    monkeypatch.setitem(settings_dict, "CONN_MAX_AGE", 0)
    monkeypatch.setitem(settings_dict, "CONN_HEALTH_CHECKS", False)
    gateway_module.keep_connections()
    if connections["default"].vendor == "postgresql":
        # Two new connections per mail (RCPT TO, DATA) cost more than storing it.
        assert settings_dict["CONN_MAX_AGE"] == gateway_module.KEPT_CONNECTION_MAX_AGE
        assert settings_dict["CONN_HEALTH_CHECKS"] is True
    else:  # SQLite: a connection per use, as configured
        assert settings_dict["CONN_MAX_AGE"] == 0
    # An explicit DB_CONN_MAX_AGE is the operator's choice: left as it is.
    monkeypatch.setitem(settings_dict, "CONN_MAX_AGE", 30)
    gateway_module.keep_connections()
    assert settings_dict["CONN_MAX_AGE"] == 30


def test_ingest_without_gateway_routes_looks_recipients_up(mail_account: Any) -> None:
    raw = make_mail().as_bytes()
    [outcome] = inbound.ingest(raw, mail_from=CUSTOMER, rcpt_tos=[ADDRESS.upper()])
    assert outcome.result == "opened" and outcome.account_id == mail_account.pk
    with pytest.raises(inbound.Unroutable):
        inbound.ingest(raw, mail_from=CUSTOMER, rcpt_tos=["personne@cabinet-martin.fr"])
    # Routes handed over by the gateway are used as they are (one per recipient).
    with pytest.raises(inbound.Unroutable):
        inbound.ingest(raw, mail_from=CUSTOMER, rcpt_tos=[ADDRESS], routes=[None])


def test_database_failure_at_rcpt_answers_451(gateway: Any, mail_account: Any) -> None:
    with mock.patch.object(addressing, "route_for",
                           side_effect=OperationalError("could not connect")), \
            pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(gateway.port, make_mail())
    code, _text = refused.value.recipients[ADDRESS]
    assert code == 451


# --- LMTP ----------------------------------------------------------------------------------

def test_lmtp_delivery_answers_once_per_recipient(lmtp_gateway: Any, mail_account: Any,
                                                  other_mail_account: Any) -> None:
    with smtplib.LMTP("127.0.0.1", lmtp_gateway.port, timeout=10) as client:
        assert client.send_message(make_mail()) == {}
        # Two recipients: RFC 2033 wants one reply per recipient after the data.
        client.ehlo_or_helo_if_needed()
        client.mail(CUSTOMER)
        assert client.rcpt(ADDRESS)[0] == 250
        assert client.rcpt(OTHER_ADDRESS)[0] == 250
        assert client.rcpt("personne@cabinet-martin.fr")[0] == 550
        first = client.data(make_mail(subject="Pour vous deux").as_bytes())
        second = client.getreply()
    assert first[0] == 250 and second[0] == 250
    assert Conversation.objects.filter(account=mail_account).count() == 2
    assert Conversation.objects.filter(account=other_mail_account).count() == 1

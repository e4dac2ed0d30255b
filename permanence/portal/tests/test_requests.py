"""Espace client, "Mes demandes": list, new request, conversation page, reply, attachments,
and the isolation between accounts (and from internal notes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from permanence.accounts.models import ClientAccount, Membership
from permanence.channels_email.outbound import format_deadline
from permanence.core import clock
from permanence.inbox.models import Attachment, Conversation, Message, ReadMarker
from permanence.inbox.services import (
    Incoming,
    conversation_add_note,
    conversation_open,
    conversation_reply,
    conversation_set_status,
)
from testkit import files

pytestmark = pytest.mark.django_db

MONDAY_9H = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def open_conversation(account: Any, subject: str = "Question sur ma facture",
                      body: str = "Bonjour, une question.", **extra: Any) -> Conversation:
    return conversation_open(Incoming(account=account, channel="espace_client",
                                      subject=subject, body_text=body,
                                      contact_email="client@test.fr", contact_name="Client",
                                      acknowledge=False, origin="client", **extra))


@pytest.fixture
def client_login(client: Client, client_user: Any, account: Any) -> Client:
    client.force_login(client_user)
    return client


@pytest.fixture
def conversation(account: Any, agent: Any) -> Conversation:
    conversation = open_conversation(account)
    conversation_reply(actor=agent, conversation=conversation,
                       body="Voici notre réponse.",
                       attachments=[SimpleUploadedFile("devis.pdf", b"%PDF-1.4 devis")])
    conversation_add_note(actor=agent, conversation=conversation,
                          body="NOTE SECRÈTE : client difficile")
    return conversation


# --- List -------------------------------------------------------------------------------------

def test_list_shows_the_current_accounts_requests(client_login: Client, conversation: Any,
                                                  other_account: Any) -> None:
    older = open_conversation(conversation.account, subject="Ancienne demande")
    Conversation.objects.filter(pk=older.pk).update(
        last_message_at=conversation.last_message_at - timedelta(days=3))
    hidden = open_conversation(other_account, subject="Demande d'un autre compte")
    response = client_login.get(reverse("portal:requests"))
    assert response.status_code == 200
    page = response.content.decode()
    assert conversation.reference in page and conversation.subject in page
    assert hidden.reference not in page and hidden.subject not in page
    # Newest first.
    assert page.index(conversation.reference) < page.index(older.reference)
    # Status in plain French and the unread answer flagged.
    assert "En cours de traitement" in page
    assert "Nouvelle réponse" in page
    assert "Reçue" in page  # `older` has not been answered yet


def test_the_new_reply_flag_clears_once_the_conversation_is_opened(
        client_login: Client, conversation: Any, agent: Any) -> None:
    client_login.get(reverse("portal:request_detail", args=[conversation.pk]))
    page = client_login.get(reverse("portal:requests")).content.decode()
    assert "Nouvelle réponse" not in page
    home = client_login.get(reverse("portal:home")).content.decode()
    assert "1 demande en cours" in home and "nouvelle réponse" not in home
    conversation_reply(actor=agent, conversation=conversation, body="Un complément.")
    assert "Nouvelle réponse" in client_login.get(reverse("portal:requests")).content.decode()
    assert "1 nouvelle réponse" in client_login.get(reverse("portal:home")).content.decode()


def test_empty_list(client_login: Client) -> None:
    page = client_login.get(reverse("portal:requests")).content.decode()
    assert "Aucune demande pour le moment." in page
    # The old placeholder URL still leads to the list.
    assert client_login.get(reverse("portal:section", args=["demandes"])).status_code == 200


# --- New request ----------------------------------------------------------------------------

def test_new_request(client_login: Client, account: Any, client_user: Any,
                     django_capture_on_commit_callbacks: Any) -> None:
    assert client_login.get(reverse("portal:request_new")).status_code == 200
    upload = SimpleUploadedFile("photo.png", files.png(40, 30))
    with clock.frozen(MONDAY_9H), django_capture_on_commit_callbacks(execute=True):
        response = client_login.post(reverse("portal:request_new"), {
            "kind": "assistance", "subject": "Accès impossible", "body": "Je ne peux pas.",
            "attachments": [upload]})
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:request_detail", args=[conversation.pk])
    assert (conversation.account, conversation.channel, conversation.kind) == (
        account, "espace_client", "assistance")
    assert conversation.contact.email == client_user.email
    assert conversation.contact.name == client_user.full_name
    message = conversation.messages.get(direction="in")
    assert message.channel == "espace_client" and message.attachments.count() == 1
    # The acknowledgement: on screen (reference and deadline) and by e-mail.
    page = client_login.get(response["Location"]).content.decode()
    # The promised date: the one the inbox computed (its clock is the SLA's business).
    deadline = format_deadline(conversation.first_response_due_at)
    assert conversation.reference in page and f"au plus tard le {deadline}" in page
    acks = [m for m in mail.outbox if "Accusé de réception" in m.subject]
    assert len(acks) == 1 and acks[0].to == [f"{client_user.full_name} <{client_user.email}>"]


def test_new_request_bad_input(client_login: Client) -> None:
    response = client_login.post(reverse("portal:request_new"),
                                 {"kind": "autre", "subject": "", "body": ""})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choisissez un type de demande dans la liste." in page
    assert "Ce champ est obligatoire." in page
    assert not Conversation.objects.exists()


def test_new_request_oversize_attachment(client_login: Client) -> None:
    big = SimpleUploadedFile("gros.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))
    response = client_login.post(reverse("portal:request_new"), {
        "kind": "question", "subject": "Sujet", "body": "Texte", "attachments": [big]})
    assert response.status_code == 413
    assert "dépasse la taille maximale de 10 Mo" in response.content.decode()
    assert not Conversation.objects.exists() and not Attachment.objects.exists()


def test_new_request_with_an_image_bomb_or_a_disguised_file_is_refused(
        client_login: Client) -> None:
    for upload, error in (
            (SimpleUploadedFile("photo.png", files.png(50_000, 50_000)),
             "L'image « photo.png » est trop grande (50000 × 50000 pixels)"),
            (SimpleUploadedFile("devis.pdf", files.HTML_PAGE),
             "Le contenu du fichier « devis.pdf » ne correspond pas à son extension (.pdf).")):
        response = client_login.post(reverse("portal:request_new"), {
            "kind": "question", "subject": "Sujet", "body": "Texte", "attachments": [upload]})
        assert response.status_code == 422
        assert escape(error) in response.content.decode()
    assert not Conversation.objects.exists() and not Attachment.objects.exists()


# --- Conversation page, reply, attachments ------------------------------------------------------

def test_detail_shows_messages_but_never_notes_or_events(client_login: Client,
                                                         conversation: Any) -> None:
    response = client_login.get(reverse("portal:request_detail", args=[conversation.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Bonjour, une question." in page
    assert "Voici notre réponse." in page
    assert "devis.pdf" in page
    assert "NOTE SECRÈTE" not in page
    assert "Note interne" not in page and "statut :" not in page
    assert ReadMarker.objects.filter(conversation=conversation,
                                     user__email="client@test.fr").exists()


def test_reply(client_login: Client, conversation: Any, agent: Any) -> None:
    conversation_set_status(actor=agent, conversation=conversation, status="attente_client")
    response = client_login.post(reverse("portal:request_reply", args=[conversation.pk]), {
        "body": "Voici les précisions.",
        "attachments": [SimpleUploadedFile("precisions.txt", b"du texte")]})
    assert response.status_code == 302
    message = conversation.messages.filter(direction="in").latest("created_at")
    assert (message.body_text, message.channel) == ("Voici les précisions.", "espace_client")
    assert message.attachments.get().filename == "precisions.txt"
    conversation.refresh_from_db()
    assert conversation.status == "ouvert"  # a customer's answer resumes the conversation
    page = client_login.get(response["Location"]).content.decode()
    assert "Votre message a bien été envoyé." in page and "Voici les précisions." in page


def test_reply_needs_a_message(client_login: Client, conversation: Any) -> None:
    before = Message.objects.count()
    response = client_login.post(reverse("portal:request_reply", args=[conversation.pk]),
                                 {"body": "  "})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.content.decode()
    assert Message.objects.count() == before


def test_no_reply_on_a_closed_request(client_login: Client, conversation: Any,
                                      agent: Any) -> None:
    conversation_set_status(actor=agent, conversation=conversation, status="clos")
    page = client_login.get(reverse("portal:request_detail", args=[conversation.pk]))
    assert "Cette demande est close" in page.content.decode()
    assert 'id="reply-form"' not in page.content.decode()
    before = Message.objects.count()
    response = client_login.post(reverse("portal:request_reply", args=[conversation.pk]),
                                 {"body": "Encore moi"})
    assert response.status_code == 409
    assert Message.objects.count() == before


def test_attachment_download(client_login: Client, conversation: Any) -> None:
    attachment = Attachment.objects.get(message__direction="out")
    response = client_login.get(reverse("portal:request_attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 devis"


def test_attachment_of_an_internal_note_is_never_served(client_login: Client,
                                                        conversation: Any) -> None:
    from django.core.files.base import ContentFile

    note = conversation.messages.get(direction="note")
    secret = Attachment(message=note, filename="interne.txt", content_type="text/plain",
                        size=6, sha256="0" * 64)
    secret.file.save("blob", ContentFile(b"secret"), save=True)
    response = client_login.get(reverse("portal:request_attachment", args=[secret.pk]))
    assert response.status_code == 404


# --- Isolation ------------------------------------------------------------------------------

def test_another_accounts_client_gets_404_everywhere(client: Client, conversation: Any,
                                                     outsider_client: Any,
                                                     other_account: Any) -> None:
    client.force_login(outsider_client)
    attachment = Attachment.objects.get()
    before = Message.objects.count()
    assert client.get(reverse("portal:request_detail", args=[conversation.pk])).status_code \
        == 404
    assert client.post(reverse("portal:request_reply", args=[conversation.pk]),
                       {"body": "Intrusion"}).status_code == 404
    assert client.get(reverse("portal:request_attachment",
                              args=[attachment.pk])).status_code == 404
    assert conversation.reference not in client.get(reverse("portal:requests")).content.decode()
    assert Message.objects.count() == before
    assert not ReadMarker.objects.filter(user=outsider_client).exists()


def test_the_account_switcher_decides_the_current_account(client_login: Client,
                                                          client_user: Any, account: Any,
                                                          conversation: Any) -> None:
    second = ClientAccount.objects.create(name="Zénith Conseil", slug="zenith", status="actif")
    Membership.objects.create(user=client_user, account=second, role="membre")
    elsewhere = open_conversation(second, subject="Demande du second compte")
    # Default: the first account (by name).
    page = client_login.get(reverse("portal:requests")).content.decode()
    assert conversation.reference in page and elsewhere.reference not in page
    assert client_login.get(reverse("portal:request_detail",
                                    args=[elsewhere.pk])).status_code == 404
    client_login.post(reverse("portal:switch"), {"account": second.pk})
    page = client_login.get(reverse("portal:requests")).content.decode()
    assert elsewhere.reference in page and conversation.reference not in page
    assert client_login.get(reverse("portal:request_detail",
                                    args=[elsewhere.pk])).status_code == 200
    # A new request goes to the current account.
    client_login.post(reverse("portal:request_new"), {
        "kind": "question", "subject": "Pour Zénith", "body": "Bonjour"})
    assert Conversation.objects.get(subject="Pour Zénith").account == second


@pytest.mark.parametrize("staff", ["agent", "supervisor", "billing", "admin_user"])
def test_staff_are_refused_the_client_pages(client: Client, conversation: Any, staff: str,
                                            request: Any) -> None:
    client.force_login(request.getfixturevalue(staff))
    attachment = Attachment.objects.get()
    for name, args in [("portal:requests", []), ("portal:request_new", []),
                       ("portal:request_detail", [conversation.pk]),
                       ("portal:request_attachment", [attachment.pk])]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("portal:request_reply", args=[conversation.pk]),
                       {"body": "x"}).status_code == 403


def test_anonymous_is_sent_to_the_login_page(client: Client, conversation: Any) -> None:
    response = client.get(reverse("portal:request_detail", args=[conversation.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")

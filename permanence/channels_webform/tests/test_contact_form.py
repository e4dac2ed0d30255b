"""The public contact form: submission → conversation + acknowledgement, and its guards
(consent, honeypot, rate limit, attachment size, embedding, unknown or terminated accounts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from permanence.accounts.models import ClientAccount
from permanence.core import clock
from permanence.core.consent import text_version
from permanence.inbox.models import Attachment, Contact, Conversation, Message
from testkit import files

pytestmark = pytest.mark.django_db

# Monday 23 November 2026, 09:00 in Paris: 24 business hours later, read as one working day
# (the seeded jours-ouvrés clock), is Tuesday 24 November at 09:00.
MONDAY_9H = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DEADLINE = "mardi 24 novembre 2026 à 09:00"
MAX = 10 * 1024 * 1024


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # the rate limit lives in the (process-wide) local-memory cache
    yield
    cache.clear()


def url(account: ClientAccount, **query: str) -> str:
    path = reverse("channels_webform:account", kwargs={"slug": account.slug})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "demande_devis", "name": "Jeanne Dupont", "email": "Jeanne.Dupont@Example.org",
        "phone": "06 12 34 56 78", "subject": "Devis pour une permanence  téléphonique",
        "message": "Bonjour,\nPouvez-vous m'envoyer un devis ?", "consent": "on",
        "site_web": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def nothing_stored() -> bool:
    return not (Conversation.objects.exists() or Message.objects.exists()
                or Contact.objects.exists() or Attachment.objects.exists())


def acks() -> list[Any]:
    return [m for m in mail.outbox if "Accusé de réception" in m.subject]


def test_get_shows_the_form_with_the_consent_wording(client: Client, account: Any) -> None:
    response = client.get(url(account))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nous contacter" in page
    assert "utilisées par Cabinet Martin" in page  # the consent names the account
    for label in ("Question", "Demande de devis", "Assistance", "Réclamation"):
        assert label in page
    assert 'name="site_web"' in page and 'class="hp"' in page
    assert response["X-Frame-Options"] == "DENY"
    assert "<iframe" not in page  # the snippet is for staff only


def test_successful_submission(client: Client, account: Any,
                               django_capture_on_commit_callbacks: Any) -> None:
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 un plan", content_type="application/pdf")
    with clock.frozen(MONDAY_9H), django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(account), form_data(attachments=[upload]))

    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.account == account
    assert conversation.channel == "formulaire"
    assert conversation.kind == "demande_devis"
    assert conversation.subject == "Devis pour une permanence téléphonique"
    contact = Contact.objects.get()
    assert conversation.contact == contact
    assert (contact.email, contact.name, contact.phone) == (
        "jeanne.dupont@example.org", "Jeanne Dupont", "+33612345678")
    message = Message.objects.get(direction="in")
    assert message.conversation == conversation and message.contact == contact
    assert message.body_text == "Bonjour,\nPouvez-vous m'envoyer un devis ?"
    # The version names the very words shown (with the account's name in them).
    assert message.data["consent"]["version"] == text_version(message.data["consent"]["text"])
    assert len(message.data["consent"]["version"]) == 12
    assert message.data["consent"]["at"] == MONDAY_9H.isoformat()
    assert "Cabinet Martin" in message.data["consent"]["text"]
    attachment = Attachment.objects.get()
    assert (attachment.message, attachment.filename, attachment.content_type) == (
        message, "plan.pdf", "application/pdf")

    page = response.content.decode()
    assert conversation.reference in page
    assert DEADLINE in page
    # The acknowledgement e-mail went out after commit, with the reference.
    assert len(acks()) == 1
    assert acks()[0].to == ["Jeanne Dupont <jeanne.dupont@example.org>"]
    assert conversation.reference in acks()[0].subject


def test_operator_contact_page(client: Client, db: Any,
                               django_capture_on_commit_callbacks: Any) -> None:
    # No operator account yet: nothing to contact.
    assert client.get(reverse("channels_webform:operator")).status_code == 404
    operator = ClientAccount.objects.create(name="Permanence SAS", slug="permanence",
                                            is_operator=True, status="actif")
    assert client.get(reverse("channels_webform:operator")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("channels_webform:operator"),
                               form_data(kind="reclamation"))
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert (conversation.account, conversation.kind) == (operator, "reclamation")


def test_missing_consent_is_refused_and_nothing_is_stored(client: Client, account: Any) -> None:
    response = client.post(url(account), form_data(consent=None))
    assert response.status_code == 422
    assert "Votre accord est nécessaire" in response.content.decode()
    assert nothing_stored()
    assert mail.outbox == []


def test_bad_input_shows_french_errors_next_to_the_fields(client: Client, account: Any) -> None:
    response = client.post(url(account), form_data(email="pas-une-adresse", phone="12",
                                                   message="   ", kind="autre"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "Saisissez une adresse e-mail valide" in page
    assert "Numéro de téléphone invalide" in page
    assert "Choisissez un type de demande dans la liste." in page
    assert "corrigez les champs signalés" in page
    # The values typed are kept.
    assert "Jeanne Dupont" in page
    assert nothing_stored()


def test_honeypot_pretends_success_and_stores_nothing(client: Client, account: Any,
                                                      django_capture_on_commit_callbacks: Any
                                                      ) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(account), form_data(site_web="http://spam.example"))
    assert response.status_code == 200
    assert "Votre demande a bien été envoyée" in response.content.decode()
    assert nothing_stored()
    assert mail.outbox == []


def test_rate_limit_per_ip(client: Client, account: Any) -> None:
    for _ in range(5):
        assert client.post(url(account), form_data()).status_code == 200
    response = client.post(url(account), form_data(subject="La sixième"))
    assert response.status_code == 429
    assert "Trop de demandes ont été envoyées" in response.content.decode()
    assert int(response["Retry-After"]) == 600
    assert Conversation.objects.count() == 5
    assert not Conversation.objects.filter(subject="La sixième").exists()
    # Another address is not affected.
    other = client.post(url(account), form_data(), REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 200
    assert Conversation.objects.count() == 6


def test_invalid_submissions_do_not_use_up_the_quota(client: Client, account: Any) -> None:
    for _ in range(6):
        assert client.post(url(account), form_data(consent=None)).status_code == 422
    assert client.post(url(account), form_data()).status_code == 200


def test_oversize_attachment_is_refused_and_nothing_is_stored(client: Client,
                                                              account: Any) -> None:
    small = SimpleUploadedFile("ok.txt", b"petit fichier", content_type="text/plain")
    big = SimpleUploadedFile("scan.pdf", b"%PDF-" + b"0" * MAX, content_type="application/pdf")
    response = client.post(url(account), form_data(attachments=[small, big]))
    assert response.status_code == 413
    assert "« scan.pdf »" in response.content.decode()
    assert "10 Mo" in response.content.decode()
    assert nothing_stored()


def test_an_oversize_request_is_refused_before_it_is_read(account: Any) -> None:
    # Before the CSRF check too: that check would parse (and spool) the whole upload.
    client = Client(enforce_csrf_checks=True)
    huge = str(60 * 1024 * 1024)
    response = client.post(url(account), form_data(), CONTENT_LENGTH=huge)
    assert response.status_code == 413
    assert "Votre envoi est trop volumineux" in response.content.decode()
    embedded = client.post(url(account, embed="1"), form_data(), CONTENT_LENGTH=huge)
    assert embedded.status_code == 413 and "X-Frame-Options" not in embedded
    assert nothing_stored()


def test_disguised_files_programs_and_bombs_are_field_errors_and_nothing_is_stored(
        client: Client, account: Any) -> None:
    for name, data, error in (
            ("devis.pdf", files.HTML_PAGE, "ne correspond pas à son extension (.pdf)"),
            ("facture.pdf.exe", b"texte", "les programmes et les scripts ne sont pas acceptés"),
            ("plan.png", files.png(50_000, 50_000), "(50000 × 50000 pixels)"),
            ("docs.zip", files.zip_bomb(5), "une fois décompressée, elle serait excessive")):
        response = client.post(url(account), form_data(
            attachments=[SimpleUploadedFile("ok.txt", b"petit fichier"),
                         SimpleUploadedFile(name, data)]))
        assert response.status_code == 422, name
        page = response.content.decode()
        assert f"« {name} »" in page and error in page
    assert nothing_stored()


def test_too_many_attachments(client: Client, account: Any) -> None:
    files = [SimpleUploadedFile(f"f{i}.txt", b"x", content_type="text/plain") for i in range(6)]
    response = client.post(url(account), form_data(attachments=files))
    assert response.status_code == 422
    assert "Joignez au plus 5 fichiers." in response.content.decode()
    assert nothing_stored()


def test_embed_variant_can_be_framed_and_has_no_site_chrome(account: Any,
                                                            django_capture_on_commit_callbacks: Any
                                                            ) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.get(url(account, embed="1"))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    # The Content-Security-Policy still guards its scripts but lets any site frame it.
    assert "frame-ancestors" not in response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
    page = response.content.decode()
    assert 'class="site-header"' not in page and 'class="site-footer"' not in page
    assert 'action="/contact/cabinet-martin/?embed=1"' in page
    # Inside a third-party iframe our cookies are not sent: it must work without CSRF cookie.
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url(account, embed="1"), form_data())
    assert posted.status_code == 200
    assert "X-Frame-Options" not in posted
    assert Conversation.objects.get().reference in posted.content.decode()
    assert Conversation.objects.get().messages.get(direction="in").data["webform"][
        "embedded"] is True


def test_normal_page_keeps_csrf_and_frame_protection(account: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.get(url(account))["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in client.get(url(account))["Content-Security-Policy"]
    assert client.post(url(account), form_data()).status_code == 403
    assert nothing_stored()


def test_unknown_or_terminated_account_is_404(client: Client, account: Any) -> None:
    assert client.get("/contact/inconnu/").status_code == 404
    assert client.post("/contact/inconnu/", form_data()).status_code == 404
    ClientAccount.objects.filter(pk=account.pk).update(status="resilie")
    assert client.get(url(account)).status_code == 404
    assert client.post(url(account), form_data()).status_code == 404
    assert client.get(url(account, embed="1")).status_code == 404
    assert nothing_stored()


def test_embed_snippet_is_shown_to_staff_only(client: Client, account: Any, agent: Any,
                                              client_user: Any) -> None:
    client.force_login(agent)
    page = client.get(url(account)).content.decode()
    assert "Intégrer ce formulaire" in page
    assert "&lt;iframe src=&quot;" not in page  # the snippet is readable code, not escaped
    assert '&lt;iframe src="http://127.0.0.1:8000/contact/cabinet-martin/?embed=1"' in page
    assert "Intégrer ce formulaire" not in client.get(url(account, embed="1")).content.decode()
    client.force_login(client_user)
    assert "Intégrer ce formulaire" not in client.get(url(account)).content.decode()


def test_a_phone_known_for_someone_else_does_not_merge_the_two_people(
        client: Client, account: Any) -> None:
    other = Contact.objects.create(account=account, name="Paul Martin",
                                   email="paul@example.org", phone="+33612345678")
    assert client.post(url(account), form_data()).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.contact != other
    assert conversation.contact.email == "jeanne.dupont@example.org"
    assert conversation.contact.phone == ""
    message = conversation.messages.get(direction="in")
    assert message.data["webform"]["phone"] == "+33612345678"


def test_method_not_allowed(client: Client, account: Any) -> None:
    assert client.put(url(account)).status_code == 405

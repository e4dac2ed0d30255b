"""Espace client: "Mes demandes" (the client business's own requests) apart from "Activité"
(its contacts' conversations, handled on its behalf), statuses worded from the client's
side, no reply inside a contact's thread, and the instruction ("Consigne pour ce dossier")
that reaches the secretaries without reopening anything nor restarting any deadline."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox import instructions
from permanence.inbox.models import (
    Conversation,
    Direction,
    Message,
    Notification,
    Origin,
    Status,
)
from permanence.inbox.services import (
    Incoming,
    conversation_add_note,
    conversation_open,
    conversation_reply,
    conversation_set_status,
)

pytestmark = pytest.mark.django_db

MONDAY_9H = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# Everything an incoming message would move: none of it may change with an instruction.
UNTOUCHED = ("status", "updated_at", "last_message_at", "last_inbound_at",
             "first_response_at", "first_response_due_at", "next_response_due_at",
             "resolution_due_at", "next_due_at", "sla_paused_at", "sla_paused_seconds",
             "resolved_at", "closed_at", "assignee_id")


def patient_mail(account: Any, subject: str = "Demande de rendez-vous",
                 body: str = "Bonjour, je voudrais un rendez-vous mardi.",
                 **extra: Any) -> Conversation:
    """A patient writes to the practice: one of the account's contacts (its activity)."""
    return conversation_open(Incoming(account=account, channel="email", subject=subject,
                                      body_text=body, contact_name="Jean Dupont",
                                      contact_email="jean.dupont@exemple.fr",
                                      acknowledge=False, **extra))


def own_request(account: Any, client_user: Any, subject: str = "Changer mes horaires",
                ) -> Conversation:
    """The practice asks the operator something from the espace client."""
    return conversation_open(Incoming(account=account, channel="espace_client",
                                      subject=subject, body_text="Pouvez-vous changer ?",
                                      contact_email=client_user.email,
                                      contact_name=client_user.full_name,
                                      origin=Origin.CLIENT, acknowledge=False))


@pytest.fixture
def client_login(client: Client, client_user: Any, account: Any) -> Client:
    client.force_login(client_user)
    return client


@pytest.fixture
def answered(account: Any, agent: Any) -> Conversation:
    """The patient's mail, answered by the secretary, who now waits for the patient."""
    with clock.frozen(MONDAY_9H):
        conversation = patient_mail(account)
    with clock.frozen(MONDAY_9H + timedelta(hours=1)):
        conversation_reply(actor=agent, conversation=conversation,
                           body="Le Dr Martin peut vous recevoir mardi à 9 h 30.",
                           status_after=Status.PENDING_CUSTOMER)
        conversation_add_note(actor=agent, conversation=conversation,
                              body="NOTE INTERNE : patient pressé")
    conversation.refresh_from_db()
    return conversation


# --- Two lists ---------------------------------------------------------------------------------

def test_own_requests_and_activity_are_apart(client_login: Client, account: Any,
                                             client_user: Any, answered: Any) -> None:
    mine = own_request(account, client_user)
    requests_page = client_login.get(reverse("portal:requests")).content.decode()
    assert mine.reference in requests_page
    assert answered.reference not in requests_page
    assert "Demande de rendez-vous" not in requests_page

    response = client_login.get(reverse("portal:activity"))
    assert response.status_code == 200
    activity = response.content.decode()
    assert answered.reference in activity and "Demande de rendez-vous" in activity
    assert mine.reference not in activity
    # Who contacted, by what, and the status from the practice's side.
    assert "Jean Dupont" in activity and "E-mail" in activity
    assert "En attente du contact" in activity
    assert "En attente de votre réponse" not in activity
    assert "répondu le" in activity
    # The home page leads to both.
    home = client_login.get(reverse("portal:home")).content.decode()
    assert reverse("portal:activity") in home and reverse("portal:requests") in home


def test_activity_statuses_are_worded_from_the_clients_side(client_login: Client,
                                                            answered: Any,
                                                            agent: Any) -> None:
    conversation_set_status(actor=agent, conversation=answered, status=Status.RESOLVED)
    page = client_login.get(reverse("portal:activity")).content.decode()
    assert "Traitée" in page and "Résolue" not in page
    assert "Traitée" in client_login.get(reverse("portal:activity") + "?etat=traitees"
                                         ).content.decode()
    assert answered.reference not in client_login.get(
        reverse("portal:activity") + "?etat=en-cours").content.decode()


def test_activity_item_reads_from_the_clients_side_without_reply_form(
        client_login: Client, answered: Any) -> None:
    response = client_login.get(reverse("portal:activity_detail", args=[answered.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    # The patient's mail is the contact's message, not "sent" by the practice.
    assert "Message du contact" in page and "Jean Dupont" in page
    assert "Message envoyé" not in page and "Votre message" not in page
    assert "Réponse au contact" in page and "mardi à 9 h 30" in page
    assert "En attente du contact" in page
    assert "NOTE INTERNE" not in page
    # Read-only regarding the contact: no reply form, an instruction form instead.
    assert 'id="reply-form"' not in page
    assert reverse("portal:request_reply", args=[answered.pk]) not in page
    assert "Consigne pour ce dossier" in page


def test_old_request_link_to_a_contacts_conversation_leads_to_its_activity_page(
        client_login: Client, answered: Any) -> None:
    response = client_login.get(reverse("portal:request_detail", args=[answered.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:activity_detail", args=[answered.pk])


def test_own_request_is_not_an_activity_item(client_login: Client, account: Any,
                                             client_user: Any) -> None:
    mine = own_request(account, client_user)
    assert client_login.get(reverse("portal:activity_detail",
                                    args=[mine.pk])).status_code == 404
    response = client_login.post(reverse("portal:activity_instruction", args=[mine.pk]),
                                 {"body": "Consigne"})
    assert response.status_code == 404
    assert not Message.objects.filter(direction=Direction.INSTRUCTION).exists()


def test_the_client_cannot_reply_inside_a_contacts_thread(client_login: Client,
                                                          answered: Any) -> None:
    before = Message.objects.count()
    response = client_login.post(reverse("portal:request_reply", args=[answered.pk]),
                                 {"body": "ne pas lui donner de RDV"})
    assert response.status_code == 404
    assert Message.objects.count() == before
    answered_again = Conversation.objects.get(pk=answered.pk)
    assert answered_again.status == Status.PENDING_CUSTOMER


# --- The instruction ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [Status.PENDING_CUSTOMER, Status.RESOLVED])
def test_instruction_reaches_the_secretaries_and_changes_nothing_else(
        client_login: Client, answered: Any, agent: Any, other_agent: Any, status: str,
        django_capture_on_commit_callbacks: Any) -> None:
    if status != answered.status:
        with clock.frozen(MONDAY_9H + timedelta(hours=2)):
            conversation_set_status(actor=agent, conversation=answered, status=status)
    before = Conversation.objects.get(pk=answered.pk)
    mail.outbox.clear()
    with clock.frozen(MONDAY_9H + timedelta(days=1)), \
            django_capture_on_commit_callbacks(execute=True):
        response = client_login.post(reverse("portal:activity_instruction", args=[answered.pk]),
                                     {"body": "Ne pas lui donner de RDV."})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:activity_detail", args=[answered.pk])

    instruction = Message.objects.get(conversation=answered, direction=Direction.INSTRUCTION)
    assert instruction.body_text == "Ne pas lui donner de RDV."
    assert instruction.author.email == "client@test.fr" and instruction.contact is None
    assert instruction.delivery_status == ""
    # Not an incoming message: nothing reopens, no deadline restarts.
    after = Conversation.objects.get(pk=answered.pk)
    assert {f: getattr(after, f) for f in UNTOUCHED} == {f: getattr(before, f)
                                                          for f in UNTOUCHED}
    assert not after.status_changes.filter(at__gte=MONDAY_9H + timedelta(days=1)).exists()
    # Never sent to the contact.
    assert all("jean.dupont@exemple.fr" not in " ".join(m.to) for m in mail.outbox)
    # Audit-logged; the account's agent is notified in the app, an agent of another account
    # is not.
    assert AuditEvent.objects.filter(action="create", target_type__contains="message",
                                     target_id=str(instruction.pk)).exists()
    [note] = Notification.objects.filter(user=agent, kind="instruction")
    assert answered.reference in note.text and note.conversation_id == answered.pk
    assert not Notification.objects.filter(user=other_agent).exists()
    # The client sees it on the item, marked as theirs and not sent.
    page = client_login.get(response["Location"]).content.decode()
    assert "Votre consigne a été transmise" in page
    assert "Votre consigne" in page and "Ne pas lui donner de RDV." in page


def test_staff_see_the_instruction_on_the_conversation_page(client: Client, answered: Any,
                                                            agent: Any, client_user: Any,
                                                            account: Any) -> None:
    instructions.instruction_add(user=client_user, conversation=answered,
                                 body="Ne pas lui donner de RDV.")
    client.force_login(agent)
    page = client.get(reverse("inbox:detail", args=[answered.pk])).content.decode()
    assert 'class="msg msg-consigne"' in page
    assert "Consigne du client" in page and "Ne pas lui donner de RDV." in page


def test_instruction_bad_input(client_login: Client, answered: Any) -> None:
    response = client_login.post(reverse("portal:activity_instruction", args=[answered.pk]),
                                 {"body": "   "})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.content.decode()
    response = client_login.post(reverse("portal:activity_instruction", args=[answered.pk]),
                                 {"body": "x" * 2001})
    assert response.status_code == 422
    assert not Message.objects.filter(direction=Direction.INSTRUCTION).exists()


def test_instruction_service_refuses_staff_outsiders_and_own_requests(
        answered: Any, agent: Any, outsider_client: Any, client_user: Any,
        account: Any) -> None:
    from permanence.core.errors import Forbidden, NotFound

    with pytest.raises(Forbidden):
        instructions.instruction_add(user=agent, conversation=answered, body="x")
    with pytest.raises(NotFound):
        instructions.instruction_add(user=outsider_client, conversation=answered, body="x")
    with pytest.raises(DomainError) as refused:
        instructions.instruction_add(user=client_user,
                                     conversation=own_request(account, client_user), body="x")
    assert refused.value.status == 409
    assert not Message.objects.filter(direction=Direction.INSTRUCTION).exists()


# --- Isolation ---------------------------------------------------------------------------------

def test_another_accounts_client_sees_nothing_of_the_activity(
        client: Client, answered: Any, outsider_client: Any, other_account: Any) -> None:
    client.force_login(outsider_client)
    assert answered.reference not in client.get(reverse("portal:activity")).content.decode()
    assert client.get(reverse("portal:activity_detail", args=[answered.pk])).status_code == 404
    before = Message.objects.count()
    assert client.post(reverse("portal:activity_instruction", args=[answered.pk]),
                       {"body": "Intrusion"}).status_code == 404
    assert Message.objects.count() == before


@pytest.mark.parametrize("staff", ["agent", "supervisor", "billing", "admin_user"])
def test_staff_are_refused_the_activity_pages(client: Client, answered: Any, staff: str,
                                              request: Any) -> None:
    client.force_login(request.getfixturevalue(staff))
    assert client.get(reverse("portal:activity")).status_code == 403
    assert client.get(reverse("portal:activity_detail", args=[answered.pk])).status_code == 403
    assert client.post(reverse("portal:activity_instruction", args=[answered.pk]),
                       {"body": "x"}).status_code == 403


# --- Existing rows -----------------------------------------------------------------------------

def test_data_migration_marks_portal_conversations_as_the_clients_own(account: Any,
                                                                       client_user: Any) -> None:
    legacy = conversation_open(Incoming(account=account, channel="espace_client",
                                        subject="Ancienne demande", body_text="Bonjour",
                                        contact_email=client_user.email, acknowledge=False))
    patient = patient_mail(account)
    assert legacy.origin == Origin.CONTACT  # as rows were before the field existed
    migration = importlib.import_module(
        "permanence.inbox.migrations.0008_origin_instruction_survey_exclusions")
    migration.portal_requests_are_the_clients_own(django_apps, None)
    legacy.refresh_from_db()
    patient.refresh_from_db()
    assert (legacy.origin, patient.origin) == (Origin.CLIENT, Origin.CONTACT)


def test_the_old_calls_section_is_now_the_calls_page(client_login: Client) -> None:
    # /espace/appels/ used to redirect to the activity; it is « Appels et messages » now.
    assert reverse("portal:section", args=["appels"]) == reverse("portal:calls")
    response = client_login.get(reverse("portal:calls"))
    assert response.status_code == 200
    assert "Appels et messages" in response.content.decode()


def test_staff_api_shows_the_instruction(answered: Any, agent: Any, client_user: Any,
                                         api_client_for: Any) -> None:
    instructions.instruction_add(user=client_user, conversation=answered,
                                 body="Ne pas lui donner de RDV.")
    response = api_client_for(agent).get(f"/api/v1/conversations/{answered.pk}")
    assert response.status_code == 200
    directions = [m["direction"] for m in response.json()["messages"]]
    assert "consigne" in directions and "note" in directions

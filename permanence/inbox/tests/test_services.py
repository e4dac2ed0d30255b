"""Inbox services: references, contacts, replies, statuses, notes and mentions, assignment,
merge and split, phone messages and bulk actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.inbox import selectors, services
from permanence.inbox.models import (
    Channel,
    Contact,
    Conversation,
    Delivery,
    Direction,
    Kind,
    Mention,
    Message,
    Notification,
    Priority,
    Status,
    StatusChange,
)
from permanence.inbox.search import search_conversations
from permanence.inbox.services import Incoming

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday


def open_conv(account: Any, at: datetime = T0, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande de rappel", "body_text": "Bonjour",
                              "contact_email": "jean.dupont@exemple.fr",
                              "contact_name": "Jean Dupont"}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


def inbound(conversation: Conversation, at: datetime, body: str = "Encore moi") -> Message:
    with clock.frozen(at):
        return services.message_add_inbound(conversation, Incoming(
            account=conversation.account, channel=Channel.EMAIL, subject="Re", body_text=body,
            contact_email="jean.dupont@exemple.fr"))


def reload(c: Conversation) -> Conversation:
    return Conversation.objects.get(pk=c.pk)


@pytest.fixture
def colleague(make_user: Any, account: Any) -> Any:
    """A second agent working on `account`."""
    user = make_user("claire.martin@test.fr", "agent", full_name="Claire Martin")
    account.assigned_agents.add(user)
    return user


# --- References and contacts ------------------------------------------------------------------


def test_references_are_sequential_per_year(account: Any, other_account: Any) -> None:
    refs = [open_conv(account).reference, open_conv(other_account).reference,
            open_conv(account).reference]
    assert refs == ["D-2026-000001", "D-2026-000002", "D-2026-000003"]
    assert all(re.fullmatch(r"D-\d{4}-\d{6}", r) for r in refs)
    next_year = open_conv(account, datetime(2027, 1, 4, 9, 0, tzinfo=PARIS))
    assert next_year.reference == "D-2027-000001"
    assert open_conv(account).reference == "D-2026-000004"
    assert Conversation.objects.values("reference").distinct().count() == 5


def test_reference_year_is_the_local_year(account: Any) -> None:
    # 31 December 23:30 UTC is already 1 January 00:30 in Paris.
    c = open_conv(account, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert c.reference == "D-2027-000001"
    c = open_conv(account, datetime(2026, 12, 31, 22, 30, tzinfo=UTC))  # 23:30 in Paris
    assert c.reference == "D-2026-000001"


def test_contacts_are_deduplicated_per_account(account: Any, other_account: Any) -> None:
    a = services.contact_resolve(account=account, email="Jean.Dupont@Exemple.fr", name="Jean")
    assert a.email == "jean.dupont@exemple.fr"
    assert services.contact_resolve(account=account, email="jean.dupont@exemple.fr") == a
    # Found by phone, then completed with the e-mail it lacked.
    b = services.contact_resolve(account=account, phone="+33612345678", name="Paul")
    assert b != a
    same = services.contact_resolve(account=account, phone="+33612345678",
                                    email="paul@exemple.fr")
    assert same == b
    assert Contact.objects.get(pk=b.pk).email == "paul@exemple.fr"
    # The same address in another account is another contact.
    elsewhere = services.contact_resolve(account=other_account, email="jean.dupont@exemple.fr")
    assert elsewhere != a and elsewhere.account == other_account
    assert Contact.objects.filter(account=account).count() == 2
    # Conversations reuse the contact.
    c1, c2 = open_conv(account), open_conv(account, contact_email="JEAN.DUPONT@exemple.fr")
    assert c1.contact_id == c2.contact_id == a.pk


# --- Replies and statuses --------------------------------------------------------------------


def test_reply_sets_first_response_assigns_and_opens(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account)
    assert (c.status, c.assignee_id, c.first_response_at) == (Status.NEW, None, None)
    at = T0 + timedelta(hours=1)
    with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
        message = services.conversation_reply(actor=agent, conversation=c,
                                              body="Nous vous rappelons demain.")
        # Queued, not yet sent: no first response until it is (the worker, after commit).
        assert reload(c).first_response_at is None
        assert message.delivery_status == Delivery.PENDING
    c = reload(c)
    assert c.first_response_at == at
    assert c.assignee == agent
    assert c.status == Status.OPEN
    message.refresh_from_db()
    assert (message.direction, message.author, message.delivery_status) == (
        Direction.OUT, agent, Delivery.SENT)
    assert message.subject == "Re: Demande de rappel"
    history = list(StatusChange.objects.filter(conversation=c).values_list(
        "from_status", "to_status", "actor"))
    assert history == [("", Status.NEW, None), (Status.NEW, Status.OPEN, agent.pk)]
    # A second reply keeps the first response time.
    with clock.frozen(at + timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        services.conversation_reply(actor=agent, conversation=c, body="Précision.")
    assert reload(c).first_response_at == at


def test_reply_to_a_portal_conversation_needs_no_delivery(account: Any, agent: Any) -> None:
    c = open_conv(account, channel=Channel.PORTAL, contact_email="")
    with clock.frozen(T0):
        message = services.conversation_reply(actor=agent, conversation=c, body="Réponse")
    # Published in the espace client, where the request was asked: it reached the client.
    assert (message.delivery_status, message.data["via"]) == (Delivery.SENT, "espace_client")
    assert reload(c).first_response_at == T0


def test_reply_is_mailed_after_commit(account: Any, agent: Any,
                                      django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account)
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        message = services.conversation_reply(actor=agent, conversation=c,
                                              body="Votre rendez-vous est confirmé.")
    [sent] = mail.outbox
    assert sent.to == ["Jean Dupont <jean.dupont@exemple.fr>"]
    assert "Votre rendez-vous est confirmé." in sent.body
    assert c.reference in sent.subject
    assert Message.objects.get(pk=message.pk).delivery_status == Delivery.SENT


def test_reply_refused_when_closed_or_empty(account: Any, agent: Any) -> None:
    c = open_conv(account)
    with pytest.raises(DomainError) as empty:
        services.conversation_reply(actor=agent, conversation=c, body="   ")
    assert empty.value.status == 422 and "body" in empty.value.fields
    with clock.frozen(T0):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.CLOSED)
    with pytest.raises(DomainError) as closed:
        services.conversation_reply(actor=agent, conversation=c, body="Trop tard")
    assert closed.value.status == 409
    assert "clos" in str(closed.value.message)
    assert not c.messages.filter(direction=Direction.OUT).exists()


def test_invalid_transitions_are_refused_in_french(account: Any, agent: Any) -> None:
    c = open_conv(account)
    with clock.frozen(T0):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.CLOSED)
    with pytest.raises(DomainError) as exc:
        services.conversation_set_status(actor=agent, conversation=c, status=Status.RESOLVED)
    assert exc.value.status == 409
    assert str(exc.value.message) == "Passage de « Clos » à « Résolu » impossible."
    assert reload(c).status == Status.CLOSED
    with pytest.raises(DomainError) as unknown:
        services.conversation_set_status(actor=agent, conversation=c, status="archive")
    assert unknown.value.status == 422


def test_status_history_and_timeline_events(account: Any, agent: Any) -> None:
    c = open_conv(account)
    steps = [Status.OPEN, Status.PENDING_INTERNAL, Status.RESOLVED, Status.CLOSED, Status.OPEN]
    for i, status in enumerate(steps, start=1):
        with clock.frozen(T0 + timedelta(minutes=i)):
            services.conversation_set_status(actor=agent, conversation=c, status=status)
    rows = list(StatusChange.objects.filter(conversation=c).values_list("from_status",
                                                                         "to_status"))
    assert rows == [("", "nouveau"), ("nouveau", "ouvert"), ("ouvert", "attente_interne"),
                    ("attente_interne", "resolu"), ("resolu", "clos"), ("clos", "ouvert")]
    events = c.messages.filter(direction=Direction.SYSTEM, event="status")
    assert [e.data["to"] for e in events] == steps
    c = reload(c)
    assert c.resolved_at is None and c.closed_at is None  # reopened


def test_customer_reply_reopens_a_recently_resolved_conversation(account: Any,
                                                                 agent: Any) -> None:
    c = open_conv(account)
    with clock.frozen(T0):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.RESOLVED)
    inbound(c, T0 + timedelta(days=6, hours=23))
    c = reload(c)
    assert c.status == Status.OPEN and c.resolved_at is None
    last = StatusChange.objects.filter(conversation=c).last()
    assert (last.from_status, last.to_status, last.actor) == (Status.RESOLVED, Status.OPEN,
                                                             None)
    assert c.messages.filter(event="status", data__reason="customer_reply").exists()


def test_customer_reply_after_seven_days_does_not_reopen(account: Any, agent: Any) -> None:
    c = open_conv(account)
    with clock.frozen(T0):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.RESOLVED)
    message = inbound(c, T0 + timedelta(days=7, minutes=1))
    c = reload(c)
    assert c.status == Status.RESOLVED
    assert message.conversation_id == c.pk
    assert c.last_inbound_at == T0 + timedelta(days=7, minutes=1)


def test_customer_reply_while_waiting_reopens(account: Any, agent: Any) -> None:
    c = open_conv(account)
    with clock.frozen(T0):
        services.conversation_reply(actor=agent, conversation=c, body="Votre numéro ?",
                                    status_after=Status.PENDING_CUSTOMER)
    inbound(c, T0 + timedelta(hours=2), body="06 12 34 56 78")
    assert reload(c).status == Status.OPEN


# --- Notes and mentions ------------------------------------------------------------------------


def test_note_mentions_notify_staff_only(account: Any, agent: Any, colleague: Any,
                                         supervisor: Any, client_user: Any, other_agent: Any,
                                         django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account)
    # Not notified: the client, the author, an unknown handle, and the agent of another
    # account (who cannot see this conversation and must not learn its subject).
    body = ("@claire.martin peux-tu rappeler ? Copie @superviseur@test.fr, pas @client "
            "ni @agent ni @inconnu ni @agent2.")
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        note = services.conversation_add_note(actor=agent, conversation=c, body=body)
    assert note.direction == Direction.NOTE
    mentioned = set(Mention.objects.filter(message=note).values_list("user", flat=True))
    assert mentioned == {colleague.pk, supervisor.pk}
    notes = Notification.objects.filter(kind="mention", conversation=c)
    assert sorted(n.user_id for n in notes) == sorted([colleague.pk, supervisor.pk])
    assert c.reference in notes[0].text
    assert {tuple(m.to) for m in mail.outbox} == {(colleague.email,), (supervisor.email,)}


def test_mention_at_the_end_of_a_sentence(account: Any, agent: Any, colleague: Any,
                                          supervisor: Any) -> None:
    c = open_conv(account)
    note = services.conversation_add_note(actor=agent, conversation=c,
                                          body="À voir avec @claire.martin. Merci "
                                               "@superviseur@test.fr.")
    assert set(note.mentions.values_list("user", flat=True)) == {colleague.pk, supervisor.pk}


def test_empty_note_and_note_without_mention(account: Any, agent: Any) -> None:
    c = open_conv(account)
    with pytest.raises(DomainError) as exc:
        services.conversation_add_note(actor=agent, conversation=c, body=" ")
    assert exc.value.status == 422
    note = services.conversation_add_note(actor=agent, conversation=c, body="Rappel à 14 h")
    assert not note.mentions.exists()
    assert not Notification.objects.exists()


# --- Permissions and assignment ----------------------------------------------------------------


def test_billing_and_clients_cannot_work_conversations(account: Any, billing: Any,
                                                       client_user: Any) -> None:
    c = open_conv(account)
    for user in (billing, client_user):
        with pytest.raises(Forbidden):
            services.conversation_reply(actor=user, conversation=c, body="Bonjour")
        with pytest.raises(Forbidden):
            services.conversation_add_note(actor=user, conversation=c, body="Note")
        with pytest.raises(Forbidden):
            services.conversation_set_status(actor=user, conversation=c, status=Status.OPEN)
    assert c.messages.count() == 1


def test_assign_only_to_staff_working_on_the_account(account: Any, agent: Any, colleague: Any,
                                                     other_agent: Any, client_user: Any,
                                                     supervisor: Any,
                                                     django_capture_on_commit_callbacks: Any
                                                     ) -> None:
    c = open_conv(account)
    for wrong in (other_agent, client_user):
        with pytest.raises(DomainError) as exc:
            services.conversation_assign(actor=agent, conversation=c, assignee=wrong)
        assert exc.value.status == 422
        assert "assignee" in exc.value.fields
    assert reload(c).assignee is None
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        services.conversation_assign(actor=agent, conversation=c, assignee=colleague)
    assert reload(c).assignee == colleague
    assert c.messages.filter(event="assigned", data__assignee=colleague.pk).exists()
    [note] = Notification.objects.filter(kind="assigned")
    assert note.user == colleague
    # Supervisors see every account, so they can take it; self-assignment does not notify.
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        services.conversation_assign(actor=supervisor, conversation=c, assignee=supervisor)
    assert reload(c).assignee == supervisor
    assert Notification.objects.filter(kind="assigned").count() == 1
    services.conversation_assign(actor=agent, conversation=c, assignee=None)
    assert reload(c).assignee is None


# --- Merge and split -------------------------------------------------------------------------


def test_merge_combines_timelines_and_closes_the_source(account: Any, agent: Any) -> None:
    target = open_conv(account, body_text="Première demande")
    source = open_conv(account, T0 + timedelta(hours=1), body_text="Deuxième demande")
    with clock.frozen(T0 + timedelta(hours=2)):
        merged = services.conversation_merge(actor=agent, source=source, target=target)
    assert merged.pk == target.pk
    source, target = reload(source), reload(target)
    assert source.merged_into == target
    assert source.status == Status.CLOSED
    assert source.next_due_at is None
    timeline = list(selectors.timeline(target))
    bodies = [m.body_text for m in timeline if m.direction == Direction.IN]
    assert bodies == ["Première demande", "Deuxième demande"]
    assert {m.conversation_id for m in timeline} == {source.pk, target.pk}
    assert target.messages.filter(event="merged", data__from=source.reference).exists()
    assert source.messages.filter(event="merged_into", data__into=target.reference).exists()
    [informed] = target.messages.filter(direction=Direction.OUT)
    assert source.reference in informed.body_text and target.reference in informed.body_text
    assert informed.delivery_status == Delivery.PENDING
    # The merged source leaves the lists; its content is found on the target.
    visible = selectors.conversations_visible_to(agent)
    assert list(visible) == [target]
    assert list(search_conversations(visible, "deuxième")) == [target]
    assert list(search_conversations(visible, target.reference)) == [target]


def test_merge_keeps_the_source_reference_searchable(account: Any, agent: Any) -> None:
    target, source = open_conv(account), open_conv(account)
    services.conversation_merge(actor=agent, source=source, target=target)
    visible = selectors.conversations_visible_to(agent)
    assert list(search_conversations(visible, source.reference)) == [target]


def test_merge_refusals(account: Any, other_account: Any, agent: Any, supervisor: Any) -> None:
    a, b = open_conv(account), open_conv(account)
    elsewhere = open_conv(other_account)
    with pytest.raises(DomainError) as other:
        services.conversation_merge(actor=supervisor, source=a, target=elsewhere)
    assert other.value.status == 422 and "target" in other.value.fields
    with pytest.raises(DomainError) as itself:
        services.conversation_merge(actor=agent, source=a, target=a)
    assert itself.value.status == 422
    services.conversation_merge(actor=agent, source=a, target=b, inform_customer=False)
    assert not b.messages.filter(direction=Direction.OUT).exists()
    with pytest.raises(DomainError) as again:
        services.conversation_merge(actor=agent, source=a, target=b)
    assert again.value.status == 409
    assert reload(elsewhere).merged_into is None


def test_split_moves_a_message_into_a_new_conversation(account: Any, agent: Any) -> None:
    original = open_conv(account, body_text="Question sur la facture")
    other_topic = inbound(original, T0 + timedelta(hours=1), body="Et mon rendez-vous ?")
    with clock.frozen(T0 + timedelta(hours=2)):
        new = services.message_split(actor=agent, message=other_topic)
    assert new.pk != original.pk
    assert (new.account, new.contact, new.status, new.assignee) == (
        account, original.contact, Status.OPEN, agent)
    assert new.reference == "D-2026-000002"
    assert Message.objects.get(pk=other_topic.pk).conversation_id == new.pk
    assert original.messages.filter(event="split", data__into=new.reference).exists()
    assert new.messages.filter(event="split_from", data__from=original.reference).exists()
    assert list(original.messages.filter(direction=Direction.IN).values_list(
        "body_text", flat=True)) == ["Question sur la facture"]
    # The last inbound message cannot be split away; nor can an outbound one.
    [last] = original.messages.filter(direction=Direction.IN)
    with pytest.raises(DomainError):
        services.message_split(actor=agent, message=last)
    reply = services.conversation_reply(actor=agent, conversation=new, body="Réponse")
    with pytest.raises(DomainError):
        services.message_split(actor=agent, message=reply)


# --- Phone messages ----------------------------------------------------------------------------


def test_phone_message_record(account: Any, agent: Any,
                              django_capture_on_commit_callbacks: Any) -> None:
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        c = services.phone_message_record(
            actor=agent, account=account, caller_name="Mme Leroy",
            caller_phone="06 12 34 56 78", caller_email="leroy@exemple.fr",
            reason="Rappel urgent", message="Rappeler avant midi.", urgent=True)
    assert (c.channel, c.kind, c.priority) == (Channel.PHONE, Kind.PHONE_MESSAGE,
                                               Priority.URGENT)
    assert c.contact.phone == "+33612345678"
    assert c.contact.name == "Mme Leroy"
    [message] = c.messages.filter(direction=Direction.IN)
    assert message.author == agent and message.body_text == "Rappeler avant midi."
    assert message.data == {"recorded_by": agent.pk}
    # Urgent: 8 h of the working day (jours ouvrés clock), and within the business day.
    assert c.first_response_due_at == datetime(2026, 11, 2, 17, 0, tzinfo=PARIS)
    assert mail.outbox == []  # no acknowledgement for a call
    normal = services.phone_message_record(actor=agent, account=account, caller_name="M. B",
                                           caller_phone="+33 1 23 45 67 89", reason="Info",
                                           message="Rappeler", urgent=False)
    assert normal.priority == Priority.NORMAL
    assert normal.contact.phone == "+33123456789"


def test_email_conversation_is_acknowledged(account: Any,
                                            django_capture_on_commit_callbacks: Any) -> None:
    """The counterpart of the phone case: an e-mail request gets its acknowledgement."""
    with django_capture_on_commit_callbacks(execute=True):
        c = open_conv(account)
    [ack] = mail.outbox
    assert c.reference in ack.subject
    assert c.messages.filter(event="acknowledged").exists()


def test_phone_message_validation(account: Any, other_account: Any, agent: Any) -> None:
    def record(**kw: Any) -> Conversation:
        data = {"actor": agent, "account": account, "caller_name": "X", "caller_phone": "",
                "reason": "Appel", "message": "Rappeler", "urgent": False}
        data.update(kw)
        return services.phone_message_record(**data)

    with pytest.raises(DomainError) as phone:
        record(caller_phone="12")
    assert phone.value.status == 422 and "caller_phone" in phone.value.fields
    with pytest.raises(DomainError) as empty:
        record(message="  ")
    assert empty.value.status == 422 and "message" in empty.value.fields
    with pytest.raises(Forbidden):
        record(account=other_account)
    assert not Conversation.objects.exists()
    assert record().contact is None  # nobody to identify


# --- Bulk actions ------------------------------------------------------------------------------


def test_bulk_assign_tag_close(account: Any, agent: Any, colleague: Any) -> None:
    convs = [open_conv(account) for _ in range(3)]
    assert services.bulk_apply(actor=agent, conversations=convs, action="assign",
                               assignee=colleague) == 3
    assert set(Conversation.objects.values_list("assignee", flat=True)) == {colleague.pk}
    assert services.bulk_apply(actor=agent, conversations=convs[:2], action="tag",
                               tag="Rappel") == 2
    assert [list(c.tags.values_list("name", flat=True)) for c in convs] == [
        ["rappel"], ["rappel"], []]
    services.bulk_apply(actor=agent, conversations=convs[:1], action="tag", tag="vip")
    assert sorted(convs[0].tags.values_list("name", flat=True)) == ["rappel", "vip"]
    with clock.frozen(T0):
        assert services.bulk_apply(actor=agent, conversations=convs, action="close") == 3
    assert set(Conversation.objects.values_list("status", flat=True)) == {Status.CLOSED}


def test_bulk_is_all_or_nothing(account: Any, other_account: Any, supervisor: Any,
                                agent: Any, billing: Any) -> None:
    mine, theirs = open_conv(account), open_conv(other_account)
    with pytest.raises(DomainError):  # agent does not work on other_account
        services.bulk_apply(actor=supervisor, conversations=[mine, theirs], action="assign",
                            assignee=agent)
    assert reload(mine).assignee is None
    with pytest.raises(DomainError) as unknown:
        services.bulk_apply(actor=supervisor, conversations=[mine], action="delete")
    assert unknown.value.status == 422
    with pytest.raises(Forbidden):
        services.bulk_apply(actor=billing, conversations=[mine], action="close")
    assert reload(mine).status == Status.NEW


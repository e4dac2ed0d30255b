"""The call record: a call started by hand, the motif with its mandatory questions, triage,
urgency, the consignes version in force, the call on the inbox timeline, closing the
wrap-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.desk.consignes import consigne_save
from permanence.desk.demo import demo_consignes
from permanence.desk.models import AgentState, AgentStatus, CallState, Urgency
from permanence.desk.record import (
    call_close,
    call_mark_handled,
    call_record_save,
    call_start_manual,
)
from permanence.inbox.models import Channel, Direction, Kind, Priority

from .screen_helpers import (
    CALLER,
    CHEST_PAIN,
    NUMBER,
    THU_10H,
    manual_call,
    medical_practice,
    record_urgent,
    urgent_answers,
)


@pytest.fixture
def version(account: Any, supervisor: Any) -> Any:
    return medical_practice(account, supervisor)


def test_manual_call_is_answered_by_the_secretary_now(version: Any, agent: Any,
                                                      account: Any) -> None:
    call = manual_call(agent, account)
    assert call.manual and call.call_id.startswith("manual-")
    assert (call.state, call.outcome, call.agent) == (CallState.ANSWERED, "answered", agent)
    assert (call.from_number, call.to_number, call.caller_name) == (CALLER, NUMBER,
                                                                    "Jean Dupont")
    assert call.answered_at == call.offered_at == THU_10H and call.wait_seconds == 0
    assert call.consigne_version == version
    assert list(call.history.values_list("to_status", flat=True)) == [CallState.ANSWERED]
    assert AgentState.objects.get(user=agent).status == AgentStatus.ON_CALL


def test_manual_call_refuses_an_account_the_agent_does_not_work_for(
        version: Any, other_agent: Any, account: Any, billing: Any) -> None:
    for user in (other_agent, billing):
        with pytest.raises(Forbidden):
            call_start_manual(actor=user, account=account, from_number="", caller_name="")


def test_bad_caller_number_is_a_field_error(version: Any, agent: Any, account: Any) -> None:
    with pytest.raises(DomainError) as exc:
        call_start_manual(actor=agent, account=account, from_number="12", caller_name="")
    assert exc.value.status == 422 and "from_number" in exc.value.fields


def test_motif_and_its_mandatory_questions_are_required(version: Any, agent: Any,
                                                        account: Any) -> None:
    call = manual_call(agent, account)
    with pytest.raises(DomainError) as exc:
        call_record_save(actor=agent, call=call, motif="", answers={}, message="",
                         urgency="normal", caller_name="")
    assert set(exc.value.fields) == {"motif", "message"}
    with pytest.raises(DomainError) as exc:
        call_record_save(actor=agent, call=call, motif="urgence",
                         answers={"questions": {"Nom et prénom du patient": "Jean Dupont"}},
                         message="Rappeler", urgency="normal", caller_name="")
    assert set(exc.value.fields) == {"q_1", "q_2", "q_3"}
    with pytest.raises(DomainError) as exc:
        call_record_save(actor=agent, call=call, motif="inconnu", answers={},
                         message="Rappeler", urgency="bof", caller_name="")
    assert set(exc.value.fields) == {"motif", "urgency"}
    call.refresh_from_db()
    assert call.conversation_id is None and call.message == ""


def test_an_emergency_triage_answer_makes_the_message_urgent(version: Any, agent: Any,
                                                             account: Any) -> None:
    call = manual_call(agent, account)
    with clock.frozen(THU_10H):
        call = call_record_save(actor=agent, call=call, motif="rdv", answers={
            "questions": {"Nom et prénom du patient": "Jean Dupont",
                          "Date de naissance": "01/02/1960", "Motif de consultation": "bilan",
                          "Téléphone": "0611223344"},
            "triage": {CHEST_PAIN: "oui"}}, message="Veut un rendez-vous",
            urgency="normal", caller_name="Jean Dupont")
    assert call.urgency == Urgency.URGENT
    assert call.answers["emergency"] is True
    assert "15" in call.answers["guidance"][0]
    assert call.answers["triage"] == {CHEST_PAIN: "yes"}  # a key, not the word posted
    assert f"{CHEST_PAIN} : oui" in call.conversation.messages.get(direction=Direction.IN).body_text


def test_record_opens_a_phone_conversation_on_the_account_timeline(
        version: Any, agent: Any, account: Any) -> None:
    call = record_urgent(agent, manual_call(agent, account))
    conversation = call.conversation
    assert conversation is not None and conversation.account == account
    assert (conversation.channel, conversation.kind, conversation.priority) == (
        Channel.PHONE, Kind.PHONE_MESSAGE, Priority.URGENT)
    assert conversation.contact.phone == CALLER
    first = conversation.messages.get(direction=Direction.IN)
    assert "Douleur thoracique, rappeler immédiatement." in first.body_text
    assert "Symptômes : Douleur au bras gauche" in first.body_text
    assert "Urgence vitale" in first.body_text
    assert call.consigne_version == version and call.motif == "urgence"


def test_correcting_the_message_adds_a_note_and_keeps_one_conversation(
        version: Any, agent: Any, account: Any) -> None:
    call = record_urgent(agent, manual_call(agent, account))
    with clock.frozen(THU_10H + timedelta(minutes=2)):
        call = call_record_save(actor=agent, call=call, motif="urgence",
                                answers=urgent_answers("non"), urgency="normal",
                                message="Finalement pas urgent.", caller_name="Jean Dupont")
    # The motif is handled as an urgent escalation: it stays urgent.
    assert call.urgency == Urgency.URGENT and call.answers["emergency"] is False
    notes = call.conversation.messages.filter(direction=Direction.NOTE)
    assert notes.count() == 1 and "Finalement pas urgent." in notes.get().body_text
    assert call.conversation.calls.count() == 1


def test_the_call_keeps_the_version_it_applied(version: Any, agent: Any, account: Any,
                                               supervisor: Any) -> None:
    call = record_urgent(agent, manual_call(agent, account))
    content = demo_consignes(2026)["cabinet-martin"]
    content["notes"] = "Nouvelle consigne"
    with clock.frozen(THU_10H + timedelta(minutes=5)):
        v2 = consigne_save(actor=supervisor, account=account, content=content)
        call = call_record_save(actor=agent, call=call, motif="urgence",
                                answers=urgent_answers(), urgency="urgent",
                                message="Complément", caller_name="Jean Dupont")
    assert v2.number == 2 and call.consigne_version == version


def test_close_ends_talk_then_wrapup_and_frees_the_agent(version: Any, agent: Any,
                                                         account: Any) -> None:
    call = record_urgent(agent, manual_call(agent, account))
    with clock.frozen(THU_10H + timedelta(minutes=3)):
        call = call_close(actor=agent, call=call)
    assert call.state == CallState.ENDED
    assert call.talk_seconds == 180 and call.wrapup_seconds == 0
    assert call.wrapup_ended_at == THU_10H + timedelta(minutes=3)
    assert list(call.history.values_list("to_status", flat=True)) == [
        CallState.ANSWERED, CallState.WRAPUP, CallState.ENDED]
    assert AgentState.objects.get(user=agent).status == AgentStatus.AVAILABLE
    call_close(actor=agent, call=call)  # a second « Terminer » (double click) changes nothing
    assert call.history.count() == 3


def test_a_ringing_call_cannot_be_closed(version: Any, agent: Any, account: Any) -> None:
    call = manual_call(agent, account)
    type(call).objects.filter(pk=call.pk).update(manual=False, state=CallState.RINGING)
    with pytest.raises(DomainError) as exc:
        call_close(actor=agent, call=call)
    assert exc.value.status == 409


def test_wrapup_seconds_count_from_the_hang_up(version: Any, agent: Any,
                                               account: Any) -> None:
    call = manual_call(agent, account)
    type(call).objects.filter(pk=call.pk).update(
        manual=False, state=CallState.WRAPUP, ended_at=THU_10H + timedelta(minutes=1))
    with clock.frozen(THU_10H + timedelta(minutes=2, seconds=30)):
        call = call_close(actor=agent, call=call)
    assert call.wrapup_seconds == 90 and call.state == CallState.ENDED


def test_only_the_accounts_client_marks_a_call_handled(version: Any, agent: Any,
                                                       account: Any, client_user: Any,
                                                       outsider_client: Any) -> None:
    call = record_urgent(agent, manual_call(agent, account))
    with pytest.raises(Forbidden):
        call_mark_handled(user=outsider_client, call=call)
    call = call_mark_handled(user=client_user, call=call)
    assert call.handled_at is not None and call.handled_by == client_user
    call = call_mark_handled(user=client_user, call=call, handled=False)
    assert call.handled_at is None and call.handled_by is None

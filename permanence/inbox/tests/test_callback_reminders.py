"""« Rappeler plus tard » is a promise to call someone back: when its time comes, the agent who
planned it is told (bell, and e-mail per their setting), once — not when the call back was
logged in the meantime."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.core import clock
from permanence.inbox import services
from permanence.inbox.models import Conversation, Notification
from permanence.inbox.tasks import callbacks_remind

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday

pytestmark = pytest.mark.django_db


def planned(account: Any, agent: Any) -> Conversation:
    with clock.frozen(T0):
        conversation = services.phone_message_record(
            actor=agent, account=account, caller_name="Mme Garcia",
            caller_phone="06 12 34 56 78", reason="Résultats d'analyse",
            message="Souhaite être rappelée.", urgent=False)
        services.conversation_callback_plan(actor=agent, conversation=conversation,
                                            at=T0 + timedelta(hours=2), note="après 11 h")
    return conversation


def reminders(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind="callback"))


def test_the_agent_is_told_once_when_the_planned_call_back_is_due(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    conversation = planned(account, agent)
    with clock.frozen(T0 + timedelta(hours=1, minutes=59)):
        assert callbacks_remind.call() == "reminded 0"
    assert reminders(agent) == []
    with clock.frozen(T0 + timedelta(hours=2, minutes=1)), \
            django_capture_on_commit_callbacks(execute=True):
        assert callbacks_remind.call() == "reminded 1"
        assert callbacks_remind.call() == "reminded 0"  # once
    [note] = reminders(agent)
    assert conversation.reference in note.text
    assert note.conversation_id == conversation.pk


def test_no_reminder_when_the_call_back_was_logged_meanwhile(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    conversation = planned(account, agent)
    with clock.frozen(T0 + timedelta(hours=1)):
        services.conversation_callback_done(actor=agent, conversation=conversation,
                                            note="Rappelée, résultats transmis.")
    with clock.frozen(T0 + timedelta(hours=3)), \
            django_capture_on_commit_callbacks(execute=True):
        assert callbacks_remind.call() == "reminded 0"
    assert reminders(agent) == []

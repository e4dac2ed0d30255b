"""The business durations the reports read, kept by sla_compute: first response and
resolution in the policy's clock (jours ouvrés by default), time paused waiting on the
customer taken out, and whether each came by its deadline."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management import call_command

from permanence.core import clock
from permanence.inbox import services
from permanence.inbox.models import Channel, Conversation
from permanence.inbox.services import Incoming

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_10 = datetime(2026, 12, 4, 10, 0, tzinfo=PARIS)
DAY = 24 * 3600


def _open(account: Any) -> Conversation:
    with clock.frozen(FRIDAY_10):
        return services.conversation_open(Incoming(
            account=account, channel=Channel.PHONE, subject="Rappel", body_text="Rappeler",
            contact_name="Jean", contact_phone="+33612345678", acknowledge=False))


def _at(when: datetime, action: Any, **kwargs: Any) -> Any:
    with clock.frozen(when):
        return action(**kwargs)


def test_first_response_and_resolution_in_working_days_less_the_pause(account: Any,
                                                                       agent: Any) -> None:
    c = _open(account)
    assert c.first_response_business_seconds is None and c.first_response_on_time is None
    monday_10 = FRIDAY_10 + timedelta(days=3)
    _at(monday_10, services.conversation_callback_done, actor=agent, conversation=c,
        note="Rappelé, rendez-vous confirmé")
    c.refresh_from_db()
    # Friday 10:00 → Monday 10:00 is one working day (24 h counted on working days only).
    assert c.first_response_business_seconds == DAY
    assert c.first_response_on_time is True  # due Monday 10:00, reached at 10:00
    _at(monday_10 + timedelta(hours=1), services.conversation_set_status, actor=agent,
        conversation=c, status="attente_client")
    _at(monday_10 + timedelta(days=1, hours=1), services.conversation_set_status, actor=agent,
        conversation=c, status="ouvert")
    _at(monday_10 + timedelta(days=2), services.conversation_set_status, actor=agent,
        conversation=c, status="resolu")
    c.refresh_from_db()
    # Friday 10:00 → Wednesday 10:00 = 3 working days, less the day paused.
    assert c.resolution_business_seconds == 2 * DAY
    assert c.first_response_business_seconds == DAY  # judged once, kept
    assert c.resolution_on_time is not None


def test_reopening_forgets_the_resolution_until_the_next(account: Any, agent: Any) -> None:
    c = _open(account)
    later = FRIDAY_10 + timedelta(hours=2)
    _at(later, services.conversation_set_status, actor=agent, conversation=c, status="resolu")
    c.refresh_from_db()
    assert c.resolution_business_seconds == 2 * 3600
    _at(later + timedelta(hours=1), services.conversation_set_status, actor=agent,
        conversation=c, status="ouvert")
    c.refresh_from_db()
    assert c.resolution_business_seconds is None and c.resolution_on_time is None


def test_backfill_fills_conversations_answered_before_the_figures_were_kept(
        account: Any, agent: Any) -> None:
    c = _open(account)
    monday_10 = FRIDAY_10 + timedelta(days=3)
    _at(monday_10, services.conversation_callback_done, actor=agent, conversation=c,
        note="Rappelé")
    _at(monday_10 + timedelta(days=2), services.conversation_set_status, actor=agent,
        conversation=c, status="resolu")
    c.refresh_from_db()
    deadlines = (c.first_response_due_at, c.resolution_due_at, c.next_due_at)
    # As a conversation handled before the columns existed: the figures empty.
    Conversation.objects.filter(pk=c.pk).update(
        first_response_business_seconds=None, first_response_on_time=None,
        resolution_business_seconds=None, resolution_on_time=None)
    out = io.StringIO()
    call_command("backfill_report_figures", "--dry-run", stdout=out)
    assert "1 conversation(s) to fill" in out.getvalue()
    call_command("backfill_report_figures", stdout=out)
    c.refresh_from_db()
    # Friday 10:00 → Monday 10:00: one working day, on time; → Wednesday 10:00: three.
    assert c.first_response_business_seconds == DAY and c.first_response_on_time is True
    assert c.resolution_business_seconds == 3 * DAY and c.resolution_on_time is not None
    assert (c.first_response_due_at, c.resolution_due_at, c.next_due_at) == deadlines
    # Run again: nothing left to fill.
    out = io.StringIO()
    call_command("backfill_report_figures", stdout=out)
    assert "0 conversation(s) filled" in out.getvalue()

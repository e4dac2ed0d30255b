"""SLA: targets per priority, due instants in the account's business calendar (evenings,
weekends, French public holidays, DST), pause/resume, recomputation and the SLA monitor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.calendars.models import BusinessCalendar
from permanence.calendars.services import calendar_set
from permanence.core import clock
from permanence.core.business_time import OPENING_HOURS
from permanence.inbox import services, sla, sla_monitor
from permanence.inbox.models import (
    Channel,
    Conversation,
    Direction,
    Kind,
    Notification,
    Priority,
    SlaEvent,
    SlaPolicy,
    SlaTarget,
    Status,
)
from permanence.inbox.services import Incoming

PARIS = ZoneInfo("Europe/Paris")
OFFICE = [["08:30", "12:30"], ["14:00", "18:00"]]


@pytest.fixture(autouse=True)
def _opening_hours_clock(monkeypatch: Any) -> None:
    """These tests exercise the arithmetic of the opening-hours clock (policies created here
    count only opening slots); test_sla_clock.py covers the working-days one and the choice."""
    monkeypatch.setattr(SlaPolicy._meta.get_field("clock"), "default", OPENING_HOURS)


def paris(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


def open_conv(account: Any, at: datetime, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande", "body_text": "Bonjour",
                              "contact_email": "jean@exemple.fr", "contact_name": "Jean"}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


def reload(c: Conversation) -> Conversation:
    return Conversation.objects.get(pk=c.pk)


def own_calendar(account: Any, weekly: dict[str, list[list[str]]],
                 holidays: str = "FR") -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=f"Horaires {account.name}", weekly=weekly,
                                               holidays=holidays, timezone="Europe/Paris")
    account.calendar = calendar
    account.save(update_fields=["calendar"])
    return calendar


WEEKDAYS_8_20 = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


# --- Targets ---------------------------------------------------------------------------------


def test_default_policy_targets_per_priority(account: Any) -> None:
    def targets(priority: str, kind: str = Kind.QUESTION) -> sla.Targets:
        return sla.targets_for(Conversation(account=account, priority=priority, kind=kind))

    assert targets(Priority.NORMAL) == sla.Targets(Decimal(24), False, Decimal(24), Decimal(72),
                                                   OPENING_HOURS)
    assert targets(Priority.URGENT) == sla.Targets(Decimal(8), True, Decimal(4), Decimal(24),
                                                   OPENING_HOURS)
    assert targets(Priority.LOW).resolution_hours == Decimal(72)
    # Complaints: first answer within 48 business hours at most.
    assert targets(Priority.LOW, Kind.COMPLAINT).first_response_hours == Decimal(48)
    assert targets(Priority.NORMAL, Kind.COMPLAINT).first_response_hours == Decimal(24)
    # The default policy is stored once (4 priorities, plus the complaint rows).
    sla.ensure_default_policy()
    assert SlaPolicy.objects.filter(account=None).count() == 1
    assert SlaTarget.objects.count() == 8


def test_account_policy_capped_at_72_hours_and_48_for_complaints(account: Any) -> None:
    policy = SlaPolicy.objects.create(account=account, name="Trop généreuse")
    SlaTarget.objects.create(policy=policy, priority=Priority.NORMAL, first_response_hours=100,
                             next_response_hours=90, resolution_hours=500)
    account.refresh_from_db()
    normal = sla.targets_for(Conversation(account=account, priority=Priority.NORMAL,
                                          kind=Kind.QUESTION))
    assert normal == sla.Targets(Decimal(72), False, Decimal(72), Decimal(72), OPENING_HOURS)
    complaint = sla.targets_for(Conversation(account=account, priority=Priority.NORMAL,
                                             kind=Kind.COMPLAINT))
    assert complaint.first_response_hours == Decimal(48)
    # A priority the account's policy does not list falls back to the default policy.
    urgent = sla.targets_for(Conversation(account=account, priority=Priority.URGENT,
                                          kind=Kind.QUESTION))
    assert urgent.first_response_same_day is True


def test_account_policy_drives_due_dates(account: Any) -> None:
    policy = SlaPolicy.objects.create(account=account, name="Express")
    SlaTarget.objects.create(policy=policy, priority=Priority.NORMAL, first_response_hours=2,
                             next_response_hours=2, resolution_hours=10)
    account.refresh_from_db()
    c = open_conv(account, paris(2026, 11, 2, 11, 0))  # Monday
    assert c.first_response_due_at == paris(2026, 11, 2, 14, 30)  # lunch break skipped
    assert c.resolution_due_at == paris(2026, 11, 3, 14, 30)


# --- Due instants in business time ------------------------------------------------------------


def test_friday_evening_default_calendar(account: Any) -> None:
    """No account or operator calendar: Mon–Fri 08:30–12:30 / 14:00–18:00."""
    c = open_conv(account, paris(2026, 11, 13, 17, 30))  # Friday 17:30
    # 30 min on Friday, then 8 h a day: Monday, Tuesday, 7 h 30 on Wednesday.
    assert c.first_response_due_at == paris(2026, 11, 18, 17, 30)
    assert c.resolution_due_at == paris(2026, 11, 26, 17, 30)
    assert c.next_due_at == c.first_response_due_at
    urgent = open_conv(account, paris(2026, 11, 13, 17, 30), priority=Priority.URGENT)
    assert urgent.first_response_due_at == paris(2026, 11, 13, 18, 0)  # same business day


def test_friday_evening_in_the_accounts_own_calendar(account: Any, other_account: Any) -> None:
    own_calendar(account, WEEKDAYS_8_20)
    c = open_conv(account, paris(2026, 11, 13, 17, 30))
    # 2 h 30 on Friday, 12 h on Monday, 9 h 30 on Tuesday.
    assert c.first_response_due_at == paris(2026, 11, 17, 17, 30)
    assert c.first_response_due_at.weekday() == 1  # Tuesday
    # The other account keeps the default calendar.
    other = open_conv(other_account, paris(2026, 11, 13, 17, 30))
    assert other.first_response_due_at == paris(2026, 11, 18, 17, 30)


def test_urgent_after_hours_is_due_at_the_end_of_the_next_business_day(account: Any) -> None:
    c = open_conv(account, paris(2026, 11, 13, 19, 0), priority=Priority.URGENT)  # Fri 19:00
    assert c.first_response_due_at == paris(2026, 11, 16, 18, 0)  # Monday evening
    assert c.next_due_at == paris(2026, 11, 16, 18, 0)


def test_evening_before_a_public_holiday(account: Any, other_account: Any) -> None:
    # Tuesday 10 November 2026, 17:00; Wednesday 11 November is a public holiday.
    c = open_conv(account, paris(2026, 11, 10, 17, 0))
    assert c.first_response_due_at == paris(2026, 11, 16, 17, 0)
    high = open_conv(account, paris(2026, 11, 10, 17, 0), priority=Priority.HIGH)
    assert high.first_response_due_at == paris(2026, 11, 12, 17, 0)  # Thursday, not Wednesday
    # A calendar without public holidays works on the 11th.
    own_calendar(other_account, {d: OFFICE for d in ("mon", "tue", "wed", "thu", "fri")},
                 holidays="")
    no_holidays = open_conv(other_account, paris(2026, 11, 10, 17, 0), priority=Priority.HIGH)
    assert no_holidays.first_response_due_at == paris(2026, 11, 11, 17, 0)


def test_across_the_autumn_dst_change(account: Any, other_account: Any) -> None:
    # Summer time ends on Sunday 25 October 2026 (03:00 CEST → 02:00 CET).
    c = open_conv(account, paris(2026, 10, 23, 17, 0), priority=Priority.HIGH)  # Fri, CEST
    assert c.created_at.utcoffset() == timedelta(hours=2)
    due = c.first_response_due_at
    assert due == paris(2026, 10, 26, 17, 0)  # Monday 17:00 local (1 h + 7 h)
    assert due == datetime(2026, 10, 26, 16, 0, tzinfo=UTC)  # CET: UTC+1
    # Open round the clock: 24 business hours from Saturday noon are 24 real hours, which
    # read 11:00 on Sunday's wall clock (the night had 25 hours).
    own_calendar(other_account, {d: [["00:00", "24:00"]] for d in
                                 ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}, holidays="")
    weekend = open_conv(other_account, paris(2026, 10, 24, 12, 0))
    assert weekend.first_response_due_at == datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    assert weekend.first_response_due_at.astimezone(PARIS).hour == 11


def test_weekend_calendar_across_dst(account: Any) -> None:
    own_calendar(account, {"sat": [["08:00", "20:00"]], "sun": [["08:00", "20:00"]]})
    c = open_conv(account, paris(2026, 10, 24, 19, 0), priority=Priority.HIGH)  # Sat 19:00
    # 1 h on Saturday, then 7 h from Sunday 08:00 CET.
    assert c.first_response_due_at == paris(2026, 10, 25, 15, 0)
    assert c.first_response_due_at == datetime(2026, 10, 25, 14, 0, tzinfo=UTC)


# --- Pause and resume ------------------------------------------------------------------------


def test_pause_while_waiting_on_customer_then_customer_reply_resumes(account: Any,
                                                                      agent: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))  # Monday 09:00
    assert c.first_response_due_at == paris(2026, 11, 5, 9, 0)
    assert c.resolution_due_at == paris(2026, 11, 16, 9, 0)  # 11 November skipped
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.conversation_set_status(actor=agent, conversation=c,
                                         status=Status.PENDING_CUSTOMER)
    c = reload(c)
    assert c.sla_paused_at == paris(2026, 11, 2, 10, 0)
    assert c.next_due_at is None  # nothing is due while we wait on the customer
    with clock.frozen(paris(2026, 11, 3, 10, 0)):  # 6 h 30 on Monday + 1 h 30 on Tuesday
        services.message_add_inbound(c, Incoming(account=account, channel=Channel.EMAIL,
                                                 subject="Re: Demande",
                                                 body_text="Voici le document."))
    c = reload(c)
    assert c.status == Status.OPEN
    assert c.sla_paused_at is None
    assert c.sla_paused_seconds == 8 * 3600
    assert c.first_response_due_at == paris(2026, 11, 6, 9, 0)  # pushed by exactly 8 h
    assert c.resolution_due_at == paris(2026, 11, 17, 9, 0)
    assert c.next_due_at == c.first_response_due_at


def test_pauses_accumulate_and_resume_by_status_change(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))
    with clock.frozen(paris(2026, 11, 2, 10, 0)), django_capture_on_commit_callbacks(
            execute=True):  # the reply is sent: the first response counts
        services.conversation_reply(actor=agent, conversation=c, body="Pouvez-vous préciser ?",
                                    status_after=Status.PENDING_CUSTOMER)
    c = reload(c)
    assert (c.status, c.first_response_due_at, c.next_due_at) == (
        Status.PENDING_CUSTOMER, None, None)
    with clock.frozen(paris(2026, 11, 4, 10, 0)):  # 6 h 30 + 8 h + 1 h 30
        services.conversation_set_status(actor=agent, conversation=c, status=Status.OPEN)
    c = reload(c)
    assert c.sla_paused_seconds == 16 * 3600
    assert c.resolution_due_at == paris(2026, 11, 18, 9, 0)
    assert c.next_due_at == c.resolution_due_at
    with clock.frozen(paris(2026, 11, 4, 14, 0)):
        services.conversation_set_status(actor=agent, conversation=c,
                                         status=Status.PENDING_CUSTOMER)
    with clock.frozen(paris(2026, 11, 5, 14, 0)):  # 4 h + 4 h
        services.message_add_inbound(c, Incoming(account=account, channel=Channel.EMAIL,
                                                 subject="Re", body_text="Précisions"))
    c = reload(c)
    assert c.sla_paused_seconds == 24 * 3600
    assert c.resolution_due_at == paris(2026, 11, 19, 9, 0)
    # The customer's new message asks for an answer within 24 business hours (not paused).
    assert c.next_response_due_at == paris(2026, 11, 10, 12, 30)
    assert c.next_due_at == c.next_response_due_at


def test_pause_outside_business_hours_does_not_move_anything(account: Any, agent: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))
    with clock.frozen(paris(2026, 11, 6, 19, 0)):  # Friday evening
        services.conversation_set_status(actor=agent, conversation=c,
                                         status=Status.PENDING_CUSTOMER)
    with clock.frozen(paris(2026, 11, 9, 8, 0)):  # Monday before opening
        services.conversation_set_status(actor=agent, conversation=c, status=Status.OPEN)
    c = reload(c)
    assert c.sla_paused_seconds == 0
    assert c.resolution_due_at == paris(2026, 11, 16, 9, 0)


# --- Recomputation ---------------------------------------------------------------------------


def test_priority_change_recomputes_due_dates(account: Any, agent: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))
    with clock.frozen(paris(2026, 11, 2, 11, 0)):
        services.conversation_update(actor=agent, conversation=c,
                                     data={"priority": Priority.URGENT})
    c = reload(c)
    assert c.first_response_due_at == paris(2026, 11, 2, 18, 0)  # same business day
    assert c.resolution_due_at == paris(2026, 11, 5, 9, 0)  # 24 business hours
    assert c.next_due_at == paris(2026, 11, 2, 18, 0)
    assert c.messages.filter(direction=Direction.SYSTEM, event="qualified").exists()
    with clock.frozen(paris(2026, 11, 2, 11, 30)):
        services.conversation_update(actor=agent, conversation=c,
                                     data={"priority": Priority.LOW})
    c = reload(c)
    assert c.first_response_due_at == paris(2026, 11, 10, 9, 0)  # 48 business hours
    # Other qualification changes leave the due dates alone.
    with clock.frozen(paris(2026, 11, 2, 12, 0)):
        services.conversation_update(actor=agent, conversation=c, data={"subject": "Autre"})
    assert reload(c).first_response_due_at == paris(2026, 11, 10, 9, 0)


def test_becoming_a_complaint_recomputes_with_the_complaint_target(account: Any,
                                                                  agent: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0), priority=Priority.LOW)
    assert c.first_response_due_at == paris(2026, 11, 10, 9, 0)  # 48 h
    policy = SlaPolicy.objects.create(account=account, name="Lente")
    SlaTarget.objects.create(policy=policy, priority=Priority.LOW, first_response_hours=72,
                             next_response_hours=72, resolution_hours=72)
    services.sla_recompute_for_account(account)
    assert reload(c).first_response_due_at == paris(2026, 11, 16, 9, 0)  # 72 h
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.conversation_update(actor=agent, conversation=c,
                                     data={"kind": Kind.COMPLAINT})
    assert reload(c).first_response_due_at == paris(2026, 11, 10, 9, 0)  # capped at 48 h


def test_calendar_change_then_recompute_for_account(account: Any, other_account: Any,
                                                    admin_user: Any, agent: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))
    closed = open_conv(account, paris(2026, 11, 2, 9, 0))
    with clock.frozen(paris(2026, 11, 2, 9, 30)):
        services.conversation_set_status(actor=agent, conversation=closed, status=Status.CLOSED)
    other = open_conv(other_account, paris(2026, 11, 2, 9, 0))
    calendar_set(actor=admin_user, account=account,
                 data={"timezone": "Europe/Paris", "weekly": WEEKDAYS_8_20, "holidays": "FR"})
    assert reload(c).first_response_due_at == paris(2026, 11, 5, 9, 0)  # not yet recomputed
    assert services.sla_recompute_for_account(account) == 1  # open conversations only
    c = reload(c)
    # 12 h days: 11 h on Monday, 12 h on Tuesday, 1 h on Wednesday.
    assert c.first_response_due_at == paris(2026, 11, 4, 9, 0)
    assert c.next_due_at == paris(2026, 11, 4, 9, 0)
    assert reload(closed).next_due_at is None
    assert reload(other).first_response_due_at == paris(2026, 11, 5, 9, 0)


def test_next_due_at_is_the_earliest_pending_and_none_when_closed(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))
    assert c.next_due_at == min(c.first_response_due_at, c.resolution_due_at)
    with clock.frozen(paris(2026, 11, 2, 9, 30)), django_capture_on_commit_callbacks(
            execute=True):
        services.conversation_reply(actor=agent, conversation=c, body="Bien reçu.")
    c = reload(c)
    assert c.first_response_due_at is None
    assert c.next_due_at == c.resolution_due_at == paris(2026, 11, 16, 9, 0)
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.RESOLVED)
    assert reload(c).next_due_at is None
    with clock.frozen(paris(2026, 11, 2, 10, 30)):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.CLOSED)
    assert reload(c).next_due_at is None
    with clock.frozen(paris(2026, 11, 2, 11, 0)):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.OPEN)
    assert reload(c).next_due_at == paris(2026, 11, 16, 9, 0)


# --- SLA monitor -----------------------------------------------------------------------------


@pytest.fixture
def watched(account: Any, agent: Any, supervisor: Any) -> Conversation:
    c = open_conv(account, paris(2026, 11, 2, 9, 0))  # first response due Thu 5 Nov 09:00
    Conversation.objects.filter(pk=c.pk).update(assignee=agent)
    return reload(c)


def run_monitor(at: datetime, capture: Any) -> str:
    with capture(execute=True):
        return sla_monitor.run(at)


def test_monitor_warns_once_at_75_percent(watched: Conversation, agent: Any, supervisor: Any,
                                          django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    # 75 % of 24 business hours = 18 h: Monday 7 h 30, Tuesday 8 h, Wednesday 2 h 30.
    assert run_monitor(paris(2026, 11, 4, 10, 59), capture) == "warned 0, breached 0"
    assert run_monitor(paris(2026, 11, 4, 11, 0), capture) == "warned 1, breached 0"
    assert run_monitor(paris(2026, 11, 4, 16, 0), capture) == "warned 0, breached 0"
    [event] = SlaEvent.objects.filter(conversation=watched)
    assert (event.kind, event.target, event.due_at) == (
        "warning", "first_response", paris(2026, 11, 5, 9, 0))
    c = reload(watched)
    assert c.sla_warned_at == paris(2026, 11, 4, 11, 0)
    assert c.sla_breached_at is None
    [system] = c.messages.filter(direction=Direction.SYSTEM, event="sla_warning")
    assert system.data["target"] == "first_response"
    notified = Notification.objects.filter(conversation=watched, kind="sla_warning")
    assert sorted(n.user_id for n in notified) == sorted([agent.pk, supervisor.pk])


def test_monitor_records_a_breach_once(watched: Conversation, agent: Any, supervisor: Any,
                                       other_agent: Any,
                                       django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    assert run_monitor(paris(2026, 11, 5, 8, 59), capture) == "warned 1, breached 0"
    assert run_monitor(paris(2026, 11, 5, 9, 0), capture) == "warned 0, breached 1"
    assert run_monitor(paris(2026, 11, 5, 9, 30), capture) == "warned 0, breached 0"
    assert run_monitor(paris(2026, 11, 6, 9, 30), capture) == "warned 0, breached 0"
    assert sorted(SlaEvent.objects.values_list("kind", "target")) == [
        ("breach", "first_response"), ("warning", "first_response")]
    c = reload(watched)
    assert c.sla_breached_at == paris(2026, 11, 5, 9, 0)
    assert c.messages.filter(event="sla_breach").count() == 1
    breach = Notification.objects.filter(kind="sla_breach")
    assert sorted(n.user_id for n in breach) == sorted([agent.pk, supervisor.pk])
    assert "a dépassé son échéance" in breach[0].text
    assert not Notification.objects.filter(user=other_agent).exists()


def test_monitor_skips_paused_and_closed_conversations(watched: Conversation, agent: Any,
                                                       django_capture_on_commit_callbacks: Any
                                                       ) -> None:
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.conversation_set_status(actor=agent, conversation=watched,
                                         status=Status.PENDING_CUSTOMER)
    assert run_monitor(paris(2026, 11, 20, 9, 0), django_capture_on_commit_callbacks) == (
        "warned 0, breached 0")
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.conversation_set_status(actor=agent, conversation=watched,
                                         status=Status.CLOSED)
    assert run_monitor(paris(2026, 11, 20, 9, 0), django_capture_on_commit_callbacks) == (
        "warned 0, breached 0")
    assert not SlaEvent.objects.exists()


def test_monitor_warning_ignores_time_spent_paused(watched: Conversation, agent: Any,
                                                  django_capture_on_commit_callbacks: Any
                                                  ) -> None:
    capture = django_capture_on_commit_callbacks
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.conversation_set_status(actor=agent, conversation=watched,
                                         status=Status.PENDING_CUSTOMER)
    with clock.frozen(paris(2026, 11, 3, 10, 0)):  # 8 business hours paused
        services.conversation_set_status(actor=agent, conversation=watched, status=Status.OPEN)
    assert reload(watched).first_response_due_at == paris(2026, 11, 6, 9, 0)
    # 18 of the 24 active hours: 1 h on Monday, 6 h 30 on Tuesday, 8 h on Wednesday and
    # 2 h 30 on Thursday.
    assert run_monitor(paris(2026, 11, 5, 10, 59), capture) == "warned 0, breached 0"
    assert run_monitor(paris(2026, 11, 5, 11, 0), capture) == "warned 1, breached 0"
    assert run_monitor(paris(2026, 11, 6, 9, 0), capture) == "warned 0, breached 1"

"""Each indicator on a hand-built data set whose expected value is worked out here: no data,
all abandoned, paused SLA clocks, time-zone day boundaries, the DST day."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.desk.models import AgentStateChange, Call, CallOutcome
from permanence.desk.models_campaigns import Campaign, CampaignAttempt, CampaignTarget
from permanence.inbox.models import Conversation
from permanence.inbox.models_complaints import SurveyResponse
from permanence.reports import kpis

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
_n = itertools.count(1)


def _call(account: Any, offered: datetime, *, wait: int | None = None, outcome: str = "",
          ended_after: int | None = None, talk: int | None = None, hold: int = 0,
          wrapup: int | None = None, agent: Any = None, direction: str = "inbound") -> Call:
    answered = offered + timedelta(seconds=wait) if wait is not None else None
    ended = offered + timedelta(seconds=ended_after) if ended_after is not None else None
    return Call.objects.create(
        call_id=f"k{next(_n)}", account=account, offered_at=offered, created_at=offered,
        from_number="+33612345678", direction=direction, answered_at=answered,
        wait_seconds=wait, outcome=outcome or ("answered" if wait is not None else ""),
        ended_at=ended, talk_seconds=talk, hold_seconds=hold, wrapup_seconds=wrapup,
        agent=agent)


def _conversation(account: Any, created: datetime, **fields: Any) -> Conversation:
    n = next(_n)
    return Conversation.objects.create(
        account=account, reference=f"K-{n:06d}", subject=f"Demande {n}", channel="email",
        created_at=created, updated_at=created, last_message_at=created, **fields)


def _figures(user: Any, start: date, end: date | None = None, **filters: Any) -> dict[str, Any]:
    chosen = kpis.filters_for(user, start_day=start, end_day=end or start, **filters)
    return kpis.compute(user, chosen)["values"]


DAY = date(2026, 3, 10)
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)


def test_no_data_gives_zero_counts_and_no_rates(supervisor: Any, account: Any) -> None:
    values = _figures(supervisor, DAY)
    assert values["calls_offered"] == 0 and values["conversations"] == 0
    assert values["complaints"] == 0
    for key in ("answer_rate", "service_level", "asa_seconds", "abandon_rate", "aht_seconds",
                "first_response_median_business_seconds", "resolution_median_business_seconds",
                "sla_first_response_pct", "sla_resolution_pct", "fcr_rate", "csat_pct", "nps",
                "appointment_rate", "sales_rate", "bot_deflection_rate", "bot_handover_rate",
                "chat_wait_median_seconds", "revenue_ht_cents", "mrr_cents", "churn_rate",
                "retention_rate", "quotes_sent", "storefront_conversion"):
        assert values[key] is None, key
    assert values["chats"] == 0
    # A supervisor sees billing: the business figures are there too.
    assert set(kpis.DEFINITIONS) | set(kpis.BUSINESS_DEFINITIONS) == set(values)


def test_call_indicators(supervisor: Any, account: Any, agent: Any) -> None:
    # Six answered calls: waits 5, 10, 15, 20, 25, 40 s; handle times known on four.
    for wait, talk, hold, wrapup in ((5, 100, 0, 20), (10, 200, 30, 10), (15, 50, 0, None),
                                     (20, 150, 0, 40), (25, None, 0, None),
                                     (40, None, 0, None)):
        _call(account, NOON, wait=wait, agent=agent,
              ended_after=wait + (talk or 60) if talk else None, talk=talk, hold=hold,
              wrapup=wrapup)
    _call(account, NOON, outcome=CallOutcome.ABANDONED, ended_after=3)  # short abandon
    _call(account, NOON, outcome=CallOutcome.ABANDONED, ended_after=30)
    _call(account, NOON, outcome=CallOutcome.ABANDONED, ended_after=45)
    _call(account, NOON, outcome=CallOutcome.VOICEMAIL, ended_after=60)
    _call(account, NOON, direction="outbound", wait=0, ended_after=100, talk=100)  # not offered
    values = _figures(supervisor, DAY)
    assert values["calls_offered"] == 10
    assert values["calls_answered"] == 6
    assert values["answer_rate"] == 0.6
    assert values["service_level"] == 0.4  # 5, 10, 15, 20 s within 20 s, over 10 offered
    assert values["asa_seconds"] == round(115 / 6, 1)
    assert values["abandon_rate"] == 0.3
    assert values["abandon_rate_excluding_short"] == round(2 / 9, 4)
    # Handled (answered and ended, talk known): (100+0+20) + (200+30+10) + (50+0+0) + (150+0+40)
    assert values["aht_seconds"] == round((120 + 240 + 50 + 190) / 4, 1)


def test_all_abandoned(supervisor: Any, account: Any) -> None:
    for seconds in (10, 20, 30):
        _call(account, NOON, outcome=CallOutcome.ABANDONED, ended_after=seconds)
    values = _figures(supervisor, DAY)
    assert values["calls_offered"] == 3
    assert (values["answer_rate"], values["service_level"], values["abandon_rate"]) == (0, 0, 1)
    assert values["asa_seconds"] is None and values["aht_seconds"] is None


def test_days_end_at_local_midnight(supervisor: Any, account: Any) -> None:
    # 23:30 in Paris on 1 March is 22:30 UTC; 00:30 on 2 March is 23:30 UTC on 1 March.
    _call(account, datetime(2026, 3, 1, 22, 30, tzinfo=UTC), wait=5)
    _call(account, datetime(2026, 3, 1, 23, 30, tzinfo=UTC), wait=5)
    assert _figures(supervisor, date(2026, 3, 1))["calls_offered"] == 1
    assert _figures(supervisor, date(2026, 3, 2))["calls_offered"] == 1
    assert _figures(supervisor, date(2026, 3, 1), date(2026, 3, 2))["calls_offered"] == 2


def test_the_dst_day_has_23_hours(supervisor: Any, account: Any) -> None:
    # 29 March 2026: clocks go from 02:00 to 03:00 in Paris. The local day runs from
    # 28 March 23:00 UTC to 29 March 22:00 UTC.
    _call(account, datetime(2026, 3, 28, 23, 0, tzinfo=UTC), wait=5)  # 00:00 local, in
    _call(account, datetime(2026, 3, 29, 21, 59, tzinfo=UTC), wait=5)  # 23:59 local, in
    _call(account, datetime(2026, 3, 29, 22, 0, tzinfo=UTC), wait=5)  # 00:00 on the 30th
    _call(account, datetime(2026, 3, 28, 22, 59, tzinfo=UTC), wait=5)  # 23:59 on the 28th
    chosen = kpis.filters_for(supervisor, start_day=date(2026, 3, 29),
                              end_day=date(2026, 3, 29))
    assert chosen.end.astimezone(UTC) - chosen.start.astimezone(UTC) == timedelta(hours=23)
    assert kpis.compute(supervisor, chosen)["values"]["calls_offered"] == 2


def test_conversation_indicators(supervisor: Any, account: Any) -> None:
    # Five conversations opened that day; business durations as sla_compute keeps them.
    for first, first_ok, resolution, resolution_ok in ((600, True, 3600, True),
                                                       (1200, True, 7200, True),
                                                       (1800, True, 10800, False),
                                                       (7200, False, None, None),
                                                       (None, None, None, None)):
        _conversation(account, NOON, first_response_business_seconds=first,
                      first_response_on_time=first_ok,
                      first_response_at=NOON if first is not None else None,
                      resolution_business_seconds=resolution, resolution_on_time=resolution_ok,
                      resolved_at=NOON + timedelta(hours=3) if resolution else None,
                      status="resolu" if resolution else "ouvert")
    _conversation(account, NOON, kind="reclamation")
    _conversation(account, NOON - timedelta(days=2), first_response_business_seconds=1)  # before
    values = _figures(supervisor, DAY)
    assert values["conversations"] == 6
    # Answered 600, 1200, 1800, 7200: median (1200 + 1800) / 2; p90 at rank 2.7 → 1800 + 0.7·5400
    assert values["first_response_median_business_seconds"] == 1500
    assert values["first_response_p90_business_seconds"] == 1800 + 0.7 * 5400
    assert values["resolution_median_business_seconds"] == 7200
    assert values["sla_first_response_pct"] == 75.0
    assert values["sla_resolution_pct"] == round(200 / 3, 1)
    assert values["complaints"] == 1 and values["complaint_rate"] == round(1 / 6, 4)


def _opened(account: Any, at: datetime, motif: str) -> Conversation:
    from permanence.core import clock
    from permanence.inbox import services

    with clock.frozen(at):
        return services.conversation_open(services.Incoming(
            account=account, channel="email", subject=f"Au sujet de {motif}",
            body_text="Bonjour", contact_email="jeanne@exemple.fr", contact_name="Jeanne",
            motif=motif, acknowledge=False))


def _status(conversation: Conversation, agent: Any, at: datetime, status: str) -> None:
    from permanence.core import clock
    from permanence.inbox import services

    with clock.frozen(at):
        services.conversation_set_status(actor=agent, conversation=conversation, status=status)


def test_first_contact_resolution_and_reopening(supervisor: Any, agent: Any,
                                                account: Any) -> None:
    came_back = _opened(account, NOON, "facturation")
    _status(came_back, agent, NOON + timedelta(hours=1), "resolu")
    _opened(account, NOON + timedelta(days=3), "facturation")  # the same person, same motif
    kept = _opened(account, NOON, "livraison")  # no later contact on this motif: kept
    _status(kept, agent, NOON + timedelta(hours=1), "resolu")
    # A later contact on the same motif after 7 days does not count against it.
    kept_late = _opened(account, NOON, "retour")
    _status(kept_late, agent, NOON + timedelta(hours=1), "resolu")
    _opened(account, NOON + timedelta(days=8), "retour")
    # Reopened once after its resolution, then resolved again.
    _status(kept, agent, NOON + timedelta(hours=2), "ouvert")
    _status(kept, agent, NOON + timedelta(hours=3), "resolu")
    values = _figures(supervisor, DAY)
    assert values["fcr_rate"] == round(2 / 3, 4)
    assert values["reopen_rate"] == round(1 / 3, 4)
    # A motif set later by qualification is judged the same way.
    late = _opened(account, NOON + timedelta(days=20), "")
    _opened(account, NOON + timedelta(days=21), "information")
    from permanence.core import clock
    from permanence.inbox import services

    with clock.frozen(NOON + timedelta(days=22)):
        services.conversation_update(actor=agent, conversation=late,
                                     data={"motif": "information"})
    late.refresh_from_db()
    assert late.followed_up is True


def test_satisfaction_and_campaigns(supervisor: Any, account: Any, agent: Any) -> None:
    conversation = _conversation(account, NOON)
    for csat, nps in ((5, 10), (4, 9), (2, 3), (5, 7)):
        SurveyResponse.objects.create(conversation=conversation, sent_at=NOON, csat=csat,
                                      nps=nps, ask_nps=True, answered_at=NOON)
    SurveyResponse.objects.create(conversation=conversation, sent_at=NOON)  # unanswered
    campaign = Campaign.objects.create(account=account, name="Relance", kind="prospection",
                                       created_at=NOON)
    target = CampaignTarget.objects.create(campaign=campaign, name="Prospect",
                                           phone="+33612345678")
    for disposition in ("absent", "joint", "rdv_pris", "rdv_pris", "vente", "pas_interesse",
                        "rdv_pris", "absent"):
        CampaignAttempt.objects.create(target=target, campaign=campaign, agent=agent,
                                       disposition=disposition, at=NOON)
    values = _figures(supervisor, DAY)
    assert values["csat_pct"] == 75.0
    assert values["nps"] == 25
    assert values["survey_response_rate"] == 0.8
    assert values["appointment_rate"] == round(3 / 8, 4)
    assert values["sales_rate"] == round(1 / 3, 4)


def test_filters_keep_to_the_visible_accounts(agent: Any, account: Any,
                                              other_account: Any) -> None:
    _call(account, NOON, wait=5)
    _call(other_account, NOON, wait=5)
    assert _figures(agent, DAY)["calls_offered"] == 1
    with pytest.raises(kpis.PeriodError) as refused:
        _figures(agent, DAY, account_id=other_account.pk)
    assert refused.value.field == "account"


def test_the_channel_filter_leaves_calls_out_of_other_channels(supervisor: Any,
                                                               account: Any) -> None:
    _call(account, NOON, wait=5)
    _conversation(account, NOON)
    assert _figures(supervisor, DAY, channel="email")["calls_offered"] is None
    assert _figures(supervisor, DAY, channel="email")["conversations"] == 1
    assert _figures(supervisor, DAY, channel="telephone")["calls_offered"] == 1


def test_agent_occupancy_from_the_state_log(agent: Any) -> None:
    from permanence.desk import figures

    start = datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    for minutes, status in ((0, "disponible"), (30, "en_appel"), (60, "post_appel"),
                            (70, "disponible"), (90, "en_pause"), (100, "disponible"),
                            (120, "absent")):
        AgentStateChange.objects.create(user=agent, to_status=status,
                                        at=start + timedelta(minutes=minutes))
    times = figures.agent_time([agent.pk], start, start + timedelta(hours=8))[agent.pk]
    assert times["en_appel"] == 1800 and times["post_appel"] == 600
    assert times["disponible"] == (30 + 20 + 20) * 60
    assert times["breaks"] == 1
    assert figures.occupancy(times) == pytest.approx(2400 / (2400 + 4200))


def test_comparison_period_is_the_same_length_just_before(supervisor: Any) -> None:
    chosen = kpis.filters_for(supervisor, start_day=date(2026, 3, 1), end_day=date(2026, 3, 31))
    before = chosen.previous()
    assert (before.start_day, before.end_day) == (date(2026, 1, 29), date(2026, 2, 28))


def test_periods_are_checked(supervisor: Any) -> None:
    with pytest.raises(kpis.PeriodError):
        kpis.filters_for(supervisor, start_day=date(2026, 3, 2), end_day=date(2026, 3, 1))
    with pytest.raises(kpis.PeriodError):
        kpis.filters_for(supervisor, start_day=date(2025, 1, 1), end_day=date(2026, 3, 1))

"""Call events → calls: the processing of the events stored by desk.calls.

Processing (`calls_process`) locks the calls (created on their first event), then
recomputes each from ALL its events sorted by `occurred_at`: timings, outcome, agent, the
account of the dialled number. Events arrive late and twice, so the state the events lead to
is computed by replaying them along CALL_TRANSITIONS from « sonne », and the call moves forward
to it through `call_apply` (desk.machine), never backwards: a hangup processed before the
« answered » that preceded it still ends in the right state, since a hangup saying the call was
talked (talk_s > 0, or cause completed with an agent) implies the answer. Then, on the call's
new state: the agents' states (desk.agents), the call back owed (desk.callbacks), the screen
pop for the agents the call rings for (desk.live, after commit), supervisors told of an unknown
dialled number (the call is kept, flagged, never dropped).

Outcome, once the call has ended: answered (an answer was seen or implied), voicemail, else by
cause: caller_abandoned (or completed without an answer: the caller hung up) → abandoned;
no_answer, busy, failed → missed.

The processing runs in batches (`calls_process`: the calls locked together, their events,
dialled numbers and agents read once, the status history written at once): the pump
(desk.pump) processes whatever is pending; the request does it at once with
TELEPHONY_PROCESSING=inline; the scheduler's sweep (`events_process_pending`) takes what a
crash left behind."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Lower
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, ContactChannel, Role, User
from permanence.core import clock
from permanence.core.validators import phone_display
from permanence.inbox.live import notifications_create

from . import live
from .agents import agent_follow_call, agents_available_for
from .callbacks import callback_answered_after_all, callback_for_call
from .machine import CALL_MACHINE, call_apply
from .models import (
    CALL_TRANSITIONS,
    Call,
    CallDirection,
    CallEvent,
    CallOutcome,
    CallState,
    CallStateChange,
)

logger = logging.getLogger(__name__)

EVENTS = ("new", "ringing", "answered", "hold", "unhold", "transferred", "hangup", "voicemail",
          "recording_ready")
# Same instant: the natural order of a call breaks the tie.
EVENT_RANK = {name: rank for rank, name in enumerate(EVENTS)}
CAUSES = ("completed", "busy", "no_answer", "caller_abandoned", "failed")
ANONYMOUS = "anonymous"
REPROCESS_AFTER = timedelta(seconds=30)
REPROCESS_BATCH = 500
PROCESS_BATCH = 400  # unprocessed events the pump takes at once
UNKNOWN_NUMBER_KIND = "desk_unknown_number"
TALKING = frozenset({CallState.ANSWERED, CallState.ON_HOLD})


# --- Batches ------------------------------------------------------------------------------------


def _pending_call_ids(limit: int, *, received_before: datetime | None = None) -> list[str]:
    """The calls of the oldest unprocessed events, at most `limit` events read."""
    pending = CallEvent.objects.filter(processed_at__isnull=True)
    if received_before is not None:
        pending = pending.filter(received_at__lte=received_before)
    return list(dict.fromkeys(pending.order_by("received_at", "pk")
                              .values_list("call_id", flat=True)[:limit]))


def events_process_batch(*, limit: int = PROCESS_BATCH) -> tuple[int, int]:
    """The pump's step: the calls of the oldest unprocessed events, processed together in
    one transaction. Calls another processor holds are skipped, not waited for. Returns
    (calls processed, calls skipped)."""
    call_ids = _pending_call_ids(limit)
    if not call_ids:
        return 0, 0
    done = calls_process(call_ids, skip_locked=True)
    return len(done), len(call_ids) - len(done)


def events_process_pending(*, older_than: timedelta = REPROCESS_AFTER) -> int:
    """Scheduler job: the calls with events stored but not processed (a crash between the
    commit and the processing, a failed attempt). Returns how many calls were processed."""
    call_ids = _pending_call_ids(REPROCESS_BATCH,
                                 received_before=clock.now() - older_than)
    done = 0
    for call_id in call_ids:  # one transaction each: a slow call does not hold the others
        if call_events_process(call_id) is not None:
            done += 1
    return done


# --- One call's events -------------------------------------------------------------------------


@dataclass
class Facts:
    """What the events of one call say, read in order."""

    offered_at: datetime
    direction: str = CallDirection.INBOUND
    parent_call_id: str = ""
    from_number: str = ""
    caller_name: str = ""
    to_number: str = ""
    forwarded_from: str = ""
    queue: str = ""
    agent: str = ""
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    voicemail: bool = False
    cause: str = ""
    cause_raw: str = ""
    hold_seconds: float = 0
    hold_started_at: datetime | None = None
    wait_s: int | None = None
    talk_s: int | None = None
    hold_s: int | None = None
    recording_url: str = ""
    state: str = CallState.RINGING


def _sorted(events: Iterable[CallEvent]) -> list[CallEvent]:
    return sorted(events, key=lambda e: (e.occurred_at, EVENT_RANK.get(e.event, 99), e.pk))


def _implies_answer(payload: dict[str, Any]) -> bool:
    talk = payload.get("talk_s")
    talked = isinstance(talk, (int, float)) and not isinstance(talk, bool) and talk > 0
    return talked or (payload.get("cause") == "completed" and bool(payload.get("agent")))


def _step(facts: Facts, to: str) -> None:
    if CALL_MACHINE.can(facts.state, to):
        facts.state = to


def _read_fields(facts: Facts, p: dict[str, Any]) -> None:
    for key, attr in (("from", "from_number"), ("to", "to_number"), ("caller_name",
                      "caller_name"), ("forwarded_from", "forwarded_from"), ("queue", "queue"),
                      ("parent_call_id", "parent_call_id")):
        if p.get(key) and not getattr(facts, attr):
            setattr(facts, attr, str(p[key]))
    if p.get("direction") in CallDirection.values:
        facts.direction = str(p["direction"])
    if p.get("agent"):
        facts.agent = str(p["agent"]).lower()
    for key in ("wait_s", "talk_s", "hold_s"):
        if isinstance(p.get(key), (int, float)) and not isinstance(p.get(key), bool):
            setattr(facts, key, round(p[key]))
    if p.get("recording_url"):
        facts.recording_url = str(p["recording_url"])


def facts_of(events: list[CallEvent]) -> Facts:
    """Replay the call's events in order (see the module's docstring)."""
    ordered = _sorted(events)
    facts = Facts(offered_at=ordered[0].occurred_at)
    for e in ordered:
        p = e.payload if isinstance(e.payload, dict) else {}
        _read_fields(facts, p)
        at = e.occurred_at
        if e.event == "answered" and facts.ended_at is None:
            facts.answered_at = facts.answered_at or at
            _step(facts, CallState.ANSWERED)
        elif e.event == "hold" and facts.ended_at is None:
            if facts.state == CallState.RINGING:  # a call put on hold was answered
                facts.answered_at = facts.answered_at or at
                _step(facts, CallState.ANSWERED)
            if facts.state == CallState.ANSWERED:
                facts.hold_started_at = at
                _step(facts, CallState.ON_HOLD)
        elif e.event == "unhold" and facts.state == CallState.ON_HOLD:
            if facts.hold_started_at is not None:
                facts.hold_seconds += (at - facts.hold_started_at).total_seconds()
            facts.hold_started_at = None
            _step(facts, CallState.ANSWERED)
        elif e.event == "voicemail":
            facts.voicemail = True
        elif e.event == "hangup" and facts.ended_at is None:
            facts.ended_at = at
            facts.cause = str(p.get("cause") or "")
            facts.cause_raw = str(p.get("cause_code") or facts.cause)[:80]
            if facts.state == CallState.RINGING and _implies_answer(p):
                talk = p.get("talk_s") or 0
                facts.answered_at = facts.answered_at or max(
                    facts.offered_at, at - timedelta(seconds=float(talk)))
                _step(facts, CallState.ANSWERED)
            if facts.hold_started_at is not None:
                facts.hold_seconds += (at - facts.hold_started_at).total_seconds()
                facts.hold_started_at = None
            _step(facts, CallState.WRAPUP if facts.state in TALKING else CallState.ENDED)
    return facts


def outcome_of(facts: Facts) -> str:
    if facts.ended_at is None:
        return ""
    if facts.answered_at is not None:
        return CallOutcome.ANSWERED
    if facts.voicemail:
        return CallOutcome.VOICEMAIL
    if facts.cause in ("no_answer", "busy", "failed"):
        return CallOutcome.MISSED
    return CallOutcome.ABANDONED


def _route(current: str, target: str) -> list[str]:
    """The moves from `current` to `target` along CALL_TRANSITIONS (shortest); [] if the
    call is already there or past it."""
    if current == target:
        return []
    seen = {current: [current]}
    queue = deque([current])
    while queue:
        state = queue.popleft()
        for nxt in sorted(CALL_TRANSITIONS.get(state, set())):
            if nxt not in seen:
                seen[nxt] = [*seen[state], nxt]
                if nxt == target:
                    return seen[nxt][1:]
                queue.append(nxt)
    return []


def _secs(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds()))


def _apply_timings(call: Call, facts: Facts) -> None:
    call.answered_at = facts.answered_at
    call.ended_at = facts.ended_at
    call.hold_started_at = facts.hold_started_at
    call.hold_seconds = facts.hold_s if facts.hold_s is not None else round(facts.hold_seconds)
    if facts.wait_s is not None:
        call.wait_seconds = facts.wait_s
    elif facts.answered_at or facts.ended_at:
        call.wait_seconds = _secs((facts.answered_at or facts.ended_at)  # type: ignore[operator]
                                  - facts.offered_at)
    if facts.talk_s is not None:
        call.talk_seconds = facts.talk_s
    elif facts.answered_at and facts.ended_at:
        call.talk_seconds = max(0, _secs(facts.ended_at - facts.answered_at) - call.hold_seconds)


@dataclass
class Lookups:
    """What the events of a batch name, read once: the accounts of the dialled numbers, the
    agents by e-mail."""

    accounts: dict[str, ClientAccount]
    agents: dict[str, User]

    @classmethod
    def load(cls, events: Iterable[CallEvent]) -> Lookups:
        numbers: set[str] = set()
        emails: set[str] = set()
        for e in events:
            p = e.payload if isinstance(e.payload, dict) else {}
            numbers.update(str(p[k]) for k in ("to", "from") if p.get(k))
            if p.get("agent"):
                emails.add(str(p["agent"]).lower())
        numbers.discard(ANONYMOUS)
        accounts = {c.value: c.account for c in ContactChannel.objects.filter(
            kind=ContactChannel.Kind.PHONE, value__in=numbers).select_related("account")
            } if numbers else {}
        agents: dict[str, User] = {}
        if emails:
            for user in (User.objects.annotate(email_l=Lower("email"))
                         .filter(email_l__in=emails, is_active=True).exclude(role=Role.CLIENT)):
                agents[user.email.lower()] = user
        return cls(accounts, agents)

    def agent(self, email: str) -> User | None:
        return self.agents.get(email.lower()) if email else None


def _lock_calls(call_ids: list[str], *, skip_locked: bool) -> tuple[dict[str, Call], set[str]]:
    """The calls, locked in call_id order (skip_locked: those no other processor holds),
    created first for the call ids that have events and no call yet; and the ids of those
    created here."""
    def locked(ids: list[str]) -> dict[str, Call]:
        return {c.call_id: c for c in Call.objects.select_for_update(skip_locked=skip_locked)
                .filter(call_id__in=ids).order_by("call_id")}

    calls = locked(call_ids)
    missing = [i for i in call_ids if i not in calls]
    created: set[str] = set()
    if missing:
        with_events = set(CallEvent.objects.filter(call_id__in=missing)
                          .values_list("call_id", flat=True))
        now = clock.now()  # offered_at is set from the events
        new = [Call(call_id=i, offered_at=now, created_at=now) for i in missing
               if i in with_events]
        if new:  # a concurrent processor may create the same: its row is kept
            Call.objects.bulk_create(new, ignore_conflicts=True)
            fresh = locked([c.call_id for c in new])
            created.update(i for i, c in fresh.items() if c.state == CallState.RINGING
                           and c.last_event_at is None)
            calls.update(fresh)
    return dict(sorted(calls.items())), created


def calls_process(call_ids: Iterable[str], *, skip_locked: bool = False) -> dict[str, Call]:
    """Apply the unprocessed events of these calls in one transaction (idempotent; see the
    module's docstring). Returns the calls locked (processed or already up to date) by
    call_id. If one call's processing fails, the batch is done again with each call in a
    savepoint of its own: the failure is logged and noted on its events, which stay
    unprocessed for the sweep, and the others go through (savepoints cost two statements
    per call, hence not on the first attempt)."""
    wanted = sorted(set(call_ids))
    try:
        return _calls_process(wanted, skip_locked=skip_locked, isolate=False)
    except Exception:
        return _calls_process(wanted, skip_locked=skip_locked, isolate=True)


def _calls_process(wanted: list[str], *, skip_locked: bool, isolate: bool) -> dict[str, Call]:
    done: dict[str, Call] = {}
    with transaction.atomic():
        calls, created = _lock_calls(wanted, skip_locked=skip_locked)
        if not calls:
            return done
        # Read once the calls are locked: events committed meanwhile by another delivery
        # are in.
        events: dict[str, list[CallEvent]] = {}
        for e in CallEvent.objects.filter(call_id__in=list(calls)).defer("source"):
            events.setdefault(e.call_id, []).append(e)
        lookups = Lookups.load(e for evs in events.values() for e in evs
                               if e.processed_at is None)
        now = clock.now()
        processed: list[int] = []
        history: list[models.Model] = []
        for call_id, call in calls.items():
            pending = [e for e in events.get(call_id, []) if e.processed_at is None]
            if not pending:
                done[call_id] = call
                continue
            if not isolate:
                done[call_id] = _process(call, events[call_id], pending, lookups=lookups,
                                         now=now, history=history)
                processed.extend(e.pk for e in pending)
                continue
            moves: list[models.Model] = []
            try:
                with transaction.atomic():
                    done[call_id] = _process(call, events[call_id], pending,
                                             lookups=lookups, now=now, history=moves)
            except Exception as exc:
                logger.exception("processing the events of call %s failed", call_id)
                CallEvent.objects.filter(pk__in=[e.pk for e in pending]).update(
                    error=f"{type(exc).__name__}: {exc}"[:300])
                if call_id in created:  # no empty call left behind: the sweep makes it
                    Call.objects.filter(pk=call.pk).delete()
                continue
            history.extend(moves)
            processed.extend(e.pk for e in pending)
        CallStateChange.objects.bulk_create(history)  # type: ignore[arg-type]
        if processed:
            CallEvent.objects.filter(pk__in=processed).update(processed_at=now, error="")
    return done


def call_events_process(call_id: str) -> Call | None:
    """Apply the call's unprocessed events (idempotent; see the module's docstring). A
    failure is logged and noted on the events, left to the scheduler's sweep (the events
    themselves stay stored): None then."""
    return calls_process([call_id]).get(call_id)


def _process(call: Call, events: list[CallEvent], pending: list[CallEvent], *,
             lookups: Lookups, now: datetime, history: list[models.Model]) -> Call:
    facts = facts_of(events)
    note = ", ".join(f"{e.event} ({e.event_id})" for e in _sorted(pending))[:300]
    for step in _route(call.state, facts.state):
        call_apply(call=call, to=step, note=note, now=now, history=history)
    was = {"outcome": call.outcome, "unknown": call.unknown_number}
    _apply_facts(call, facts, lookups)
    call.save()
    _consequences(call, pending, was=was, now=now, lookups=lookups)
    return call


def _apply_facts(call: Call, facts: Facts, lookups: Lookups) -> None:
    call.offered_at = facts.offered_at
    call.direction = facts.direction
    call.parent_call_id = facts.parent_call_id[:120]
    call.from_number = facts.from_number[:32]
    call.caller_name = facts.caller_name[:120]
    call.to_number = facts.to_number[:32]
    call.forwarded_from = facts.forwarded_from[:32]
    call.queue = facts.queue[:80]
    call.cause, call.cause_raw = facts.cause[:20], facts.cause_raw[:80]
    if facts.recording_url:
        call.recording_url = facts.recording_url[:500]
    _apply_timings(call, facts)
    call.outcome = outcome_of(facts)
    call.last_event_at = max(filter(None, (facts.ended_at, facts.answered_at,
                                           facts.offered_at)))
    agent = lookups.agent(facts.agent)
    if agent is not None:
        call.agent = agent
    if call.account_id is None and not call.manual:
        # Inbound, the dialled number is the account's; outbound, the number shown.
        number = call.to_number if call.direction == CallDirection.INBOUND else call.from_number
        account = lookups.accounts.get(number) if number and number != ANONYMOUS else None
        call.account = account
        call.unknown_number = account is None


def _consequences(call: Call, pending: list[CallEvent], *, was: dict[str, Any],
                  now: datetime, lookups: Lookups) -> None:
    """Agents' states, call back, screen pop, unknown number: from the call's new state."""
    agents = {p.lower() for p in (str((e.payload or {}).get("agent") or "")
                                  for e in pending) if p}
    if call.agent is not None:
        agents.add(call.agent.email.lower())
        lookups.agents.setdefault(call.agent.email.lower(), call.agent)
    for email in sorted(agents):
        user = lookups.agent(email)
        if user is not None:
            agent_follow_call(user=user, call=call, now=now, ringing_or_talking=(
                call.state == CallState.RINGING or call.state in TALKING))
    if call.outcome == CallOutcome.ANSWERED and was["outcome"] not in ("",
                                                                    CallOutcome.ANSWERED):
        # A call back was owed for the outcome seen before (a late « answered »).
        callback_answered_after_all(call, now=now)
    elif call.outcome:
        callback_for_call(call, now=now)
    if call.unknown_number and not was["unknown"]:
        _flag_unknown_number(call, now)
    rang = [e for e in pending if e.event == "ringing"]
    if rang and call.direction == CallDirection.INBOUND:
        _pop(call, rang, lookups)


def _pop(call: Call, rang: list[CallEvent], lookups: Lookups) -> None:
    """The call rings: for the agent the PBX names, else for the available agents assigned
    to the account; pushed once the processing commits. Processed late (in one batch with
    its answer), it opens only on the screen of the agent who took it; once ended, nowhere."""
    if call.state == CallState.RINGING:
        named = [u for u in (lookups.agent(str((e.payload or {}).get("agent") or ""))
                             for e in rang) if u is not None]
        targets = named or (agents_available_for(call.account) if call.account is not None
                            else [])
    elif call.state in TALKING and call.agent is not None:
        targets = [call.agent]
    else:
        return
    if targets:
        transaction.on_commit(partial(live.screen_pop, [u.pk for u in targets],
                                      pop_payload(call)))


def call_url(call_pk: int) -> str:
    """The call screen (desk:call, built by the call screen's views)."""
    try:
        return reverse("desk:call", args=[call_pk])
    except NoReverseMatch:
        return f"/app/poste/appels/{call_pk}/"


def pop_payload(call: Call) -> dict[str, Any]:
    account = call.account.name if call.account is not None else _("Numéro inconnu")
    number = (_("Numéro masqué") if call.from_number in ("", ANONYMOUS)
              else phone_display(call.from_number))
    return {"call": call.pk, "account": account, "number": number,
            "caller_name": call.caller_name, "url": call_url(call.pk),
            "text": _("Appel entrant — %(account)s — %(number)s")
            % {"account": account, "number": number}}


def _flag_unknown_number(call: Call, now: datetime) -> None:
    supervisors = User.objects.filter(role__in=[Role.ADMIN, Role.SUPERVISOR], is_active=True)
    number = phone_display(call.to_number) if call.to_number else _("(aucun)")
    notifications_create(
        supervisors, kind=UNKNOWN_NUMBER_KIND,
        text=_("Appel reçu sur un numéro qui n'est celui d'aucun compte : %(n)s (de %(f)s)")
        % {"n": number, "f": phone_display(call.from_number) or _("numéro masqué")},
        link=call_url(call.pk), now=now)

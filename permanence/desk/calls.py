"""Telephony events → calls: reception, processing, reads.

Reception (`telephony_receive`, behind POST /api/v1/telephony/events once the signature is
checked; the adapters and the simulator call `event_receive` with the generic fields):
the event is validated (field errors, 422), stored once per `event_id` (a redelivery — even a
concurrent one — hits the unique constraint and is acknowledged with no second effect) and
processed at once in the same transaction, the processing in a savepoint of its own, then
committed before the answer. If the processing fails, the event is committed unprocessed and
the scheduler job `desk.process_events` finds it (processed_at is NULL) and processes it.

Processing (`call_events_process`) locks the Call (created on its first event), then
recomputes it from ALL its events sorted by `occurred_at`: timings, outcome, agent, the
account of the dialled number. Events arrive late and twice, so the state the events lead to
is computed by replaying them along CALL_TRANSITIONS from « sonne », and the call moves forward
to it through `call_transition` (desk.machine), never backwards: a hangup processed before the
« answered » that preceded it still ends in the right state, since a hangup saying the call was
talked (talk_s > 0, or cause completed with an agent) implies the answer. Then, on the call's
new state: the agents' states (desk.agents), the call back owed (desk.callbacks), the screen
pop for the agents the call rings for (desk.live, after commit), supervisors told of an unknown
dialled number (the call is kept, flagged, never dropped).

Outcome, once the call has ended: answered (an answer was seen or implied), voicemail, else by
cause: caller_abandoned (or completed without an answer: the caller hung up) → abandoned;
no_answer, busy, failed → missed."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, ContactChannel, Role, User
from permanence.accounts.permissions import sees_all_accounts
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock
from permanence.core.errors import invalid_fields
from permanence.core.validators import normalise_phone, phone_display
from permanence.inbox.live import notifications_create

from . import live
from .agents import agent_follow_call, agents_available_for
from .callbacks import callback_answered_after_all, callback_for_call
from .machine import CALL_MACHINE, call_transition
from .models import (
    CALL_TRANSITIONS,
    Call,
    CallDirection,
    CallEvent,
    CallOutcome,
    CallState,
)

logger = logging.getLogger(__name__)

EVENTS = ("new", "ringing", "answered", "hold", "unhold", "transferred", "hangup", "voicemail",
          "recording_ready")
# Same instant: the natural order of a call breaks the tie.
EVENT_RANK = {name: rank for rank, name in enumerate(EVENTS)}
CAUSES = ("completed", "busy", "no_answer", "caller_abandoned", "failed")
ANONYMOUS = "anonymous"
MAX_SECONDS = 10_000_000
REPROCESS_AFTER = timedelta(seconds=30)
REPROCESS_BATCH = 500
UNKNOWN_NUMBER_KIND = "desk_unknown_number"
TALKING = frozenset({CallState.ANSWERED, CallState.ON_HOLD})


# --- Validation ---------------------------------------------------------------------------------


@dataclass
class ParsedEvent:
    event_id: str
    event: str
    occurred_at: datetime
    call_id: str
    parent_call_id: str = ""
    direction: str = CallDirection.INBOUND
    from_number: str = ""
    caller_name: str = ""
    to_number: str = ""
    forwarded_from: str = ""
    queue: str = ""
    agent: str = ""
    cause: str = ""
    cause_raw: str = ""
    wait_s: int | None = None
    talk_s: int | None = None
    hold_s: int | None = None
    recording_url: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def _text(data: dict[str, Any], key: str, errors: dict[str, list[str]], *, max_length: int,
          required: bool = False) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            errors.setdefault(key, []).append(_("Champ obligatoire."))
        return ""
    if not isinstance(value, str):
        errors.setdefault(key, []).append(_("Texte attendu."))
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.setdefault(key, []).append(_("Trop long (%(n)s caractères au plus).")
                                          % {"n": max_length})
        return ""
    return value


def _instant(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _number(data: dict[str, Any], key: str, errors: dict[str, list[str]], *,
            anonymous: bool = False) -> str:
    value = _text(data, key, errors, max_length=32)
    if not value:
        return ""
    if anonymous and value.lower() in (ANONYMOUS, "anonyme", "unknown", "restricted",
                                       "private"):
        return ANONYMOUS
    try:
        return normalise_phone(value)
    except ValidationError:
        errors.setdefault(key, []).append(
            _("Numéro au format E.164 attendu (ex. +33145000004)")
            + (_(" ou « anonymous ».") if anonymous else "."))
        return ""


def _seconds(data: dict[str, Any], key: str, errors: dict[str, list[str]]) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            0 <= value <= MAX_SECONDS):
        errors.setdefault(key, []).append(_("Nombre de secondes attendu (0 ou plus)."))
        return None
    return round(value)


def event_parse(data: Any) -> ParsedEvent:
    """The generic event's fields, checked; DomainError 422 with the field errors."""
    if not isinstance(data, dict):
        raise invalid_fields({"__all__": [_("Un objet JSON est attendu.")]})
    errors: dict[str, list[str]] = {}
    event = _text(data, "event", errors, max_length=20, required=True)
    if event and event not in EVENTS:
        errors.setdefault("event", []).append(
            _("Valeur non autorisée ; attendu : %(v)s.") % {"v": ", ".join(EVENTS)})
    occurred_at = _instant(data.get("occurred_at"))
    if occurred_at is None:
        errors.setdefault("occurred_at", []).append(
            _("Date et heure ISO 8601 avec fuseau attendues (ex. 2026-11-23T09:00:00+01:00)."))
    direction = _text(data, "direction", errors, max_length=8) or CallDirection.INBOUND
    if direction not in CallDirection.values:
        errors.setdefault("direction", []).append(_("Valeur non autorisée ; attendu : "
                                                    "inbound, outbound."))
    cause = _text(data, "cause", errors, max_length=80)
    cause_raw = _text(data, "cause_code", errors, max_length=80)
    if cause and cause not in CAUSES:
        errors.setdefault("cause", []).append(
            _("Valeur non autorisée ; attendu : %(v)s (le code du fournisseur va dans "
              "cause_code).") % {"v": ", ".join(CAUSES)})
    agent = _text(data, "agent", errors, max_length=254)
    if agent:
        try:
            validate_email(agent)
        except ValidationError:
            errors.setdefault("agent", []).append(_("Adresse e-mail de l'agent attendue."))
    recording_url = _text(data, "recording_url", errors, max_length=500)
    if recording_url:
        try:
            URLValidator(schemes=["http", "https"])(recording_url)
        except ValidationError:
            errors.setdefault("recording_url", []).append(_("Adresse http(s) attendue."))
    parsed = ParsedEvent(
        event_id=_text(data, "event_id", errors, max_length=160, required=True),
        event=event, occurred_at=occurred_at or clock.now(),
        call_id=_text(data, "call_id", errors, max_length=120, required=True),
        parent_call_id=_text(data, "parent_call_id", errors, max_length=120),
        direction=direction,
        from_number=_number(data, "from", errors, anonymous=True),
        caller_name=_text(data, "caller_name", errors, max_length=120),
        to_number=_number(data, "to", errors),
        forwarded_from=_number(data, "forwarded_from", errors, anonymous=True),
        queue=_text(data, "queue", errors, max_length=80),
        agent=agent.lower(), cause=cause, cause_raw=cause_raw or cause,
        wait_s=_seconds(data, "wait_s", errors), talk_s=_seconds(data, "talk_s", errors),
        hold_s=_seconds(data, "hold_s", errors), recording_url=recording_url)
    if errors:
        raise invalid_fields(errors)
    return parsed


# --- Reception ----------------------------------------------------------------------------------


@dataclass
class Received:
    event: CallEvent | None
    created: bool
    call: Call | None = None


def event_receive(parsed: ParsedEvent, *, payload: dict[str, Any], source: str = "generic",
                  process: bool = True) -> Received:
    """Store the event once and commit; then (process=True) process its call at once. A
    redelivery of an event_id already stored (the unique constraint refuses it): created=False,
    nothing else happens."""
    call = None
    try:
        # One commit for the event and its processing; the processing runs in a savepoint
        # of its own (call_events_process_safely), so that its failure leaves the event
        # stored for the sweep. Committed before the caller answers.
        with transaction.atomic():
            event = CallEvent.objects.create(
                source=source[:16], event_id=parsed.event_id, call_id=parsed.call_id,
                event=parsed.event, occurred_at=parsed.occurred_at, payload=payload,
                received_at=clock.now())
            if process:
                call = call_events_process_safely(parsed.call_id)
    except IntegrityError:  # a concurrent delivery stored it first
        return Received(None, False)
    return Received(event, True, call)


def telephony_receive(body: bytes, *, source: str = "generic") -> Received:
    """The webhook's body (signature already checked): parse, validate, store, process."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid_fields({"__all__": [_("JSON invalide.")]}) from None
    parsed = event_parse(data)
    return event_receive(parsed, payload=data, source=source)


def call_events_process_safely(call_id: str) -> Call | None:
    """Process the call's pending events in a savepoint: a failure is logged, recorded on the
    events and left to the scheduler's sweep (the event itself stays stored)."""
    try:
        return call_events_process(call_id)
    except Exception as exc:
        logger.exception("processing the events of call %s failed", call_id)
        CallEvent.objects.filter(call_id=call_id, processed_at__isnull=True).update(
            error=f"{type(exc).__name__}: {exc}"[:300])
        return None


def events_process_pending(*, older_than: timedelta = REPROCESS_AFTER) -> int:
    """Scheduler job: the calls with events stored but not processed (a crash between the
    commit and the processing, a failed attempt). Returns how many calls were processed."""
    cutoff = clock.now() - older_than
    call_ids = list(dict.fromkeys(
        CallEvent.objects.filter(processed_at__isnull=True, received_at__lte=cutoff)
        .order_by("received_at", "pk").values_list("call_id", flat=True)[:REPROCESS_BATCH]))
    done = 0
    for call_id in call_ids:
        if call_events_process_safely(call_id) is not None:
            done += 1
    return done


# --- Processing ---------------------------------------------------------------------------------


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


def _account_of_number(number: str) -> ClientAccount | None:
    if not number or number == ANONYMOUS:
        return None
    channel = (ContactChannel.objects.filter(kind=ContactChannel.Kind.PHONE, value=number)
               .select_related("account").first())
    return channel.account if channel is not None else None


def _agent_user(email: str) -> User | None:
    if not email:
        return None
    return (User.objects.filter(email__iexact=email, is_active=True)
            .exclude(role=Role.CLIENT).first())


def _lock_call(call_id: str) -> tuple[Call, bool]:
    call = Call.objects.select_for_update().filter(call_id=call_id).first()
    if call is not None:
        return call, False
    try:
        with transaction.atomic():  # offered_at is set from the events below
            Call.objects.create(call_id=call_id, offered_at=clock.now(),
                                created_at=clock.now())
    except IntegrityError:  # created by a concurrent delivery of another event
        pass
    return Call.objects.select_for_update().get(call_id=call_id), True


def call_events_process(call_id: str) -> Call | None:
    """Apply the call's unprocessed events (idempotent; see the module's docstring)."""
    with transaction.atomic():
        call, created = _lock_call(call_id)
        # Read once the call is locked: events committed meanwhile by another delivery are in.
        events = list(CallEvent.objects.filter(call_id=call_id).defer("source"))
        if not events:  # nothing to make a call of (the lock created an empty one)
            transaction.set_rollback(True)
            return None
        pending = [e for e in events if e.processed_at is None]
        if not pending:
            return call
        facts = facts_of(events)
        now = clock.now()
        note = ", ".join(f"{e.event} ({e.event_id})" for e in _sorted(pending))[:300]
        for step in _route(call.state, facts.state):
            call = call_transition(call=call, to=step, note=note, now=now)
        was = {"outcome": call.outcome, "unknown": call.unknown_number}
        _apply_facts(call, facts, created=created)
        call.save()
        CallEvent.objects.filter(pk__in=[e.pk for e in pending]).update(processed_at=now,
                                                                        error="")
        _consequences(call, pending, was=was, now=now)
    return call


def _apply_facts(call: Call, facts: Facts, *, created: bool) -> None:
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
    agent = _agent_user(facts.agent)
    if agent is not None:
        call.agent = agent
    if call.account_id is None and not call.manual:
        # Inbound, the dialled number is the account's; outbound, the number shown.
        account = _account_of_number(call.to_number if call.direction == CallDirection.INBOUND
                                     else call.from_number)
        call.account = account
        call.unknown_number = account is None


def _consequences(call: Call, pending: list[CallEvent], *, was: dict[str, Any],
                  now: datetime) -> None:
    """Agents' states, call back, screen pop, unknown number: from the call's new state."""
    agents = {p.lower() for p in (str((e.payload or {}).get("agent") or "")
                                  for e in pending) if p}
    if call.agent is not None:
        agents.add(call.agent.email.lower())
    for email in sorted(agents):
        user = _agent_user(email)
        if user is not None:
            agent_follow_call(user=user, call=call, now=now, ringing_or_talking=(
                call.state == CallState.RINGING or call.state in TALKING))
    if call.outcome == CallOutcome.ANSWERED and was["outcome"] != CallOutcome.ANSWERED:
        callback_answered_after_all(call, now=now)
    elif call.outcome:
        callback_for_call(call, now=now)
    if call.unknown_number and not was["unknown"]:
        _flag_unknown_number(call, now)
    rang = [e for e in pending if e.event == "ringing"]
    if rang and call.direction == CallDirection.INBOUND and call.state != CallState.ENDED:
        _pop(call, rang)


def _pop(call: Call, rang: list[CallEvent]) -> None:
    """The call rings: for the agent the PBX names, else for the available agents assigned
    to the account; pushed once the processing commits."""
    named = [u for u in (_agent_user(str((e.payload or {}).get("agent") or "")) for e in rang)
             if u is not None]
    targets = named or (agents_available_for(call.account) if call.account is not None
                        else [])
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


# --- Simulation (test mode: what a PBX would send) ----------------------------------------------


def simulated_events(*, to: str, from_number: str = "+33612345678", abandon: bool = False,
                     agent: str = "", now: datetime | None = None) -> list[dict[str, Any]]:
    """The events of one inbound call as a PBX sends them: new, ringing, then answered and
    hangup (completed), or hangup (caller_abandoned). Times end now."""
    at = now or clock.now()
    call_id = "sim-" + uuid.uuid4().hex[:16]
    base = {"call_id": call_id, "direction": "inbound", "from": from_number, "to": to,
            "caller_name": "", "queue": "accueil"}
    steps: list[tuple[str, int, dict[str, Any]]]
    if abandon:
        steps = [("new", -12, {}), ("ringing", -11, {}),
                 ("hangup", 0, {"cause": "caller_abandoned", "wait_s": 12})]
    else:
        answered = {"agent": agent} if agent else {}
        steps = [("new", -75, {}), ("ringing", -74, {}), ("answered", -66, answered),
                 ("hangup", 0, {"cause": "completed", "wait_s": 9, "talk_s": 66, **answered})]
    return [{**base, **extra, "event_id": f"{call_id}-{name}", "event": name,
             "occurred_at": (at + timedelta(seconds=offset)).isoformat()}
            for name, offset, extra in steps]


def simulate_in_process(*, to: str, from_number: str, abandon: bool,
                        agent: str = "") -> Call | None:
    """The « Simuler un appel » button: the same events, received here (no HTTP)."""
    call = None
    for payload in simulated_events(to=to, from_number=from_number, abandon=abandon,
                                    agent=agent):
        received = event_receive(event_parse(payload), payload=payload, source="simulator")
        call = received.call or call
    return call


def telephony_test_mode() -> bool:
    return bool(settings.TELEPHONY_TEST_MODE)


# --- Reads --------------------------------------------------------------------------------------


def calls_visible_to(user: User) -> QuerySet[Call]:
    """Calls of the accounts the user may see; calls to an unknown number (no account) too
    for those who see every account."""
    if sees_all_accounts(user):
        return Call.objects.all()
    # The ids first: a short IN list the planner reads against the (account, offered_at)
    # index, rather than a join through the accounts' visibility rules.
    return Call.objects.filter(
        account__in=list(accounts_visible_to(user).values_list("pk", flat=True)))


def call_page(user: User, *, account: int | None = None, start: datetime | None = None,
              end: datetime | None = None, after: tuple[datetime, int] | None = None,
              limit: int = 50) -> list[Call]:
    """One page of calls, most recent first (keyset: `after` is the last row's
    (offered_at, id))."""
    qs = calls_visible_to(user)
    if account is not None:
        qs = qs.filter(account_id=account)
    if start is not None:
        qs = qs.filter(offered_at__gte=start)
    if end is not None:
        qs = qs.filter(offered_at__lt=end)
    if after is not None:
        qs = qs.filter(Q(offered_at__lt=after[0]) | Q(offered_at=after[0], pk__lt=after[1]))
    return list(qs.select_related("agent", "callback").order_by("-offered_at", "-pk")[:limit])


def cursor_of(call: Call) -> str:
    raw = json.dumps([call.offered_at.astimezone(UTC).isoformat(), call.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_parse(cursor: str) -> tuple[datetime, int] | None:
    try:
        text = cursor + "=" * (-len(cursor) % 4)
        at, pk = json.loads(base64.urlsafe_b64decode(text.encode("ascii")))
        moment = datetime.fromisoformat(at)
    except (ValueError, TypeError, UnicodeError):
        return None
    if moment.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool) or not (
            0 < pk < 2**63):
        return None
    return moment, pk

"""Telephony events → calls: validation and reception (storage), the simulator, the API's cursor.

Reception (`telephony_receive`, behind POST /api/v1/telephony/events once the signature is
checked; the adapters and the simulator call `event_receive` with the generic fields):
the event is validated (field errors, 422) and stored once per `event_id` — one INSERT,
committed before the answer (a redelivery, even a concurrent one, hits the unique constraint
and is acknowledged with no second effect). Then the processing: by default
(TELEPHONY_PROCESSING=background) this process's pump (desk.pump) takes every unprocessed
event, in batches, right away in a thread of its own — the PBX's answer waits only for the
storage, and a burst of events is processed a few hundred at a time with a handful of
queries. With `inline` it runs at once in the request. If the processing fails, the event
stays stored unprocessed and the scheduler job `desk.process_events` finds it
(processed_at is NULL) and processes it.

Processing: desk.processing."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.cursors import (
    InvalidCursor,
    aware_datetime,
    cursor_decode,
    cursor_encode,
    is_bigint,
)
from permanence.core.errors import invalid_fields
from permanence.core.validators import normalise_phone

from .models import Call, CallDirection, CallEvent
from .processing import ANONYMOUS, CAUSES, EVENTS, call_events_process
from .pump import pump_kick

logger = logging.getLogger(__name__)

MAX_SECONDS = 10_000_000

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


def event_store(parsed: ParsedEvent, *, payload: dict[str, Any],
                source: str = "generic") -> CallEvent | None:
    """Store the event once, committed on return (one INSERT; in autocommit it is its own
    transaction). None when its event_id is already stored: a redelivery, even a concurrent
    one, hits the unique constraint."""
    def create() -> CallEvent:
        return CallEvent.objects.create(
            source=source[:16], event_id=parsed.event_id, call_id=parsed.call_id,
            event=parsed.event, occurred_at=parsed.occurred_at, payload=payload,
            received_at=clock.now())

    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a savepoint: a duplicate leaves the caller's intact
                return create()
        return create()  # autocommit: the INSERT is its own transaction, one round trip
    except IntegrityError:
        return None


def event_receive(parsed: ParsedEvent, *, payload: dict[str, Any], source: str = "generic",
                  process: bool = True, inline: bool = False) -> Received:
    """Store the event once and commit; then (process=True) have its call processed: at
    once in this thread (inline=True, TELEPHONY_PROCESSING=inline, and always when the
    caller is inside a transaction), else by this process's pump (desk.pump), so that the
    answer to the PBX waits only for the event's storage. A redelivery: created=False,
    nothing else happens."""
    event = event_store(parsed, payload=payload, source=source)
    if event is None:
        return Received(None, False)
    call = None
    if process:
        if (not inline and settings.TELEPHONY_PROCESSING == "background"
                and not transaction.get_connection().in_atomic_block):
            pump_kick()
        else:
            call = call_events_process(parsed.call_id)
    return Received(event, True, call)


def telephony_receive(body: bytes, *, source: str = "generic") -> Received:
    """The webhook's body (signature already checked): parse, validate, store, process."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid_fields({"__all__": [_("JSON invalide.")]}) from None
    parsed = event_parse(data)
    return event_receive(parsed, payload=data, source=source)


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
        # Processed event by event, as they would be seconds apart: the screen pops even
        # though the simulated call's events are received at once.
        received = event_receive(event_parse(payload), payload=payload, source="simulator",
                                 inline=True)
        call = received.call or call
    return call


def telephony_test_mode() -> bool:
    return bool(settings.TELEPHONY_TEST_MODE)


# --- The calls API's cursor (the reads themselves: desk.selectors) -----------------------------


def cursor_of(call: Call) -> str:
    return cursor_encode([call.offered_at.astimezone(UTC).isoformat(), call.pk])


def cursor_parse(cursor: str) -> tuple[datetime, int] | None:
    """The (offered_at, id) a cursor carries; None if it is not one of ours."""
    try:
        data = cursor_decode(cursor)
    except InvalidCursor:
        return None
    if not isinstance(data, list) or len(data) != 2:
        return None
    moment, pk = aware_datetime(data[0]), data[1]
    if moment is None or not is_bigint(pk, minimum=1):
        return None
    return moment, pk

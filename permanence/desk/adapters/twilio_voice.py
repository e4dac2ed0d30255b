"""Twilio Voice status callbacks → generic call events.

Configure the number's (or the TwiML app's) « Status Callback » URL to
`<SITE_URL>/api/v1/telephony/twilio/voice` with the events initiated, ringing, answered and
completed (and the recording status callback to the same URL, to get `recording_ready`).
Every request is checked with Twilio's own scheme (X-Twilio-Signature, core.twilio_signature)
against TWILIO_AUTH_TOKEN. Twilio retries a callback that failed: the event id is built from
the call's SID, the callback's sequence number and status, so a retry is a duplicate.

CallStatus → event: queued/initiated → new; ringing → ringing; in-progress → answered;
completed → hangup (cause completed, talk_s = CallDuration); busy → hangup busy; no-answer →
hangup no_answer; canceled → hangup caller_abandoned (the caller hung up while it rang); failed
→ hangup failed. The raw status is kept as cause_code. A recording callback (RecordingStatus
completed) → recording_ready with RecordingUrl. An agent may be named with an `agent` query
parameter on the callback URL (e-mail)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from permanence.core import clock
from permanence.core.twilio_signature import twilio_request_valid
from permanence.core.validators import normalise_phone

from ..calls import Received, event_parse, event_receive

STATUS_EVENTS = {"queued": "new", "initiated": "new", "ringing": "ringing",
                 "in-progress": "answered", "completed": "hangup", "busy": "hangup",
                 "no-answer": "hangup", "canceled": "hangup", "failed": "hangup"}
STATUS_CAUSES = {"completed": "completed", "busy": "busy", "no-answer": "no_answer",
                 "canceled": "caller_abandoned", "failed": "failed"}


def request_valid(request: HttpRequest) -> bool:
    return twilio_request_valid(request)


def _number(value: str, *, anonymous: bool) -> str:
    if not value:
        return ""
    try:
        return normalise_phone(value)
    except ValidationError:  # "client:alice", "sip:…", "Anonymous": not a phone number
        return "anonymous" if anonymous else ""


def _when(value: str) -> datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return clock.now()
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _int(value: str) -> int | None:
    # isascii(): "²" is a digit to str.isdigit() but not to int() (property-tested).
    return int(value) if value.isascii() and value.isdigit() else None


def to_generic(params: Mapping[str, str], *, agent: str = "") -> dict[str, Any]:
    """The generic event for one Twilio callback (its form fields)."""
    sid = params.get("CallSid", "")
    recording = params.get("RecordingStatus", "")
    status = params.get("CallStatus", "")
    event = "recording_ready" if recording == "completed" else STATUS_EVENTS.get(status, "")
    sequence = params.get("SequenceNumber", "") or params.get("RecordingSid", "")
    data: dict[str, Any] = {
        "event_id": f"twilio:{sid}:{sequence}:{recording or status}"[:160],
        "event": event or status, "occurred_at": _when(params.get("Timestamp", "")).isoformat(),
        "call_id": sid,
        "direction": "inbound" if params.get("Direction", "inbound") == "inbound"
        else "outbound",
        "from": _number(params.get("From", ""), anonymous=True),
        "to": _number(params.get("To", ""), anonymous=False),
        "caller_name": params.get("CallerName", "")[:120],
        "forwarded_from": _number(params.get("ForwardedFrom", ""), anonymous=True),
    }
    if params.get("ParentCallSid"):
        data["parent_call_id"] = params["ParentCallSid"]
    if agent:
        data["agent"] = agent
    if event == "hangup":
        data["cause"] = STATUS_CAUSES[status]
        data["cause_code"] = status
        if status == "completed":
            data["talk_s"] = _int(params.get("CallDuration", ""))
    if event == "recording_ready":
        data["recording_url"] = params.get("RecordingUrl", "")
    return {k: v for k, v in data.items() if v not in ("", None)}


def receive(params: Any, *, agent: str = "") -> Received:
    """Store and process one callback (form fields already authenticated)."""
    flat = {key: str(params.get(key, "")) for key in params}
    generic = to_generic(flat, agent=agent)
    parsed = event_parse(generic)
    return event_receive(parsed, payload={**generic, "twilio": flat}, source="twilio")

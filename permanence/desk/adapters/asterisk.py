"""Asterisk Manager Interface (AMI) events → generic call events (`manage.py ami_listener`).

The AMI speaks lines `Key: Value` (CRLF), one event per block, blocks separated by an empty
line. One inbound call is the set of channels sharing a `Linkedid`: the caller's channel (its
`Uniqueid` is the `Linkedid`) and the agents' channels it dials. Set the manager user with
`read = call,dialplan,agent` and, in manager.conf, `timestampevents = yes` (each event then
carries `Timestamp`, used as `occurred_at`; otherwise the time of reception).

Mapping:
- Newchannel of the caller's channel → new (call_id = Linkedid, from = CallerIDNum,
  caller_name = CallerIDName, to = Exten: the DID dialled, which names the account);
- DialBegin → ringing, the agent read from DestChannel (`PJSIP/101-…` → extension 101 →
  ASTERISK_AGENTS "101=agent@exemple.fr");
- BridgeEnter of an agent's channel → answered (that agent);
- MusicOnHoldStart / MusicOnHoldStop of the caller's channel → hold / unhold;
- BlindTransfer, AttendedTransfer → transferred;
- Newexten running the VoiceMail application → voicemail;
- Hangup of the caller's channel → hangup, cause from the Q.850 code (16 normal clearing →
  completed — before an answer, the caller hung up: abandoned —, 17 → busy, 18/19 → no_answer,
  others → failed), the raw code and text kept as cause_code.
Other events (and agents' channels hanging up) are ignored."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from permanence.core import clock

CHANNEL_EXTENSION = re.compile(r"^[A-Za-z0-9]+/([^-@/]+)")
CAUSES = {"0": "completed", "16": "completed", "17": "busy", "18": "no_answer",
          "19": "no_answer"}


def parse_stream(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """AMI blocks from text lines (the banner and responses included; the caller filters)."""
    block: dict[str, str] = {}
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            if block:
                yield block
                block = {}
            continue
        key, sep, value = line.partition(":")
        if sep:
            block[key.strip()] = value.strip()
    if block:
        yield block


def agents_map(text: str | None = None) -> dict[str, str]:
    """ASTERISK_AGENTS: "101=agent@exemple.fr,102=…" → {"101": "agent@exemple.fr"}."""
    pairs = (item.split("=", 1) for item in (text if text is not None
                                              else settings.ASTERISK_AGENTS).split(",")
             if "=" in item)
    return {ext.strip(): email.strip().lower() for ext, email in pairs}


class AmiMapper:
    """Turns AMI events into generic events; remembers, per call, what later events need
    (the agent of the dialled channel, the dialled number)."""

    def __init__(self, agents: dict[str, str] | None = None) -> None:
        self.agents = agents_map() if agents is None else agents
        self.calls: dict[str, dict[str, str]] = {}

    def _agent(self, channel: str) -> str:
        match = CHANNEL_EXTENSION.match(channel or "")
        return self.agents.get(match.group(1), "") if match else ""

    @staticmethod
    def _when(event: dict[str, str]) -> str:
        stamp = event.get("Timestamp", "")
        try:
            return datetime.fromtimestamp(float(stamp), tz=UTC).isoformat()
        except (ValueError, OverflowError, OSError):  # "abc", "inf", "1e300": not a time
            return clock.now().isoformat()

    def map(self, event: dict[str, str]) -> dict[str, Any] | None:
        name = event.get("Event", "")
        linked = event.get("Linkedid") or event.get("Uniqueid", "")
        unique = event.get("Uniqueid", "")
        if not name or not linked:
            return None
        is_caller = unique == linked
        known = self.calls.get(linked)
        data: dict[str, Any] = {}
        if name == "Newchannel" and is_caller:
            self.calls[linked] = known = {"to": event.get("Exten", "")}
            data = {"event": "new", "from": event.get("CallerIDNum", ""),
                    "caller_name": event.get("CallerIDName", ""), "to": known["to"]}
        elif known is None:
            return None  # a channel of a call that did not start while we listened
        elif name == "DialBegin":
            agent = self._agent(event.get("DestChannel", ""))
            known["agent"] = agent or known.get("agent", "")
            data = {"event": "ringing", "agent": agent}
        elif name == "BridgeEnter" and not is_caller:
            data = {"event": "answered", "agent": self._agent(event.get("Channel", ""))
                    or known.get("agent", "")}
        elif name in ("MusicOnHoldStart", "MusicOnHoldStop") and is_caller:
            data = {"event": "hold" if name == "MusicOnHoldStart" else "unhold"}
        elif name in ("BlindTransfer", "AttendedTransfer"):
            data = {"event": "transferred"}
        elif name == "Newexten" and event.get("Application", "").lower() == "voicemail":
            data = {"event": "voicemail"}
        elif name == "Hangup" and is_caller:
            code = event.get("Cause", "")
            data = {"event": "hangup", "cause": CAUSES.get(code, "failed"),
                    "cause_code": f"{code} {event.get('Cause-txt', '')}".strip()[:80]}
            self.calls.pop(linked, None)
        if not data:
            return None
        stamp = event.get("Timestamp") or clock.now().timestamp()
        generic = {"event_id": f"ami:{unique}:{name}:{stamp}"[:160], "call_id": linked,
                   "occurred_at": self._when(event), "direction": "inbound",
                   "to": (known or {}).get("to", ""), **data}
        return {k: v for k, v in generic.items() if v not in ("", None)}

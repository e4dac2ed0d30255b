"""The desk's API: telephony events in (generic webhook, Twilio voice status callbacks), calls
out (GET /calls), the agent's own state.

POST /api/v1/telephony/events is public (no session, no token, no CSRF): only a valid
`X-Permanence-Signature` gets in (desk.signature); without one, 401 and nothing is read or
stored. The body is then validated (422 with field errors), stored (once per event_id: a
redelivery answers 200 with `duplicate: true`) and committed before the 200."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Respond

from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import Forbidden, invalid_fields

from . import agents, calls, selectors, webhook
from .adapters import twilio_voice
from .models import AgentStatus, Call
from .permissions import can_take_calls
from .signature import HEADER

router = Router(tags=["poste"])


class ErrorOut(Schema):
    code: str
    message: str
    errors: dict[str, list[str]] = {}


class TelephonyAck(Schema):
    received: bool
    duplicate: bool = False
    call: int | None = Field(None, description="Identifiant de l'appel (une fois traité)")


EVENT_DOC: dict[str, Any] = {
    "type": "object",
    "required": ["event_id", "event", "occurred_at", "call_id"],
    "properties": {
        "event_id": {"type": "string", "maxLength": 160,
                     "description": "Unique : un second envoi est sans effet"},
        "event": {"type": "string", "enum": list(calls.EVENTS)},
        "occurred_at": {"type": "string", "format": "date-time"},
        "call_id": {"type": "string", "maxLength": 120},
        "parent_call_id": {"type": "string", "maxLength": 120},
        "direction": {"type": "string", "enum": ["inbound", "outbound"],
                      "default": "inbound"},
        "from": {"type": "string", "description": "E.164 ou « anonymous »"},
        "caller_name": {"type": "string", "maxLength": 120},
        "to": {"type": "string", "description": "Numéro appelé (E.164) : désigne le compte"},
        "forwarded_from": {"type": "string"},
        "queue": {"type": "string", "maxLength": 80},
        "agent": {"type": "string", "format": "email"},
        "cause": {"type": "string", "enum": list(calls.CAUSES)},
        "cause_code": {"type": "string", "maxLength": 80,
                       "description": "Code brut du fournisseur (conservé)"},
        "wait_s": {"type": "integer", "minimum": 0},
        "talk_s": {"type": "integer", "minimum": 0},
        "hold_s": {"type": "integer", "minimum": 0},
        "recording_url": {"type": "string", "format": "uri"},
    },
}


@router.post("/telephony/events", auth=None, response={200: TelephonyAck, 401: ErrorOut},
             summary="Événement téléphonique (webhook signé X-Permanence-Signature)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": EVENT_DOC}}}})
def telephony_event(request: HttpRequest) -> Any:
    # Under uvicorn, desk.webhook.TelephonyFastPath answers this POST before Django; this
    # route gives the same answer (the OpenAPI document, clients inside the process).
    status, data = webhook.answer(request.body, request.headers.get(HEADER))
    return Respond(status, data)


@router.post("/telephony/twilio/voice", auth=None, response={200: TelephonyAck, 401: ErrorOut},
             summary="Rappels d'état d'appel Twilio Voice (signature X-Twilio-Signature)")
def twilio_voice_status(request: HttpRequest) -> Any:
    if not twilio_voice.request_valid(request):
        return Respond(401, {"code": "unauthorized",
                             "message": _("Signature X-Twilio-Signature absente ou invalide."),
                             "errors": {}})
    received = twilio_voice.receive(request.POST, agent=request.GET.get("agent", "")[:254])
    return Respond(200, {"received": True, "duplicate": not received.created,
                         "call": received.call.pk if received.call is not None else None})


# --- Calls ------------------------------------------------------------------------------------


class CallOut(Schema):
    id: int
    call_id: str
    account: int | None
    direction: str
    from_: str = Field(..., alias="from")
    to: str
    outcome: Literal["answered", "abandoned", "missed", "voicemail"] | None
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    wait_seconds: int | None
    talk_seconds: int | None
    hold_seconds: int | None
    wrapup_seconds: int | None
    agent: str | None = Field(None, description="E-mail de l'agent")
    conversation: int | None
    callback: Literal["a_faire", "fait", "annule"] | None = Field(
        None, description="Statut du rappel dû pour cet appel, s'il y en a un")


class CallPage(Schema):
    limit: int
    next_cursor: str | None = Field(description=(
        "À passer en paramètre `cursor` pour la page suivante ; null sur la dernière page."))
    items: list[CallOut]


class CallFilters(Schema):
    account: int | None = None
    from_: datetime | None = Field(None, alias="from", description=(
        "Appels présentés à partir de cet instant (ISO 8601)"))
    to: datetime | None = Field(None, description="Appels présentés avant cet instant")
    limit: int = Field(50, ge=1, le=200)
    cursor: str = Field("", max_length=500)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment)
    return moment


def _call_out(call: Call) -> dict[str, Any]:
    callback = getattr(call, "callback", None) if _has_callback(call) else None
    return {"id": call.pk, "call_id": call.call_id, "account": call.account_id,
            "direction": call.direction, "from": call.from_number, "to": call.to_number,
            "outcome": call.outcome or None, "offered_at": call.offered_at,
            "answered_at": call.answered_at, "ended_at": call.ended_at,
            "wait_seconds": call.wait_seconds, "talk_seconds": call.talk_seconds,
            "hold_seconds": call.hold_seconds, "wrapup_seconds": call.wrapup_seconds,
            "agent": call.agent.email if call.agent is not None else None,
            "conversation": call.conversation_id,
            "callback": callback.status if callback is not None else None}


def _has_callback(call: Call) -> bool:
    try:
        return call.callback is not None
    except Call.callback.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return False


@router.get("/calls", response=CallPage, by_alias=True, summary="Appels (comptes visibles)")
def call_list(request: AuthedHttpRequest, filters: Query[CallFilters]) -> dict[str, Any]:
    start, end = _aware(filters.from_), _aware(filters.to)
    errors: dict[str, list[str]] = {}
    after = None
    if filters.cursor:
        after = calls.cursor_parse(filters.cursor)
        if after is None:
            errors["cursor"] = [_("Curseur invalide : reprenez depuis la première page.")]
    if start is not None and end is not None and start >= end:
        errors["to"] = [_("Doit être postérieur à « from ».")]
    if errors:
        raise invalid_fields(errors)
    page = selectors.call_page(request.user, account=filters.account, start=start, end=end,
                               after=after, limit=filters.limit)
    next_cursor = calls.cursor_of(page[-1]) if len(page) == filters.limit else None
    return {"limit": filters.limit, "next_cursor": next_cursor,
            "items": [_call_out(c) for c in page]}


# --- The agent's own state ------------------------------------------------------------------


class AgentStateIn(Schema):
    status: Literal["disponible", "en_pause", "absent"]


class AgentStateOut(Schema):
    status: str
    label: str
    since: datetime


@router.post("/agents/state", response=AgentStateOut,
             summary="Changer son propre état (disponible, en pause, absent)")
def agent_state(request: AuthedHttpRequest, payload: AgentStateIn) -> dict[str, Any]:
    if not can_take_calls(request.user):
        raise Forbidden()
    state = agents.agent_state_choose(user=request.user, status=payload.status)
    return {"status": state.status, "label": str(AgentStatus(state.status).label),
            "since": state.since}

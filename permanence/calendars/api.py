from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ninja import Field, Router, Schema

from permanence.accounts.selectors import get_account_for_user
from permanence.core.access import AuthedHttpRequest
from permanence.core.business_time import add_business_time as add
from permanence.core.business_time import business_time_between as between
from permanence.core.errors import DomainError

from .services import calendar_for_account, calendar_set, calendar_to_json, spec_for_account

router = Router(tags=["calendrier"])


class ClosureSchema(Schema):
    start: datetime
    end: datetime
    message: str = Field("", max_length=300)


class CalendarSchema(Schema):
    timezone: str = "Europe/Paris"
    weekly: dict[str, list[list[str]]]
    holidays: str | None = "FR"
    closures: list[ClosureSchema] = []


class AddBusinessTimeIn(Schema):
    account: int
    start: datetime
    hours: float = Field(..., ge=0, le=24 * 365)


class DueOut(Schema):
    due: str


class BetweenIn(Schema):
    account: int
    start: datetime
    end: datetime


class SecondsOut(Schema):
    seconds: float


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise DomainError("invalid", "Certains champs sont invalides.", status=422, fields={
            field: ["Date ISO 8601 avec fuseau attendue (ex. 2026-11-23T09:00:00+01:00)."]})
    return value


@router.get("/accounts/{account_id}/calendar", response=CalendarSchema,
            summary="Calendrier ouvré d'un compte")
def calendar_get(request: AuthedHttpRequest, account_id: int) -> dict[str, Any]:

    account = get_account_for_user(request.user, account_id)
    return calendar_to_json(calendar_for_account(account))


@router.put("/accounts/{account_id}/calendar", response=CalendarSchema,
            summary="Remplacer le calendrier ouvré d'un compte")
def calendar_put(request: AuthedHttpRequest, account_id: int, payload: CalendarSchema) -> dict[str, Any]:

    account = get_account_for_user(request.user, account_id, action="change")
    data = payload.dict()
    data["closures"] = [
        {"start": _aware(c["start"], f"closures.{i}.start").isoformat(),
         "end": _aware(c["end"], f"closures.{i}.end").isoformat(), "message": c["message"]}
        for i, c in enumerate(data["closures"])
    ]
    calendar = calendar_set(actor=request.user, account=account, data=data)
    return calendar_to_json(calendar)


@router.post("/calendar/add-business-time", response=DueOut,
             summary="Ajouter des heures ouvrées à un instant")
def add_business_time(request: AuthedHttpRequest, payload: AddBusinessTimeIn) -> dict[str, str]:


    account = get_account_for_user(request.user, payload.account)
    start = _aware(payload.start, "start")
    due = add(spec_for_account(account), start, timedelta(hours=payload.hours))
    return {"due": due.isoformat()}


@router.post("/calendar/business-time-between", response=SecondsOut,
             summary="Temps ouvré entre deux instants")
def business_time_between(request: AuthedHttpRequest, payload: BetweenIn) -> dict[str, float]:


    account = get_account_for_user(request.user, payload.account)
    delta = between(spec_for_account(account), _aware(payload.start, "start"),
                    _aware(payload.end, "end"))
    seconds = delta.total_seconds()
    return {"seconds": int(seconds) if seconds == int(seconds) else seconds}

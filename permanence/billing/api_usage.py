"""Usage API (issue 12): POST /usage records one usage event (idempotent by source_id),
GET /usage gives an account's totals per metric over a period.

Who: the account must be visible to the caller (accounts_visible_to; otherwise 404). Writes
are for billing staff, administrators and supervisors (and their API tokens); reads for
whoever sees the account (staff assigned to it, the account's clients)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Respond

from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import Forbidden, NotFound, invalid_fields

from .models_usage import Metric, UsageRecord
from .permissions import can_view_billing
from .selectors_usage import day_start, usage_totals
from .usage import SOURCE_ID_MAX, usage_record
from .usage_alerts import usage_alerts_check

router = Router(tags=["facturation"])

MetricName = Literal["calls", "call_minutes", "messages", "sms", "appointments", "emails",
                     "chats"]


class UsageIn(Schema):
    account: int = Field(description="Compte client")
    source_id: str = Field(min_length=1, max_length=SOURCE_ID_MAX, description=(
        "Identifiant unique de l'événement source : un second envoi est sans effet"))
    metric: MetricName
    quantity: Decimal = Field(description="Quantité strictement positive (2 décimales)")
    occurred_at: datetime = Field(description="Instant de l'événement (ISO 8601 avec fuseau)")


class UsageOut(Schema):
    id: int
    account: int
    source_id: str
    metric: str
    quantity: float
    occurred_at: datetime
    recorded_at: datetime


class ErrorOut(Schema):
    code: str
    message: str
    errors: dict[str, list[str]] = {}


class UsageTotalsOut(Schema):
    account: int
    from_: datetime = Field(alias="from")
    to: datetime
    totals: dict[str, float] = Field(description="Quantité totale par métrique")


class UsageFilters(Schema):
    account: int
    from_: datetime | None = Field(None, alias="from", description=(
        "Début de la période (ISO 8601, inclus) ; par défaut le 1er du mois courant"))
    to: datetime | None = Field(None, description="Fin de la période (exclue) ; par défaut "
                                                  "le 1er du mois suivant")


def _visible_account(request: AuthedHttpRequest, pk: int) -> int:
    if not accounts_visible_to(request.user).filter(pk=pk).exists():
        raise NotFound(_("Compte client introuvable."))
    return pk


def usage_out(record: UsageRecord) -> dict[str, Any]:
    return {"id": record.pk, "account": record.account_id, "source_id": record.source_id,
            "metric": record.metric, "quantity": float(record.quantity),
            "occurred_at": record.occurred_at, "recorded_at": record.recorded_at}


@router.post("/usage", response={201: UsageOut, 200: UsageOut},
             summary="Enregistrer une consommation (idempotent par source_id)")
def usage_create(request: AuthedHttpRequest, payload: UsageIn) -> Any:
    account = _visible_account(request, payload.account)
    if not can_view_billing(request.user):
        raise Forbidden(_("Seule la facturation enregistre des consommations."))
    record, created = usage_record(
        account_id=account, source_id=payload.source_id, metric=payload.metric,
        quantity=payload.quantity, occurred_at=payload.occurred_at)
    if created:  # this record may cross 80 or 100 % of what is included
        usage_alerts_check(account_id=account)
    return Respond(201 if created else 200, usage_out(record))


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and timezone.is_naive(moment):
        return timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


@router.get("/usage", response={200: UsageTotalsOut, 404: ErrorOut}, by_alias=True,
            summary="Consommation d'un compte par métrique sur une période")
def usage_totals_get(request: AuthedHttpRequest, filters: Query[UsageFilters]) -> Any:
    account = _visible_account(request, filters.account)
    start, end = _aware(filters.from_), _aware(filters.to)
    today = timezone.localdate(clock.now())
    first = today.replace(day=1)
    start = start or day_start(first)
    end = end or day_start(first.replace(year=first.year + first.month // 12,
                                         month=first.month % 12 + 1))
    if start >= end:
        raise invalid_fields({"to": [_("Doit être postérieur à « from ».")]})
    totals = usage_totals(account_id=account, start=start, end=end)
    return {"account": account, "from": start, "to": end,
            "totals": {m: float(totals.get(m, 0)) for m in Metric.values}}

"""The reports' API: the indicators over a period (`/reports/kpis`) and the staffing
calculator (`/reports/staffing`, Erlang C, or Erlang A with a patience)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import Forbidden, NotFound, invalid_fields, not_found_by_query

from . import erlang, kpis, permissions

router = Router(tags=["reports"])

CHANNELS = ("", "email", "formulaire", "espace_client", "telephone", "api", "chat", "sms")


class KpiFilters(Schema):
    from_: date = Field(..., alias="from", description="Premier jour (AAAA-MM-JJ, inclus)")
    to: date = Field(..., description="Dernier jour (AAAA-MM-JJ, inclus)")
    account: int | None = Field(None, description="Un compte client (fuseau horaire du compte)")
    agent: int | None = Field(None, description="Une secrétaire (dossiers attribués, appels "
                                                "décrochés)")
    channel: str = Field("", max_length=20, description="Canal des dossiers : email, "
                                                        "telephone, chat…")


class KpiOut(Schema):
    period: dict[str, Any]
    indicators: dict[str, float | int | None]
    definitions: dict[str, dict[str, str]]


@router.get("/reports/kpis", response=KpiOut, url_name="reports_kpis",
            openapi_extra=not_found_by_query("Compte introuvable, ou non visible pour cet utilisateur"),
            summary="Indicateurs sur une période (comptes visibles)")
def reports_kpis(request: AuthedHttpRequest, filters: Query[KpiFilters]) -> dict[str, Any]:
    if not permissions.can_view_reports(request.user):
        raise Forbidden()
    if filters.channel not in CHANNELS:
        raise invalid_fields({"channel": [_("Canal inconnu.")]})
    try:
        chosen = kpis.filters_for(request.user, start_day=filters.from_, end_day=filters.to,
                                  account_id=filters.account, agent_id=filters.agent,
                                  channel=filters.channel)
    except kpis.PeriodError as error:
        if error.field == "account":  # another account's figures: as if it did not exist
            raise NotFound(str(error)) from error
        if error.field == "agent":
            raise Forbidden(str(error)) from error
        raise invalid_fields({error.field: [str(error)]}) from error
    result = kpis.compute(request.user, chosen)
    return {
        "period": {"from": chosen.start_day.isoformat(), "to": chosen.end_day.isoformat(),
                   "time_zone": str(chosen.tz), "start": chosen.start.isoformat(),
                   "end": chosen.end.isoformat()},
        # The business figures (revenue, MRR, churn…) only for the roles that see billing.
        "indicators": result["values"],
        "definitions": kpis.definitions(business=result["business"]),
    }


class StaffingFilters(Schema):
    calls: float = Field(..., description="Appels attendus dans l'intervalle")
    interval_minutes: float = Field(30, description="Durée de l'intervalle (minutes)")
    aht_seconds: float = Field(..., description="Durée moyenne de traitement (secondes)")
    target_seconds: float = Field(20, description="Délai de réponse cible (secondes)")
    target_level: float = Field(0.8, description="Part des appels à décrocher dans le délai "
                                                 "(0–1)")
    shrinkage: float = Field(0.0, description="Part du temps planifié hors téléphone : pauses, "
                                              "formation, absences (0–1)")
    max_occupancy: float = Field(1.0, description="Occupation maximale admise (0–1)")
    patience_seconds: float | None = Field(None, description="Patience moyenne des appelants "
                                                             "(active Erlang A)")


class StaffingOut(Schema):
    agents: int
    agents_scheduled: int
    service_level: float
    asa_seconds: float
    occupancy: float
    wait_probability: float
    abandon_probability: float
    traffic_erlangs: float
    model: str


@router.get("/reports/staffing", response=StaffingOut, url_name="reports_staffing",
            summary="Effectif nécessaire (Erlang C, ou Erlang A avec une patience)")
def reports_staffing(request: AuthedHttpRequest,
                     params: Query[StaffingFilters]) -> dict[str, Any]:
    if not permissions.can_view_reports(request.user):
        raise Forbidden()
    try:
        need = erlang.staffing(**params.dict())
    except erlang.StaffingError as error:
        raise invalid_fields({error.field: [str(error)]}) from error
    out = need.as_dict()
    return {key: round(value, 4) if isinstance(value, float) else value
            for key, value in out.items()}

"""The reports' API: /reports/kpis keyed by indicator with its definitions, /reports/staffing
with the worked Erlang example, field errors for impossible inputs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client

from permanence.desk.models import Call

KEYS = {"answer_rate", "service_level", "asa_seconds", "abandon_rate", "aht_seconds",
        "first_response_median_business_seconds", "resolution_median_business_seconds",
        "sla_first_response_pct", "sla_resolution_pct", "fcr_rate", "csat_pct", "nps",
        "complaints", "appointment_rate", "sales_rate", "conversations", "calls_offered",
        "calls_answered"}


def _get(user: Any, url: str, **params: Any) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(url, params)


def test_kpis_answer_every_named_indicator_with_its_definition(supervisor: Any,
                                                                account: Any) -> None:
    at = datetime(2026, 11, 10, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    for n, wait in enumerate((5, 30)):
        Call.objects.create(call_id=f"api{n}", account=account, offered_at=at, created_at=at,
                            from_number="+33612345678", answered_at=at + timedelta(seconds=wait),
                            wait_seconds=wait, outcome="answered")
    response = _get(supervisor, "/api/v1/reports/kpis", **{"from": "2026-11-01",
                                                           "to": "2026-11-30",
                                                           "account": account.pk})
    assert response.status_code == 200
    body = response.json()
    assert set(body["indicators"]) >= KEYS
    assert body["indicators"]["calls_offered"] == 2
    assert body["indicators"]["answer_rate"] == 1.0
    assert body["indicators"]["service_level"] == 0.5
    assert body["indicators"]["csat_pct"] is None  # no data: null, not 0
    assert body["period"]["time_zone"] == "Europe/Paris"
    assert set(body["definitions"]) == set(body["indicators"])
    assert "20 s" in body["definitions"]["service_level"]["formula"]


def test_kpis_refuse_bad_periods_with_field_errors(supervisor: Any) -> None:
    cases = [({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
             ({"from": "2026-13-01", "to": "2026-11-01"}, "from"),
             ({"from": "2026-11-01"}, "to"),
             ({"from": "2026-11-01", "to": "2026-11-30", "channel": "pigeon"}, "channel"),
             ({"from": "2026-11-01", "to": "2026-11-30", "account": "9223372036854775808"},
              "account")]
    for params, field in cases:
        response = _get(supervisor, "/api/v1/reports/kpis", **params)
        assert response.status_code == 422, (params, response.content)
        assert field in str(response.json()["errors"]), (params, response.json())


def test_staffing_answers_the_worked_example(supervisor: Any) -> None:
    response = _get(supervisor, "/api/v1/reports/staffing", calls=100, interval_minutes=30,
                    aht_seconds=180, target_seconds=20, target_level=0.8, shrinkage=0.3)
    assert response.status_code == 200
    body = response.json()
    assert body["agents"] == 14 and body["agents_scheduled"] == 20
    assert abs(body["service_level"] - 0.888) < 0.001
    assert body["model"] == "erlang_c" and abs(body["occupancy"] - 10 / 14) < 0.0001


def test_staffing_refuses_impossible_inputs(supervisor: Any) -> None:
    for params, field in (({"calls": -5, "aht_seconds": 180}, "calls"),
                          ({"calls": 100, "aht_seconds": 0}, "aht_seconds"),
                          ({"calls": 100, "aht_seconds": 180, "target_level": 1.5},
                           "target_level"),
                          ({"calls": 100, "aht_seconds": 180, "shrinkage": 1}, "shrinkage"),
                          ({"calls": "beaucoup", "aht_seconds": 180}, "calls"),
                          ({"calls": "nan", "aht_seconds": 180}, "calls")):
        response = _get(supervisor, "/api/v1/reports/staffing", **params)
        assert response.status_code == 422, (params, response.content)
        assert field in str(response.json()["errors"]), (params, response.json())


def test_a_secretary_reads_her_own_figures_not_a_colleagues(agent: Any,
                                                           other_agent: Any) -> None:
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    assert _get(agent, "/api/v1/reports/kpis", **period, agent=agent.pk).status_code == 200
    assert _get(agent, "/api/v1/reports/kpis", **period,
                agent=other_agent.pk).status_code == 403
    page = _get(agent, "/app/rapports/", du="2026-11-01", au="2026-11-30",
                secretaire=other_agent.pk)
    assert page.status_code == 422  # not among the choices offered to her

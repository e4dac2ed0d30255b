"""What the indicators page shows: tiles (value, previous period, formula, drill-down), the
daily series and the distributions — built from reports.kpis so that the page, the API,
the exports and the monthly report say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.core import clock
from permanence.desk import figures as desk_figures
from permanence.inbox import figures as inbox_figures
from permanence.inbox.models import Channel, Kind

from . import charts, kpis

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("calls", ("calls_offered", "calls_answered", "answer_rate", "service_level", "asa_seconds",
               "abandon_rate", "abandon_rate_excluding_short", "aht_seconds")),
    ("conversations", ("conversations", "first_response_median_business_seconds",
                       "first_response_p90_business_seconds",
                       "resolution_median_business_seconds", "resolution_p90_business_seconds",
                       "sla_first_response_pct", "sla_resolution_pct", "fcr_rate",
                       "reopen_rate", "complaints", "complaint_rate")),
    ("satisfaction", ("csat_pct", "nps", "survey_response_rate")),
    ("commercial", ("appointment_rate", "sales_rate")),
    ("chat", ("chats", "bot_deflection_rate", "bot_handover_rate", "chat_wait_median_seconds",
              "chat_wait_p90_seconds")),
    ("business", ("revenue_ht_cents", "mrr_cents", "churn_rate", "retention_rate",
                  "quotes_sent", "quote_acceptance_rate", "storefront_conversion")),
)
# Higher is better, except for these: the delta's colour follows.
LOWER_IS_BETTER = {"asa_seconds", "abandon_rate", "abandon_rate_excluding_short",
                   "first_response_median_business_seconds",
                   "first_response_p90_business_seconds", "resolution_median_business_seconds",
                   "resolution_p90_business_seconds", "reopen_rate", "complaints",
                   "complaint_rate", "chat_wait_median_seconds", "chat_wait_p90_seconds",
                   "bot_handover_rate", "churn_rate"}
NEUTRAL = {"calls_offered", "conversations", "aht_seconds", "chats", "quotes_sent"}
MOTIFS = 8  # the largest motifs shown on the charts
# Which drill-down lists the rows behind a tile.
DRILL = {"calls_offered": ("appels", ""), "calls_answered": ("appels", "decroches"),
         "abandon_rate": ("appels", "abandons"), "service_level": ("appels", "hors_delai"),
         "conversations": ("dossiers", ""), "sla_first_response_pct": ("dossiers", "hors_delai"),
         "complaints": ("dossiers", "reclamations"), "reopen_rate": ("dossiers", "rouverts")}


def group_titles() -> dict[str, str]:
    return {"calls": _("Appels"), "conversations": _("Demandes (tous canaux)"),
            "satisfaction": _("Satisfaction"), "commercial": _("Commercial (campagnes)"),
            "chat": _("Chat et assistant"), "business": _("Activité commerciale et clientèle")}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        rest = seconds % 60
        return f"{minutes} min {rest:02d} s" if rest and minutes < 10 else f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h {minutes % 60:02d}"
    return _("%(days)s j %(hours)s h") % {"days": hours // 24, "hours": hours % 24}


def euros(cents: int) -> str:
    text = f"{cents / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text} €"


def display(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{100 * value:.1f} %".replace(".", ",")
    if unit == "percent":
        return f"{value:.1f} %".replace(".", ",")
    if unit == "seconds":
        return duration(value)
    if unit == "cents":
        return euros(value)
    return f"{value:,}".replace(",", "\u202f") if isinstance(value, int) else str(value)


def _delta(key: str, now: Any, before: Any, unit: str) -> dict[str, str] | None:
    if now is None or before is None:
        return None
    diff = now - before
    if unit == "ratio":
        text = f"{100 * diff:+.1f} pt".replace(".", ",")
    elif unit == "percent":
        text = f"{diff:+.1f} pt".replace(".", ",")
    elif unit == "seconds":
        text = ("+" if diff >= 0 else "−") + duration(abs(diff))
    elif unit == "cents":
        text = ("+" if diff >= 0 else "−") + euros(abs(diff))
    else:
        text = f"{diff:+}"
    if not diff or key in NEUTRAL:
        tone = "flat"
    else:
        tone = "good" if (diff < 0) == (key in LOWER_IS_BETTER) else "bad"
    return {"text": text, "tone": tone}


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    previous: str
    delta: dict[str, str] | None
    formula: str
    drill: str  # URL of the underlying rows, or ""


def filter_query(filters: kpis.Filters) -> dict[str, str]:
    query = {"du": filters.start_day.isoformat(), "au": filters.end_day.isoformat()}
    if filters.account_id:
        query["compte"] = str(filters.account_id)
    if filters.agent_id:
        query["secretaire"] = str(filters.agent_id)
    if filters.channel:
        query["canal"] = filters.channel
    return query


def tiles(user: User, filters: kpis.Filters, drill_url: str) -> tuple[dict[str, list[Tile]], dict[str, Any]]:
    now = kpis.compute(user, filters)
    before = kpis.compute(user, filters.previous())
    definitions = kpis.definitions(business=now["business"])
    base = filter_query(filters)
    groups: dict[str, list[Tile]] = {}
    for group, keys in GROUPS:
        row = []
        for key in keys:
            if key not in definitions:  # the business figures, for the roles that see billing
                continue
            d = definitions[key]
            value, old = now["values"][key], before["values"][key]
            drill = ""
            if key in DRILL:
                what, which = DRILL[key]
                drill = f"{drill_url}?{urlencode({**base, 'quoi': what, 'filtre': which})}"
            row.append(Tile(key, d["label"], display(value, d["unit"]),
                            display(old, d["unit"]), _delta(key, value, old, d["unit"]),
                            d["formula"], drill))
        if row:
            groups[group] = row
    return groups, now


def chart_data(user: User, filters: kpis.Filters, computed: dict[str, Any]) -> dict[str, Any]:
    """The charts of the period; `computed` is kpis.compute's result for it (the waiting
    times come from the same pass over the calls as the figures)."""
    accounts = kpis.visible_accounts(user)
    conv_scope = inbox_figures.Scope(accounts, filters.account_id, filters.agent_id,
                                     filters.channel)
    desk_scope = desk_figures.Scope(accounts, filters.account_id, filters.agent_id)
    start, end = filters.start, filters.end
    daily_conversations = inbox_figures.daily_counts(conv_scope, start, end, filters.tz)
    phone = filters.channel in ("", Channel.PHONE)
    daily_calls = desk_figures.daily_calls(desk_scope, start, end, filters.tz) if phone else {}
    series = [charts.Series(_("Demandes reçues"), "s1", daily_conversations)]
    if phone:
        series += [
            charts.Series(_("Appels présentés"), "s2",
                          {d: v["offered"] for d, v in daily_calls.items()}),
            charts.Series(_("Appels décrochés"), "s3",
                          {d: v["answered"] for d, v in daily_calls.items()})]
    labels = dict(Channel.choices)
    by_channel = [(str(labels.get(r["channel"], r["channel"])), r["n"])
                  for r in inbox_figures.volume_by(conv_scope, start, end, "channel")]
    kinds = dict(Kind.choices)
    by_kind = [(str(kinds.get(r["kind"], r["kind"])), r["n"])
               for r in inbox_figures.volume_by(conv_scope, start, end, "kind")]
    no_motif = _("Sans motif")
    by_motif = [(r["motif"] or no_motif, r["n"])
                for r in inbox_figures.volume_by(conv_scope, start, end, "motif")[:MOTIFS]]
    causes = [(r["motif"] or no_motif, r["n"])
              for r in inbox_figures.complaint_causes(conv_scope, start, end)[:MOTIFS]]
    waits = desk_figures.wait_distribution(computed["counts"]["calls"]) if phone else []
    backlog = inbox_figures.backlog(conv_scope)
    return {
        "series": charts.time_series(filters.start_day, filters.end_day, series),
        "by_channel": charts.shares(by_channel),
        "by_kind": charts.shares(by_kind),
        "by_motif": charts.shares(by_motif),
        "complaint_causes": charts.shares(causes),
        "waits": charts.shares([(w["label"], w["count"]) for w in waits]),
        "backlog_total": backlog["total"],
        "backlog": charts.shares(list(backlog["ages"].items())),
    }


def presets(today: date | None = None) -> list[dict[str, str]]:
    """Common periods, as the links above the filters."""
    today = today or clock.now().astimezone(kpis.PARIS).date()
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        {"label": _("Aujourd'hui"), "du": today.isoformat(), "au": today.isoformat()},
        {"label": _("7 derniers jours"), "du": (today - timedelta(days=6)).isoformat(),
         "au": today.isoformat()},
        {"label": _("30 derniers jours"), "du": (today - timedelta(days=29)).isoformat(),
         "au": today.isoformat()},
        {"label": _("Ce mois-ci"), "du": first_of_month.isoformat(), "au": today.isoformat()},
        {"label": _("Mois dernier"), "du": last_month_end.replace(day=1).isoformat(),
         "au": last_month_end.isoformat()},
    ]

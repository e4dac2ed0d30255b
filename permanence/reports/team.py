"""Per secretary over a period: handled volume, DMT, FCR, CSAT, first responses on time,
occupancy, breaks and the quality reviews' average — one query per source whatever the
team's size (desk.figures, inbox.figures, quality.selectors), with the same definitions as
reports.kpis."""

from __future__ import annotations

from dataclasses import dataclass

from permanence.accounts.models import User
from permanence.desk import figures as desk_figures
from permanence.inbox import figures as inbox_figures
from permanence.quality import selectors as quality_selectors

from . import kpis, pages


@dataclass(frozen=True)
class AgentRow:
    user: User
    calls: int
    aht: str
    conversations: int
    resolved: int
    sla: str
    fcr: str
    csat: str
    occupancy: str
    breaks: int
    on_phone: str
    quality: str  # mean of the quality reviews' totals made in the period, « — » if none
    quality_reviews: int


def _pct(part: int, whole: int) -> str:
    return pages.display(100 * part / whole, "percent") if whole else "—"


def rows(viewer: User, filters: kpis.Filters, people: list[User]) -> list[AgentRow]:
    accounts = kpis.visible_accounts(viewer)
    start, end = filters.start, filters.end
    desk_scope = desk_figures.Scope(accounts, filters.account_id)
    conv_scope = inbox_figures.Scope(accounts, filters.account_id, None, filters.channel)
    calls = desk_figures.calls_by_agent(desk_scope, start, end)
    conversations = inbox_figures.conversations_by_agent(conv_scope, start, end)
    csat = inbox_figures.csat_by_agent(conv_scope, start, end)
    times = desk_figures.agent_time([u.pk for u in people], start, end)
    quality = quality_selectors.averages(viewer, by="agent", start=start, end=end,
                                         account_id=filters.account_id)
    out = []
    for user in people:
        c = calls.get(user.pk, {})
        v = conversations.get(user.pk, {})
        s = csat.get(user.pk, {})
        t = times.get(user.pk, {})
        q = quality.get(user.pk)
        handled = c.get("handled") or 0
        occupancy = desk_figures.occupancy(t)
        on_phone = sum(t.get(k, 0.0) for k in ("disponible", "en_appel", "post_appel"))
        out.append(AgentRow(
            user=user, calls=c.get("answered") or 0,
            aht=pages.duration(c["handle_seconds"] / handled) if handled and
            c.get("handle_seconds") is not None else "—",
            conversations=v.get("total") or 0, resolved=v.get("resolved") or 0,
            sla=_pct(v.get("first_on_time") or 0, v.get("first_judged") or 0),
            fcr=_pct(v.get("fcr_kept") or 0, v.get("fcr_base") or 0),
            csat=_pct(s.get("satisfied") or 0, s.get("n") or 0),
            occupancy=pages.display(occupancy, "ratio"), breaks=int(t.get("breaks", 0)),
            on_phone=pages.duration(on_phone) if on_phone else "—",
            quality=pages.display(float(q.mean), "percent") if q and q.mean is not None
            else "—", quality_reviews=q.reviews if q else 0))
    return out

"""The rows behind an indicator (drill-down): exactly the conversations or calls a tile
counts, paginated on the page and complete in the exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.accounts.models import User
from permanence.core.exports import Table
from permanence.desk import figures as desk_figures
from permanence.inbox import figures as inbox_figures

from . import kpis

KINDS: dict[str, set[str]] = {"dossiers": {"", "hors_delai", "reclamations", "rouverts"},
                              "appels": {"", "decroches", "abandons", "hors_delai"}}
PER_PAGE = 50


def title(what: str, which: str) -> str:
    return {("dossiers", ""): _("Demandes reçues"),
            ("dossiers", "hors_delai"): _("Premières réponses hors délai"),
            ("dossiers", "reclamations"): _("Réclamations"),
            ("dossiers", "rouverts"): _("Dossiers rouverts"),
            ("appels", ""): _("Appels présentés"),
            ("appels", "decroches"): _("Appels décrochés"),
            ("appels", "abandons"): _("Appels abandonnés"),
            ("appels", "hors_delai"): _("Appels non décrochés dans le délai")}[(what, which)]


def _rows(user: User, filters: kpis.Filters, what: str, which: str) -> Any:
    accounts = kpis.visible_accounts(user)
    if what == "appels":
        scope = desk_figures.Scope(accounts, filters.account_id, filters.agent_id)
        return desk_figures.call_rows(scope, filters.start, filters.end, which)
    conv_scope = inbox_figures.Scope(accounts, filters.account_id, filters.agent_id,
                                     filters.channel)
    return inbox_figures.cohort_rows(conv_scope, filters.start, filters.end, which)


def page(user: User, filters: kpis.Filters, what: str, which: str, number: Any) -> Page[Any]:
    return Paginator(_rows(user, filters, what, which), PER_PAGE).get_page(number)


def _conversation_cells(c: Any) -> list[Any]:
    return [c.reference, c.created_at.astimezone(kpis.PARIS).replace(tzinfo=None),
            c.account.name, c.get_channel_display(), c.get_kind_display(), c.subject,
            c.contact.name if c.contact else "", c.assignee.full_name if c.assignee else "",
            c.get_status_display(), c.first_response_business_seconds or "",
            c.resolution_business_seconds or ""]


def _call_cells(c: Any) -> list[Any]:
    return [c.call_id, c.offered_at.astimezone(kpis.PARIS).replace(tzinfo=None),
            c.account.name if c.account else "", c.from_number, c.get_outcome_display(),
            c.wait_seconds if c.wait_seconds is not None else "",
            c.talk_seconds if c.talk_seconds is not None else "",
            c.agent.full_name if c.agent else ""]


CONVERSATIONS = Table("dossiers", (
    gettext_lazy("Référence"), gettext_lazy("Ouvert le"), gettext_lazy("Compte"),
    gettext_lazy("Canal"), gettext_lazy("Nature"), gettext_lazy("Objet"),
    gettext_lazy("Contact"), gettext_lazy("Attribué à"), gettext_lazy("Statut"),
    gettext_lazy("Première réponse (s ouvrées)"), gettext_lazy("Résolution (s ouvrées)")),
    _conversation_cells)
CALLS = Table("appels", (
    gettext_lazy("Identifiant"), gettext_lazy("Présenté le"), gettext_lazy("Compte"),
    gettext_lazy("Appelant"), gettext_lazy("Issue"), gettext_lazy("Attente (s)"),
    gettext_lazy("Conversation (s)"), gettext_lazy("Secrétaire")), _call_cells)


def table(user: User, filters: kpis.Filters, what: str, which: str) -> tuple[Table, Iterator[Any]]:
    rows = _rows(user, filters, what, which)
    return (CALLS if what == "appels" else CONVERSATIONS), rows.iterator(chunk_size=2000)

"""The indicators of the centre, each with the formula shown next to it (page, API, monthly
report): one function computes them, so every screen and document says the same thing.

Periods are whole local days [from, to] in the account's time zone (Europe/Paris when no
account is chosen); the figures come from the apps' own readers (inbox.figures,
desk.figures), in a constant number of queries whatever the volume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.selectors import accounts_visible_to
from permanence.billing import figures as billing_figures
from permanence.billing.permissions import can_view_billing
from permanence.calendars.services import spec_for_account
from permanence.core.percentiles import of_sorted
from permanence.desk import figures as desk_figures
from permanence.inbox import figures as inbox_figures
from permanence.livechat import figures as chat_figures
from permanence.shop import figures as shop_figures

from .permissions import can_plan_staff

PARIS = ZoneInfo("Europe/Paris")
MAX_DAYS = 366


@dataclass(frozen=True)
class Definition:
    label: Any
    formula: Any
    unit: str  # "ratio" (0–1), "percent" (0–100), "seconds", "count", "score"


# The API's keys, in the order the page shows them.
DEFINITIONS: dict[str, Definition] = {
    "calls_offered": Definition(_("Appels présentés"), _(
        "Appels entrants arrivés dans la file d'un compte connu pendant la période."), "count"),
    "calls_answered": Definition(_("Appels décrochés"), _(
        "Appels présentés auxquels une secrétaire a répondu."), "count"),
    "answer_rate": Definition(_("Taux de décroché"), _(
        "Appels décrochés ÷ appels présentés."), "ratio"),
    "service_level": Definition(_("Niveau de service"), _(
        "Appels décrochés en {seconds} s au plus ÷ appels présentés (variante retenue : les "
        "abandons, même courts, restent au dénominateur)."), "ratio"),
    "asa_seconds": Definition(_("Délai moyen de décroché"), _(
        "Moyenne de l'attente des appels décrochés, en secondes."), "seconds"),
    "abandon_rate": Definition(_("Taux d'abandon"), _(
        "Appels raccrochés avant réponse ÷ appels présentés."), "ratio"),
    "abandon_rate_excluding_short": Definition(_("Taux d'abandon hors abandons courts"), _(
        "(Abandons − abandons en moins de {short} s) ÷ (appels présentés − abandons en moins "
        "de {short} s)."), "ratio"),
    "aht_seconds": Definition(_("Durée moyenne de traitement (DMT)"), _(
        "(Conversation + mise en attente + post-appel) ÷ appels traités, en secondes."),
        "seconds"),
    "conversations": Definition(_("Demandes reçues"), _(
        "Dossiers ouverts pendant la période, tous canaux (dossiers fusionnés exclus)."),
        "count"),
    "first_response_median_business_seconds": Definition(_("Première réponse (médiane)"), _(
        "Médiane du temps ouvré entre l'ouverture du dossier et la première réponse "
        "parvenue au contact, pauses « en attente client » déduites."), "seconds"),
    "first_response_p90_business_seconds": Definition(_("Première réponse (90e centile)"), _(
        "90 % des premières réponses sont parvenues en ce temps ouvré au plus."), "seconds"),
    "resolution_median_business_seconds": Definition(_("Résolution (médiane)"), _(
        "Médiane du temps ouvré entre l'ouverture et la résolution, pauses déduites."),
        "seconds"),
    "resolution_p90_business_seconds": Definition(_("Résolution (90e centile)"), _(
        "90 % des résolutions en ce temps ouvré au plus."), "seconds"),
    "sla_first_response_pct": Definition(_("Premières réponses dans les délais"), _(
        "Premières réponses parvenues avant l'échéance promise ÷ premières réponses, en %."),
        "percent"),
    "sla_resolution_pct": Definition(_("Résolutions dans les délais"), _(
        "Dossiers résolus avant l'échéance de résolution ÷ dossiers résolus, en %."), "percent"),
    "fcr_rate": Definition(_("Résolution au premier contact"), _(
        "Dossiers résolus sans nouveau contact de la même personne pour le même motif dans "
        "les {days} jours ÷ dossiers résolus (contact connu)."), "ratio"),
    "reopen_rate": Definition(_("Taux de réouverture"), _(
        "Dossiers rouverts après résolution ÷ dossiers résolus au moins une fois."), "ratio"),
    "complaints": Definition(_("Réclamations"), _(
        "Dossiers de nature « réclamation » ouverts pendant la période."), "count"),
    "complaint_rate": Definition(_("Taux de réclamation"), _(
        "Réclamations ÷ demandes reçues."), "ratio"),
    "csat_pct": Definition(_("Satisfaction (CSAT)"), _(
        "Réponses notées 4 ou 5 sur 5 ÷ réponses notées, en %."), "percent"),
    "nps": Definition(_("Net Promoter Score"), _(
        "% de notes 9–10 − % de notes 0–6 (de −100 à 100)."), "score"),
    "survey_response_rate": Definition(_("Taux de réponse aux enquêtes"), _(
        "Enquêtes répondues ÷ enquêtes envoyées pendant la période."), "ratio"),
    "appointment_rate": Definition(_("Taux de prise de rendez-vous"), _(
        "Rendez-vous obtenus ÷ appels sortants de campagne passés."), "ratio"),
    "sales_rate": Definition(_("Taux de transformation"), _(
        "Ventes ÷ rendez-vous obtenus (campagnes)."), "ratio"),
    "chats": Definition(_("Chats ouverts"), _(
        "Chats commencés par un visiteur pendant la période."), "count"),
    "bot_deflection_rate": Definition(_("Chats résolus par l'assistant"), _(
        "Chats terminés avec l'assistant seul ÷ chats où le visiteur a écrit."), "ratio"),
    "bot_handover_rate": Definition(_("Chats passés à une secrétaire"), _(
        "Chats que l'assistant a passés à une personne (file d'attente ou message hors "
        "ligne) ÷ chats où le visiteur a écrit."), "ratio"),
    "chat_wait_median_seconds": Definition(_("Attente en chat (médiane)"), _(
        "Médiane de l'attente entre l'entrée dans la file et la prise en charge par une "
        "secrétaire, en secondes."), "seconds"),
    "chat_wait_p90_seconds": Definition(_("Attente en chat (90e centile)"), _(
        "90 % des visiteurs ont été pris en charge en ce temps au plus."), "seconds"),
}

# Figures of the business itself (money, clientele): for the roles that see billing only.
BUSINESS_DEFINITIONS: dict[str, Definition] = {
    "revenue_ht_cents": Definition(_("Chiffre d'affaires facturé"), _(
        "Factures émises pendant la période − avoirs émis pendant la période, hors taxes."),
        "cents"),
    "mrr_cents": Definition(_("Revenu mensuel récurrent (MRR)"), _(
        "Prix mensuel hors taxes, options comprises, des abonnements en cours à la fin de la "
        "période (commencés avant, contrat non terminé)."), "cents"),
    "churn_rate": Definition(_("Attrition des comptes (churn)"), _(
        "Comptes ayant un abonnement en cours au début de la période et plus aucun à la fin "
        "÷ comptes ayant un abonnement en cours au début."), "ratio"),
    "retention_rate": Definition(_("Rétention des comptes"), _(
        "1 − attrition : comptes abonnés au début de la période qui le sont encore à la "
        "fin."), "ratio"),
    "quotes_sent": Definition(_("Devis envoyés"), _(
        "Devis envoyés pendant la période (prospects compris quand aucun compte n'est "
        "choisi)."), "count"),
    "quote_acceptance_rate": Definition(_("Devis acceptés"), _(
        "Devis envoyés pendant la période et acceptés depuis ÷ devis envoyés pendant la "
        "période."), "ratio"),
    "storefront_conversion": Definition(_("Conversion de la boutique"), _(
        "Paniers payés ÷ paniers remplis (au moins une offre) pendant la période ; chiffre de "
        "toute la boutique, sans compte client choisi."), "ratio"),
}

# The variants and thresholds the formulas mention (stated with each figure).
SETTINGS = {"seconds": desk_figures.SERVICE_SECONDS, "short": desk_figures.SHORT_ABANDON_SECONDS,
            "days": inbox_figures.FCR_DAYS}


class PeriodError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Filters:
    start_day: date
    end_day: date  # inclusive
    account_id: int | None = None
    agent_id: int | None = None
    channel: str = ""
    tz: ZoneInfo = field(default=PARIS)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.start_day, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_day + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day).days + 1

    def previous(self) -> Filters:
        """The same number of days just before (the comparison period)."""
        days = timedelta(days=self.days)
        return Filters(self.start_day - days, self.end_day - days, self.account_id,
                       self.agent_id, self.channel, self.tz)


def filters_for(user: User, *, start_day: date, end_day: date, account_id: int | None = None,
                agent_id: int | None = None, channel: str = "") -> Filters:
    """Checked filters: an account the user may not see is refused like one that does not
    exist; the day boundaries are the account's time zone's."""
    if end_day < start_day:
        raise PeriodError("to", str(_("La fin de la période précède son début.")))
    if (end_day - start_day).days >= MAX_DAYS:
        raise PeriodError("to", str(_("Une période de 366 jours au plus.")))
    if agent_id is not None and agent_id != user.pk and not can_plan_staff(user):
        # A secretary's own figures are hers; a colleague's are for supervisors.
        raise PeriodError("agent", str(_("Vous ne pouvez voir que vos propres chiffres.")))
    tz = PARIS
    if account_id is not None:
        account = accounts_visible_to(user).filter(pk=account_id).first()
        if account is None:
            raise PeriodError("account", str(_("Compte client introuvable.")))
        tz = spec_for_account(account).tz
    return Filters(start_day, end_day, account_id, agent_id, channel, tz)


def _ratio(part: float | None, whole: float | None) -> float | None:
    return round(part / whole, 4) if part is not None and whole else None


def _pct(part: float | None, whole: float | None) -> float | None:
    return round(100 * part / whole, 1) if part is not None and whole else None


def _seconds(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def visible_accounts(user: User) -> Any:
    """The client accounts the figures cover: those the user may see (a subquery)."""
    return accounts_visible_to(user).filter(is_operator=False).values("pk")


def compute(user: User, filters: Filters) -> dict[str, Any]:
    """Every indicator of DEFINITIONS (None when there is no data) plus the raw counts, over
    the accounts `user` may see; those of BUSINESS_DEFINITIONS too for the roles that see
    billing."""
    return compute_for(visible_accounts(user), filters, business=can_view_billing(user))


def _chat_values(accounts: Any, filters: Filters) -> dict[str, Any]:
    if filters.channel not in ("", "chat"):
        return dict.fromkeys(("chats", "bot_deflection_rate", "bot_handover_rate",
                              "chat_wait_median_seconds", "chat_wait_p90_seconds"))
    chats = chat_figures.chat_figures(accounts, filters.account_id, filters.agent_id,
                                      filters.start, filters.end)
    waits = chats["waits"]
    return {"chats": chats["chats"],
            # The assistant's figures are no secretary's: not computed for one agent.
            "bot_deflection_rate": None if filters.agent_id else _ratio(chats["bot_alone"],
                                                                         chats["asked"]),
            "bot_handover_rate": None if filters.agent_id else _ratio(chats["handed_over"],
                                                                       chats["asked"]),
            "chat_wait_median_seconds": _seconds(of_sorted(waits, 0.5)),
            "chat_wait_p90_seconds": _seconds(of_sorted(waits, 0.9))}


def _business_values(accounts: Any, filters: Filters) -> dict[str, Any]:
    if filters.agent_id:  # money and clientele are nobody's own figures
        return dict.fromkeys(BUSINESS_DEFINITIONS)
    # Running at an instant = started before it, contract not ended by its day: at the end
    # of the period that day is the one after the last.
    recurring = billing_figures.recurring(
        accounts, filters.account_id, start=filters.start, end=filters.end,
        start_day=filters.start_day, end_day=filters.end_day + timedelta(days=1))
    quotes = shop_figures.quotes(accounts, filters.account_id, filters.start, filters.end)
    shop = None if filters.account_id else shop_figures.storefront(filters.start, filters.end)
    churn = _ratio(recurring["churned"], recurring["accounts_at_start"])
    return {
        "revenue_ht_cents": billing_figures.revenue_cents(
            accounts, filters.account_id, filters.start_day, filters.end_day),
        "mrr_cents": recurring["mrr_cents"],
        "churn_rate": churn,
        "retention_rate": round(1 - churn, 4) if churn is not None else None,
        "quotes_sent": quotes["sent"] if quotes["sent"] else None,
        "quote_acceptance_rate": _ratio(quotes["accepted"], quotes["sent"]),
        "storefront_conversion": _ratio(shop["paid"], shop["carts"]) if shop else None,
    }


def compute_for(accounts: Any, filters: Filters, *, business: bool = False) -> dict[str, Any]:
    """The same over the given accounts (ids or a subquery): the monthly report of one
    account, computed by the scheduler for nobody in particular."""
    start, end = filters.start, filters.end
    conv_scope = inbox_figures.Scope(accounts, filters.account_id, filters.agent_id,
                                     filters.channel)
    conv = inbox_figures.conversation_figures(conv_scope, start, end)
    surveys = inbox_figures.survey_figures(conv_scope, start, end)
    phone = filters.channel in ("", "telephone")
    desk_scope = desk_figures.Scope(accounts, filters.account_id, filters.agent_id)
    calls = desk_figures.call_figures(desk_scope, start, end) if phone else {}
    campaigns = desk_figures.campaign_figures(desk_scope, start, end) if phone else {}
    offered = calls.get("offered")
    short = calls.get("short_abandoned") or 0
    values: dict[str, Any] = {
        "calls_offered": offered,
        "calls_answered": calls.get("answered"),
        "answer_rate": _ratio(calls.get("answered"), offered),
        "service_level": _ratio(calls.get("within"), offered),
        "asa_seconds": _seconds(calls.get("wait_answered")),
        "abandon_rate": _ratio(calls.get("abandoned"), offered),
        "abandon_rate_excluding_short": _ratio((calls.get("abandoned") or 0) - short,
                                               (offered or 0) - short) if offered else None,
        "aht_seconds": _seconds(calls["handle_seconds"] / calls["handled"])
        if calls.get("handled") and calls.get("handle_seconds") is not None else None,
        "conversations": conv["total"],
        "first_response_median_business_seconds": _seconds(conv["first_response_median"]),
        "first_response_p90_business_seconds": _seconds(conv["first_response_p90"]),
        "resolution_median_business_seconds": _seconds(conv["resolution_median"]),
        "resolution_p90_business_seconds": _seconds(conv["resolution_p90"]),
        "sla_first_response_pct": _pct(conv["first_on_time"], conv["first_judged"]),
        "sla_resolution_pct": _pct(conv["resolution_on_time"], conv["resolution_judged"]),
        "fcr_rate": _ratio(conv["fcr_kept"], conv["fcr_base"]),
        "reopen_rate": _ratio(conv["reopened"], conv["ever_resolved"]),
        "complaints": conv["complaints"],
        "complaint_rate": _ratio(conv["complaints"], conv["total"]),
        "csat_pct": _pct(surveys["satisfied"], surveys["csat_n"]),
        "nps": round(100 * (surveys["promoters"] - surveys["detractors"]) / surveys["nps_n"])
        if surveys["nps_n"] else None,
        "survey_response_rate": _ratio(surveys["answered"], surveys["sent"]),
        "appointment_rate": _ratio(campaigns.get("appointments"), campaigns.get("calls_made")),
        "sales_rate": _ratio(campaigns.get("sales"), campaigns.get("appointments")),
        **_chat_values(accounts, filters),
    }
    if business:
        values.update(_business_values(accounts, filters))
    return {"values": values, "business": business,
            "counts": {"calls": calls, "conversations": conv, "surveys": surveys,
                       "campaigns": campaigns}}


def definitions(*, business: bool = False) -> dict[str, dict[str, str]]:
    """Label, formula (with the thresholds in force) and unit of every indicator (with the
    business ones when asked: compute's result says whether it holds them)."""
    chosen = DEFINITIONS | BUSINESS_DEFINITIONS if business else DEFINITIONS
    return {key: {"label": str(d.label), "formula": str(d.formula).format(**SETTINGS),
                  "unit": d.unit} for key, d in chosen.items()}


def accounts_for(user: User) -> list[ClientAccount]:
    return list(accounts_visible_to(user).filter(is_operator=False).order_by("name")
                .only("pk", "name"))

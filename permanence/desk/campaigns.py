"""Outbound campaigns: create, import the list, start/pause/finish (one state machine), hand
the next person to call to an agent, record what came of each attempt, and the results.

Attempt rules: a person is called at most `max_attempts` times; after « Absent » the next try
waits `retry_minutes`; « Rappeler » sets the time the person asked for; the campaign calls
only while the account's business calendar is open when `business_hours_only` is set. Two
agents never get the same person: the next target is claimed (locked row, claim held 15
minutes) inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.calendars.services import spec_for_account
from permanence.core import clock
from permanence.core.business_time import is_open, next_opening
from permanence.core.errors import DomainError, Forbidden, NotFound, invalid
from permanence.core.transitions import Machine, transition

from . import campaign_import
from .models_campaigns import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignAttempt,
    CampaignKind,
    CampaignStatus,
    CampaignStatusChange,
    CampaignTarget,
    Disposition,
    TargetStatus,
)
from .permissions import can_supervise_desk, can_take_calls

CAMPAIGN_MACHINE: Machine[Campaign] = Machine(
    model=Campaign, transitions=CAMPAIGN_TRANSITIONS, history_model=CampaignStatusChange,
    history_fk="campaign", status_choices=CampaignStatus, ref_field="name")
CLAIM = timedelta(minutes=15)
MAX_ATTEMPTS = 10
MAX_RETRY_MINUTES = 60 * 24 * 30
# Dispositions that close the person's file (nothing more to do).
FINAL = {Disposition.REACHED, Disposition.NOT_INTERESTED, Disposition.APPOINTMENT,
         Disposition.SALE}
REACHED = FINAL  # the person was on the line
CLOSED = (TargetStatus.DONE, TargetStatus.OBJECTED)  # nothing more to do

# Who objected to direct marketing: the privacy app registers its check when it loads (desk
# must not import it). check(account_id, numbers) -> the numbers among them that objected.
_OBJECTION_CHECKS: list[Callable[[int, set[str]], set[str]]] = []


def campaign_objections_register(check: Callable[[int, set[str]], set[str]]) -> None:
    if check not in _OBJECTION_CHECKS:
        _OBJECTION_CHECKS.append(check)


def _objected(account_id: int, numbers: set[str]) -> set[str]:
    found: set[str] = set()
    for check in _OBJECTION_CHECKS:
        found |= check(account_id, numbers)
    return found


# --- reads --------------------------------------------------------------------------------

def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    if not can_take_calls(user):
        return Campaign.objects.none()
    return Campaign.objects.filter(account__in=accounts_visible_to(user))


def get_campaign_for_user(user: User, pk: int | str) -> Campaign:
    try:
        return campaigns_visible_to(user).select_related("account").get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Campagne introuvable.")) from None


def campaign_list(user: User) -> list[Campaign]:
    """The campaigns with their progress counters (one query)."""
    return list(campaigns_visible_to(user).select_related("account").annotate(
        total=Count("targets", distinct=True),
        done=Count("targets", filter=Q(targets__status__in=CLOSED), distinct=True),
    ).order_by("-created_at", "-id"))


@dataclass(frozen=True)
class AgentResult:
    agent: str
    attempts: int
    reached: int
    appointments: int
    sales: int


@dataclass(frozen=True)
class Results:
    by_status: dict[str, int]
    by_disposition: dict[str, int]
    agents: list[AgentResult]
    total: int

    @property
    def done(self) -> int:
        return sum(self.by_status.get(status, 0) for status in CLOSED)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def campaign_results(campaign: Campaign) -> Results:
    """Progress and results per agent (three queries whatever the size)."""
    by_status = dict(campaign.targets.values("status").annotate(n=Count("id"))
                     .values_list("status", "n"))
    by_disposition = dict(campaign.attempts.values("disposition").annotate(n=Count("id"))
                          .values_list("disposition", "n"))
    rows = (campaign.attempts.values("agent__email", "agent__full_name")
            .annotate(attempts=Count("id"),
                      reached=Count("id", filter=Q(disposition__in=REACHED)),
                      appointments=Count("id", filter=Q(disposition=Disposition.APPOINTMENT)),
                      sales=Count("id", filter=Q(disposition=Disposition.SALE)))
            .order_by("-attempts"))
    agents = [AgentResult(
        agent=r["agent__full_name"] or r["agent__email"] or _("(compte supprimé)"),
        attempts=r["attempts"], reached=r["reached"], appointments=r["appointments"],
        sales=r["sales"]) for r in rows]
    return Results(by_status=by_status, by_disposition=by_disposition, agents=agents,
                   total=sum(by_status.values()))


def campaign_opening(campaign: Campaign, now: datetime | None = None) -> datetime | None:
    """None when calls are allowed now; else the next time they are (the account's
    calendar, when the campaign keeps to business hours)."""
    if not campaign.business_hours_only:
        return None
    now = now or clock.now()
    spec = spec_for_account(campaign.account)
    return None if is_open(spec, now) else next_opening(spec, now)


# --- writes -------------------------------------------------------------------------------

def _check_rules(max_attempts: int, retry_minutes: int) -> None:
    errors = {}
    if not 1 <= max_attempts <= MAX_ATTEMPTS:
        errors["max_attempts"] = [_("Entre 1 et %(max)s.") % {"max": MAX_ATTEMPTS}]
    if not 1 <= retry_minutes <= MAX_RETRY_MINUTES:
        errors["retry_minutes"] = [_("Entre 1 minute et 30 jours.")]
    if errors:
        raise DomainError("invalid", _("Vérifiez les champs signalés."), fields=errors,
                          status=422)


@transaction.atomic
def campaign_create(*, actor: User, account: ClientAccount, name: str, kind: str,
                    script: str = "", max_attempts: int = 3, retry_minutes: int = 120,
                    business_hours_only: bool = True) -> Campaign:
    if not can_supervise_desk(actor):
        raise Forbidden(_("Seuls les superviseurs créent des campagnes."))
    if not accounts_visible_to(actor).filter(pk=account.pk).exists():
        raise NotFound(_("Compte client introuvable."))
    name = (name or "").strip()
    if not name:
        raise invalid(name=_("Donnez un nom à la campagne."))
    if kind not in CampaignKind.values:
        raise invalid(kind=_("Choisissez le type de campagne."))
    _check_rules(max_attempts, retry_minutes)
    campaign = Campaign.objects.create(
        account=account, name=name[:120], kind=kind, script=(script or "")[:20000],
        max_attempts=max_attempts, retry_minutes=retry_minutes,
        business_hours_only=business_hours_only, created_by=actor, created_at=clock.now())
    audit_record(actor=actor, action=Action.CREATE, target=campaign, account=account,
                 changes={"name": campaign.name, "kind": kind})
    return campaign


@transaction.atomic
def campaign_transition(*, actor: User, campaign: Campaign | int, to: str) -> Campaign:
    if not can_supervise_desk(actor):
        raise Forbidden()
    moved = transition(CAMPAIGN_MACHINE, instance=campaign, to=to, actor=actor)
    if moved.previous != to:
        audit_record(actor=actor, action=Action.UPDATE, target=moved.instance,
                     account=moved.instance.account,
                     changes={"status": [moved.previous, to]})
    return moved.instance


def campaign_import_contacts(*, actor: User, campaign: Campaign, filename: str,
                             upload: IO[bytes]) -> campaign_import.Report:
    """Read the whole file first (outside any transaction), then write every row or none."""
    if not can_supervise_desk(actor):
        raise Forbidden()
    if campaign.status == CampaignStatus.FINISHED:
        raise DomainError("finished", _("Cette campagne est terminée."), status=409)
    existing = set(campaign.targets.values_list("phone", flat=True))
    try:
        report = campaign_import.read_contacts(filename, upload, existing=existing)
    except campaign_import.FileRefused as exc:
        raise invalid(file=str(exc)) from None
    blocked = _objected(campaign.account_id, {r.phone for r in report.rows})
    if blocked:  # never imported: listed in the report like the duplicates
        report.objected = [(r.line, r.phone) for r in report.rows if r.phone in blocked]
        report.rows = [r for r in report.rows if r.phone not in blocked]
    if report.ok and report.rows:
        with transaction.atomic():
            created = CampaignTarget.objects.bulk_create(
                [CampaignTarget(campaign=campaign, name=r.name, company=r.company,
                                phone=r.phone, email=r.email, notes=r.notes, line=r.line)
                 for r in report.rows], ignore_conflicts=True)
            report.imported = len(created)
            audit_record(actor=actor, action=Action.UPDATE, target=campaign,
                         account=campaign.account,
                         changes={"imported": report.imported, "file": filename[:100],
                                  "duplicates": len(report.duplicates),
                                  "objected": len(report.objected)})
    return report


def campaign_targets_withdraw(*, account_id: int, number: str) -> int:
    """An objection was executed (privacy): the number's open targets in the account's
    campaigns are closed as « Opposition » (in the caller's transaction). Returns how many."""
    return CampaignTarget.objects.filter(
        campaign__account_id=account_id, phone=number,
        status__in=(TargetStatus.TO_CALL, TargetStatus.CALL_BACK),
    ).update(status=TargetStatus.OBJECTED, next_attempt_at=None, claimed_by=None,
             claimed_until=None)


def _lockable(qs: QuerySet[CampaignTarget]) -> QuerySet[CampaignTarget]:
    # PostgreSQL: two agents asking at once skip each other's row. SQLite: the IMMEDIATE
    # write transaction already serialises them.
    if connection.vendor == "postgresql":
        return qs.select_for_update(skip_locked=True)
    return qs


@transaction.atomic
def campaign_next_target(*, agent: User, campaign: Campaign) -> CampaignTarget | None:
    """The person this agent calls now: the one they already hold, else the next one due.
    None when nobody is left to call now."""
    if not can_take_calls(agent):
        raise Forbidden()
    if campaign.status != CampaignStatus.ACTIVE:
        raise DomainError("not_active", _("La campagne n'est pas en cours."), status=409)
    now = clock.now()
    opening = campaign_opening(campaign, now)
    if opening is not None:
        raise DomainError("closed", _(
            "En dehors des heures d'ouverture du client : les appels reprennent le "
            "%(date)s.") % {"date": timezone.localtime(opening).strftime("%d/%m/%Y %H:%M")},
            status=409)
    open_statuses = (TargetStatus.TO_CALL, TargetStatus.CALL_BACK)
    held = (campaign.targets.filter(claimed_by=agent, claimed_until__gt=now,
                                    status__in=open_statuses).first())
    if held is not None:
        return held
    candidates = (campaign.targets.filter(status__in=open_statuses)
                  .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                  .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
                  .order_by(F("next_attempt_at").asc(nulls_first=True), "id"))
    target = _lockable(candidates).first()
    if target is None:
        return None
    target.claimed_by, target.claimed_until = agent, now + CLAIM
    target.save(update_fields=["claimed_by", "claimed_until"])
    return target


@transaction.atomic
def campaign_attempt_record(*, agent: User, target: CampaignTarget | int, disposition: str,
                            note: str = "", call_back_at: datetime | None = None
                            ) -> CampaignAttempt:
    """What came of calling the person; moves them on per the campaign's rules."""
    if not can_take_calls(agent):
        raise Forbidden()
    pk = target if isinstance(target, int) else target.pk
    locked = (CampaignTarget.objects.select_for_update(of=("self",))
              .select_related("campaign").get(pk=pk))
    campaign = locked.campaign
    now = clock.now()
    if locked.status == TargetStatus.OBJECTED:
        raise DomainError("objected", _("Cette personne s'est opposée à être appelée."),
                          status=409)
    if locked.status == TargetStatus.DONE:
        raise DomainError("done", _("Le résultat de cette personne est déjà enregistré."),
                          status=409)
    if locked.claimed_by_id not in (None, agent.pk) and (locked.claimed_until or now) > now:
        raise DomainError("claimed", _("Un autre télésecrétaire appelle cette personne."),
                          status=409)
    if disposition not in Disposition.values:
        raise invalid(disposition=_("Choisissez le résultat de l'appel."))
    if disposition == Disposition.CALL_BACK and (call_back_at is None or call_back_at <= now):
        raise invalid(call_back_at=_("Indiquez quand rappeler (dans le futur)."))
    locked.attempts += 1
    locked.last_disposition = disposition
    locked.claimed_by, locked.claimed_until = None, None
    if disposition in FINAL:
        locked.status, locked.next_attempt_at = TargetStatus.DONE, None
    elif disposition == Disposition.CALL_BACK:
        locked.status, locked.next_attempt_at = TargetStatus.CALL_BACK, call_back_at
    elif locked.attempts >= campaign.max_attempts:
        locked.status, locked.next_attempt_at = TargetStatus.DONE, None  # attempts used up
    else:
        locked.status = TargetStatus.CALL_BACK
        locked.next_attempt_at = now + timedelta(minutes=campaign.retry_minutes)
    locked.save(update_fields=["attempts", "last_disposition", "claimed_by", "claimed_until",
                               "status", "next_attempt_at"])
    return CampaignAttempt.objects.create(
        target=locked, campaign=campaign, agent=agent, disposition=disposition,
        note=(note or "").strip()[:1000],
        call_back_at=call_back_at if disposition == Disposition.CALL_BACK else None, at=now)

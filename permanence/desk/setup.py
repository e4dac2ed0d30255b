"""New client set-up (seed 003: kick-off, consignes, paramétrage, formation, test, lancement).

When an order is activated (shop hook), a checklist opens for the account. Three items are
ticked by people — the kick-off call booked (staff), the test calls approved (the client), the
go-live date set (staff) — and three are proved by the data itself, so nobody can tick them
without it being true:

- consignes: a version of the consignes written by the client exists;
- forwarding: a call reached the desk on one of the account's numbers (the test call proves
  the numbers are forwarded);
- agents: secretaries are assigned and each has confirmed reading the consignes in force.

The account goes live when every item is done, or when a supervisor overrides with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, invalid
from permanence.shop.models import Order

from .models import Call, ConsigneRead, ConsigneVersion, Setup, SetupItem, SetupItemCode
from .permissions import can_supervise_desk, can_take_calls

# Days after activation each item is due (calendar days: a target for the team, not a promise
# shown to the customer).
DUE_DAYS: dict[str, int] = {
    SetupItemCode.KICKOFF: 2, SetupItemCode.CONSIGNES: 5, SetupItemCode.FORWARDING: 7,
    SetupItemCode.AGENTS: 7, SetupItemCode.TEST_CALLS: 10, SetupItemCode.GO_LIVE: 14,
}
# Who ticks the item: "staff", "client", or "auto" (proved by the data).
TICKED_BY: dict[str, str] = {
    SetupItemCode.KICKOFF: "staff", SetupItemCode.CONSIGNES: "auto",
    SetupItemCode.FORWARDING: "auto", SetupItemCode.AGENTS: "auto",
    SetupItemCode.TEST_CALLS: "client", SetupItemCode.GO_LIVE: "staff",
}
MAX_EVIDENCE = 300


@dataclass(frozen=True)
class ItemView:
    code: str
    label: str
    ticked_by: str
    done: bool
    done_at: datetime | None
    evidence: str
    due_on: date | None
    overdue: bool
    owner: User | None


@dataclass(frozen=True)
class SetupView:
    setup: Setup
    items: list[ItemView]
    done: int
    total: int
    complete: bool

    @property
    def next_item(self) -> ItemView | None:
        """The first step not done (what the team should look at)."""
        return next((i for i in self.items if not i.done), None)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


# --- writes -------------------------------------------------------------------------------

@transaction.atomic
def setup_open(*, account: ClientAccount, order_reference: str = "", at: datetime | None = None,
               owner: User | None = None) -> Setup:
    """Open the account's checklist (idempotent: an account has one)."""
    now = at or clock.now()
    setup, created = Setup.objects.get_or_create(
        account=account, defaults={"opened_at": now, "order_reference": order_reference})
    if created:
        SetupItem.objects.bulk_create([
            SetupItem(setup=setup, code=code, position=position,
                      owner=owner if TICKED_BY[code] == "staff" else None,
                      due_on=(now + timedelta(days=DUE_DAYS[code])).date())
            for position, code in enumerate(SetupItemCode.values)])
        audit_record(actor=owner, action=Action.CREATE, target=setup, account=account,
                     changes={"order": order_reference})
    return setup


def setup_open_for_order(*, order: Order, at: datetime) -> Setup | None:
    """The shop's order-activated hook (runs inside the activation's transaction)."""
    account = order.account
    if account.is_operator:
        return None
    return setup_open(account=account, order_reference=order.reference, at=at,
                      owner=order.activated_by)


@transaction.atomic
def setup_item_tick(*, actor: User, account: ClientAccount, code: str, evidence: str = "",
                    undo: bool = False) -> SetupItem:
    """Tick (or untick) an item ticked by people: staff for the kick-off and the go-live
    date, the client (or staff on the client's written word, stated in the evidence) for the
    test calls."""
    setup = Setup.objects.select_for_update().filter(account=account).first()
    if setup is None:
        raise DomainError("no_setup", _("Ce compte n'a pas de mise en place en cours."),
                          status=404)
    if code not in TICKED_BY or TICKED_BY[code] == "auto":
        raise invalid(code=_("Cette étape se valide d'elle-même, quand c'est vrai."))
    is_client = actor.is_client and account.memberships.filter(user=actor).exists()
    if not (can_take_calls(actor) or (is_client and TICKED_BY[code] == "client")):
        raise Forbidden()
    evidence = (evidence or "").strip()
    if len(evidence) > MAX_EVIDENCE:
        raise invalid(evidence=ngettext("%(max)s caractère au plus.",
                                        "%(max)s caractères au plus.", MAX_EVIDENCE)
                      % {"max": MAX_EVIDENCE})
    item = SetupItem.objects.select_for_update().get(setup=setup, code=code)
    now = clock.now()
    if undo:
        item.done_at, item.done_by, item.evidence = None, None, ""
    else:
        if code == SetupItemCode.GO_LIVE:
            try:
                setup.go_live_on = date.fromisoformat(evidence)
            except ValueError:
                raise invalid(evidence=_("Indiquez la date de mise en service.")) from None
            setup.save(update_fields=["go_live_on"])
        item.done_at, item.done_by, item.evidence = now, actor, evidence
    item.save(update_fields=["done_at", "done_by", "evidence"])
    audit_record(actor=actor, action=Action.UPDATE, target=setup, account=account,
                 changes={"item": code, "done": not undo, "evidence": evidence})
    return item


@transaction.atomic
def setup_go_live(*, actor: User, account: ClientAccount, override_reason: str = "") -> Setup:
    """Put the account in service: every item done, or a supervisor's override with a
    reason (kept, audited)."""
    if not can_take_calls(actor):
        raise Forbidden()
    setup = Setup.objects.select_for_update().filter(account=account).first()
    if setup is None:
        raise DomainError("no_setup", _("Ce compte n'a pas de mise en place en cours."),
                          status=404)
    if setup.live_at is not None:
        return setup
    view = setup_view(setup)
    reason = (override_reason or "").strip()
    if not view.complete:
        if not can_supervise_desk(actor):
            raise DomainError("setup_incomplete", _(
                "Toutes les étapes doivent être faites avant la mise en service (ou un "
                "superviseur la force, avec un motif)."), status=409)
        if not reason:
            raise invalid(override_reason=_("Dites pourquoi vous passez outre les étapes "
                                            "restantes."))
        if len(reason) > MAX_EVIDENCE:
            raise invalid(override_reason=ngettext(
                "%(max)s caractère au plus.", "%(max)s caractères au plus.", MAX_EVIDENCE)
                % {"max": MAX_EVIDENCE})
        setup.override_by, setup.override_reason = actor, reason
    setup.live_at = clock.now()
    setup.save(update_fields=["live_at", "override_by", "override_reason"])
    audit_record(actor=actor, action=Action.UPDATE, target=setup, account=account,
                 changes={"live": True, "override": reason,
                          "missing": [i.code for i in view.items if not i.done]})
    return setup


# --- reads --------------------------------------------------------------------------------

def setup_for(account: ClientAccount) -> Setup | None:
    return Setup.objects.filter(account=account).first()


def _auto_done_many(account_ids: list[int]) -> dict[int, dict[str, tuple[datetime | None, str]]]:
    """For each account, the items the data proves, with when and what proves them (a fixed
    number of queries whatever the number of accounts)."""
    done: dict[int, dict[str, tuple[datetime | None, str]]] = {pk: {} for pk in account_ids}
    client_versions = (ConsigneVersion.objects.filter(account_id__in=account_ids, by_client=True)
                       .values("account_id").annotate(first=Min("created_at"),
                                                      number=Min("number")))
    for row in client_versions:
        done[row["account_id"]][SetupItemCode.CONSIGNES] = (
            row["first"], _("version %(n)s") % {"n": row["number"]})
    first_calls = (Call.objects.filter(account_id__in=account_ids).values("account_id")
                   .annotate(first=Min("offered_at"), number=Min("to_number")))
    for row in first_calls:
        done[row["account_id"]][SetupItemCode.FORWARDING] = (
            row["first"], _("appel reçu sur le %(n)s") % {"n": row["number"]})
    current = dict(ConsigneVersion.objects.filter(account_id__in=account_ids)
                   .values("account_id").annotate(number=Max("number"))
                   .values_list("account_id", "number"))
    agents: dict[int, set[int]] = {}
    through = ClientAccount.assigned_agents.through
    for account_id, user_id in (through.objects.filter(clientaccount_id__in=account_ids,
                                                       user__is_active=True)
                                .values_list("clientaccount_id", "user_id")):
        agents.setdefault(account_id, set()).add(user_id)
    reads: dict[int, dict[int, datetime]] = {}
    for account_id, number, user_id, read_at in (
            ConsigneRead.objects.filter(version__account_id__in=account_ids)
            .values_list("version__account_id", "version__number", "user_id", "read_at")):
        if current.get(account_id) == number:
            reads.setdefault(account_id, {})[user_id] = read_at
    for account_id, team in agents.items():
        got = reads.get(account_id, {})
        if account_id in current and team and team <= set(got):
            done[account_id][SetupItemCode.AGENTS] = (
                max(got[u] for u in team),
                ngettext("%(n)s télésecrétaire, version %(v)s lue",
                         "%(n)s télésecrétaires, version %(v)s lue", len(team)) % {
                    "n": len(team), "v": current[account_id]})
    return done


def _view(setup: Setup, items: list[SetupItem],
          auto: dict[str, tuple[datetime | None, str]], today: date) -> SetupView:
    views = []
    for item in items:
        if TICKED_BY[item.code] == "auto":
            at, evidence = auto.get(item.code, (None, ""))
            done = item.code in auto
        else:
            at, evidence, done = item.done_at, item.evidence, item.done_at is not None
        views.append(ItemView(
            code=item.code, label=str(SetupItemCode(item.code).label),
            ticked_by=TICKED_BY[item.code], done=done, done_at=at, evidence=evidence,
            due_on=item.due_on, overdue=bool(not done and item.due_on and item.due_on < today),
            owner=item.owner))
    done_count = sum(1 for i in views if i.done)
    return SetupView(setup=setup, items=views, done=done_count, total=len(views),
                     complete=done_count == len(views))


def setup_view(setup: Setup) -> SetupView:
    """The checklist as shown to staff and to the client."""
    return setup_views([setup])[0]


def setup_views(setups: list[Setup]) -> list[SetupView]:
    """Checklists, in a fixed number of queries whatever their number."""
    if not setups:
        return []
    today = timezone.localdate(clock.now())
    auto = _auto_done_many([s.account_id for s in setups])
    items: dict[int, list[SetupItem]] = {}
    for item in (SetupItem.objects.filter(setup__in=setups).select_related("owner")
                 .order_by("position", "id")):
        items.setdefault(item.setup_id, []).append(item)
    return [_view(s, items.get(s.pk, []), auto[s.account_id], today) for s in setups]


def setups_in_progress(accounts: QuerySet[ClientAccount]) -> list[SetupView]:
    """Checklists of the given accounts not yet in service, oldest first."""
    return setup_views(list(Setup.objects.filter(account__in=accounts, live_at__isnull=True)
                            .select_related("account").order_by("opened_at")))

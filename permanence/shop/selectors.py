"""Reads about orders. `orders_visible_to` is the single gate in front of every order query.

The order board is built for 100,000+ orders: every tab is an index range scan (status +
deadline or status + recent), its counters are capped counts computed in ONE query and
cached briefly, and the page count is capped like the inbox's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.accounts import permissions as account_permissions
from permanence.accounts.models import ClientAccount, User
from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock, consent, counting
from permanence.core.counting import capped_counts
from permanence.core.errors import Forbidden, NotFound
from permanence.core.money import compute_totals
from permanence.inbox.models import Conversation

from . import permissions
from .models import Order, OrderConsent, OrderStatus

# --- Visibility --------------------------------------------------------------------------------


def orders_visible_to(user: Actor) -> QuerySet[Order]:
    """Admin, supervisor, billing: every order. Agents: their accounts' orders. Clients: the
    orders of the accounts they are a member of. Anybody else: none."""
    if not isinstance(user, User) or not user.is_active:  # a User is always authenticated
        return Order.objects.none()
    if account_permissions.sees_all_accounts(user):
        return Order.objects.all()
    return Order.objects.filter(account__in=accounts_visible_to(user))


def get_order_for_user(user: User, pk: Any, action: str = "view") -> Order:
    """The order if `user` may see it (404 otherwise) and may do `action` (403 otherwise):
    "view" (staff page), "process" (check, validate, activate, cancel, contact)."""
    try:
        order = orders_visible_to(user).select_related(
            "account", "buyer", "terms", "validated_by", "activated_by", "checked_by",
            "quote").get(pk=pk)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Commande introuvable.")) from None
    if action == "process" and not permissions.can_process_orders(user):
        raise Forbidden(_("Vous ne pouvez pas traiter les commandes."))
    return order


def get_client_order(user: User, reference: str) -> Order:
    """An order of one of the client's accounts, by reference (anything else: 404)."""
    if not permissions.is_client(user):
        raise NotFound(_("Commande introuvable."))
    order = (orders_visible_to(user).select_related("account", "terms")
             .filter(reference=reference).first())
    if order is None:
        raise NotFound(_("Commande introuvable."))
    return order


# --- The board ---------------------------------------------------------------------------------

TABS = {
    "a_valider": gettext_lazy("À valider"),
    "a_activer": gettext_lazy("À activer"),
    "en_retard": gettext_lazy("En retard"),
    "a_verifier": gettext_lazy("Nouvelles à vérifier"),
    "paiement_attente": gettext_lazy("Paiement en attente"),
    "paiement_en_cours": gettext_lazy("Paiement en cours"),
    "paiement_echec": gettext_lazy("Paiement en échec"),
    "activees": gettext_lazy("Activées"),
    "toutes": gettext_lazy("Toutes"),
}
DEFAULT_TAB = "a_valider"
TAB_STATUS = {
    "a_valider": OrderStatus.PAID,
    "a_activer": OrderStatus.VALIDATED,
    "paiement_attente": OrderStatus.AWAITING_PAYMENT,
    "paiement_en_cours": OrderStatus.PAYMENT_PROCESSING,
    "paiement_echec": OrderStatus.FAILED,
    "activees": OrderStatus.ACTIVATED,
}
# Tabs whose natural order is the deadline (the others: most recent first).
DEADLINE_TABS = {"a_valider", "a_activer", "en_retard"}
SORTS = {
    "echeance": gettext_lazy("Échéance"),
    "recentes": gettext_lazy("Plus récentes"),
    "anciennes": gettext_lazy("Plus anciennes"),
}
# "Nouvelles à vérifier": the daily check looks at the orders of the last 30 days.
CHECK_WINDOW_DAYS = 30
CLOSED_STATUSES = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
# Only what a board row shows is fetched (an order row also holds addresses and notes).
BOARD_FIELDS = ("reference", "status", "customer_kind", "billing_name", "billing_email",
                "billing_legal_name", "payment_method", "total_ttc_cents", "created_at",
                "paid_at", "validation_due_at", "activation_due_at", "checked_at",
                "information_complete", "account__name")


def overdue_q(now: datetime) -> Q:
    return (Q(status=OrderStatus.PAID, validation_due_at__lte=now)
            | Q(status=OrderStatus.VALIDATED, activation_due_at__lte=now))


def to_check_q(now: datetime) -> Q:
    return (Q(checked_at__isnull=True, created_at__gte=now - timedelta(days=CHECK_WINDOW_DAYS))
            & ~Q(status__in=CLOSED_STATUSES))


def tab_filter(qs: QuerySet[Order], tab: str, now: datetime) -> QuerySet[Order]:
    if tab in TAB_STATUS:
        return qs.filter(status=TAB_STATUS[tab])
    if tab == "en_retard":
        return qs.filter(overdue_q(now))
    if tab == "a_verifier":
        return qs.filter(to_check_q(now))
    return qs


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _search(qs: QuerySet[Order], q: str) -> QuerySet[Order]:
    q = q.strip()
    if not q:
        return qs
    if q.upper().startswith("CM-"):
        # A reference: a range on the unique index narrows (LIKE cannot use it: SQLite's is
        # case-insensitive, PostgreSQL's UPPER() is not indexed), the prefix test is exact.
        prefix = q.upper().rstrip("-")
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return qs.filter(reference__gte=prefix, reference__lt=upper,
                         reference__istartswith=q)
    return qs.filter(Q(reference__icontains=q) | Q(billing_name__icontains=q)
                     | Q(billing_legal_name__icontains=q) | Q(billing_email__icontains=q)
                     | Q(account__name__icontains=q))


def due_expression() -> Case:
    """The deadline that matters now (Order.due_at, in SQL)."""
    return Case(When(status=OrderStatus.PAID, then=F("validation_due_at")),
                When(status=OrderStatus.VALIDATED, then=F("activation_due_at")),
                default=None)


def board_list(user: User, *, tab: str = DEFAULT_TAB, status: str = "",
               account: int | None = None, method: str = "", date_from: date | None = None,
               date_to: date | None = None, q: str = "", sort: str = "",
               now: datetime | None = None) -> QuerySet[Order]:
    now = now or clock.now()
    qs = tab_filter(orders_visible_to(user), tab, now)
    if status:
        qs = qs.filter(status=status)
    if account is not None:
        qs = qs.filter(account_id=account)
    if method:
        qs = qs.filter(payment_method=method)
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    qs = _search(qs, q).select_related("account").only(*BOARD_FIELDS)
    sort = sort if sort in SORTS else ("echeance" if tab in DEADLINE_TABS else "recentes")
    if sort == "recentes":
        return qs.order_by("-created_at", "-id")
    if sort == "anciennes":
        return qs.order_by("created_at", "id")
    # By deadline: on a one-status tab, the indexed column itself (status + due index).
    if tab == "a_valider" or status == OrderStatus.PAID:
        return qs.order_by(F("validation_due_at").asc(nulls_last=True), "created_at", "id")
    if tab == "a_activer" or status == OrderStatus.VALIDATED:
        return qs.order_by(F("activation_due_at").asc(nulls_last=True), "created_at", "id")
    return qs.annotate(due=due_expression()).order_by(F("due").asc(nulls_last=True),
                                                      "-created_at", "-id")


COUNTS_TTL = 15  # seconds: the counters may lag a little; the list itself never does


def board_counts(user: User) -> dict[str, int]:
    """Counter per tab (capped at COUNT_CAP + 1; shown "1 000+"), cached per user."""
    key = f"order-board-counts:{user.pk}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        now = clock.now()
        visible = orders_visible_to(user)
        if connection.vendor == "postgresql" and not account_permissions.sees_all_accounts(user):
            # Measured on 100,000 orders: PostgreSQL plans nine capped counts better with the
            # agent's account ids spelled out (one small query) than with nine IN (SELECT …)
            # joins; SQLite is the other way round (it then prefers the account index even
            # when the status index is the selective one).
            ids = list(accounts_visible_to(user).values_list("pk", flat=True))
            visible = Order.objects.filter(account_id__in=ids)
        counts = capped_counts({tab: tab_filter(visible, tab, now) for tab in TABS})
        cache.set(key, counts, COUNTS_TTL)
    return counts


def board_counts_forget(user: User) -> None:
    """After a staff action, that user's own counters are fresh at once."""
    cache.delete(f"order-board-counts:{user.pk}")


class CappedPaginator(Paginator[Order]):
    """Counts at most COUNT_CAP + 1 rows: beyond, the pager says "1 000+" and offers the
    first pages only."""

    _capped_count: int  # set on the first read of `count`

    @property
    def count(self) -> int:
        if not hasattr(self, "_capped_count"):
            rows = self.object_list.order_by().values("pk")  # type: ignore[attr-defined]
            self._capped_count = rows[:counting.COUNT_CAP + 1].count()
        return self._capped_count

    @property
    def capped(self) -> bool:
        return self.count > counting.COUNT_CAP


def filter_accounts(user: User, selected: int | None = None) -> list[ClientAccount]:
    """Accounts offered in the board's account filter: those with orders (at most 500, by
    name), plus the selected one."""
    visible = accounts_visible_to(user).only("pk", "name")
    key = f"order-board-accounts:{user.pk}"
    accounts: list[ClientAccount] | None = cache.get(key)
    if accounts is None:  # a filter's choices: a minute old is fine
        has_orders = Order.objects.filter(account=OuterRef("pk"))
        accounts = list(visible.filter(Exists(has_orders)).order_by("name")[:500])
        cache.set(key, accounts, 60)
    if selected is not None and all(a.pk != selected for a in accounts):
        accounts += list(visible.filter(pk=selected))
    return accounts


# --- One order ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLine:
    rate: Any
    base_cents: int
    vat_cents: int


def vat_breakdown(order: Order, lines: list[Any]) -> list[RateLine]:
    totals = compute_totals((line.total_ht_cents, line.vat_rate) for line in lines)
    return [RateLine(rate, base, vat) for rate, base, vat in totals.by_rate]


def status_label(value: str) -> str:
    try:
        return str(OrderStatus(value).label)
    except ValueError:
        return value or "—"


def order_history(order: Order) -> list[Any]:
    """The order's timeline, oldest first: status changes (with their statuses' labels) and
    events (checks, information, alerts: no status change, so no arrow)."""
    rows: list[Any] = list(order.history.select_related("actor").order_by("at", "pk"))
    for row in rows:
        row.from_label = status_label(row.from_status)
        row.to_label = status_label(row.to_status)
    events: list[Any] = list(order.events.select_related("actor").order_by("at", "pk"))
    for event in events:
        event.from_status = event.to_status = ""
    return sorted(rows + events, key=lambda r: r.at)


def order_payments(order: Order) -> QuerySet[Any]:
    # Through the reverse relation: payments sits above the shop, which does not import it.
    return order.payments.order_by("created_at", "pk")


def order_conversations(order: Order) -> QuerySet[Any]:

    return (Conversation.objects.filter(order=order, merged_into__isnull=True)
            .select_related("account", "contact").order_by("-created_at"))


def order_subscriptions(order: Order) -> QuerySet[Any]:
    # Through the reverse relation: billing sits above the shop, which does not import it.
    return order.subscriptions.order_by("pk")


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    at: datetime | None
    due: datetime | None
    state: str  # done / current / todo


def progress_steps(order: Order) -> list[Step]:
    """Payée → validée → activée, with dates and the promised deadlines (espace client)."""
    reached = {OrderStatus.PAID: 1, OrderStatus.VALIDATED: 2, OrderStatus.ACTIVATED: 3}
    level = reached.get(order.status, 0)  # type: ignore[call-overload]
    if order.status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
        level = sum(1 for at in (order.paid_at, order.validated_at, order.activated_at) if at)
    steps = [("payee", _("Payée"), order.paid_at, None),
             ("validee", _("Validée"), order.validated_at, order.validation_due_at),
             ("activee", _("Activée"), order.activated_at, order.activation_due_at)]
    out = []
    for i, (key, label, at, due) in enumerate(steps, start=1):
        state = "done" if i <= level else ("current" if i == level + 1 else "todo")
        out.append(Step(key, label, at, due, state))
    return out


# --- API ---------------------------------------------------------------------------------------


def api_order_list(user: User, *, status: str = "", account: int | None = None,
                   payment_method: str = "", created_after: datetime | None = None,
                   created_before: datetime | None = None) -> QuerySet[Order]:
    qs = orders_visible_to(user)
    if status:
        qs = qs.filter(status=status)
    if account is not None:
        qs = qs.filter(account_id=account)
    if payment_method:
        qs = qs.filter(payment_method=payment_method)
    if created_after:
        qs = qs.filter(created_at__gte=created_after)
    if created_before:
        qs = qs.filter(created_at__lt=created_before)
    return qs.order_by("-created_at", "-id")


# --- Consents ----------------------------------------------------------------------------------

def consent_rows(*, accounts: Any, email: str = "", phone: str = "") -> QuerySet[Any]:
    """What buyers accepted when ordering (the CGV, the privacy notice), as core.consent
    rows: one per acceptance, in `accounts` (ids, or a queryset of them), optionally of one
    billing e-mail address or phone number (E.164)."""
    accepted = OrderConsent.objects.filter(order__account__in=accounts)
    if email:
        accepted = accepted.filter(order__billing_email__iexact=email)
    if phone:
        accepted = accepted.filter(order__billing_phone=phone)
    return consent.rows(
        accepted, c_source=consent.CHECKOUT, c_ref=F("pk"), c_object=F("order_id"),
        c_account=F("order__account_id"), c_name=F("order__billing_name"),
        c_email=F("order__billing_email"), c_phone=F("order__billing_phone"),
        c_purpose=F("purpose"), c_version=F("version"), c_text=F("text"),
        c_at=F("accepted_at"))

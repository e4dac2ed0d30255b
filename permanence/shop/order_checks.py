"""The daily check of new orders and the overdue alerts (periodic jobs), and the "Vérifier"
service a staff member uses on an order.

- `daily_check` runs every 15 minutes; once per business day of the operator, as soon as the
  office has opened, it sends administrators and supervisors the list of the new orders not
  checked yet (e-mail + in-app notification). "Once per day" is a conditional UPDATE of a
  ScheduledJobRun row, so several schedulers/workers never send it twice.
- `overdue_check` runs every 5 minutes: an order whose validation (payée) or activation
  (validée) deadline has passed gets ONE history note and ONE in-app notification per
  supervisor, per deadline. The history note is the record: the order row is locked and the
  note looked for before writing, so a second run (or a concurrent one) never alerts twice;
  a new deadline (the clock restarted) gets its own alert.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django_tasks import task

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.calendars.services import spec_for_account
from permanence.core import clock
from permanence.core.business_time import next_opening
from permanence.core.errors import Forbidden
from permanence.core.isolation import each_isolated
from permanence.core.mail import queue_email
from permanence.core.models import ScheduledJobRun
from permanence.core.scheduler import every
from permanence.inbox.live import notifications_create

from . import permissions
from .models import Order, OrderEvent, OrderStatus
from .order_alerts import supervisors
from .orders import lock_order
from .selectors import to_check_q

DAILY_CHECK_JOB = "shop.daily_check.sent"
DAILY_CHECK_MAX_LINES = 100
NOTIFICATION_KINDS = {"daily": "order_daily_check", "validation": "order_overdue",
                      "activation": "order_overdue"}


# --- "Vérifier": the daily check of one order ---------------------------------------------------


@transaction.atomic
def order_mark_checked(*, order: Order | int, actor: User) -> Order:
    """The order has been looked at (billing details, information, payment): stamped once."""

    if not permissions.can_process_orders(actor):
        raise Forbidden(_("Vous ne pouvez pas traiter les commandes."))
    order = lock_order(order)
    if order.checked_at is not None:
        return order
    now = clock.now()
    order.checked_at = now
    order.checked_by = actor
    order.save(update_fields=["checked_at", "checked_by", "updated_at"])
    OrderEvent.objects.create(order=order, kind=OrderEvent.Kind.CHECKED, actor=actor, at=now,
                              note=_("Commande vérifiée (contrôle quotidien)"))
    audit_record(actor=actor, action=Action.UPDATE, target=order,
                 account=order.account, changes={"checked_at": [None, now.isoformat()]})
    return order


# --- Who is told -------------------------------------------------------------------------------


def _notify(users: list[User], kind: str, text: str, link: str, now: datetime,
            *, email_subject: str = "", email_body: str = "") -> None:
    """In-app notification for each user (pushed live after commit), and an e-mail when
    `email_body` is given."""

    notifications_create(users, kind=kind, text=text, link=link, now=now)
    if email_body:
        for u in users:
            queue_email(to=[u.email], subject=email_subject[:200], body=email_body)


def _local(dt: datetime) -> str:
    return formats.date_format(dt.astimezone(spec_for_account(None).tz), "d/m/Y H:i")


# --- Daily check -------------------------------------------------------------------------------


def unchecked_orders(now: datetime) -> QuerySet[Order]:
    return (Order.objects.filter(to_check_q(now)).select_related("account")
            .order_by("created_at", "pk"))


def office_opened_today(now: datetime) -> datetime | None:
    """The operator's first opening of today (local date), if today is a business day and
    it has already begun; else None."""
    spec = spec_for_account(None)
    local = now.astimezone(spec.tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    opening = next_opening(spec, day_start)
    if opening.astimezone(spec.tz).date() != local.date() or opening > now:
        return None
    return opening


def _claim_today(now: datetime, day_start: datetime) -> bool:
    ScheduledJobRun.objects.get_or_create(
        job=DAILY_CHECK_JOB, defaults={"last_run_at": now - timedelta(days=365)})
    return ScheduledJobRun.objects.filter(job=DAILY_CHECK_JOB,
                                          last_run_at__lt=day_start).update(
        last_run_at=now) == 1


def daily_check_run(now: datetime | None = None) -> str:
    now = now or clock.now()
    opening = office_opened_today(now)
    if opening is None:
        return "not a business morning"
    spec = spec_for_account(None)
    day_start = opening.astimezone(spec.tz).replace(hour=0, minute=0, second=0,
                                                    microsecond=0)
    with transaction.atomic():
        if not _claim_today(now, day_start):
            return "already sent today"
        orders = list(unchecked_orders(now)[:DAILY_CHECK_MAX_LINES + 1])
        if not orders:
            return "nothing to check"
        total = unchecked_orders(now).count() if len(orders) > DAILY_CHECK_MAX_LINES \
            else len(orders)
        link = f"{settings.SITE_URL}/app/boutique/commandes/?tab=a_verifier"
        with translation.override(settings.LANGUAGE_CODE):
            text = _("Contrôle quotidien : %(count)s nouvelle(s) commande(s) à vérifier") % {
                "count": total}
            lines = [f"- {o.reference} · {o.account.name} · {o.billing_name} · "
                     f"{OrderStatus(o.status).label} · {_local(o.created_at)}"
                     for o in orders[:DAILY_CHECK_MAX_LINES]]
            if total > DAILY_CHECK_MAX_LINES:
                lines.append(_("… et %(count)s autres.") % {
                    "count": total - DAILY_CHECK_MAX_LINES})
            body = "\n".join([_("Bonjour,"), "", text + " :", "", *lines, "",
                              _("Le tableau des commandes : %(link)s") % {"link": link}])
        _notify(supervisors(), NOTIFICATION_KINDS["daily"], text, link, now,
                email_subject=f"[Permanence] {text}", email_body=body)
    return f"sent ({total} orders)"


# --- Overdue alerts ----------------------------------------------------------------------------

DEADLINES = {"validation": (OrderStatus.PAID, "validation_due_at"),
             "activation": (OrderStatus.VALIDATED, "activation_due_at")}


def _alert_prefix(kind: str) -> str:
    """The alert note's first words, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        if kind == "validation":
            return _("Délai de validation dépassé")
        return _("Délai d'activation dépassé")


ALERT_EVENTS = {"validation": OrderEvent.Kind.VALIDATION_OVERDUE,
                "activation": OrderEvent.Kind.ACTIVATION_OVERDUE}


def _already_alerted(kind: str, order_ref: Any, due_ref: Any) -> Exists:
    return Exists(OrderEvent.objects.filter(order=order_ref, kind=ALERT_EVENTS[kind],
                                            at__gte=due_ref))


def overdue_candidates(kind: str, now: datetime) -> QuerySet[Order]:
    status, field = DEADLINES[kind]
    return (Order.objects.filter(status=status, **{f"{field}__lte": now})
            .exclude(_already_alerted(kind, OuterRef("pk"), OuterRef(field)))
            .order_by(field, "pk"))


@transaction.atomic
def _alert_one(order_id: int, kind: str, now: datetime, recipients: list[User]) -> bool:

    status, field = DEADLINES[kind]
    order = lock_order(order_id)
    due = getattr(order, field)
    if order.status != status or due is None or due > now:
        return False  # changed meanwhile
    if OrderEvent.objects.filter(order=order, kind=ALERT_EVENTS[kind], at__gte=due).exists():
        return False
    with translation.override(settings.LANGUAGE_CODE):
        note = f"{_alert_prefix(kind)} (" + _("échéance %(due)s") % {"due": _local(due)} + ")"
        text = _("Commande %(ref)s : %(what)s") % {"ref": order.reference,
                                                   "what": note[0].lower() + note[1:]}
    OrderEvent.objects.create(order=order, kind=ALERT_EVENTS[kind], actor=None, at=now,
                              note=note[:300])
    _notify(recipients, NOTIFICATION_KINDS[kind], text,
            f"{settings.SITE_URL}/app/boutique/commandes/{order.pk}/", now)
    return True


def _alert_kind(order_id: int, *, kind: str, now: datetime, recipients: list[User]) -> bool:
    return _alert_one(order_id, kind, now, recipients)


def overdue_run(now: datetime | None = None) -> str:
    now = now or clock.now()
    recipients = supervisors()
    counts = {}
    for kind in DEADLINES:
        ids = list(overdue_candidates(kind, now).values_list("pk", flat=True)[:1000])
        # One order's failure is logged and skipped: the others are still alerted.
        counts[kind] = each_isolated(
            ids, functools.partial(_alert_kind, kind=kind, now=now, recipients=recipients),
            job=f"shop.overdue_check {kind}").count(True)
    return f"validation {counts['validation']}, activation {counts['activation']}"


# --- Periodic jobs -----------------------------------------------------------------------------


@task()
def daily_check() -> str:
    return daily_check_run()


@task()
def overdue_check() -> str:
    return overdue_run()


def register_jobs() -> None:
    """Called from ShopConfig.ready(), like the inbox's jobs."""

    every(timedelta(minutes=15), name="shop.daily_check")(daily_check)
    every(timedelta(minutes=5), name="shop.overdue_check")(overdue_check)

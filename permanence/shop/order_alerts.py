"""Who on the staff hears of orders, and the live alert of a newly paid order.

The daily check and the overdue alerts (order_checks.py) and the paid alert (called by
order_transition, orders.py) tell the same people: the active administrators and
supervisors — an in-app notification each, pushed live to their bell after commit."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from permanence.accounts.models import Role, User
from permanence.core.money import format_eur
from permanence.inbox.live import notifications_create

from .models import Order, PaymentMethod

PAID_KIND = "order_paid"


def supervisors() -> list[User]:
    """The active administrators and supervisors: who is told of new and overdue orders."""
    return list(User.objects.filter(role__in=[Role.ADMIN, Role.SUPERVISOR], is_active=True)
                .order_by("pk"))


def order_paid_alert(order: Order, now: datetime) -> None:
    """A newly paid order waits for its validation: each supervisor gets a notification,
    pushed to the bell once the payment is committed (inside order_transition's
    transaction, so a rolled-back payment tells no one)."""
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Commande payée : %(ref)s · %(account)s · %(amount)s (%(method)s) — "
                 "à valider") % {
            "ref": order.reference, "account": order.account.name,
            "amount": format_eur(order.total_ttc_cents),
            "method": PaymentMethod(order.payment_method).label
            if order.payment_method in PaymentMethod.values else order.payment_method}
    notifications_create(supervisors(), kind=PAID_KIND, text=text,
                         link=reverse("orders:detail", args=[order.pk]), now=now)

"""Reads of billing. `invoices_visible_to` is the one gate in front of every invoice query:
billing staff, supervisors and administrators see every account's; clients their own
accounts'; télésecrétaires none."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.errors import NotFound

from .models_credits import CommercialGesture
from .models_invoices import Invoice
from .models_schedules import PaymentSchedule
from .permissions import can_view_billing, can_view_own_invoices

PAGE = 50


def invoices_visible_to(user: Actor) -> QuerySet[Invoice]:
    if can_view_billing(user):
        return Invoice.objects.all()
    if can_view_own_invoices(user):
        return Invoice.objects.filter(
            account__in=list(accounts_visible_to(user).values_list("pk", flat=True)))
    return Invoice.objects.none()


def get_invoice_for_user(user: Actor, number: Any) -> Invoice:
    try:
        return invoices_visible_to(user).select_related("account", "credit_of").get(
            number=str(number)[:20])
    except Invoice.DoesNotExist:
        raise NotFound(_("Facture introuvable.")) from None


def invoice_page(user: Actor, *, account: int | None = None, status: str = "",
                 kind: str = "", before: str = "", limit: int = PAGE) -> list[Invoice]:
    """One page, newest first (keyset on the number, which grows with time per series)."""
    qs = invoices_visible_to(user).select_related("account")
    if account is not None:
        qs = qs.filter(account_id=account)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if before:
        qs = qs.filter(pk__lt=int(before)) if before.isdigit() else qs.none()
    return list(qs.order_by("-pk")[:limit])


def pending_gestures(account_id: int) -> list[CommercialGesture]:
    """Commercial gestures of the account not yet taken off an invoice (in part or whole)."""
    return list(CommercialGesture.objects.filter(account_id=account_id, remaining_cents__gt=0)
                .order_by("created_at", "pk"))


def active_schedules(account_id: int) -> list[PaymentSchedule]:
    """The account's running payment schedules, with their instalments (two queries)."""
    return list(PaymentSchedule.objects.filter(account_id=account_id, status="en_cours")
                .prefetch_related("instalments").order_by("created_at", "pk"))

"""Reads of recovery: the board, one incident, an invoice's incident."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.permissions import Actor
from permanence.billing.models_invoices import Invoice
from permanence.core.errors import NotFound

from .models import IncidentState, PaymentIncident
from .permissions import can_view_incidents

LIVE = (IncidentState.OPEN, IncidentState.SUSPENDED)


def incidents_visible_to(user: Actor) -> QuerySet[PaymentIncident]:
    if can_view_incidents(user):
        return PaymentIncident.objects.all()
    return PaymentIncident.objects.none()


def incident_board(user: Actor, *, closed: bool = False,
                   limit: int = 200) -> list[PaymentIncident]:
    qs = incidents_visible_to(user).select_related("invoice", "account")
    qs = qs.filter(state=IncidentState.RESOLVED) if closed else qs.filter(state__in=LIVE)
    return list(qs.order_by("opened_at", "pk")[:limit] if not closed
                else qs.order_by("-closed_at", "-pk")[:limit])


def get_incident_for_user(user: Actor, pk: int) -> PaymentIncident:
    try:
        return incidents_visible_to(user).select_related("invoice", "account").get(pk=pk)
    except PaymentIncident.DoesNotExist:
        raise NotFound(_("Incident introuvable.")) from None


def incident_for_invoice(invoice: Invoice) -> PaymentIncident | None:
    """The invoice's live incident, else its latest (the caller checked it may see it)."""
    qs = PaymentIncident.objects.filter(invoice=invoice)
    return qs.filter(state__in=LIVE).first() or qs.order_by("-opened_at", "-pk").first()

"""Order creation (from a cart or an accepted quote). Transitions live in orders.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.catalog.pricing import LineSpec, recurring_totals_of, totals_of
from permanence.core import clock
from permanence.core.errors import invalid

from . import order_emails
from .consents import Accepted
from .models import (
    CustomerKind,
    Order,
    OrderConsent,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
)
from .references import reference_next

WITHDRAWAL_DAYS = 14


@transaction.atomic
def order_create(*, account: Any, buyer: User | None, lines: list[LineSpec],
                 billing: dict[str, str],
                 customer_kind: str = CustomerKind.PRO,
                 payment_method: str = PaymentMethod.CARD, terms: Any = None,
                 start_before_withdrawal_end: bool = False, quote: Any = None,
                 information_complete: bool | None = None, actor: User | None = None,
                 announce: bool = True, accepted: Sequence[Accepted] = ()) -> Order:
    """`billing`: name, legal_name, siret, vat_number, address, email, phone (validated by
    the caller's form; this checks only what would make the order meaningless).

    `announce=False`: the audit row and the confirmation e-mail are left to the caller, who
    calls `order_announce` once the order is final (checkout by card / SEPA: after the
    payment has started, see checkout.py — until then the order may still be undone).

    `accepted`: what the buyer accepted (the CGV, the privacy notice), recorded with the
    order's time (shop.OrderConsent)."""
    if not lines:
        raise invalid(lines=_("La commande est vide."))
    if any(line.quantity < 1 for line in lines):
        raise invalid(lines=_("Chaque ligne doit avoir une quantité d'au moins 1."))
    if payment_method not in PaymentMethod.values:
        raise invalid(payment_method=_("Moyen de paiement inconnu."))
    if not billing.get("email") or not billing.get("name") or not billing.get("address"):
        raise invalid(billing=_("Le nom, l'e-mail et l'adresse de facturation sont requis."))
    now = clock.now()
    totals = totals_of(lines)
    if information_complete is None:
        information_complete = not any(line.offer is not None and line.offer.requires_information
                                       for line in lines)
    reference = reference_next("CM", now)
    consumer = customer_kind == CustomerKind.CONSUMER
    order = Order.objects.create(
        reference=reference, account=account, buyer=buyer, customer_kind=customer_kind,
        billing_name=billing["name"][:150], billing_legal_name=billing.get("legal_name", ""),
        billing_siret=billing.get("siret", ""), billing_vat_number=billing.get("vat_number", ""),
        billing_address=billing["address"], billing_email=billing["email"],
        billing_phone=billing.get("phone", ""), terms=terms,
        terms_accepted_at=now if terms is not None else None,
        withdrawal_ends_at=now + timedelta(days=WITHDRAWAL_DAYS) if consumer else None,
        start_before_withdrawal_end=consumer and start_before_withdrawal_end,
        payment_method=payment_method,
        transfer_reference="PERM" + reference.replace("-", "")[2:],
        total_ht_cents=totals.ht, total_vat_cents=totals.vat, total_ttc_cents=totals.ttc,
        recurring_ht_cents=recurring_totals_of(lines).ht,
        information_complete=information_complete,
        information_completed_at=now if information_complete else None,
        quote=quote, created_at=now)
    OrderLine.objects.bulk_create([
        OrderLine(order=order, offer=line.offer, label=line.label[:200], quantity=line.quantity,
                  unit_price_cents=line.unit_price_cents, discount_percent=line.discount_percent,
                  vat_rate=line.vat_rate, recurring_cents=line.recurring_cents,
                  total_ht_cents=line.total_ht_cents) for line in lines])
    OrderConsent.objects.bulk_create([
        OrderConsent(order=order, purpose=a.purpose, version=a.version[:40], text=a.text[:400],
                     accepted_at=now) for a in accepted])
    OrderStatusChange.objects.create(order=order, from_status="",
                                     to_status=OrderStatus.AWAITING_PAYMENT,
                                     actor=actor or (buyer if getattr(buyer, "pk", None)
                                                     else None), at=now)
    if announce:
        order_announce(order=order, actor=actor or buyer)
    return order


def order_announce(*, order: Order, actor: User | None) -> None:
    """The order's creation in the audit log, and its confirmation e-mail (on commit)."""
    audit_record(actor=actor, action=Action.CREATE, target=order,
                 account=order.account, changes={"total_ttc_cents": order.total_ttc_cents})
    order_emails.order_email(order, "confirmation")

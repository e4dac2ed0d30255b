"""What each invoice says: the paid order's invoice, and a subscription's periodic invoice.

Periodic invoice of a subscription, issued on `next_invoice_on` (the start of the period it
opens), per the plan's terms as agreed (Subscription.included / unit_prices):
- in advance: the base fee (and the options) for the period that opens;
- in arrears: last period's usage beyond the included quantities (overage, forfait and
  hybride), or all of it (à l'acte), or the time spent (au temps passé: call minutes rounded
  up to the plan's increment, at its hourly rate);
- usage not billed yet (the account's UsageMark), so replaying records (or running twice)
  never bills them again; the run itself, by batches, is invoicing_run.
The shop's first payment already paid the first period: the first periodic invoice opens
the second one."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import override

from permanence.shop.models import Order

from . import issuing, parties
from .issuing import Draft, Line
from .models import BillingPeriod, Subscription, SubscriptionStatus
from .models_changes import SubscriptionChange
from .models_invoices import Invoice, InvoiceStatus, LineKind
from .models_usage import Metric
from .proration import Period, period_of
from .statuses import invoice_transition

BILLABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCEL_SCHEDULED,
            SubscriptionStatus.PAYMENT_DEFAULT, SubscriptionStatus.SUSPENDED)
UNITS: dict[str, str] = {Metric.CALL_MINUTES: "MIN"}


def _months(sub: Subscription) -> int:
    return 12 if sub.billing_period == BillingPeriod.ANNUAL else 1


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --------------------------------------------------------------------------- first order


def order_draft(order: Order) -> Draft:
    """The invoice of what the buyer paid at checkout (first month and one-off services)."""
    lines = []
    with override("fr"):
        for ln in order.lines.all().order_by("pk"):
            if ln.discount_percent:
                # One line at its net amount: EN 16931 forbids a negative net price line.
                lines.append(Line(
                    label=_("%(label)s (%(qty)s × %(unit)s HT, remise %(d)s %%)") % {
                        "label": ln.label, "qty": ln.quantity,
                        "unit": f"{ln.unit_price_cents / 100:.2f} €",
                        "d": f"{ln.discount_percent:g}"},
                    unit_price_cents=ln.total_ht_cents, vat_rate=ln.vat_rate,
                    kind=LineKind.BASE if ln.recurring_cents else LineKind.ONE_OFF))
            else:
                lines.append(Line(label=ln.label, unit_price_cents=ln.unit_price_cents,
                                  quantity=Decimal(ln.quantity), vat_rate=ln.vat_rate,
                                  kind=LineKind.BASE if ln.recurring_cents
                                  else LineKind.ONE_OFF))
    buyer = parties.buyer(order.account, name=order.billing_name,
                          legal_name=order.billing_legal_name, siret=order.billing_siret,
                          vat_number=order.billing_vat_number,
                          address_text=order.billing_address, email=order.billing_email)
    return Draft(account=order.account, lines=lines, order_id=order.pk, buyer=buyer,
                 paid=True)


def invoice_for_paid_order(*, order: Order, at: datetime) -> Invoice | None:
    """The shop's hook (order « payée »): the client who paid has its invoice at once. Once
    per order."""
    if Invoice.objects.filter(order=order, kind="facture").exists():
        return None
    draft = order_draft(order)
    if not draft.lines:
        return None
    invoice = issuing.issue(draft, now=at)
    return invoice_transition(invoice=invoice, to=InvoiceStatus.PAID,
                              paid_cents=invoice.total_ttc_cents,
                              note=_("Payée à la commande %(ref)s") % {"ref": order.reference})


# --------------------------------------------------------------------------- subscriptions


def _usage_lines(sub: Subscription, previous: Period,
                 used: dict[str, Decimal]) -> list[Line]:
    out = []
    label: dict[str, str] = {str(k): str(v) for k, v in Metric.choices}
    for metric, quantity in sorted(used.items()):
        if metric == Metric.CALL_MINUTES and sub.hourly_rate_cents:
            step = max(sub.increment_minutes, 1)
            minutes = Decimal(math.ceil(quantity / step) * step)
            price = sub.hourly_rate_cents / Decimal(60)
            out.append(Line(label=_("Temps passé (%(n)s min, par tranche de %(s)s min)") % {
                "n": minutes, "s": step}, unit_price_cents=int(price.to_integral_value()),
                quantity=minutes, unit="MIN", vat_rate=sub.vat_rate, kind=LineKind.USAGE,
                period_start=previous.start, period_end=previous.last_day))
            continue
        unit_price = int((sub.unit_prices or {}).get(metric, 0) or 0)
        included = Decimal((sub.included or {}).get(metric, 0) or 0)
        billed = quantity - included if included else quantity
        if unit_price <= 0 or billed <= 0:
            continue
        kind = LineKind.OVERAGE if included else LineKind.USAGE
        text = (_("Dépassement %(metric)s : %(n)s au-delà des %(inc)s inclus") if included
                else _("%(metric)s : %(n)s"))
        out.append(Line(label=text % {"metric": label.get(metric, metric), "n": billed,
                                      "inc": included},
                        unit_price_cents=unit_price, quantity=billed,
                        unit=UNITS.get(metric, "C62"), vat_rate=sub.vat_rate, kind=kind,
                        period_start=previous.start, period_end=previous.last_day))
    return out


def _change_lines(sub: Subscription, changes: list[SubscriptionChange]) -> list[Line]:
    """Plan and option changes of the period, prorated to the day: a charge, or a credit
    (quantity -1: EN 16931 forbids a negative price, not a negative quantity)."""
    out = []
    for change in changes:
        out.append(Line(
            label=_("%(what)s le %(day)s : prorata jusqu'au %(end)s") % {
                "what": change.get_kind_display(), "day": _d(change.at),
                "end": _d(change.period_end - timedelta(days=1))},
            unit_price_cents=abs(change.prorated_cents),
            quantity=Decimal(1 if change.prorated_cents > 0 else -1), vat_rate=sub.vat_rate,
            kind=LineKind.PRORATION, period_start=change.at,
            period_end=change.period_end - timedelta(days=1)))
    return out


def subscription_draft(sub: Subscription, today: date, *, changes: list[SubscriptionChange],
                       used: dict[str, Decimal]) -> tuple[Draft, Period, Period] | None:
    """The invoice `sub` gets on its `next_invoice_on` (None if not due by `today`), given
    its unbilled plan/option `changes` and the unbilled usage `used` per metric (read for a
    whole batch by invoicing_run)."""
    if sub.status not in BILLABLE or sub.next_invoice_on is None \
            or sub.next_invoice_on > today:
        return None
    months = _months(sub)
    opening = period_of(sub.next_invoice_on, months=months)
    previous = Period(sub.current_period_start or sub.next_invoice_on, sub.next_invoice_on)
    ending = sub.ends_on is not None and sub.ends_on <= opening.start
    lines: list[Line] = []
    with override("fr"):
        if not ending and sub.status != SubscriptionStatus.SUSPENDED:
            lines.append(Line(
                label=_("%(label)s — du %(a)s au %(b)s") % {
                    "label": sub.label, "a": _d(opening.start), "b": _d(opening.last_day)},
                unit_price_cents=sub.monthly_price_cents * months, vat_rate=sub.vat_rate,
                quantity=Decimal(sub.quantity), period_start=opening.start,
                period_end=opening.last_day))
            for option in sub.options or []:
                lines.append(Line(
                    label=_("Option %(label)s — du %(a)s au %(b)s") % {
                        "label": option.get("label", ""), "a": _d(opening.start),
                        "b": _d(opening.last_day)},
                    unit_price_cents=int(option.get("monthly_price_cents", 0)) * months,
                    vat_rate=sub.vat_rate, kind=LineKind.OPTION,
                    period_start=opening.start, period_end=opening.last_day))
        lines += _usage_lines(sub, previous, used)
        lines += _change_lines(sub, changes)
    lines = [ln for ln in lines if ln.unit_price_cents > 0]
    starts = [ln.period_start for ln in lines if ln.period_start]
    ends = [ln.period_end for ln in lines if ln.period_end]
    draft = Draft(account=sub.account, lines=lines, subscription_id=sub.pk,
                  period_start=min(starts) if starts else None,
                  period_end=max(ends) if ends else None)
    return draft, previous, opening

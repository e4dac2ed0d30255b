"""The invoicing run: every due subscription's periodic invoice, by batches.

A batch is up to `batch` due subscriptions, locked and issued in one transaction: their
unbilled plan changes in one query, their accounts' unbilled usage in one aggregate per
period (not one per subscription), their numbers reserved in one counter update, invoices
and lines in two inserts (issuing.issue_many). Usage is not marked record by record: each
account's UsageMark moves past what the invoice billed (see models_usage.UsageMark), so the
cost of a run grows with the subscriptions, not with the millions of usage records.

What each invoice says is invoicing.subscription_draft; the preview uses the same reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from permanence.core import clock

from . import gestures, issuing
from .invoicing import BILLABLE, subscription_draft
from .issuing import Draft
from .models import Subscription
from .models_changes import SubscriptionChange
from .models_credits import CommercialGesture
from .models_invoices import Invoice, InvoiceLine, LineKind
from .models_usage import UsageMark, UsageRecord
from .proration import Period

Usage = dict[str, Decimal]


def usage_high_water() -> int:
    """The highest usage record id below which every record is committed: the run bills
    records up to it. On PostgreSQL, ids are taken before commit, so a lower id may still be
    in flight: a SHARE lock waits for the inserts under way (and holds new ones back for
    the instant of the read). SQLite writes one transaction at a time."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE billing_usagerecord IN SHARE MODE")
        return int(UsageRecord.objects.aggregate(top=Max("pk"))["top"] or 0)


def _instant(day: date) -> datetime:
    """A day's start as an instant (local midnight): a bound the index can use."""
    return datetime.combine(day, time(0), tzinfo=timezone.get_current_timezone())


def _previous(sub: Subscription) -> Period:
    """The period that closes (due subscriptions only: next_invoice_on is set)."""
    end = sub.next_invoice_on or timezone.localdate()
    return Period(sub.current_period_start or end, end)


@dataclass(frozen=True)
class _Window:
    """The usage an invoice bills: occurred before `end`, id ≤ `upto`, not under the mark
    (or, with no mark yet, from `floor` on: the subscription's first billed period)."""

    end: datetime
    upto: int
    mark: tuple[datetime, int] | None
    floor: datetime

    def records(self, account_ids: list[int]) -> Q:
        q = Q(account_id__in=account_ids, occurred_at__lt=self.end, pk__lte=self.upto)
        if self.mark is None:
            return q & Q(occurred_at__gte=self.floor)
        before, upto = self.mark
        return q & (Q(occurred_at__gte=before) | Q(pk__gt=upto))


def _usage_carrier(subs: list[Subscription]) -> dict[int, Subscription]:
    """Usage is the account's, not a subscription's: when an account has several due
    subscriptions, the one priced per use bills it (then the lowest id)."""
    carrier: dict[int, Subscription] = {}
    for sub in sorted(subs, key=lambda s: (not (s.unit_prices or s.hourly_rate_cents), s.pk)):
        carrier.setdefault(sub.account_id, sub)
    return carrier


def batch_usage(subs: list[Subscription], upto: int,
                marks: dict[int, UsageMark]) -> dict[int, Usage]:
    """Unbilled usage per subscription (only its account's carrier gets any): one aggregate
    per distinct window, usually one or two for a batch."""
    carrier = _usage_carrier(subs)
    windows: dict[_Window, list[int]] = defaultdict(list)
    for account_id, sub in carrier.items():
        previous = _previous(sub)
        mark = marks.get(account_id)
        windows[_Window(end=_instant(previous.end), upto=upto, floor=_instant(previous.start),
                        mark=(mark.billed_before, mark.billed_upto_id) if mark else None,
                        )].append(account_id)
    used: dict[int, Usage] = defaultdict(dict)
    for window, account_ids in windows.items():
        rows = (UsageRecord.objects.filter(window.records(account_ids))
                .values("account_id", "metric").annotate(total=Sum("quantity"))
                .order_by())
        for row in rows:
            used[carrier[row["account_id"]].pk][row["metric"]] = row["total"]
    return used


def _changes(sub_ids: list[int]) -> dict[int, list[SubscriptionChange]]:
    out: dict[int, list[SubscriptionChange]] = defaultdict(list)
    for change in (SubscriptionChange.objects.filter(subscription_id__in=sub_ids,
                                                     billed_invoice_line__isnull=True)
                   .exclude(prorated_cents=0).order_by("subscription_id", "at", "pk")):
        out[change.subscription_id].append(change)
    return out


def _due(today: date, *, after: int, limit: int, lock: bool,
         only: int | None = None) -> list[Subscription]:
    qs = Subscription.objects.select_related("account").filter(
        status__in=BILLABLE, next_invoice_on__lte=today, pk__gt=after).order_by("pk")
    if only is not None:
        qs = qs.filter(pk=only)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return list(qs[:limit])


Planned = list[tuple[Subscription, Draft | None, Period]]
Uses = dict[int, list[tuple[CommercialGesture, int]]]


def _drafts(subs: list[Subscription], today: date, upto: int,
            marks: dict[int, UsageMark]) -> tuple[Planned, Uses]:
    changes = _changes([s.pk for s in subs])
    used = batch_usage(subs, upto, marks)
    out = []
    for sub in subs:
        found = subscription_draft(sub, today, changes=changes.get(sub.pk, []),
                                   used=used.get(sub.pk, {}))
        if found is None:
            continue
        draft, _previous_period, opening = found
        out.append((sub, draft if draft.lines else None, opening))
    uses = gestures.apply_to_drafts([(sub, draft) for sub, draft, _o in out
                                     if draft is not None])
    return out, uses


def _marks(account_ids: Iterable[int]) -> dict[int, UsageMark]:
    return {m.account_id: m for m in UsageMark.objects.filter(account_id__in=set(account_ids))}


def _link_lines(invoices: list[Invoice], changes: dict[int, list[SubscriptionChange]],
                uses: Uses) -> None:
    """Each plan change billed once, on the proration line that billed it; each gesture's
    part on the discount line that took it off."""
    lines: dict[tuple[int, str], list[InvoiceLine]] = defaultdict(list)
    for line in InvoiceLine.objects.filter(
            invoice__in=invoices, kind__in=(LineKind.PRORATION, LineKind.DISCOUNT)
    ).order_by("invoice_id", "position"):
        lines[(line.invoice_id, line.kind)].append(line)
    linked, used = [], []
    for invoice in invoices:
        sub_id = invoice.subscription_id or 0
        for change, line in zip(changes.get(sub_id, []),
                                lines[(invoice.pk, LineKind.PRORATION)], strict=False):
            change.billed_invoice_line = line
            linked.append(change)
        if sub_id in uses:
            used.append((uses[sub_id], lines[(invoice.pk, LineKind.DISCOUNT)]))
    SubscriptionChange.objects.bulk_update(linked, ["billed_invoice_line"])
    gestures.record_uses(used)


def _move_marks(subs: list[Subscription], invoices: dict[int, Invoice], upto: int,
                marks: dict[int, UsageMark], now: datetime) -> None:
    """The carriers' accounts are billed up to the period that opens."""
    new, moved = [], []
    for account_id, sub in _usage_carrier(subs).items():
        end = _instant(_previous(sub).end)
        mark = marks.get(account_id)
        if mark is None:
            new.append(UsageMark(account_id=account_id, billed_before=end, billed_upto_id=upto,
                                 invoice=invoices.get(sub.pk), updated_at=now))
            continue
        mark.billed_before = max(mark.billed_before, end)
        mark.billed_upto_id = max(mark.billed_upto_id, upto)
        mark.invoice = invoices.get(sub.pk) or mark.invoice
        mark.updated_at = now
        moved.append(mark)
    UsageMark.objects.bulk_create(new)
    UsageMark.objects.bulk_update(moved, ["billed_before", "billed_upto_id", "invoice",
                                          "updated_at"])


@transaction.atomic
def issue_batch(today: date, upto: int, *, after: int = 0, limit: int = 500,
                only: int | None = None) -> tuple[list[Invoice], int, int]:
    """Lock and invoice the next `limit` due subscriptions after id `after`; every one of
    them opens its next period (with or without an invoice: nothing may be due). Returns
    (invoices, subscriptions handled, last id)."""
    subs = _due(today, after=after, limit=limit, lock=True, only=only)
    if not subs:
        return [], 0, after
    marks = _marks(s.account_id for s in subs)
    planned, uses = _drafts(subs, today, upto, marks)
    with_invoice = [(sub, draft) for sub, draft, _opening in planned if draft is not None]
    now = clock.now()
    invoices = issuing.issue_many([draft for _sub, draft in with_invoice], now=now)
    by_sub = {sub.pk: invoice for (sub, _d), invoice in zip(with_invoice, invoices,
                                                               strict=True)}
    _link_lines(invoices, _changes(list(by_sub)), uses)
    handled = [sub for sub, _draft, _opening in planned]
    _move_marks(handled, by_sub, upto, marks, now)
    for sub, _draft, opening in planned:
        sub.current_period_start = opening.start
        sub.next_invoice_on = opening.end
    Subscription.objects.bulk_update(handled, ["current_period_start", "next_invoice_on"])
    return invoices, len(handled), subs[-1].pk


def run(today: date | None = None, *, batch: int = 500) -> dict[str, int]:
    """The invoicing run: every due subscription, a batch per transaction; memory stays
    bounded by the batch. Returns counts."""
    today = today or timezone.localdate()
    upto = usage_high_water()
    issued = handled = after = 0
    while True:
        invoices, count, last = issue_batch(today, upto, after=after, limit=batch)
        if last == after:
            break
        issued += len(invoices)
        handled += count
        after = last
    return {"issued": issued, "skipped": handled - issued}


def subscription_invoice(sub_id: int, today: date) -> Invoice | None:
    """One subscription's due invoice, the run's way (None when not due or nothing to bill;
    safe to run twice: the period moves with the invoice, in one transaction)."""
    upto = usage_high_water()
    invoices, _count, _last = issue_batch(today, upto, limit=1, only=sub_id)
    return invoices[0] if invoices else None


def previews(today: date, *, limit: int = 200) -> list[tuple[Subscription, Draft]]:
    """What the run would issue now (nothing stored, nothing locked): for billing staff to
    check first."""
    subs = _due(today, after=0, limit=limit, lock=False)
    upto = int(UsageRecord.objects.aggregate(top=Max("pk"))["top"] or 0)
    planned, _uses = _drafts(subs, today, upto, _marks(s.account_id for s in subs))
    return [(sub, draft) for sub, draft, _opening in planned if draft is not None]

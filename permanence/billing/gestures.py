"""Commercial gestures: an amount HT, granted by billing staff (with its reason and the
complaint it answers), taken off the account's next invoice as a « remise » line (quantity
-1: EN 16931 forbids a negative price). What one invoice cannot absorb (its total HT would go
below zero) is carried to the next."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import Forbidden, invalid

from .issuing import Draft, Line
from .models import Subscription
from .models_credits import CommercialGesture, GestureUse
from .models_invoices import InvoiceLine, LineKind
from .permissions import can_manage_billing

MAX_CENTS = 10_000_000  # 100 000 € HT: beyond, a credit note is the right document


@transaction.atomic
def gesture_grant(*, actor: User, account: ClientAccount, amount_ht_cents: int, reason: str,
                  complaint_conversation_id: int | None = None) -> CommercialGesture:
    if not can_manage_billing(actor):
        raise Forbidden(_("Seule la comptabilité accorde un geste commercial."))
    reason = (reason or "").strip()
    if not reason:
        raise invalid(reason=_("Indiquez le motif du geste commercial."))
    if not 0 < amount_ht_cents <= MAX_CENTS:
        raise invalid(amount=_("Entre 0,01 € et 100 000 € HT."))
    gesture = CommercialGesture.objects.create(
        account=account, amount_ht_cents=amount_ht_cents, remaining_cents=amount_ht_cents,
        reason=reason[:300], complaint_conversation_id=complaint_conversation_id,
        approved_by=actor, created_at=clock.now())
    audit_record(actor=actor, action=Action.CREATE, target=gesture, account=account,
                 changes={"amount_ht_cents": amount_ht_cents, "reason": gesture.reason,
                          "complaint": complaint_conversation_id})
    return gesture


def open_gestures(account_ids: list[int]) -> QuerySet[CommercialGesture]:
    return CommercialGesture.objects.filter(account_id__in=account_ids,
                                            remaining_cents__gt=0).order_by("created_at", "pk")


def apply_to_drafts(drafts: list[tuple[Subscription, Draft]],
                    ) -> dict[int, list[tuple[CommercialGesture, int]]]:
    """Add the accounts' open gestures to their first draft (in place), up to the draft's
    total HT. Returns, per subscription, the gestures used and the amounts (one query)."""
    pending: dict[int, list[CommercialGesture]] = defaultdict(list)
    for gesture in open_gestures(sorted({sub.account_id for sub, _d in drafts})):
        pending[gesture.account_id].append(gesture)
    uses: dict[int, list[tuple[CommercialGesture, int]]] = {}
    for sub, draft in drafts:
        waiting = pending.pop(sub.account_id, [])
        room = sum(ln.total_ht_cents for ln in draft.lines)
        for gesture in waiting:
            amount = min(gesture.remaining_cents, room)
            if amount <= 0:
                break
            with override("fr"):
                label = _("Geste commercial du %(day)s : %(reason)s") % {
                    "day": timezone.localtime(gesture.created_at).strftime("%d/%m/%Y"),
                    "reason": gesture.reason}
            draft.lines.append(Line(label=label[:300], unit_price_cents=amount,
                                    quantity=Decimal(-1), vat_rate=sub.vat_rate,
                                    kind=LineKind.DISCOUNT))
            uses.setdefault(sub.pk, []).append((gesture, amount))
            room -= amount
    return uses


def record_uses(pairs: list[tuple[list[tuple[CommercialGesture, int]], list[InvoiceLine]]],
                ) -> None:
    """After a batch's invoices are stored: each gesture's part on its discount line (in the
    order they were added), and what remains of it. Two queries for the batch."""
    rows, used = [], []
    for uses, lines in pairs:
        for (gesture, amount), line in zip(uses, lines, strict=True):
            rows.append(GestureUse(gesture=gesture, line=line, amount_cents=amount))
            gesture.remaining_cents -= amount
            used.append(gesture)
    if rows:
        GestureUse.objects.bulk_create(rows)
        CommercialGesture.objects.bulk_update(used, ["remaining_cents"])

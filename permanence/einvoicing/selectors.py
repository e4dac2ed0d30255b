"""Reads of e-invoicing for the staff pages (operator-wide, like billing's invoice list: the
pages are for roles that see every account)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from permanence.billing.platform import PlatformStatus

from .models import StatusEvent, Transmission, TransmissionStatus

PAGE = 100
TO_HANDLE = "a_traiter"
# What billing staff must act on: our failed or rejected deposits, and the buyer's
# answers that stop the payment (en litige, suspendue, refusée).
BUYER_PROBLEMS = (PlatformStatus.DISPUTED, PlatformStatus.SUSPENDED, PlatformStatus.REFUSED)


def transmissions_filtered(*, status: str = "", limit: int = PAGE) -> list[Transmission]:
    qs: QuerySet[Transmission] = Transmission.objects.select_related("invoice",
                                                                     "invoice__account")
    if status in TransmissionStatus.values:
        qs = qs.filter(status=status)
    elif status == TO_HANDLE:
        qs = qs.filter(Q(status__in=(TransmissionStatus.FAILED, TransmissionStatus.REJECTED))
                       | Q(lifecycle_code__in=BUYER_PROBLEMS))
    return list(qs.order_by("-updated_at", "-pk")[:limit])


def transmission_counts() -> dict[str, int]:
    counts = dict.fromkeys(TransmissionStatus.values, 0)
    for row in Transmission.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def events_of(transmissions: list[Transmission]) -> dict[int, list[StatusEvent]]:
    out: dict[int, list[StatusEvent]] = {t.pk: [] for t in transmissions}
    for event in StatusEvent.objects.filter(transmission__in=transmissions).order_by("at", "pk"):
        out[event.transmission_id].append(event)
    return out

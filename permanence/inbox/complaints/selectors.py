"""Reads of the complaint procedure: the complaints register (what the user may see, filtered)
and its CSV export rows. The steps themselves (writes) are complaints.py's."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.accounts.models import User
from permanence.inbox.models_complaints import Complaint
from permanence.inbox.selectors import conversations_visible_to


def complaints_register(user: User, *, step: str = "", account: str = "", motif: str = "",
                        resolution: str = "", date_from: date | None = None,
                        date_to: date | None = None) -> QuerySet[Complaint]:
    """The complaints register (filtered by what the user may see)."""

    qs = Complaint.objects.filter(conversation__in=conversations_visible_to(user)).select_related(
        "conversation__account", "conversation__contact", "analysed_by", "treated_by",
        "closed_by")
    if step == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif step:
        qs = qs.filter(step=step, closed_at__isnull=True) if step != "archive" else \
            qs.filter(closed_at__isnull=False)
    if account.isdigit():
        qs = qs.filter(conversation__account_id=int(account))
    if motif:
        qs = qs.filter(conversation__motif=motif)
    if resolution:
        qs = qs.filter(resolution=resolution)
    if date_from:
        qs = qs.filter(received_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(received_at__date__lte=date_to)
    return qs.order_by("-received_at")


CSV_HEADER = [gettext_lazy("Référence"), gettext_lazy("Compte"), gettext_lazy("Contact"),
              gettext_lazy("Reçue le"), gettext_lazy("Accusé de réception"),
              gettext_lazy("Motif"), gettext_lazy("Commande"), gettext_lazy("Étape"),
              gettext_lazy("Impact"), gettext_lazy("Urgence"), gettext_lazy("Analysée le"),
              gettext_lazy("Analysée par"), gettext_lazy("Solution"),
              gettext_lazy("Date promise"), gettext_lazy("Traitée le"),
              gettext_lazy("Traitée par"), gettext_lazy("Client satisfait"),
              gettext_lazy("Clôturée le"), gettext_lazy("Clôturée par")]


def complaint_csv_rows(qs: QuerySet[Complaint]) -> Any:
    def stamp(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    def who(user: User | None) -> str:
        return (user.full_name or user.email) if user else ""

    yield [str(h) for h in CSV_HEADER]
    archived = _("Archivée")
    satisfied = {True: _("oui"), False: _("non"), None: ""}
    for c in qs.iterator(chunk_size=500):
        conv = c.conversation
        yield [conv.reference, conv.account.name, str(conv.contact or ""), stamp(c.received_at),
               stamp(c.acknowledged_at), conv.get_motif_display() if conv.motif else "",
               c.order_reference, c.get_step_display() if not c.closed_at else archived,
               c.get_impact_display() if c.impact else "", c.urgency, stamp(c.analysed_at),
               who(c.analysed_by), c.get_resolution_display() if c.resolution else "",
               c.promised_date.isoformat() if c.promised_date else "", stamp(c.treated_at),
               who(c.treated_by), satisfied[c.customer_satisfied],
               stamp(c.closed_at), who(c.closed_by)]

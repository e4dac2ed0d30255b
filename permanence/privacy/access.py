"""Who at the operator accessed a client account's data: the views the audit log keeps
(conversations, calls and their recordings, appointments, orders, quotes, the account's own
record), shown to the account's clients by role and time — the promise of confidentiality,
shown kept. Staff are named by role only: the client needs to know it was the service, and
the secretaries' names are theirs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount, Role
from permanence.audit.selectors import account_views

if TYPE_CHECKING:
    from permanence.audit.models import AuditEvent

WHAT = {"inbox.conversation": _("Dossier"), "desk.call": _("Appel"),
        "agenda.appointment": _("Rendez-vous"), "shop.order": _("Commande"),
        "shop.quote": _("Devis"), "accounts.clientaccount": _("Fiche du compte")}


def accesses(account: ClientAccount) -> QuerySet[AuditEvent]:
    """The staff's views of the account's data, newest first (the account's own clients'
    views are theirs and not listed)."""
    return account_views(account.pk, exclude_roles=(Role.CLIENT,))


def row(event: AuditEvent) -> dict[str, Any]:
    roles = dict(Role.choices)
    actor = event.actor
    return {"at": event.created_at,
            "role": roles.get(actor.role, actor.role) if actor else _("Compte supprimé"),
            "what": WHAT.get(event.target_type, event.target_type),
            "label": event.target_label}

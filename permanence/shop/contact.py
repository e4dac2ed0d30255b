"""Staff contact the client from an order: a conversation in the inbox, linked to the order,
opened by the inbox's `conversation_open_outbound` on the operator's account (where the
operator's own clients write to it, e.g. /contact/) with the billing contact: an internal note
saying where it comes from, then the staff member's message to the billing e-mail."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.selectors import operator_account
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.errors import Forbidden, invalid
from permanence.inbox import services as inbox
from permanence.inbox.models import Conversation

from . import permissions
from .models import Order


@transaction.atomic
def order_contact_client(*, order: Order, actor: User, subject: str,
                         body: str) -> Conversation:

    if not permissions.can_process_orders(actor):
        raise Forbidden(_("Vous ne pouvez pas contacter ce client."))
    subject, body = (subject or "").strip(), (body or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = _("Indiquez l'objet du message.")
    if not body:
        errors["body"] = _("Le message est vide.")
    if errors:
        raise invalid(**errors)
    account = operator_account() or order.account
    context = _("Dossier ouvert par %(who)s depuis la commande %(ref)s.") % {
        "who": actor.full_name or actor.email, "ref": order.reference}
    conversation = inbox.conversation_open_outbound(
        actor=actor, account=account, subject=f"[{order.reference}] {subject}", note=context,
        body=body, contact_name=order.billing_name, contact_email=order.billing_email,
        order=order, data={"order": order.reference, "opened_by": actor.pk})
    audit_record(actor=actor, action=Action.UPDATE, target=order,
                 account=order.account, changes={"contacted": conversation.reference})
    return conversation

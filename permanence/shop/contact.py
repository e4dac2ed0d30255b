"""Staff contact the client from an order: a conversation in the inbox, linked to the order.

The inbox has no "start an outbound conversation" service yet, so this composes its public
services: `conversation_open` (acknowledgement off) creates the conversation on the
operator's account (where the operator's own clients write to it, e.g. /contact/) with the
billing contact; its first message is turned into an internal note saying where it comes
from; then `conversation_reply` sends the staff member's message to the billing e-mail
(delivered by the worker after commit) and leaves the conversation waiting for the client.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.selectors import operator_account
from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record
from permanence.core.errors import Forbidden, invalid
from permanence.inbox import services as inbox
from permanence.inbox.models import Channel, Direction, Kind, Message, Status

from . import permissions
from .models import Order


@transaction.atomic
def order_contact_client(*, order: Order, actor: Any, subject: str, body: str) -> Any:

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
    conversation = inbox.conversation_open(inbox.Incoming(
        account=account, channel=Channel.EMAIL,
        subject=f"[{order.reference}] {subject}"[:250], body_text=context,
        contact_name=order.billing_name, contact_email=order.billing_email, kind=Kind.QUESTION,
        acknowledge=False, data={"order": order.reference, "opened_by": actor.pk},
        order=order), actor=actor)
    # The opening message is not the client's: it is our note about where this comes from.
    Message.objects.filter(conversation=conversation, direction=Direction.IN).update(
        direction=Direction.NOTE, author=actor, contact=None)
    inbox.conversation_reply(actor=actor, conversation=conversation, body=body,
                             status_after=Status.PENDING_CUSTOMER)
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, target=order,
                 account=order.account, changes={"contacted": conversation.reference})
    return conversation

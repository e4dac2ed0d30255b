"""The client business's instructions ("consignes pour ce dossier") on the conversations its
contacts opened and the secretaries handle on its behalf.

Written from the espace client (the portal calls `instruction_add`): the secretaries see it on
the conversation's timeline as "Consigne du client". It is never sent to the contact and is
not an incoming message: the conversation row is not written at all, so nothing reopens, no
status changes and no deadline (SLA clock) restarts. The agents who work for the account,
and the conversation's assignee, get an in-app notification.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import background, clock
from permanence.core.errors import DomainError, Forbidden, invalid

from . import live, payloads, selectors
from .models import Channel, Conversation, Direction, Message, Origin

MAX_INSTRUCTION_CHARS = 2000


def instruction_recipients(conversation: Conversation) -> list[int]:
    """Who is told: the active agents assigned to the account, and the conversation's
    assignee (a supervisor may hold it without being assigned to the account)."""
    ids = set(conversation.account.assigned_agents.filter(is_active=True)
              .values_list("pk", flat=True))
    assignee = conversation.assignee
    if assignee is not None and assignee.is_active and not assignee.is_client:
        ids.add(assignee.pk)
    return sorted(ids)


@transaction.atomic
def instruction_add(*, user: User, conversation: Conversation, body: str) -> Message:
    """The client user's instruction on one of its account's contact conversations."""
    if not (user.is_active and user.is_client):
        raise Forbidden()
    # 404 unless the conversation belongs to one of the user's accounts (and is not merged).
    conversation = selectors.get_conversation_for_user(user, conversation.pk, "client")
    if conversation.origin != Origin.CONTACT:
        raise DomainError("not_activity", _("Une consigne ne se laisse que sur un dossier "
                                            "traité pour votre compte ; pour vos propres "
                                            "demandes, répondez dans la demande."),
                          status=409)
    body = (body or "").strip()
    if not body:
        raise invalid(body=_("Écrivez votre consigne."))
    if len(body) > MAX_INSTRUCTION_CHARS:
        raise invalid(body=_("%(max)s caractères au plus.") % {"max": MAX_INSTRUCTION_CHARS})
    message = Message.objects.create(
        conversation=conversation, direction=Direction.INSTRUCTION, channel=Channel.PORTAL,
        author=user, body_text=body, created_at=clock.now(),
        data={"portal_user": user.pk})
    audit_record(actor=user, action=Action.CREATE, target=message,
                 account=conversation.account,
                 changes={"direction": Direction.INSTRUCTION.value,
                          "conversation": conversation.pk})
    conv_id, msg_id = conversation.pk, message.pk
    transaction.on_commit(lambda: live.message_added(conv_id, msg_id))
    # An internal message: only the operator's own webhook endpoints get it.
    payloads.webhooks_emit_for("message.created", conv_id, msg_id)
    for uid in instruction_recipients(conversation):
        background.enqueue_with_transaction("inbox.notify", uid, conv_id, "instruction", msg_id)
    return message

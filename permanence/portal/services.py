"""Writes of the espace client: thin wrappers that check the client's membership, then hand
over to the inbox's services. "Mes demandes": the client business's own requests (origin
"client"; the inbox locks, routes, times the SLA and sends the acknowledgement after commit)
and its replies on them. "Activité": on its contacts' conversations it only leaves
instructions for the secretaries (inbox.instructions), never a message in the thread."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.selectors import accounts_of_client
from permanence.channels_webform.forms import REQUEST_KINDS
from permanence.core.errors import DomainError, Forbidden, NotFound
from permanence.inbox.instructions import instruction_add
from permanence.inbox.models import Channel, Conversation, Message, Origin
from permanence.inbox.services import (
    Incoming,
    conversation_mark_read,
    conversation_open,
    message_add_inbound,
)

from . import selectors


def _invalid(**fields: str) -> DomainError:
    return DomainError("invalid", _("Certains champs sont invalides."), status=422,
                       fields={k: [v] for k, v in fields.items()})


def _check_member(user: User, account: ClientAccount) -> None:
    if not (user.is_active and user.is_client):
        raise Forbidden()
    if not accounts_of_client(user).filter(pk=account.pk).exists():
        raise NotFound(_("Compte client introuvable."))


def _incoming(user: User, account: ClientAccount, *, subject: str, body: str,
              attachments: list[Any], kind: str = "question") -> Incoming:
    return Incoming(
        account=account, channel=Channel.PORTAL, subject=subject, body_text=body,
        contact_name=user.full_name, contact_email=user.email, sender=user.email,
        kind=kind, attachments=list(attachments), data={"portal_user": user.pk},
        origin=Origin.CLIENT,
    )


@transaction.atomic
def request_open(*, user: User, account: ClientAccount, kind: str, subject: str, body: str,
                 attachments: list[Any] | None = None) -> Conversation:
    """A client's new request from the espace client: a conversation of origin "client" on
    the account, the client as its contact; the e-mail acknowledgement goes out too (the
    durable proof)."""
    _check_member(user, account)
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    errors = {}
    if kind not in {value for value, _label in REQUEST_KINDS}:
        errors["kind"] = _("Choisissez un type de demande.")
    if not subject:
        errors["subject"] = _("Indiquez l'objet de votre demande.")
    if not body:
        errors["body"] = _("Écrivez votre message.")
    if errors:
        raise _invalid(**errors)
    return conversation_open(_incoming(user, account, subject=subject, body=body,
                                       attachments=attachments or [], kind=kind),
                             actor=user)


@transaction.atomic
def request_reply(*, user: User, account: ClientAccount, conversation: Conversation,
                  body: str, attachments: list[Any] | None = None) -> Message:
    """The client's answer on one of their own requests (reopens it or resumes its SLA
    clock, as any customer message does). Never on a contact's conversation (404): there
    the client leaves an instruction (`activity_instruction`)."""
    _check_member(user, account)
    conversation = selectors.client_conversation(user, account, conversation.pk,
                                                 origin=Origin.CLIENT)
    if not selectors.can_reply(conversation):
        raise DomainError("closed", _("Cette demande est close : pour une nouvelle question, "
                                      "créez une nouvelle demande."), status=409)
    body = (body or "").strip()
    if not body:
        raise _invalid(body=_("Écrivez votre message."))
    return message_add_inbound(conversation, _incoming(user, account, subject="", body=body,
                                                       attachments=attachments or []))


def request_mark_seen(*, user: User, conversation: Conversation) -> None:
    """Remember that this client opened the conversation (answers before now are read)."""
    conversation_mark_read(user=user, conversation=conversation)


def activity_instruction(*, user: User, account: ClientAccount, conversation: Conversation,
                         body: str) -> Message:
    """The client's instruction for the secretaries on one of its contacts' conversations
    ("Consigne pour ce dossier"): shown to staff only, it changes nothing else."""
    _check_member(user, account)
    conversation = selectors.client_conversation(user, account, conversation.pk,
                                                 origin=Origin.CONTACT)
    return instruction_add(user=user, conversation=conversation, body=body)

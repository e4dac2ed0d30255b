"""Manual mode (« Saisie manuelle »): when the site or a channel was down, staff register
by hand a request received by phone, e-mail, letter or otherwise, with the time it was
originally received.

The conversation is opened by the inbox's own service at that original time
(`Incoming.received_at`): its deadlines count from it in the account's business time, and
the reports, which read `created_at` and the stored business durations, place it on the
day it arrived. The first message keeps who typed it and when (`data["manual"]`, shown on
the timeline). No acknowledgement goes out unless asked for; it then states the original
reception time (channels_email)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.core import clock
from permanence.core.errors import invalid
from permanence.core.validators import normalise_phone

from .attachments import MAX_ATTACHMENT_BYTES, safe_filename
from .models import Channel, Conversation, Kind, Priority
from .permissions import can_work_conversations
from .services import Incoming, check_permission_for_account, conversation_open

# How far back a request may be registered: beyond, it is no longer "during an outage".
MAX_AGE_DAYS = 30
MAX_ATTACHMENTS = 10
# The channels a request can have arrived on, as the form offers them.
CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.POST, Channel.OTHER)


def received_at_error(received_at: datetime | None, *,
                      now: datetime | None = None) -> str | None:
    """Why this reception time is refused (None: accepted). Required, with a time zone,
    not in the future, at most MAX_AGE_DAYS old. Any year compares without overflow."""
    if received_at is None:
        return _("Indiquez la date et l'heure de réception.")
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        return _("Indiquez le fuseau horaire (par exemple +01:00 ou Z).")
    now = now or clock.now()
    if received_at > now:
        return _("La date de réception ne peut pas être dans le futur.")
    if now - received_at > timedelta(days=MAX_AGE_DAYS):
        return _("La date de réception date de plus de %(days)s jours.") % {
            "days": MAX_AGE_DAYS}
    return None


def _upload_errors(uploads: Sequence[Any]) -> list[str]:
    if len(uploads) > MAX_ATTACHMENTS:
        return [_("%(count)s pièces jointes au plus.") % {"count": MAX_ATTACHMENTS}]
    return [_("La pièce jointe « %(n)s » dépasse 10 Mo.") % {
        "n": safe_filename(getattr(u, "name", ""))}
        for u in uploads if (getattr(u, "size", 0) or 0) > MAX_ATTACHMENT_BYTES]


def _contact(name: str, email: str, phone: str,
             errors: dict[str, str]) -> tuple[str, str, str]:
    """(name, e-mail, phone) cleaned; what is wrong goes into `errors`."""
    email = (email or "").strip().lower()
    phone = (phone or "").strip()
    name = (name or "").strip()[:200]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = _("Adresse e-mail invalide.")
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError as exc:
            errors["contact_phone"] = str(exc.messages[0])
    if not (name or email or phone):
        errors["contact_name"] = _("Indiquez au moins le nom, l'e-mail ou le téléphone du "
                                   "contact.")
    return name, email, phone


def entry_data(*, actor: User, received_at: datetime, channel: str, source: str = "",
               acknowledged: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """What the first message keeps of a request registered by hand: who typed it and when,
    when it was received, on which channel, from what source (the timeline shows it)."""
    return {"by": actor.pk, "by_name": actor.full_name or actor.email,
            "at": (now or clock.now()).isoformat(), "received_at": received_at.isoformat(),
            "via": channel, "source": (source or "").strip()[:500],
            "acknowledged": acknowledged}


@transaction.atomic
def manual_entry_record(*, actor: User, account: ClientAccount, channel: str,
                        received_at: datetime | None, contact_name: str, contact_email: str,
                        contact_phone: str, subject: str, message: str, source: str = "",
                        attachments: Sequence[Any] = (), urgent: bool = False,
                        acknowledge: bool = False) -> Conversation:
    """A request received earlier, registered by hand: a conversation opened at
    `received_at`. Field errors (DomainError "invalid") for anything wrong."""
    if not can_work_conversations(actor):
        raise invalid(account=_("Vous ne pouvez pas enregistrer de demande."))
    check_permission_for_account(actor, account)
    now = clock.now()
    errors: dict[str, str] = {}
    if channel not in CHANNELS:
        errors["channel"] = _("Canal inconnu.")
    problem = received_at_error(received_at, now=now)
    if problem:
        errors["received_at"] = problem
    name, email, phone = _contact(contact_name, contact_email, contact_phone, errors)
    if not (subject or "").strip():
        errors["subject"] = _("Indiquez l'objet de la demande.")
    if not (message or "").strip():
        errors["message"] = _("Notez la demande reçue.")
    upload_problems = _upload_errors(attachments)
    if upload_problems:
        errors["attachments"] = upload_problems[0]
    if errors or received_at is None:  # (a missing time is among the errors)
        raise invalid(**errors)
    incoming = Incoming(
        account=account, channel=channel, subject=subject.strip(),
        body_text=message.strip(), contact_name=name, contact_email=email,
        contact_phone=phone, kind=Kind.QUESTION,
        priority=Priority.URGENT if urgent else Priority.NORMAL,
        sender=email, attachments=list(attachments),
        acknowledge=acknowledge and bool(email), received_at=received_at,
        data={"manual": entry_data(actor=actor, received_at=received_at, channel=channel,
                                   source=source, acknowledged=acknowledge and bool(email),
                                   now=now)},
    )
    return conversation_open(incoming, actor=actor)

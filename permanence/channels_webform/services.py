"""Writes of the contact form: a submission becomes a conversation (through the inbox's
`conversation_open`, which also routes it, starts its SLA clock and sends the acknowledgement
after commit); and the per-IP rate limit kept in the cache."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import AccountStatus, ClientAccount
from permanence.core import clock
from permanence.core.consent import text_version
from permanence.core.errors import DomainError, NotFound
from permanence.core.ratelimit import FixedWindowLimit
from permanence.inbox.models import Channel, Contact, Conversation
from permanence.inbox.services import Incoming, conversation_open

from .forms import REQUEST_KINDS

# At most 5 accepted submissions per IP address per 10 minutes (overridable in settings as
# WEBFORM_RATE_LIMIT / WEBFORM_RATE_WINDOW).
SUBMISSION_LIMIT = FixedWindowLimit(prefix="webform", setting="WEBFORM")
rate_limited = SUBMISSION_LIMIT.exceeded
rate_limit_hit = SUBMISSION_LIMIT.hit
retry_after_seconds = SUBMISSION_LIMIT.retry_after_seconds


def _invalid(**fields: str) -> DomainError:
    return DomainError("invalid", _("Certains champs sont invalides."), status=422,
                       fields={k: [v] for k, v in fields.items()})


def _phone_for_contact(account: ClientAccount, email: str, phone: str) -> str:
    """The phone to give the inbox's contact matching, or "" when it would pick someone else.

    The inbox finds a contact by e-mail, then by phone. A number already known for a
    contact with another e-mail address (a shared office line…) must not merge the two
    people: their answers would go to the other person. The number is then kept on the
    message only.
    """
    if not phone:
        return ""
    owner = Contact.objects.filter(account=account, phone=phone).only("email").first()
    if owner is not None and owner.email and owner.email != email.strip().lower():
        return ""
    return phone


@transaction.atomic
def webform_submit(*, account: ClientAccount, kind: str, name: str, email: str, phone: str,
                   subject: str, message: str, attachments: list[Any], consent_text: str,
                   embedded: bool = False) -> Conversation:
    """A contact form submission: a new conversation with its first message, the contact
    resolved (or created), attachments stored, the consent recorded on the message."""
    if account.status == AccountStatus.TERMINATED:
        raise NotFound(_("Ce formulaire de contact n'existe pas."))
    errors = {}
    if kind not in {value for value, _label in REQUEST_KINDS}:
        errors["kind"] = _("Choisissez un type de demande.")
    if not email.strip():
        errors["email"] = _("Indiquez votre adresse e-mail.")
    if not message.strip():
        errors["message"] = _("Écrivez votre message.")
    if errors:
        raise _invalid(**errors)
    now = clock.now()
    data: dict[str, Any] = {
        "webform": {"kind": kind, "phone": phone, "embedded": embedded},
        "consent": {"version": text_version(consent_text), "text": consent_text,
                    "at": now.isoformat()},
    }
    incoming = Incoming(
        account=account, channel=Channel.WEBFORM, subject=subject, body_text=message.strip(),
        contact_name=name.strip(), contact_email=email.strip().lower(),
        contact_phone=_phone_for_contact(account, email, phone), kind=kind,
        sender=email.strip().lower(), attachments=list(attachments), data=data,
    )
    return conversation_open(incoming)

"""Reads of the contact form: which account a public contact page belongs to, and the
consents given through it."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet, TextField
from django.db.models import Value as V
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from permanence.accounts.models import AccountStatus, ClientAccount
from permanence.core import consent
from permanence.core.errors import NotFound
from permanence.inbox.models import Channel, Direction, Message


def contact_account(slug: str | None) -> ClientAccount:
    """The account behind /contact/<slug>/ (or the operator's for /contact/).

    Terminated accounts (résiliés) have no contact form any more: 404, like an unknown slug.
    """
    accounts = ClientAccount.objects.exclude(status=AccountStatus.TERMINATED)
    if slug is None:
        account = accounts.filter(is_operator=True).first()
    else:
        account = accounts.filter(slug=slug).first()
    if account is None:
        raise NotFound(_("Ce formulaire de contact n'existe pas."))
    return account


def consent_rows(*, accounts: Any, email: str = "", phone: str = "") -> QuerySet[Any]:
    """The consents given in contact forms, as core.consent rows: one per message sent
    through the form (its `data["consent"]`), in `accounts` (ids, or a queryset of them),
    optionally of one e-mail address or phone number (E.164)."""
    messages = Message.objects.filter(channel=Channel.WEBFORM, direction=Direction.IN,
                                      data__has_key="consent",
                                      conversation__account__in=accounts)
    if email:
        messages = messages.filter(sender__iexact=email)
    if phone:
        messages = messages.filter(data__webform__phone=phone)
    return consent.rows(
        messages, c_source=consent.CONTACT_FORM, c_ref=F("pk"), c_object=F("conversation_id"),
        c_account=F("conversation__account_id"), c_name=Coalesce(F("contact__name"), V("")),
        c_email=F("sender"), c_phone=Coalesce(KT("data__webform__phone"), V(""), output_field=TextField()),
        c_purpose=consent.PURPOSE_REQUEST,
        c_version=Coalesce(KT("data__consent__version"), V(""), output_field=TextField()),
        c_text=Coalesce(KT("data__consent__text"), V(""), output_field=TextField()),
        c_at=F("created_at"))

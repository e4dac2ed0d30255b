"""Reads of the contact form: which account a public contact page belongs to."""

from __future__ import annotations

from django.utils.translation import gettext as _

from permanence.accounts.models import AccountStatus, ClientAccount
from permanence.core.errors import NotFound


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

"""Reads. `accounts_visible_to` is the single gate in front of every account query."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils.translation import gettext as _

from permanence.core.errors import Forbidden, NotFound

from . import permissions
from .models import (
    ASSIGNABLE_ROLES,
    STAFF_ROLES,
    BackupCode,
    ClientAccount,
    ContactChannel,
    Role,
    User,
)
from .permissions import Actor


def accounts_visible_to(user: Actor) -> QuerySet[ClientAccount]:
    qs = ClientAccount.objects.all()
    if permissions.sees_all_accounts(user):
        return qs
    if not isinstance(user, User) or not user.is_active:  # a User is always authenticated
        return qs.none()
    if user.role == Role.AGENT:
        return qs.filter(assigned_agents=user)
    if user.role == Role.CLIENT:
        return qs.filter(memberships__user=user)
    return qs.none()


def get_account_for_user(user: User, pk: Any, action: str = "view") -> ClientAccount:
    """The account if `user` may see it (404 otherwise), and may do `action` (403 otherwise)."""
    try:
        account = accounts_visible_to(user).get(pk=pk)
    except (ClientAccount.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Compte client introuvable.")) from None
    if action != "view" and not permissions.can_manage_accounts(user):
        raise Forbidden(_("Vous ne pouvez pas modifier ce compte client."))
    return account


def account_list(
    user: User, *, q: str = "", status: str = "", sector: str = "", kind: str = "",
    agent: int | None = None,
) -> QuerySet[ClientAccount]:
    qs = accounts_visible_to(user)
    if q.strip():
        qs = qs.filter(_search_condition(q.strip()[:MAX_QUERY_CHARS]))
    if status:
        qs = qs.filter(status=status)
    if sector:
        qs = qs.filter(sector=sector)
    if kind:
        qs = qs.filter(kind=kind)
    if agent:
        qs = qs.filter(assigned_agents__id=agent)
    return qs.order_by("-is_operator", "name")


MAX_QUERY_CHARS = 200
_SEPARATORS = re.compile(r"[\s.\-/()]")


def _search_condition(text: str) -> Q:
    """Substrings of the name, identifier, legal name, billing e-mail, SIRET and of the
    account's e-mail addresses and phone numbers (a French number typed with its leading 0
    or with spaces matches the stored E.164 "+33…"); on PostgreSQL also a name or legal
    name with a typo ("ordonance" finds "Pharmacie de l'Ordonnance"): pg_trgm's word
    similarity, read from the trigram indexes of migration accounts/0005."""
    channels = ContactChannel.objects.filter(value__icontains=text)
    condition = (Q(name__icontains=text) | Q(slug__icontains=text)
                 | Q(legal_name__icontains=text) | Q(billing_email__icontains=text))
    number = _SEPARATORS.sub("", text)
    digits = number[1:] if number.startswith("+") else number
    if digits.isdigit() and len(digits) >= 3:
        condition |= Q(siret__contains=digits)
        variants = [number] + (["+33" + number[1:]] if number.startswith("0")
                               and not number.startswith("00") else [])
        for variant in variants:
            channels = channels | ContactChannel.objects.filter(value__contains=variant)
    condition |= Q(pk__in=channels.values("account_id"))
    if connection.vendor == "postgresql" and len(text) >= 3:
        condition |= Q(_WordSimilar(F("name"), text)) | Q(_WordSimilar(F("legal_name"), text))
    return condition


class _WordSimilar(Func):
    """`text <% column` (pg_trgm): some word of the column looks like `text` (word
    similarity above pg_trgm.word_similarity_threshold, 0.6 by default)."""

    output_field = BooleanField()

    def __init__(self, column: F, text: str) -> None:
        super().__init__(column)
        self.text = text

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        return f"%s <%% {column_sql}", (self.text, *column_params)


def operator_account() -> ClientAccount | None:
    return ClientAccount.objects.filter(is_operator=True).first()


def staff_users() -> QuerySet[User]:
    """Everyone on the operator's side (active or not), for the staff admin pages."""
    return User.objects.exclude(role=Role.CLIENT).order_by("full_name", "email")


def active_staff() -> QuerySet[User]:
    """Who counts as staff today: active users of a staff role (mentions, teams)."""
    return User.objects.filter(is_active=True, role__in=STAFF_ROLES)


def assignable_staff() -> QuerySet[User]:
    """Who may be given a conversation: active agents, supervisors and administrators."""
    return User.objects.filter(is_active=True, role__in=ASSIGNABLE_ROLES).order_by(
        "full_name", "email")


def agents() -> QuerySet[User]:
    return User.objects.filter(role=Role.AGENT, is_active=True).order_by("full_name", "email")


def accounts_of_client(user: Actor) -> QuerySet[ClientAccount]:
    if not isinstance(user, User):  # anonymous
        return ClientAccount.objects.none()
    return ClientAccount.objects.filter(memberships__user=user).order_by("name")


# The espace client remembers which of the client's accounts is being looked at.
PORTAL_ACCOUNT_SESSION_KEY = "portal_account_id"


def client_current_account(user: User, chosen: Any) -> tuple[ClientAccount | None,
                                                           list[ClientAccount]]:
    """The account a client chose with the switcher (`chosen`, a pk from the session) among
    their own, else their first; and all their accounts."""
    accounts = list(accounts_of_client(user))
    if not accounts:
        return None, accounts
    for account in accounts:
        if account.pk == chosen:
            return account, accounts
    return accounts[0], accounts


def backup_codes_left(user: User) -> int:
    """Unused two-factor backup codes of a user."""
    return BackupCode.objects.filter(user=user, used_at__isnull=True).count()

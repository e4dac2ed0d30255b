"""Writes on users, client accounts, channels, operator identity and API tokens.

Each service runs in one transaction, validates, writes, and records an audit event.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.audit.actions import Action
from permanence.audit.services import audit_record, diff_fields
from permanence.core.errors import DomainError, Forbidden, invalid_fields
from permanence.core.validators import (
    clean_iban,
    clean_siren,
    clean_siret,
    clean_vat,
    normalise_phone,
)

from . import permissions
from .models import (
    AccountStatus,
    ApiToken,
    ClientAccount,
    ContactChannel,
    Membership,
    MembershipRole,
    OperatorIdentity,
    Role,
    User,
    hash_token,
)

ACCOUNT_FIELDS = (
    "name", "slug", "kind", "sector", "status", "legal_name", "siret", "vat_number",
    "billing_address", "billing_email", "notes",
)


_field_errors = invalid_fields


def _clean_account_data(data: dict[str, Any], *, instance: ClientAccount | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out = dict(data)
    for name, cleaner in (("siret", clean_siret), ("vat_number", clean_vat)):
        if name in out:
            try:
                out[name] = cleaner(out[name] or "")
            except ValidationError as exc:
                errors[name] = list(exc.messages)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"]:
            errors["name"] = [_("Le nom est obligatoire.")]
    if "slug" in out or instance is None:
        slug = slugify(out.get("slug") or out.get("name") or "")[:80]
        if not slug:
            errors.setdefault("slug", [_("Identifiant invalide.")])
        elif ClientAccount.objects.filter(slug=slug).exclude(
            pk=instance.pk if instance is not None else -1
        ).exists():
            errors["slug"] = [_("Cet identifiant est déjà utilisé par un autre compte.")]
        out["slug"] = slug
    if errors:
        raise _field_errors(errors)
    return out


@transaction.atomic
def account_create(*, actor: User, data: dict[str, Any],
                   agent_ids: list[int] | None = None) -> ClientAccount:
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas créer de compte client."))
    clean = _clean_account_data({k: v for k, v in data.items() if k in ACCOUNT_FIELDS},
                                instance=None)
    account = ClientAccount.objects.create(**clean)
    if agent_ids:
        _set_agents(account, agent_ids)
    audit_record(actor=actor, action=Action.CREATE, target=account,
                 changes={k: clean[k] for k in clean if k != "notes"})
    return account


@transaction.atomic
def account_update(*, actor: User, account: ClientAccount, data: dict[str, Any]) -> ClientAccount:
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier ce compte client."))
    account = ClientAccount.objects.select_for_update().get(pk=account.pk)
    clean = _clean_account_data({k: v for k, v in data.items() if k in ACCOUNT_FIELDS},
                                instance=account)
    changes = diff_fields(account, clean)
    if changes:
        for name, value in clean.items():
            setattr(account, name, value)
        account.save()
        audit_record(actor=actor, action=Action.UPDATE, target=account,
                     changes=changes)
    return account


def _set_agents(account: ClientAccount, agent_ids: list[int]) -> tuple[set[int], set[int]]:
    wanted = set(agent_ids)
    valid = set(User.objects.filter(pk__in=wanted, role=Role.AGENT).values_list("pk", flat=True))
    if wanted - valid:
        raise _field_errors({"assigned_agents": [_("Seuls des télésecrétaires peuvent être affectés.")]})
    current = set(account.assigned_agents.values_list("pk", flat=True))
    account.assigned_agents.set(valid)
    return valid - current, current - valid


@transaction.atomic
def account_set_agents(*, actor: User, account: ClientAccount, agent_ids: list[int]) -> None:
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas affecter de télésecrétaires."))
    account = ClientAccount.objects.select_for_update().get(pk=account.pk)
    added, removed = _set_agents(account, agent_ids)
    if added or removed:
        audit_record(actor=actor, action=Action.UPDATE, target=account,
                     changes={"assigned_agents": {"added": sorted(added),
                                                  "removed": sorted(removed)}})


@transaction.atomic
def channel_add(*, actor: User, account: ClientAccount, kind: str, value: str,
                label: str = "") -> ContactChannel:
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier ce compte client."))
    if kind == ContactChannel.Kind.EMAIL:
        value = (value or "").strip().lower()
        try:
            validate_email(value)
        except ValidationError:
            raise _field_errors({"value": [_("Adresse e-mail invalide.")]}) from None
    elif kind == ContactChannel.Kind.PHONE:
        try:
            value = normalise_phone(value)
        except ValidationError as exc:
            raise _field_errors({"value": list(exc.messages)}) from None
    else:
        raise _field_errors({"kind": [_("Type de canal inconnu.")]})
    owner = ContactChannel.objects.filter(value=value).select_related("account").first()
    if owner:
        raise _field_errors({"value": [
            _("Déjà utilisé par le compte « %(name)s ».") % {"name": owner.account.name}
        ]})
    try:
        with transaction.atomic():
            channel = ContactChannel.objects.create(account=account, kind=kind, value=value,
                                                    label=label[:80])
    except IntegrityError:
        raise _field_errors({"value": [_("Déjà utilisé par un autre compte.")]}) from None
    audit_record(actor=actor, action=Action.CREATE, target=channel, account=account,
                 changes={"kind": kind, "value": value})
    return channel


@transaction.atomic
def channel_remove(*, actor: User, channel: ContactChannel) -> None:
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier ce compte client."))
    audit_record(actor=actor, action=Action.DELETE, target=channel,
                 account=channel.account, changes={"value": channel.value})
    channel.delete()


# --- Staff and client users ---------------------------------------------------------------

USER_FIELDS = ("email", "full_name", "phone", "role", "is_active", "language")


@transaction.atomic
def staff_create(*, actor: User, data: dict[str, Any], password: str | None = None) -> User:
    if not permissions.can_manage_staff(actor):
        raise Forbidden(_("Seuls les administrateurs gèrent l'équipe."))
    email = (data.get("email") or "").strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise _field_errors({"email": [_("Un utilisateur existe déjà avec cette adresse.")]})
    if data.get("role") not in (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.BILLING):
        raise _field_errors({"role": [_("Rôle d'équipe invalide.")]})
    fields = {k: v for k, v in data.items() if k in USER_FIELDS and k != "email"}
    user = User.objects.create_user(email, password, **fields)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    audit_record(actor=actor, action=Action.CREATE, target=user,
                 changes={"email": email, "role": user.role})
    return user


@transaction.atomic
def staff_update(*, actor: User, user: User, data: dict[str, Any]) -> User:
    if not permissions.can_manage_staff(actor):
        raise Forbidden(_("Seuls les administrateurs gèrent l'équipe."))
    user = User.objects.select_for_update().get(pk=user.pk)
    clean = {k: v for k, v in data.items() if k in USER_FIELDS}
    if "email" in clean:
        clean["email"] = clean["email"].strip().lower()
        if User.objects.filter(email__iexact=clean["email"]).exclude(pk=user.pk).exists():
            raise _field_errors({"email": [_("Un utilisateur existe déjà avec cette adresse.")]})
    if user.pk == actor.pk and (clean.get("role", Role.ADMIN) != Role.ADMIN
                                or clean.get("is_active") is False):
        raise DomainError("self_demotion",
                          _("Vous ne pouvez pas retirer vos propres droits d'administrateur."))
    changes = diff_fields(user, clean)
    if changes:
        for name, value in clean.items():
            setattr(user, name, value)
        user.save()
        audit_record(actor=actor, action=Action.UPDATE, target=user, changes=changes)
    return user


@transaction.atomic
def client_user_add(*, actor: User, account: ClientAccount, email: str, full_name: str = "",
                    role: str = MembershipRole.MEMBER, password: str | None = None) -> Membership:
    """Give a person access to the account's espace client (creating their login if needed)."""
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Vous ne pouvez pas modifier ce compte client."))
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, password, full_name=full_name, role=Role.CLIENT)
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    elif user.role != Role.CLIENT:
        raise _field_errors({"email": [_("Cette adresse appartient à un membre de l'équipe.")]})
    membership, created = Membership.objects.get_or_create(
        user=user, account=account, defaults={"role": role}
    )
    if created:
        audit_record(actor=actor, action=Action.CREATE, target=membership,
                     account=account, changes={"email": email, "role": role})
    return membership


# --- Operator identity -------------------------------------------------------------------------

OPERATOR_FIELDS = ("legal_name", "siren", "siret", "vat_number", "address", "iban",
                   "support_email", "support_phone", "opening_hours_text")


def operator_identity() -> OperatorIdentity:
    identity = OperatorIdentity.objects.filter(pk=1).first()
    return identity or OperatorIdentity(pk=1, legal_name="Permanence")


@transaction.atomic
def operator_update(*, actor: User, data: dict[str, Any], logo: Any = None) -> OperatorIdentity:
    if not permissions.can_edit_operator(actor):
        raise Forbidden(_("Seuls les administrateurs modifient l'identité de l'opérateur."))
    errors: dict[str, list[str]] = {}
    clean = {k: v for k, v in data.items() if k in OPERATOR_FIELDS}
    for name, cleaner in (("siren", clean_siren), ("siret", clean_siret),
                          ("vat_number", clean_vat), ("iban", clean_iban)):
        if name in clean:
            try:
                clean[name] = cleaner(clean[name] or "")
            except ValidationError as exc:
                errors[name] = list(exc.messages)
    if clean.get("siren") and clean.get("siret") and not clean["siret"].startswith(clean["siren"]):
        errors.setdefault("siret", []).append(_("Le SIRET doit commencer par le SIREN."))
    if errors:
        raise _field_errors(errors)
    OperatorIdentity.objects.get_or_create(pk=1, defaults={"legal_name": "Permanence"})
    identity = OperatorIdentity.objects.select_for_update().get(pk=1)
    changes = diff_fields(identity, clean)
    for name, value in clean.items():
        setattr(identity, name, value)
    if logo is not None:
        identity.logo = logo
        changes["logo"] = ["", getattr(logo, "name", "logo")]
    identity.save()
    if changes:
        audit_record(actor=actor, action=Action.UPDATE, target=identity,
                     changes=changes)
    return identity


# --- API tokens --------------------------------------------------------------------------------

@transaction.atomic
def api_token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is never stored and shown only once."""
    if actor.pk != user.pk and not permissions.can_manage_staff(actor):
        raise Forbidden(_("Vous ne pouvez créer des jetons que pour vous-même."))
    raw = "pmt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=(name or "API")[:80], prefix=raw[:10],
                                    token_hash=hash_token(raw))
    audit_record(actor=actor, action=Action.CREATE, target=token,
                 changes={"user": user.email, "name": token.name})
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> None:
    if actor.pk != token.user_id and not permissions.can_manage_staff(actor):
        raise Forbidden(_("Vous ne pouvez révoquer que vos propres jetons."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=Action.UPDATE, target=token,
                     changes={"revoked": True})


def api_token_authenticate(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Throttled write: at most once a minute per token, to keep API reads read-only.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user




@transaction.atomic
def profile_update(*, actor: User, data: dict[str, Any]) -> User:
    user = User.objects.select_for_update().get(pk=actor.pk)
    clean = {k: v for k, v in data.items()
             if k in ("full_name", "phone", "language", "notify_by_email")}
    changes = diff_fields(user, clean)
    if changes:
        for name, value in clean.items():
            setattr(user, name, value)
        user.save()
        audit_record(actor=actor, action=Action.UPDATE, target=user, changes=changes)
    return user


# --- Customers created by the storefront (checkout, quote acceptance) -----------------------
# The shop creates logins, accounts and memberships through these; it writes the audit rows
# itself, when the customer's order is placed (see shop.checkout).

def login_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=(email or "").strip()).exists()


def account_slug_free(name: str) -> str:
    """A slug for a new account from its name, unique among accounts."""
    base = (slugify(name) or "client")[:70]
    slug, n = base, 1
    while ClientAccount.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def client_login_create(*, email: str, full_name: str, phone: str = "",
                        password: str | None = None, password_hash: str = "") -> User:
    """A client's login: with `password`, or an already hashed one, or none (the client sets
    one with "mot de passe oublié")."""
    user = User.objects.create_user(email, password or None, role=Role.CLIENT,
                                    full_name=full_name[:150], phone=phone[:30])
    if password_hash:
        user.password = password_hash
        user.save(update_fields=["password"])
    elif not password:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def prospect_account_create(*, name: str, kind: str, billing_address: str, billing_email: str,
                            legal_name: str = "", siret: str = "", vat_number: str = "",
                            sector: str | None = None) -> ClientAccount:
    """A client account created by a purchase or a quote: a prospect until an order is
    activated."""
    fields: dict[str, Any] = {"sector": sector} if sector is not None else {}
    return ClientAccount.objects.create(
        name=name[:200], slug=account_slug_free(name), kind=kind,
        status=AccountStatus.PROSPECT, legal_name=legal_name[:200], siret=siret,
        vat_number=vat_number, billing_address=billing_address, billing_email=billing_email,
        **fields)


def owner_membership_create(*, user: User, account: ClientAccount) -> Membership:
    return Membership.objects.create(user=user, account=account, role=MembershipRole.OWNER)


# --- Contact channels as lists (the API's email_addresses / phone_numbers) -------------------

CHANNEL_FIELDS = {"email_addresses": ContactChannel.Kind.EMAIL,
                  "phone_numbers": ContactChannel.Kind.PHONE}
CHANNEL_LABELS = {"email_addresses": gettext_lazy("Adresse e-mail"),
                  "phone_numbers": gettext_lazy("Numéro de téléphone")}


def _normalise_channel(kind: str, value: str) -> str:
    if kind == ContactChannel.Kind.EMAIL:
        return (value or "").strip().lower()
    try:
        return normalise_phone(value)
    except ValidationError:
        return (value or "").strip()  # channel_add reports it with its own message


@transaction.atomic
def account_channels_set(*, actor: User, account: ClientAccount,
                         wanted: dict[str, list[str]]) -> None:
    """Replace the account's e-mail addresses and/or phone numbers (all or nothing). Errors name the field: {"email_addresses": ["x@y.fr : Déjà utilisé…"]}."""
    errors: dict[str, list[str]] = {}
    for name, values in wanted.items():
        kind = CHANNEL_FIELDS[name]
        target = list(dict.fromkeys(_normalise_channel(kind, v) for v in values if (v or "").strip()))
        current = {c.value: c for c in ContactChannel.objects.filter(account=account, kind=kind)}
        for value, channel in current.items():
            if value not in target:
                channel_remove(actor=actor, channel=channel)
        for value in target:
            if value in current:
                continue
            try:
                with transaction.atomic():
                    channel_add(actor=actor, account=account, kind=kind, value=value)
            except DomainError as exc:
                problems = [str(m) for msgs in exc.fields.values() for m in msgs]
                label = str(CHANNEL_LABELS[name])
                errors.setdefault(name, []).extend(
                    f"{label} {value} : {p}" for p in (problems or [str(exc.message)]))
    if errors:
        raise DomainError("invalid", _("Certains champs sont invalides."), status=422,
                          fields=errors)


# --- The account's status, as its orders move ------------------------------------------------

# The statuses an activated order turns into « Actif »: a prospect becomes a client, a former
# client comes back. A suspended account stays suspended (billing lifts it, not a new order).
ACTIVATED_BY_AN_ORDER = (AccountStatus.PROSPECT, AccountStatus.TERMINATED)


@transaction.atomic
def account_activate_for_order(*, account: ClientAccount | int, actor: User | None,
                               order_reference: str, actor_label: str = "") -> ClientAccount:
    """An order of `account` has been activated (called by the shop's order_transition in its
    transaction): « Prospect » (or « Résilié ») becomes « Actif », with an audit row naming the
    order. Any other status is left alone; calling it twice changes nothing."""
    pk = account if isinstance(account, int) else account.pk
    locked = ClientAccount.objects.select_for_update().get(pk=pk)
    if locked.status not in ACTIVATED_BY_AN_ORDER:
        return locked
    previous = locked.status
    locked.status = AccountStatus.ACTIVE
    locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, target=locked,
                 changes={"status": [previous, AccountStatus.ACTIVE],
                          "order": order_reference},
                 actor_label=actor_label or ("" if actor else "system"))
    return locked


# The statuses billing sets as the account's subscriptions move (billing/subscriptions.py).
BILLING_STATUSES = (AccountStatus.ACTIVE, AccountStatus.SUSPENDED, AccountStatus.TERMINATED)


@transaction.atomic
def account_status_set_by_billing(*, account: ClientAccount | int, status: str,
                                  actor: User | None, reason: str,
                                  actor_label: str = "") -> ClientAccount:
    """The account's service follows its subscriptions: « Actif » while one runs,
    « Suspendu » when all are suspended or in payment default, « Résilié » once all have
    ended. Locks the account, writes an audit row naming `reason`; no-op when unchanged."""
    if status not in BILLING_STATUSES:
        raise DomainError("invalid_status", _("Statut de compte invalide."), status=422)
    pk = account if isinstance(account, int) else account.pk
    locked = ClientAccount.objects.select_for_update().get(pk=pk)
    if locked.status == status:
        return locked
    previous = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, target=locked,
                 changes={"status": [previous, status], "reason": reason},
                 actor_label=actor_label or ("" if actor else "system"))
    return locked

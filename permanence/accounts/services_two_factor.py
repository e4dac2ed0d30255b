"""Writes of staff two-factor authentication: enrolment, confirmation, backup codes, disabling,
an administrator's reset, and the code step of a login.

Each change of the second factor bumps the user's session epoch (User._get_session_auth_hash),
so every other session of that user ends; the views keep the current one with
update_session_auth_hash. Every change is audited; failed codes are audited by the login
signal the view sends (which django-axes also counts).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden

from . import permissions, totp
from .models import BackupCode, User

TOTP = "totp"
BACKUP = "backup"


def _invalid_code() -> DomainError:
    return DomainError("invalid_code", _("Code incorrect ou expiré."), status=422,
                       fields={"code": [_("Code incorrect ou expiré.")]})


def _locked(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def _check_totp(user: User, code: str) -> bool:
    """Checks a code against the user's secret; on success records its step (no replay).
    `user` must be locked."""
    secret = totp.decrypt_secret(user.totp_secret_encrypted)
    if not secret:
        return False
    step = totp.totp_verify(secret, code, clock.now().timestamp(), user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    user.save(update_fields=["totp_last_step"])
    return True


def _new_backup_codes(user: User) -> list[str]:
    BackupCode.objects.filter(user=user).delete()
    codes = [totp.generate_backup_code() for _ in range(totp.BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create([
        BackupCode(user=user, code_hash=totp.hash_backup_code(c), created_at=clock.now())
        for c in codes])
    return codes


def _bump_epoch(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def two_factor_start(*, actor: User) -> str:
    """A new secret, stored encrypted but not in force until a first code confirms it.
    Returns the secret (base32) to show to its owner."""
    if not permissions.can_use_two_factor(actor):
        raise Forbidden()
    user = _locked(actor)
    if user.two_factor_enabled:
        raise DomainError("already_enabled",
                          _("La double authentification est déjà activée."))
    secret = totp.generate_secret()
    user.totp_secret_encrypted = totp.encrypt_secret(secret)
    user.totp_last_step = None
    user.save(update_fields=["totp_secret_encrypted", "totp_last_step"])
    return secret


def pending_secret(user: User) -> str:
    """The secret of an enrolment in progress ("" when there is none)."""
    if user.two_factor_enabled:
        return ""
    return totp.decrypt_secret(user.totp_secret_encrypted)


@transaction.atomic
def two_factor_confirm(*, actor: User, code: str) -> list[str]:
    """Puts the enrolment in force with a first valid code; returns the 10 backup codes,
    which are shown once (only their hashes are kept)."""
    user = _locked(actor)
    if user.two_factor_enabled or not pending_secret(user):
        raise DomainError("no_enrolment", _("Aucune activation en cours."))
    if not _check_totp(user, code):
        raise _invalid_code()
    user.totp_enabled_at = clock.now()
    user.save(update_fields=["totp_enabled_at"])
    codes = _new_backup_codes(user)
    _bump_epoch(user)
    audit_record(actor=user, action=Action.UPDATE, target=user,
                 changes={"two_factor": "enabled"})
    actor.refresh_from_db()
    return codes


@transaction.atomic
def backup_codes_regenerate(*, actor: User, code: str) -> list[str]:
    """New backup codes (the old ones stop working), against a current authenticator code."""
    user = _locked(actor)
    if not user.two_factor_enabled:
        raise DomainError("not_enabled", _("La double authentification n'est pas activée."))
    if not _check_totp(user, code):
        raise _invalid_code()
    codes = _new_backup_codes(user)
    audit_record(actor=user, action=Action.UPDATE, target=user,
                 changes={"two_factor": "backup_codes_regenerated"})
    actor.refresh_from_db()
    return codes


def _clear(user: User) -> None:
    user.totp_secret_encrypted = ""  # nosec B105  # clears the secret, not a password
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret_encrypted", "totp_enabled_at", "totp_last_step"])
    BackupCode.objects.filter(user=user).delete()
    _bump_epoch(user)


@transaction.atomic
def two_factor_disable(*, actor: User, code: str) -> None:
    """Turns it off for oneself, against a current authenticator code or a backup code."""
    user = _locked(actor)
    if not user.two_factor_enabled:
        raise DomainError("not_enabled", _("La double authentification n'est pas activée."))
    if not (_check_totp(user, code) or _use_backup_code(user, code)):
        raise _invalid_code()
    _clear(user)
    audit_record(actor=user, action=Action.UPDATE, target=user,
                 changes={"two_factor": "disabled"})
    actor.refresh_from_db()


@transaction.atomic
def two_factor_reset(*, actor: User, user: User) -> None:
    """An administrator removes a staff member's second factor (lost phone and codes): the
    member signs in with the password alone and enrols again; all their sessions end."""
    if not permissions.can_manage_staff(actor):
        raise Forbidden()
    target = _locked(user)
    if not target.two_factor_enabled and not target.totp_secret_encrypted:
        raise DomainError("not_enabled", _("La double authentification n'est pas activée."))
    _clear(target)
    audit_record(actor=actor, action=Action.UPDATE, target=target,
                 changes={"two_factor": "reset_by_administrator"})
    user.refresh_from_db()


def _use_backup_code(user: User, code: str) -> bool:
    if not totp.normalise_backup_code(code):
        return False
    return BackupCode.objects.filter(
        user=user, code_hash=totp.hash_backup_code(code), used_at__isnull=True,
    ).update(used_at=clock.now()) == 1


@transaction.atomic
def two_factor_login_check(*, user: User, code: str) -> str | None:
    """The code step of a login: TOTP ("totp") or an unused backup code ("backup", now used),
    or None. The caller logs in on success and reports a failure (audit, lockout)."""
    locked = _locked(user)
    if not locked.two_factor_enabled:
        return None
    if _check_totp(locked, code):
        return TOTP
    if _use_backup_code(locked, code):
        audit_record(actor=locked, action=Action.UPDATE, target=locked,
                     changes={"two_factor": "backup_code_used"})
        return BACKUP
    return None

"""Authentication events have no service of ours to go through: Django's signals are the
only hook, so they write the audit rows here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .actions import Action
from .services import audit_record

if TYPE_CHECKING:  # the kernel names the identity layer's user for the type checker only
    from permanence.accounts.models import User


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit_record(actor=user, action=Action.LOGIN, target=user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=Action.LOGOUT, target=user)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None,
                    **kwargs: Any) -> None:
    User = get_user_model()  # the kernel does not import accounts.models
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    user = User.objects.filter(email__iexact=email).first() if email else None
    changes = {"email": email}
    if credentials.get("step"):  # which step failed: "two_factor" for a wrong code
        changes["step"] = str(credentials["step"])
    audit_record(actor=None, actor_label=email, action=Action.LOGIN_FAILED,
                 target=user, changes=changes)

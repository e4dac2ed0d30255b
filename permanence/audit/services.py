"""Writing the audit log. Every service that changes something calls `audit_record`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, models, transaction

from permanence.core import clock
from permanence.core.middleware import current_request_context

from .actions import Action
from .models import AuditEvent

if TYPE_CHECKING:  # the kernel names the identity layer's user for the type checker only
    from django.contrib.auth.models import AnonymousUser

    from permanence.accounts.models import User


def _label(obj: models.Model | None) -> str:
    return str(obj)[:200] if obj is not None else ""


def audit_record(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    target: models.Model | None = None,
    account: Any = None,
    changes: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    ctx = current_request_context()
    user = actor if isinstance(actor, AbstractBaseUser) and actor.pk else None  # not anonymous
    if target is not None and account is None:
        account = _account_of(target)
    return AuditEvent.objects.create(
        created_at=clock.now(),
        actor=user,
        actor_label=actor_label or (user.email if user else ""),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=_label(target),
        account=account,
        changes=_jsonable(changes or {}),
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        path=ctx.path,
    )


def audit_record_many(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    items: Sequence[tuple[models.Model, Any, dict[str, Any]]],
    actor_label: str = "",
) -> list[AuditEvent]:
    """One event per (target, account, changes), in one insert: a batch job's writes (the
    invoicing run) are audited one by one without a query each."""
    ctx = current_request_context()
    user = actor if isinstance(actor, AbstractBaseUser) and actor.pk else None
    now = clock.now()
    return AuditEvent.objects.bulk_create([AuditEvent(
        created_at=now, actor=user, actor_label=actor_label or (user.email if user else ""),
        action=action, target_type=target._meta.label_lower, target_id=str(target.pk),
        target_label=_label(target), account=account, changes=_jsonable(changes),
        ip=ctx.ip, user_agent=ctx.user_agent, path=ctx.path)
        for target, account, changes in items], batch_size=1000)


def _account_of(target: models.Model) -> Any:
    # By label, not by class: the kernel does not import the identity layer.
    if target._meta.label == "accounts.ClientAccount":
        return target
    return getattr(target, "account", None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def diff_fields(instance: models.Model, data: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields of `data` whose value differs."""
    out: dict[str, list[Any]] = {}
    for name, new in data.items():
        old = getattr(instance, name, None)
        if old != new:
            out[name] = [_jsonable(old), _jsonable(new)]
    return out


# Repeated views of the same record by the same person within this window are logged once:
# an auditor wants "who saw it and when", not one row per page refresh.
VIEW_DEDUP_SECONDS = 300


def audit_view(*, actor: User | AnonymousUser, target: models.Model, account: Any = None) -> None:

    if audit_view_due(actor=actor, target=target):
        audit_record(actor=actor, action=Action.VIEW, target=target, account=account)


def audit_view_due(*, actor: User | AnonymousUser, target: models.Model) -> bool:
    """True if this view of `target` by `actor` must be logged (the first in
    VIEW_DEDUP_SECONDS). Claims the window: the caller must then log it, at once
    (`audit_view`) or through `audit_views_record` (views kept in a durable row first)."""
    key = f"audit-view:{getattr(actor, 'pk', None)}:{target._meta.label_lower}:{target.pk}"
    return bool(cache.add(key, 1, VIEW_DEDUP_SECONDS))


@dataclass(frozen=True)
class PastView:
    """A view recorded elsewhere first (in the same write as the page's own state), copied
    into the audit log later with its own time and request context."""

    actor: User
    target: models.Model
    account: Any
    at: datetime
    ip: str | None
    user_agent: str
    path: str


def audit_views_record(views: Sequence[PastView]) -> int:
    """Append VIEW events for views that happened earlier (one INSERT for all)."""
    events = [AuditEvent(created_at=v.at, actor=v.actor, actor_label=v.actor.email,
                         action=Action.VIEW, target_type=v.target._meta.label_lower,
                         target_id=str(v.target.pk), target_label=_label(v.target),
                         account=v.account, changes={}, ip=v.ip, user_agent=v.user_agent,
                         path=v.path)
              for v in views]
    return len(AuditEvent.objects.bulk_create(events))


def audit_purge_before(before: datetime, *, limit: int = 1000) -> int:
    """Delete up to `limit` of the oldest events older than `before`, in one statement; the
    number deleted. The ONE path that removes audit events: for the retention schedule only
    (privacy/retention.py, the « Journal d'audit » rule, one year by default). Everything
    else finds the log append-only (AuditEventQuerySet refuses update() and delete()), so the
    deletion is raw SQL, on this app's own table, and callers keep `limit` small (a bounded
    transaction each)."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "  # noqa: S608 (quoted table name, parameters bound)  # nosec B608
            "WHERE created_at < %s ORDER BY id LIMIT %s)",
            [connection.ops.adapt_datetimefield_value(before), limit])
        deleted: int = cursor.rowcount
        return max(deleted, 0)

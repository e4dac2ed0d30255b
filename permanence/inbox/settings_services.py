"""Writes on the inbox's settings (canned replies, routing rules, teams, SLA targets)."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import local_cache
from permanence.core.errors import Forbidden

from . import permissions, sla
from .models import SlaPolicy, SlaTarget
from .tasks import sla_recompute


def _check(actor: User) -> None:
    if not permissions.can_configure_inbox(actor):
        raise Forbidden(_("Réservé aux superviseurs et administrateurs."))


@transaction.atomic
def setting_save(*, actor: User, form: Any) -> models.Model:
    """Save a validated ModelForm of an inbox setting, with its audit row."""
    _check(actor)
    creating = form.instance.pk is None
    changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
    obj: models.Model = form.save()
    audit_record(actor=actor, action=Action.CREATE if creating else
                 Action.UPDATE, target=obj, changes=changes)
    if isinstance(obj, SlaPolicy) or obj.__class__.__name__ == "SlaTarget":
        _recompute_after_policy_change(obj)
    return obj


@transaction.atomic
def setting_delete(*, actor: User, obj: models.Model) -> None:
    _check(actor)
    audit_record(actor=actor, action=Action.DELETE, target=obj,
                 changes={"label": str(obj)})
    obj.delete()


def _recompute_after_policy_change(obj: Any) -> None:
    """Targets changed: open conversations under that policy get new due instants."""

    policy = obj if isinstance(obj, SlaPolicy) else obj.policy
    accounts = (ClientAccount.objects.filter(pk=policy.account_id) if policy.account_id
                else ClientAccount.objects.filter(sla_policy__isnull=True))
    accounts_ids = list(accounts.values_list("pk", flat=True))
    transaction.on_commit(lambda: sla_recompute.enqueue(accounts_ids))


@transaction.atomic
def sla_policy_for_account_create(*, actor: User, account: ClientAccount) -> SlaPolicy:
    """An account-specific policy, starting as a copy of the default one."""

    _check(actor)
    existing = SlaPolicy.objects.filter(account=account).first()
    if existing:
        return existing
    default = sla.ensure_default_policy()
    policy = SlaPolicy.objects.create(account=account, name=f"Délais — {account.name}"[:100],
                                      warn_ratio=default.warn_ratio, clock=default.clock)
    SlaTarget.objects.bulk_create([
        SlaTarget(policy=policy, priority=t.priority, kind=t.kind,
                  first_response_hours=t.first_response_hours,
                  first_response_same_day=t.first_response_same_day,
                  next_response_hours=t.next_response_hours, resolution_hours=t.resolution_hours)
        for t in default.targets.all()])
    local_cache.invalidate()  # bulk_create sends no signal
    audit_record(actor=actor, action=Action.CREATE, target=policy, account=account,
                 changes={"copied_from": default.pk})
    return policy

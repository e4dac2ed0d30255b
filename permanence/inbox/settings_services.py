"""Writes on the inbox's settings (canned replies, routing rules, teams, SLA targets)."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from permanence.accounts import permissions
from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record
from permanence.core.errors import Forbidden

from .models import SlaPolicy


def _check(actor: Any) -> None:
    if not permissions.can_manage_accounts(actor):
        raise Forbidden(_("Réservé aux superviseurs et administrateurs."))


@transaction.atomic
def setting_save(*, actor: Any, form: Any) -> models.Model:
    """Save a validated ModelForm of an inbox setting, with its audit row."""
    _check(actor)
    creating = form.instance.pk is None
    changes = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
    obj = form.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE if creating else
                 AuditEvent.Action.UPDATE, target=obj, changes=changes)
    if isinstance(obj, SlaPolicy) or obj.__class__.__name__ == "SlaTarget":
        _recompute_after_policy_change(obj)
    return obj


@transaction.atomic
def setting_delete(*, actor: Any, obj: models.Model) -> None:
    _check(actor)
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, target=obj,
                 changes={"label": str(obj)})
    obj.delete()


def _recompute_after_policy_change(obj: Any) -> None:
    """Targets changed: open conversations under that policy get new due instants."""
    from permanence.accounts.models import ClientAccount

    from .services import sla_recompute_for_account

    policy = obj if isinstance(obj, SlaPolicy) else obj.policy
    accounts = (ClientAccount.objects.filter(pk=policy.account_id) if policy.account_id
                else ClientAccount.objects.filter(sla_policy__isnull=True))
    accounts_ids = list(accounts.values_list("pk", flat=True))
    transaction.on_commit(lambda: [sla_recompute_for_account(a) for a in
                                   ClientAccount.objects.filter(pk__in=accounts_ids)])

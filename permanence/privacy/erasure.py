"""Erasure (RGPD art. 17): the person anonymised in every registered model that holds their
data, read from the registry — names become « Personne effacée », addresses and numbers are
blanked (or a stable pseudonym where a value is required), texts become « [contenu effacé le
JJ/MM/AAAA] », files are deleted.

What a legal obligation keeps is never touched: entries whose basis is a legal obligation
(invoices: 10 years, Code de commerce L123-22; the SMS opt-outs the law requires us to honour)
and those kept with the invoices (orders, payments and their history).

One transaction per batch of rows of a model; idempotent (a value already anonymised is left
as it is: a second run changes nothing); the dry run goes through the same code without
writing, so its counts are the real run's.

This module decides (which models, which rows, in which order and batches); the write is the
owning app's: each app's `forget.erase` erases its own rows, the value per field type coming
from core.forgetting (an app writes only its own tables: privacy/tests/test_layering.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from permanence.accounts import forget as accounts_forget
from permanence.agenda import forget as agenda_forget
from permanence.channels_email import forget as channels_email_forget
from permanence.channels_sms import forget as channels_sms_forget
from permanence.core.forgetting import ERASED_NAME  # noqa: F401 (re-exported: tests, callers)
from permanence.desk import forget as desk_forget
from permanence.feedback import forget as feedback_forget
from permanence.inbox import forget as inbox_forget
from permanence.integrations import forget as integrations_forget
from permanence.knowledge import forget as knowledge_forget
from permanence.livechat import forget as livechat_forget
from permanence.payments import forget as payments_forget
from permanence.shop import forget as shop_forget

from . import registry
from .scope import Scope, entries_for, queryset

BATCH = 500
KEPT_RETENTIONS = {"invoices"}

# Per app label, the app's own erasure of its rows: (model name, primary keys, fields,
# request_id=, today=, dry_run=) -> rows changed. Every app with an erasable registered model
# is here (privacy/tests/test_layering.py).
FORGETTERS: dict[str, Callable[..., int]] = {
    "accounts": accounts_forget.erase,
    "agenda": agenda_forget.erase,
    "channels_email": channels_email_forget.erase,
    "channels_sms": channels_sms_forget.erase,
    "desk": desk_forget.erase,
    "feedback": feedback_forget.erase,
    "inbox": inbox_forget.erase,
    "integrations": integrations_forget.erase,
    "knowledge": knowledge_forget.erase,
    "livechat": livechat_forget.erase,
    "payments": payments_forget.erase,
    "shop": shop_forget.erase,
}


def erasable(entry: registry.Entry) -> bool:
    return entry.basis != registry.LEGAL_OBLIGATION and entry.retention not in KEPT_RETENTIONS


def kept_entries(scope: Scope) -> list[registry.Entry]:
    """The person's models kept as they are (shown with the result)."""
    return [e for e in entries_for(scope) if not erasable(e)]


def _order(entry: registry.Entry) -> int:
    # The contact and the account last: their identifiers were read before, but a reader
    # of a half-done erasure still finds the rest through them.
    return 1 if entry.model in {"inbox.Contact", "accounts.ClientAccount"} else 0


def _erase_entry(entry: registry.Entry, scope: Scope, *, request_id: int, today: date,
                 dry_run: bool) -> int:
    qs = queryset(entry, scope)
    if qs is None:
        return 0
    app_label, model_name = entry.model.split(".")
    forget = FORGETTERS[app_label]
    pks = list(qs.values_list("pk", flat=True))
    changed_rows = 0
    for start in range(0, len(pks), BATCH):  # one transaction per batch, in the owning app
        changed_rows += forget(model_name, pks[start:start + BATCH], entry.fields,
                               request_id=request_id, today=today, dry_run=dry_run)
    return changed_rows


def erase(scope: Scope, *, request_id: int, today: date, dry_run: bool) -> dict[str, int]:
    """{model label: rows changed (or that would be)} for every erasable registered model
    with the person's rows (models with nothing to change are left out)."""
    counts: dict[str, int] = {}
    for entry in sorted((e for e in entries_for(scope) if erasable(e)), key=_order):
        count = _erase_entry(entry, scope, request_id=request_id, today=today,
                             dry_run=dry_run)
        if count:
            counts[entry.model] = count
    return counts

"""What the inbox registers once the apps are loaded (imported by InboxConfig.ready())."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import Any

from django.db import connections
from django.db.models.signals import post_migrate

from permanence.calendars.services import CALENDAR_CHANGED_HOOKS
from permanence.core.scheduler import every

from .tasks import callbacks_remind, sla_check, sla_recompute, views_audit

every(timedelta(minutes=1), name="inbox.sla_check")(sla_check)
every(timedelta(minutes=1), name="inbox.views_audit")(views_audit)
every(timedelta(minutes=1), name="inbox.callbacks_remind")(callbacks_remind)


def _recompute(account_ids: list[int]) -> None:
    """A business calendar changed: the open conversations' deadlines move with it."""
    sla_recompute.enqueue(account_ids)


CALENDAR_CHANGED_HOOKS.append(_recompute)


def _search_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """After every `migrate` on SQLite: a migration that remakes inbox_conversation (adding a
    column with a default, most AlterField) drops the full-text triggers of inbox/0002; they
    are installed again when missing, whichever migration dropped them."""
    connection = connections[using]
    if connection.vendor != "sqlite" or "inbox_conversation" not in \
            connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                       "AND name LIKE 'inbox_conversation_fts_a_'")
        if cursor.fetchone()[0] == 3:
            return
    with connection.schema_editor() as editor:
        import_module("permanence.inbox.migrations.0002_search").install_search(None, editor)


post_migrate.connect(_search_triggers, dispatch_uid="inbox.search_triggers")

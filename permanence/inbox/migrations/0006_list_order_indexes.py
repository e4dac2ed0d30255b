"""Indexes for the inbox lists at scale (1M messages, 200k conversations).

The two orders of the lists — due first (``next_due_at`` nulls last, then most recent) and
most recent first — each get a partial index over the conversations still shown (not merged)
that also carries ``account_id`` and ``status``: PostgreSQL walks it in order and stops after
a page, checking an agent's accounts and the "open" statuses on the index entries, without
visiting the table for conversations it will not show. ``conv_recent_visible`` supersedes
``conv_recent_unmerged`` (same order, no account/status).

PostgreSQL only: ``toast_tuple_target = 512`` moves ``search_text`` (a copy of every message
of the conversation, ~1 kB and more) out of the table's rows into its TOAST table, where
PostgreSQL otherwise keeps values under ~2 kB inline. The rows the lists and the search read
become 4–5 times narrower: a search matching thousands of conversations visits that many
fewer pages. The text is still read where it is used (the GIN index is built from it on
write). Applies to rows written from now on; existing rows move when next updated.

AddIndex/RemoveIndex never remake the table on SQLite: the full-text triggers of
``0002_search`` stay in place.
"""

from typing import Any

from django.db import migrations, models

TOAST_TARGET = 512  # bytes; the other columns of a row stay well under it


def narrow_rows(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE inbox_conversation SET (toast_tuple_target = {int(TOAST_TARGET)})")


def default_rows(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inbox_conversation RESET (toast_tuple_target)")


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0005_conversation_order"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(condition=models.Q(("merged_into__isnull", True)),
                               fields=["next_due_at", "-last_message_at", "account", "status"],
                               name="conv_due_visible"),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(condition=models.Q(("merged_into__isnull", True)),
                               fields=["-last_message_at", "account", "status"],
                               name="conv_recent_visible"),
        ),
        migrations.RemoveIndex(
            model_name="conversation",
            name="conv_recent_unmerged",
        ),
        migrations.RunPython(narrow_rows, default_rows, elidable=False),
    ]

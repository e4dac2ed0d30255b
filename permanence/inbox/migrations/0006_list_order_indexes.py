"""Indexes for the inbox lists at scale (1M messages, 200k conversations).

The two orders of the lists — due first (``next_due_at`` nulls last, then most recent, then
id) and most recent first (then id) — each get a partial index over the conversations still
shown (not merged), in exactly that order, that also carries ``account_id`` and ``status``: a page's ids are read from the index
alone (index-only scan), in order, stopping after the page, the agent's accounts and the
"open" statuses checked on the index entries; only the page's 50 rows are then read from the
table (see ``inbox.views.CappedPaginator``). ``conv_recent_visible`` supersedes
``conv_recent_unmerged`` (same order, nothing else).

AddIndex/RemoveIndex never remake the table on SQLite: the full-text triggers of
``0002_search`` stay in place.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0005_conversation_order"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(condition=models.Q(("merged_into__isnull", True)),
                               fields=["next_due_at", "-last_message_at", "-id", "account", "status"],
                               name="conv_due_visible"),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(condition=models.Q(("merged_into__isnull", True)),
                               fields=["-last_message_at", "-id", "account", "status"],
                               name="conv_recent_visible"),
        ),
        migrations.RemoveIndex(
            model_name="conversation",
            name="conv_recent_unmerged",
        ),
    ]

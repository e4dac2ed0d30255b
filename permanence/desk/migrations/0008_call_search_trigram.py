"""The espace client's call search at scale (issue 10): one trigram index answering the four
substring tests of desk.selectors.client_calls on PostgreSQL — Django's icontains
(`UPPER(col::text) LIKE UPPER('%…%')`) on the caller's name, the message and the motif, and
`from_number LIKE '%digits%'`. The planner ANDs its bitmap with the account's index: only the
matching calls of that account are read, where the search used to read each of the account's
calls (25,000 of them at 5,000,000 calls: 170 ms). Nothing to do on other engines."""

from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

NAME = "desk_call_search_trgm"
DEFINITION = ("desk_call USING gin ((UPPER(caller_name::text)) gin_trgm_ops, "
              "(UPPER(message::text)) gin_trgm_ops, (UPPER(motif::text)) gin_trgm_ops, "
              "from_number gin_trgm_ops)")


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON {DEFINITION}",
                              params=None)


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("desk", "0007_call_active"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(install, uninstall, elidable=False),
    ]

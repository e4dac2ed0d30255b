"""Full-text search schema for inbox_conversation.search_text (see permanence/inbox/search.py).

PostgreSQL: the `unaccent` extension, the text search configuration `french_unaccent`
(a copy of `french` whose word mappings go through unaccent, then the French stemmer) and a
GIN expression index on to_tsvector('french_unaccent'::regconfig, search_text). The query
must use exactly that expression for the index to be used.

SQLite: the FTS5 external-content table `inbox_conversation_fts` (accent- and case-folding
tokenizer), kept in sync by AFTER INSERT/UPDATE/DELETE triggers, and filled once ('rebuild').

Every statement is idempotent (IF NOT EXISTS), so the forward step can be re-run. Caution for
later migrations on SQLite: an operation that remakes inbox_conversation (most AlterField)
drops its triggers; such a migration must re-run `install_search` (RunPython) afterwards —
permanence/inbox/tests/test_search.py checks the triggers are present.
"""

from typing import Any

from django.db import migrations

POSTGRESQL_FORWARD = [
    # `unaccent` is a trusted extension (PostgreSQL 13+): the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    """
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config
                       WHERE cfgname = 'french_unaccent' AND pg_ts_config_is_visible(oid)) THEN
            CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = pg_catalog.french);
            ALTER TEXT SEARCH CONFIGURATION french_unaccent
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
        END IF;
    END
    $$
    """,
    "CREATE INDEX IF NOT EXISTS inbox_conversation_search_gin ON inbox_conversation "
    "USING gin (to_tsvector('french_unaccent'::regconfig, search_text))",
]

POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS inbox_conversation_search_gin",
    # Kept when something else (another app's index) still uses it; the extension is kept.
    """
    DO $$
    BEGIN
        DROP TEXT SEARCH CONFIGURATION IF EXISTS french_unaccent;
    EXCEPTION WHEN dependent_objects_still_exist THEN
        NULL;
    END
    $$
    """,
]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS inbox_conversation_fts USING fts5("
    "search_text, content='inbox_conversation', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 2\")",
    """
    CREATE TRIGGER IF NOT EXISTS inbox_conversation_fts_ai AFTER INSERT ON inbox_conversation
    BEGIN
        INSERT INTO inbox_conversation_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS inbox_conversation_fts_ad AFTER DELETE ON inbox_conversation
    BEGIN
        INSERT INTO inbox_conversation_fts(inbox_conversation_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END
    """,
    # Only when the text (or the id) changes: most saves touch status/SLA columns only.
    """
    CREATE TRIGGER IF NOT EXISTS inbox_conversation_fts_au AFTER UPDATE ON inbox_conversation
    WHEN old.search_text IS NOT new.search_text OR old.id IS NOT new.id
    BEGIN
        INSERT INTO inbox_conversation_fts(inbox_conversation_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO inbox_conversation_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    "INSERT INTO inbox_conversation_fts(inbox_conversation_fts) VALUES ('rebuild')",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inbox_conversation_fts_au",
    "DROP TRIGGER IF EXISTS inbox_conversation_fts_ad",
    "DROP TRIGGER IF EXISTS inbox_conversation_fts_ai",
    "DROP TABLE IF EXISTS inbox_conversation_fts",
]

FORWARD = {"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}
BACKWARD = {"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}


def install_search(apps: Any, schema_editor: Any) -> None:
    # Other engines: nothing to install, search.py falls back to substring matching.
    for statement in FORWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def uninstall_search(apps: Any, schema_editor: Any) -> None:
    for statement in BACKWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(install_search, uninstall_search, elidable=False),
    ]

"""Search and lists at 1,000,000 conversations (see permanence/inbox/search.py).

PostgreSQL only (guarded: SQLite and other engines migrate with nothing to do here but the
priority index):

* ``pg_trgm`` (TrigramExtension: a trusted extension, the database owner may create it);
* ``inbox_conversation.search_vector``: the stored ``to_tsvector('french_unaccent', search_text)``
  with its GIN index, set by a BEFORE INSERT/UPDATE trigger whenever ``search_text`` changes.
  It replaces the expression index of 0002: a lossy bitmap (a common word over 1M rows)
  rechecks a stored vector instead of parsing the text of each row again, and the planner
  has statistics on the column. The column is not a model field: Django never reads or
  writes it, so every insert and update path (services, bulk_create, raw SQL) fills it alike;
* ``inbox_search_word``: the vocabulary of the search index (stems of 4+ letters), filled by
  the same trigger, with a trigram index: a word that is nowhere in the index ("ordonnace")
  is read as the closest known words (typo tolerance);
* trigram GIN indexes for substrings of contacts' e-mail, phone (separators removed, the
  expression search.py compares) and name.

SQLite: the full-text triggers of 0002 again (0008 remade the table).

Everywhere: the priority sort's expression index (rank, due date, id, then account and status
read from the index entries), as the two other list orders have (0006).
"""

from importlib import import_module
from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models import Case, F, IntegerField, Q, Value, When

POSTGRESQL_FORWARD = [
    "ALTER TABLE inbox_conversation ADD COLUMN IF NOT EXISTS search_vector tsvector",
    "CREATE TABLE IF NOT EXISTS inbox_search_word (word text PRIMARY KEY)",
    """
    CREATE OR REPLACE FUNCTION inbox_conversation_search_vector() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.search_text IS DISTINCT FROM OLD.search_text
                OR NEW.search_vector IS NULL THEN
            NEW.search_vector := to_tsvector('french_unaccent'::regconfig,
                                             coalesce(NEW.search_text, ''));
            INSERT INTO inbox_search_word (word)
                SELECT w FROM unnest(tsvector_to_array(NEW.search_vector)) AS w
                WHERE w ~ '^[a-z]{4,30}$'
                ON CONFLICT DO NOTHING;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS inbox_conversation_search_vector ON inbox_conversation",
    "CREATE TRIGGER inbox_conversation_search_vector "
    "BEFORE INSERT OR UPDATE ON inbox_conversation "
    "FOR EACH ROW EXECUTE FUNCTION inbox_conversation_search_vector()",
    # Existing rows: the trigger computes the vector (and the vocabulary).
    "UPDATE inbox_conversation SET search_vector = NULL WHERE search_vector IS NULL",
    "CREATE INDEX IF NOT EXISTS inbox_conversation_search_vector_gin ON inbox_conversation "
    "USING gin (search_vector)",
    "DROP INDEX IF EXISTS inbox_conversation_search_gin",
    "CREATE INDEX IF NOT EXISTS inbox_search_word_trgm ON inbox_search_word "
    "USING gin (word gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS inbox_contact_email_trgm ON inbox_contact "
    "USING gin (email gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS inbox_contact_phone_trgm ON inbox_contact USING gin "
    "((replace(replace(replace(replace(phone, ' ', ''), '.', ''), '-', ''), '/', '')) "
    "gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS inbox_contact_name_trgm ON inbox_contact "
    "USING gin (name gin_trgm_ops)",
    "ANALYZE inbox_conversation",
]

POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS inbox_contact_name_trgm",
    "DROP INDEX IF EXISTS inbox_contact_phone_trgm",
    "DROP INDEX IF EXISTS inbox_contact_email_trgm",
    "CREATE INDEX IF NOT EXISTS inbox_conversation_search_gin ON inbox_conversation "
    "USING gin (to_tsvector('french_unaccent'::regconfig, search_text))",
    "DROP TRIGGER IF EXISTS inbox_conversation_search_vector ON inbox_conversation",
    "DROP FUNCTION IF EXISTS inbox_conversation_search_vector()",
    "DROP TABLE IF EXISTS inbox_search_word",
    "ALTER TABLE inbox_conversation DROP COLUMN IF EXISTS search_vector",
]


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_FORWARD:
            schema_editor.execute(statement, params=None)
    else:
        # SQLite: 0008 added a column with a default, which remakes inbox_conversation and
        # drops the full-text triggers of 0002; they are installed again (idempotent).
        import_module("permanence.inbox.migrations.0002_search").install_search(
            apps, schema_editor)


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_BACKWARD:
            schema_editor.execute(statement, params=None)


PRIORITY_RANK = Case(
    When(priority="basse", then=Value(0)), When(priority="normale", then=Value(1)),
    When(priority="haute", then=Value(2)), When(priority="urgente", then=Value(3)),
    output_field=IntegerField())


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0009_read_marker_pending_view"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(install, uninstall, elidable=False),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(PRIORITY_RANK.desc(), F("next_due_at").asc(),
                               F("id").desc(), F("account"), F("status"),
                               condition=Q(merged_into__isnull=True),
                               name="conv_priority_visible"),
        ),
    ]

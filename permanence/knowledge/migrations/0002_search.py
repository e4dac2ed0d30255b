"""Full-text search schema for knowledge_article (see permanence/knowledge/search.py).

PostgreSQL: reuses the text search configuration `french_unaccent` (French stemming, accents
folded) and the `pg_trgm` extension that the inbox's migrations install (hence the dependency
on inbox 0010). Adds the stored `knowledge_article.search_vector` (title weighted A, text B),
set by a BEFORE INSERT/UPDATE trigger, its GIN index, and `knowledge_search_word`: the
vocabulary of the index (stems of 4+ letters) with a trigram index, where a word the index
never saw is read as the closest known words (typos). The column is not a model field.

SQLite: the FTS5 external-content table `knowledge_article_fts` (title, body_text; accent-
and case-folding tokenizer) kept in sync by triggers, and `knowledge_article_fts_vocab`
(fts5vocab: its terms, for typo tolerance).

Idempotent (IF NOT EXISTS / OR REPLACE). Caution for later migrations on SQLite: an operation
that remakes knowledge_article (most AlterField) drops its triggers; such a migration must
re-run `install_search` (RunPython) afterwards — tests/test_search.py checks the triggers.
"""

from typing import Any

from django.db import migrations

POSTGRESQL_FORWARD = [
    "ALTER TABLE knowledge_article ADD COLUMN IF NOT EXISTS search_vector tsvector",
    "CREATE TABLE IF NOT EXISTS knowledge_search_word (word text PRIMARY KEY)",
    """
    CREATE OR REPLACE FUNCTION knowledge_article_search_vector() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
                OR NEW.body_text IS DISTINCT FROM OLD.body_text
                OR NEW.search_vector IS NULL THEN
            NEW.search_vector :=
                setweight(to_tsvector('french_unaccent'::regconfig, coalesce(NEW.title, '')), 'A')
                || setweight(to_tsvector('french_unaccent'::regconfig,
                                         coalesce(NEW.body_text, '')), 'B');
            INSERT INTO knowledge_search_word (word)
                SELECT w FROM unnest(tsvector_to_array(NEW.search_vector)) AS w
                WHERE w ~ '^[a-z]{4,30}$'
                ON CONFLICT DO NOTHING;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS knowledge_article_search_vector ON knowledge_article",
    "CREATE TRIGGER knowledge_article_search_vector "
    "BEFORE INSERT OR UPDATE ON knowledge_article "
    "FOR EACH ROW EXECUTE FUNCTION knowledge_article_search_vector()",
    "UPDATE knowledge_article SET search_vector = NULL WHERE search_vector IS NULL",
    "CREATE INDEX IF NOT EXISTS knowledge_article_search_gin ON knowledge_article "
    "USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS knowledge_search_word_trgm ON knowledge_search_word "
    "USING gin (word gin_trgm_ops)",
]

POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_article_search_vector ON knowledge_article",
    "DROP FUNCTION IF EXISTS knowledge_article_search_vector()",
    "DROP TABLE IF EXISTS knowledge_search_word",
    "DROP INDEX IF EXISTS knowledge_article_search_gin",
    "ALTER TABLE knowledge_article DROP COLUMN IF EXISTS search_vector",
]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_article_fts USING fts5("
    "title, body_text, content='knowledge_article', content_rowid='id', "
    "tokenize=\"unicode61 remove_diacritics 2\")",
    """
    CREATE TRIGGER IF NOT EXISTS knowledge_article_fts_ai AFTER INSERT ON knowledge_article
    BEGIN
        INSERT INTO knowledge_article_fts(rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS knowledge_article_fts_ad AFTER DELETE ON knowledge_article
    BEGIN
        INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
    END
    """,
    # Only when the text changes: votes and reviews touch counters and dates.
    """
    CREATE TRIGGER IF NOT EXISTS knowledge_article_fts_au AFTER UPDATE ON knowledge_article
    WHEN old.title IS NOT new.title OR old.body_text IS NOT new.body_text
         OR old.id IS NOT new.id
    BEGIN
        INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, title, body_text)
        VALUES ('delete', old.id, old.title, old.body_text);
        INSERT INTO knowledge_article_fts(rowid, title, body_text)
        VALUES (new.id, new.title, new.body_text);
    END
    """,
    "INSERT INTO knowledge_article_fts(knowledge_article_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_article_fts_vocab "
    "USING fts5vocab('knowledge_article_fts', 'row')",
]

SQLITE_BACKWARD = [
    "DROP TABLE IF EXISTS knowledge_article_fts_vocab",
    "DROP TRIGGER IF EXISTS knowledge_article_fts_au",
    "DROP TRIGGER IF EXISTS knowledge_article_fts_ad",
    "DROP TRIGGER IF EXISTS knowledge_article_fts_ai",
    "DROP TABLE IF EXISTS knowledge_article_fts",
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
        ("knowledge", "0001_initial"),
        # french_unaccent (inbox 0002) and pg_trgm (inbox 0010): reused, not duplicated.
        ("inbox", "0010_search_at_scale"),
    ]

    operations = [
        migrations.RunPython(install_search, uninstall_search, elidable=False),
    ]

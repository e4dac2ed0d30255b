"""Full-text search over articles, one function for both database engines (schema: migration
knowledge/0002_search).

* PostgreSQL: the stored `search_vector` (title A, text B; `french_unaccent`: French stemming,
  accents folded) read from its GIN index; each query word is a prefix (« rendez » while
  typing). A word of 4+ letters whose stem the index never saw (« ordonnace ») is read as the
  closest words of the index's vocabulary (`knowledge_search_word`, pg_trgm similarity ≥ 0.4).
  Ranked by ts_rank, snippets by ts_headline.
* SQLite: FTS5 (`unicode61 remove_diacritics 2`: accents folded, no stemming): each query word
  is searched as the prefix of its stem (knowledge.text.stem: « annulation » → "annul"*), a
  word with no such prefix in the index's vocabulary (`knowledge_article_fts_vocab`) as its
  closest terms (edit distance ≤ 2). Ranked by bm25 (title weighs 5×), snippets by snippet().

Words are ORed (a question rarely has all its words in the answer) and ranked: the more (and
rarer) words an article holds, the higher. User input never reaches SQL text: only [a-z0-9]
words go into the full-text query, always as a bound parameter. Snippets are HTML-escaped,
the highlights alone are <mark> elements (see `_snippet_html`).
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .html import MARK_END, MARK_START
from .models import Article
from .text import search_words, stem

MAX_RESULTS = 100


@dataclass(frozen=True)
class Hit:
    article: Article
    rank: float
    snippet: SafeString


def run(scope: QuerySet[Article], query: str, *, limit: int) -> list[Hit]:
    """The articles of `scope` matching `query`, best first, at most `limit`."""
    query_words = search_words(query)
    if not query_words:
        return []
    limit = max(1, min(int(limit), MAX_RESULTS))
    vendor = connections[scope.db].vendor
    try:
        scope_sql, scope_params = scope.order_by().values("id").query.sql_with_params()
    except EmptyResultSet:  # qs.none(): nothing to search
        return []
    if vendor == "postgresql":
        rows = _postgres(scope.db, query_words, scope_sql, scope_params, limit)
    elif vendor == "sqlite":
        rows = _sqlite(scope.db, query_words, scope_sql, scope_params, limit)
    else:
        rows = _fallback(scope, query_words, limit)
    articles = scope.model._default_manager.select_related("account", "category").in_bulk(
        [row[0] for row in rows])
    return [Hit(articles[pk], float(rank), _snippet_html(snippet or ""))
            for pk, rank, snippet in rows if pk in articles]


def _snippet_html(raw: str) -> SafeString:
    """Escape the text, then turn the private-use markers (never stored: html.clean removes
    them) into <mark> elements."""
    return mark_safe(escape(raw).replace(MARK_START, "<mark>")  # noqa: S308 (escaped above)  # nosec B308 B703
                     .replace(MARK_END, "</mark>"))


# --- PostgreSQL ------------------------------------------------------------------------------

_PG_VOCABULARY = """
SELECT s.stem,
       s.stem IS NULL OR s.stem !~ '^[a-z]{4,30}$' OR EXISTS (
           SELECT 1 FROM knowledge_search_word v
           WHERE v.word >= s.stem AND v.word < s.stem || '{'),
       ARRAY(SELECT v.word FROM knowledge_search_word v
             WHERE v.word %% s.stem AND similarity(v.word, s.stem) >= 0.4
             ORDER BY similarity(v.word, s.stem) DESC, v.word LIMIT 3)
FROM unnest(%s::text[]) WITH ORDINALITY AS q(w, i)
CROSS JOIN LATERAL (SELECT (tsvector_to_array(
    to_tsvector('french_unaccent'::regconfig, q.w)))[1] AS stem) AS s
ORDER BY q.i
"""

_PG_HEADLINE = ("StartSel=\ue000, StopSel=\ue001, MaxWords=28, MinWords=12, "
                "MaxFragments=2, FragmentDelimiter=\" … \"")

# The scope is the caller's permission-filtered queryset, compiled by Django (its own
# parameters); the ranking query is constant text.
_PG_SEARCH = """
SELECT r.id, r.rank,
       ts_headline('french_unaccent'::regconfig, a.body_text, r.q, %s)
FROM (
    SELECT a.id, ts_rank(a.search_vector, q.q) AS rank, q.q
    FROM knowledge_article a,
         (SELECT to_tsquery('french_unaccent'::regconfig, %s) || to_tsquery('simple', %s)
          AS q) q
    WHERE a.search_vector @@ q.q AND a.id IN ({scope})
    ORDER BY rank DESC, a.id
    LIMIT %s
) r JOIN knowledge_article a ON a.id = r.id
ORDER BY r.rank DESC, r.id
"""


def _postgres(db: str, query_words: list[str], scope_sql: str, scope_params: Any,
              limit: int) -> list[tuple[int, float, str]]:
    with connections[db].cursor() as cursor:
        cursor.execute(_PG_VOCABULARY, [query_words])
        vocabulary = cursor.fetchall()
    french: list[str] = []
    simple: list[str] = []  # typos: the closest stems of the index, matched as they are
    for word, (_stem, known, closest) in zip(query_words, vocabulary, strict=True):
        similar = [w for w in closest or [] if w.isascii() and w.isalpha()]
        if known or not similar:
            french.append(f"{word}:*")
        else:
            simple += similar
    sql = _PG_SEARCH.format(scope=scope_sql)
    params = [_PG_HEADLINE, " | ".join(french) or "", " | ".join(simple) or "",
              *scope_params, limit]
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, rank, snippet) for pk, rank, snippet in cursor.fetchall()]


# --- SQLite ----------------------------------------------------------------------------------

# Ranked first (bm25 only), then the snippets of the few kept rows: snippet() over every
# match of a common word would cost a parse of each article's text. The matches are
# materialised before the scope is applied: `rowid IN (scope)` on the FTS table itself
# makes SQLite probe the index once per article of the scope (130 ms for 2,000).
_SQLITE_SEARCH = """
WITH m AS MATERIALIZED (
    SELECT rowid AS id, -bm25(knowledge_article_fts, 5.0, 1.0) AS score
    FROM knowledge_article_fts WHERE knowledge_article_fts MATCH %s
)
SELECT m.id, m.score FROM m WHERE m.id IN ({scope})
ORDER BY m.score DESC, m.id
LIMIT %s
"""
_SQLITE_SNIPPETS = """
SELECT rowid, snippet(knowledge_article_fts, 1, char(57344), char(57345), ' … ', 24)
FROM knowledge_article_fts
WHERE knowledge_article_fts MATCH %s AND rowid IN ({ids})
"""
_SQLITE_KNOWN = "SELECT 1 FROM knowledge_article_fts_vocab WHERE term >= %s AND term < %s LIMIT 1"
_SQLITE_NEAR = ("SELECT term FROM knowledge_article_fts_vocab WHERE term >= %s AND term < %s "
                "AND length(term) BETWEEN %s AND %s")


def _next(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _sqlite(db: str, query_words: list[str], scope_sql: str, scope_params: Any,
            limit: int) -> list[tuple[int, float, str]]:
    phrases: list[str] = []
    with connections[db].cursor() as cursor:
        for word in query_words:
            prefix = stem(word)
            cursor.execute(_SQLITE_KNOWN, [prefix, _next(prefix)])
            if cursor.fetchone() or len(word) < 4:
                phrases.append(f'"{prefix}"*')
                continue
            # A typo: the index's terms of about the same length sharing the first letter.
            cursor.execute(_SQLITE_NEAR, [word[0], _next(word[0]), len(word) - 2,
                                          len(word) + 2])
            near = sorted(((SequenceMatcher(None, word, term).ratio(), term)
                           for (term,) in cursor.fetchall()), reverse=True)
            phrases += [f'"{term}"' for ratio, term in near[:3] if ratio >= 0.75]
        if not phrases:
            return []
        match = " OR ".join(phrases)
        cursor.execute(_SQLITE_SEARCH.format(scope=scope_sql), [match, *scope_params, limit])
        ranked = cursor.fetchall()
        if not ranked:
            return []
        ids = [pk for pk, _score in ranked]
        cursor.execute(_SQLITE_SNIPPETS.format(ids=", ".join(["%s"] * len(ids))), [match, *ids])
        snippets = dict(cursor.fetchall())
        return [(pk, score, snippets.get(pk, "")) for pk, score in ranked]


# --- Other engines: substring match, no ranking (correct, slow) -------------------------------


def _fallback(scope: QuerySet[Article], query_words: list[str],
              limit: int) -> list[tuple[int, float, str]]:
    condition = Q()
    for word in query_words:
        condition |= Q(title__icontains=word) | Q(body_text__icontains=word)
    return [(a.pk, 0.0, a.body_text[:200]) for a in scope.filter(condition)[:limit]]

"""Full-text search over conversations: one function, two database engines.

`search_conversations(qs, q)` narrows an already permission-filtered queryset to the
conversations matching the user's query. It searches `Conversation.search_text` (first line:
reference, subject, contact name/e-mail/phone; then the message bodies) through the
database's own full-text engine, created by migration ``inbox/0002_search``:

* PostgreSQL: the text search configuration ``french_unaccent`` (``french`` + ``unaccent``:
  accent-insensitive, French stemming, stop words) and a GIN expression index on
  ``to_tsvector('french_unaccent'::regconfig, search_text)``;
* SQLite: the FTS5 external-content table ``inbox_conversation_fts`` (tokenizer
  ``unicode61 remove_diacritics 2``: accent- and case-insensitive, no stemming) kept in sync
  by triggers on ``inbox_conversation``.

How a query is read:

* every word must match (AND); the last word is a prefix while typing (« factu » finds
  « facture »); on SQLite every word is a prefix (there is no stemming); French stop words
  (« le », « de », « d »…) are ignored on both engines, as PostgreSQL's ``french`` does;
  hyphenated words (« rendez-vous ») are words;
* a reference (``D-2026-000123``, or its beginning ``D-2026-0001``) matches the reference
  column (unique index), the conversation's own or that of a conversation merged into it;
* e-mails and their fragments (``dupont@``, ``jean.dupont``, ``example.fr``) and phone
  numbers or digit fragments (``06 12 34 56 78``, ``+33612``, ``345678``) also match the
  conversation's contact (substring of ``Contact.email`` / ``Contact.phone``, separators
  ignored; a French number typed with its leading 0 matches the stored E.164 +33…), ORed
  with the full-text match. The contact columns are read rather than the first line of
  search_text: they are short, while reading search_text means de-TOASTing every row
  (seconds over 200k conversations on PostgreSQL);
* user input never reaches SQL text: the full-text query is built from letters and digits
  only (PostgreSQL ``to_tsquery``) or as quoted FTS5 strings (SQLite), and is always passed
  as a parameter; a query with nothing searchable (punctuation only) filters nothing.

The result is one SQL query (subqueries inside the caller's query; on PostgreSQL, small
queries first read the vocabulary and the planner's estimates: see _Postgres); the caller's
ordering is kept unless ``ordered=True`` asks for relevance first: on PostgreSQL ``ts_rank`` of the
subject, on SQLite FTS5 ``bm25`` of the whole text for the best RANKED_ROWS matches; ties (and
the rest) keep the caller's order.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import Expression, RawSQL
from django.db.models.functions import Replace
from django.db.models.lookups import Contains

from .models import Contact, Conversation

# Bounds on the work a query may cause (a pasted e-mail is not a search query).
MAX_QUERY_CHARS = 200
MAX_TERMS = 10
MAX_TERM_CHARS = 64

RANKED_ROWS = 100  # SQLite: rows scored by bm25 when ordered=True (the others rank 0)

# --- SQL fragments: module constants; user input is only ever a bound parameter ---------------
# The entries of PostgreSQL's french.stop that can still match once unaccent has run (the
# accented ones never do). Dropped from queries beforehand, on both engines: PostgreSQL drops
# them too, and a query left empty ("le 06 12 34 56 78") would otherwise match nothing.
PG_STOP_WORDS = frozenset(["au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il", "je", "la", "le", "leur", "lui", "ma", "mais", "me", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "c", "d", "j", "l", "m", "n", "s", "t", "y", "suis", "es", "est", "sommes", "sont", "serai", "seras", "sera", "serons", "serez", "seront", "serais", "serait", "serions", "seriez", "seraient", "fus", "fut", "furent", "sois", "soit", "soyons", "soyez", "soient", "fusse", "fusses", "fussions", "fussiez", "fussent", "ayant", "ayante", "ayantes", "ayants", "eu", "eue", "eues", "eus", "ai", "as", "avons", "avez", "ont", "aurai", "auras", "aura", "aurons", "aurez", "auront", "aurais", "aurait", "aurions", "auriez", "auraient", "avais", "avait", "avions", "aviez", "avaient", "eut", "eurent", "aie", "aies", "ait", "ayons", "ayez", "aient", "eusse", "eusses", "eussions", "eussiez", "eussent"])
_SQLITE_MATCH = "SELECT rowid FROM inbox_conversation_fts WHERE inbox_conversation_fts MATCH %s"

_REFERENCE_RE = re.compile(r"[A-Za-z]{1,3}-\d{4}(?:-\d{0,8})?")
_DIGITISH_RE = re.compile(r"\+?\d[\d.\-/]*")
_COMPOUND_RE = re.compile(r"@|[^\W_]\.[^\W_]")
_WORD_RE = re.compile(r"[^\W_]+")
_EDGE_PUNCTUATION = "\"'«»“”‘’<>()[]{},;:!?*"


@dataclass(frozen=True)
class Term:
    kind: str  # "word", "reference", "compound" (e-mail, domain) or "phone"
    text: str

    @property
    def words(self) -> list[str]:
        """Letters/digits runs, lower-cased: the only text that goes into a tsquery."""
        return _WORD_RE.findall(self.text.lower())


def parse_query(q: str) -> list[Term]:
    """Split the user's text into typed terms (pure function, no database)."""
    q = unicodedata.normalize("NFC", (q or "")[: MAX_QUERY_CHARS * 2])
    # Control, format (zero-width…), surrogate, private-use and unassigned characters:
    # separators (NUL would even be refused by PostgreSQL).
    q = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in q)
    tokens = [t[:MAX_TERM_CHARS] for t in q[:MAX_QUERY_CHARS].split()]
    terms: list[Term] = []
    run: list[str] = []  # consecutive digit groups: "06 12 34 56 78" is one phone number

    def number() -> str:
        joined = "".join(ch for ch in "".join(run) if ch.isdigit() or ch == "+")
        return joined[:1] + joined[1:].replace("+", "")

    def flush_run() -> None:
        if run:
            text = number()
            digits = len(text.lstrip("+"))
            terms.append(Term("phone" if digits >= 3 else "word", text))
            run.clear()

    for raw in tokens:
        token = raw.strip(_EDGE_PUNCTUATION)
        if not token:
            flush_run()
            continue
        if _DIGITISH_RE.fullmatch(token) and token.isascii():
            digits = sum(ch.isdigit() for ch in token)
            # Groups of a spaced number: "+33", "06", "12"… (the first may be "0033").
            if run and (digits > 3 or _complete_phone(number())):
                flush_run()
            run.append(token)
            if digits > 4:
                flush_run()
            continue
        flush_run()
        if _REFERENCE_RE.fullmatch(token):
            terms.append(Term("reference", token.upper()))
        elif _COMPOUND_RE.search(token):
            terms.append(Term("compound", token))
        elif _WORD_RE.search(token):
            terms.append(Term("word", token))
    flush_run()
    return terms[:MAX_TERMS]


def _complete_phone(number: str) -> bool:
    """Whether a number being assembled from groups is already a whole phone number."""
    digits = len(number.lstrip("+"))
    if number.startswith("+33"):
        return digits >= 11
    if number.startswith("0033"):
        return digits >= 13
    if number.startswith("0") and not number.startswith("00"):
        return digits >= 10
    return digits >= 15


def phone_variants(number: str) -> list[str]:
    """Substrings to look for in the stored (normally E.164) phone number."""
    variants = [number]
    if number.startswith("00") and len(number) > 2:
        variants.append("+" + number[2:])
    elif number.startswith("0") and len(number) > 1:
        variants.append("+33" + number[1:])
    return variants


def _is_stop_word(word: str) -> bool:
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", word)
                     if not unicodedata.combining(ch))
    return folded in PG_STOP_WORDS


def search_conversations(qs: QuerySet[Conversation], q: str, *,
                         ordered: bool = False) -> QuerySet[Conversation]:
    """`qs` narrowed to the conversations matching `q` (see the module docstring).

    Never widens `qs`; empty or unsearchable `q` returns `qs` unchanged. With `ordered=True`
    the result is annotated with `search_rank` and ordered by it, then by `qs`'s ordering.
    A page and its capped count get the same condition: on PostgreSQL both are planned from
    the term's estimated number of matches (_Postgres).
    """
    # French stop words alone ("le", "de", "d" while typing "dupont") search nothing: dropped
    # on both engines (PostgreSQL would drop them anyway, SQLite would match nearly all rows).
    terms = [t for t in parse_query(q)
             if t.kind != "word" or not all(_is_stop_word(w) for w in t.words)]
    if not terms:
        return qs
    vendor = connections[qs.db].vendor
    backend: _Backend
    if vendor == "postgresql":
        backend = _Postgres(qs.db)
    elif vendor == "sqlite":
        backend = _Sqlite()
    else:
        backend = _Fallback()
    qs = qs.filter(backend.condition(terms))
    if ordered:
        previous = list(qs.query.order_by) or (
            list(Conversation._meta.ordering or []) if qs.query.default_ordering else [])
        qs = qs.annotate(search_rank=backend.rank(terms)).order_by(
            F("search_rank").desc(), *previous, "-pk")
    return qs


# --- shared pieces ---------------------------------------------------------------------------


def _raw(sql: str, *params: str) -> RawSQL:
    """RawSQL for one of this module's constant SQL strings; the user's text is a parameter."""
    return RawSQL(sql, params)  # noqa: S611 (constant SQL, bound params)  # nosec B611


def _contacts(term: Term) -> QuerySet[Contact]:
    """Contacts whose e-mail (compound terms) or phone number (phone terms) contains the term:
    the contact columns are short, unlike search_text whose first line repeats them."""
    contacts = Contact._default_manager.order_by()
    return contacts.filter(_contact_condition(term, connections[contacts.db].vendor))


def _contact_condition(term: Term, vendor: str, prefix: str = "") -> Q:
    """The condition on a contact (`prefix` "contact__": through the conversation's join)."""
    if term.kind == "compound":
        if vendor == "postgresql":
            return Q(_ILike(F(f"{prefix}email"), term.text))  # trigram index
        return Q(**{f"{prefix}email__icontains": term.text})
    phone: Any = F(f"{prefix}phone")
    for sep in (" ", ".", "-", "/"):
        phone = Replace(phone, Value(sep), Value(""), output_field=CharField())
    condition = Q()
    for variant in phone_variants(term.text):
        condition |= Q(Contains(phone, variant))
    return condition


def _reference_match(term: Term, *, as_range: bool = False) -> Q:
    """The conversation's own reference, or that of a conversation merged into it (both
    references stay valid for the customer). One union, so that both branches use the
    reference index (an OR with a subquery would scan the caller's rows).

    `as_range` (SQLite): the prefix as a range on the unique index, which SQLite's
    case-insensitive LIKE cannot use. References are upper-case ASCII, like `term.text`."""
    prefix = Q(reference__startswith=term.text)
    if as_range:
        following = term.text[:-1] + chr(ord(term.text[-1]) + 1)
        prefix = Q(reference__gte=term.text, reference__lt=following)
    matching = Conversation._default_manager.order_by().filter(prefix)
    return Q(pk__in=matching.values("pk").union(
        matching.filter(merged_into__isnull=False).values("merged_into_id"), all=True))


class _ILike(Func):
    """`column ILIKE '%text%'` (PostgreSQL): what a trigram GIN index answers, unlike
    Django's icontains (UPPER(column) LIKE …)."""

    output_field = BooleanField()

    def __init__(self, column: F, text: str) -> None:
        super().__init__(column)
        self.pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        return f"{column_sql} ILIKE %s", (*column_params, self.pattern)


class _Backend:
    def condition(self, terms: list[Term]) -> Q:
        raise NotImplementedError

    def rank(self, terms: list[Term]) -> Expression:
        raise NotImplementedError


class _Fallback(_Backend):
    """Other engines: substring match on the whole text (no index; correct, slow)."""

    def condition(self, terms: list[Term]) -> Q:
        condition = Q()
        for term in terms:
            match = Q(search_text__icontains=term.text)
            if term.kind == "reference":
                match = _reference_match(term)
            elif term.kind != "word":
                match |= Q(contact__in=_contacts(term).values("pk"))
            condition &= match
        return condition

    def rank(self, terms: list[Term]) -> Expression:
        return Value(0.0, output_field=FloatField())


# --- PostgreSQL ------------------------------------------------------------------------------


def pg_tsquery(words: list[str], *, prefix_last: bool, operator: str = " & ") -> str:
    """A to_tsquery() text from letters/digits runs only: no operator can be injected."""
    parts = list(words)
    if parts and prefix_last:
        parts[-1] += ":*"
    return operator.join(parts)


class _PgRank(Func):
    """ts_rank of the subject for the query. Ranking the whole text would parse every matching
    conversation's text again (~0.5 ms each: minutes for a common word over 200k rows); the
    subject is short and in the row."""

    output_field = FloatField()

    def __init__(self, tsquery: str) -> None:
        super().__init__(F("subject"))
        self.tsquery = tsquery

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        return (f"ts_rank(to_tsvector('french_unaccent'::regconfig, {column_sql}), "
                "to_tsquery('french_unaccent'::regconfig, %s))",
                (*column_params, self.tsquery))


class _Postgres(_Backend):
    """PostgreSQL: the stored `search_vector` (GIN) and trigram indexes on the contacts.

    How many conversations a term matches decides how it is searched, read first from the
    planner's statistics (EXPLAIN: about a millisecond, whatever the number of matches;
    counting or collecting them would read the whole GIN posting list of a common word,
    50–100 ms at 200,000 conversations and five times that at 1,000,000):

    * at most COLLECT_MAX: `search_vector @@ query`, which the planner reads from the GIN
      index and sorts (a few hundred rows);
    * more than MANY_SHARE of the table (a common word, a domain every contact shares):
      `ts_match_vq(search_vector, query)`, the function behind `@@`, which no index
      answers: each row the list walks in its sort index is checked on its stored vector
      (no text parsing), and a page needs about 50 / (share of matching rows) rows, a
      capped count COUNT_CAP / share, never every match;
    * in between, a contact term (e-mail, phone: an OR across two tables cannot be read
      from two indexes otherwise), and an AND of words each common: the ids are collected
      first, at most COLLECT_MAX + 1, and decide (_verdicts, _words_condition)."""

    def __init__(self, db: str) -> None:
        self.db = db

    def condition(self, terms: list[Term]) -> Q:
        words = [w for t in terms if t.kind == "word" for w in t.words if not _is_stop_word(w)]
        known, typos = _pg_vocabulary(self.db, words)
        # (query SQL, its params, the term for a contact match or None)
        parts: list[tuple[str, tuple[str, ...], Term | None]] = []
        if known:
            parts.append((_PG_WORDS, (pg_tsquery(known, prefix_last=words[-1] in known),),
                          None))
        parts += [(_PG_SIMPLE, (" | ".join(alternatives),), None) for alternatives in typos]
        parts += [(*_pg_term_query(t), t) for t in terms if t.kind in ("compound", "phone")]
        # The planner's estimates, all in one EXPLAIN: each part's conversations, the
        # contacts of a contact term, and each word alone (an AND is estimated as if the
        # words were independent: "fuite d'eau", 16,000 conversations, reads as 1,500).
        contacts = [_contacts(t).values("pk").query.sql_with_params() if t else None
                    for _sql, _params, t in parts]
        prefix_last = bool(known) and words[-1] in known
        each_word: list[tuple[str, tuple[str, ...]]] = [
            (_PG_WORDS, (pg_tsquery([w], prefix_last=prefix_last
                                    and i == len(known) - 1),))
            for i, w in enumerate(known)] if len(known) > 1 else []
        alone: list[list[tuple[str, tuple[str, ...]]]] = [
            each_word if query_sql == _PG_WORDS else [] for query_sql, _params, _t in parts]
        queries: list[tuple[str, Any]] = [(_PG_ESTIMATE_ALL, ())]
        for (query_sql, params, _t), contact, words_alone in zip(parts, contacts, alone,
                                                                  strict=True):
            queries += [(_PG_ESTIMATE.format(query=sql), values) for sql, values in
                        [(query_sql, params), *words_alone]]
            queries += [contact] if contact else []
        verdicts, rarest = _verdicts(parts, alone, iter(_pg_estimates(self.db, queries)))
        found = iter(_pg_probe(self.db, _probes(parts, contacts, verdicts)))
        condition = Q()
        for (query_sql, params, term), verdict, words_alone, rare in zip(
                parts, verdicts, alone, rarest, strict=True):
            ids = next(found) if verdict == "probe" else []
            if term is None:
                condition &= _words_condition(query_sql, params, verdict, ids,
                                              None if rare is None else words_alone[rare])
                continue
            if verdict == "probe":
                contact_ids = next(found)
                if len(ids) <= COLLECT_MAX and len(contact_ids) <= COLLECT_MAX:
                    condition &= Q(pk__in=ids) | Q(contact_id__in=contact_ids)
                    continue
            # Through the contact join, checked on the rows the list walks (an EXISTS
            # here becomes a hashed subplan over every matching contact).
            condition &= Q(_PgVectorMatch(query_sql, params, indexed=False)) | (
                _contact_condition(term, "postgresql", "contact__"))
        for term in terms:
            if term.kind == "reference":
                condition &= _reference_match(term)
        return condition

    def rank(self, terms: list[Term]) -> Expression:
        words = [w for t in terms for w in t.words]
        if not words:
            return Value(0.0, output_field=FloatField())
        return _PgRank(pg_tsquery(words, prefix_last=True, operator=" | "))


# Beyond this many matching conversations (the planner's estimate), a term is checked row by
# row instead of read from the index (see _Postgres); also the most ids a contact term collects.
COLLECT_MAX = 3000
_PG_WORDS = "to_tsquery('french_unaccent'::regconfig, %s)"
_PG_SIMPLE = "to_tsquery('simple'::regconfig, %s)"
_PG_ESTIMATE = "SELECT id FROM inbox_conversation WHERE search_vector @@ {query}"
_PG_ESTIMATE_ALL = "SELECT id FROM inbox_conversation"
# Beyond this share of the conversations, a term is checked row by row without a probe.
MANY_SHARE = 0.05
_PG_PROBE = ("ARRAY(SELECT id FROM inbox_conversation WHERE search_vector @@ {query} "  # noqa: S608  # nosec B608
             f"LIMIT {COLLECT_MAX + 1})")
# The query words that are in the index's vocabulary (stems of 4+ letters: inbox_search_word)
# as they are, and for each one that is not, the closest known words (typo tolerance).
_PG_VOCABULARY = """
SELECT q.i, s.stem,
       s.stem IS NULL OR s.stem !~ '^[a-z]{4,30}$' OR EXISTS (
           SELECT 1 FROM inbox_search_word v
           WHERE v.word >= s.stem AND v.word < s.stem || '{' AND (q.i = %s OR v.word = s.stem)),
       ARRAY(SELECT v.word FROM inbox_search_word v
             WHERE v.word %% s.stem AND similarity(v.word, s.stem) >= 0.4
             ORDER BY similarity(v.word, s.stem) DESC, v.word LIMIT 3)
FROM unnest(%s::text[]) WITH ORDINALITY AS q(w, i)
CROSS JOIN LATERAL (SELECT (tsvector_to_array(
    to_tsvector('french_unaccent'::regconfig, q.w)))[1] AS stem) AS s
ORDER BY q.i
"""


def _pg_vocabulary(db: str, words: list[str]) -> tuple[list[str], list[list[str]]]:
    """(words to search as typed, [closest known stems for each word the index never saw])."""
    if not words:
        return [], []
    with connections[db].cursor() as cursor:
        cursor.execute(_PG_VOCABULARY, [len(words), words])
        rows = cursor.fetchall()
    known: list[str] = []
    typos: list[list[str]] = []
    for (_i, _stem, is_known, closest), word in zip(rows, words, strict=True):
        similar = [w for w in closest or [] if w.isascii() and w.isalpha()]
        if is_known or not similar:
            known.append(word)
        else:
            typos.append(similar)
    return known, typos


def _verdicts(parts: list[tuple[str, tuple[str, ...], Term | None]],
              alone: list[list[tuple[str, tuple[str, ...]]]],
              estimates: Any) -> tuple[list[str], list[int | None]]:
    """Per part of a query: "few" (read from the index), "many" (checked per row) or "probe"
    (its ids collected first, at most COLLECT_MAX + 1), and its rarest word (index in
    `alone`) when that one alone is not common.

    `estimates` yields the table's rows, then per part: the part's, each word's alone, a
    contact term's contacts (_Postgres.condition). "many" only beyond MANY_SHARE of the
    table, where a page walks at most ~50 / MANY_SHARE rows; a probe in between, since
    PostgreSQL never estimates a term it has no statistics for below ~0.4 % of the rows
    (4,000 at 1,000,000 conversations: a phone number), and estimates an AND of words as
    if they were independent ("fuite d'eau": 16,000 conversations read as 1,500)."""
    many = max(COLLECT_MAX, next(estimates) * MANY_SHARE)
    verdicts: list[str] = []
    rarest: list[int | None] = []
    for (_sql, _params, term), words_alone in zip(parts, alone, strict=True):
        together = next(estimates)
        each = [next(estimates) for _w in words_alone]
        verdict = ("many" if together > many
                   else "probe" if together > COLLECT_MAX or (each and min(each) > COLLECT_MAX)
                   else "few")
        if term is not None:  # both sides' few ids, or checked per row through the join
            few_contacts = next(estimates) <= many
            verdict = "probe" if verdict != "many" and few_contacts else "many"
        verdicts.append(verdict)
        rarest.append(each.index(min(each)) if each and min(each) <= many else None)
    return verdicts, rarest


def _words_condition(query_sql: str, params: tuple[str, ...], verdict: str, ids: list[int],
                     rarest: tuple[str, tuple[str, ...]] | None) -> Q:
    """The condition for words (see _verdicts), after their probe if any."""
    if verdict != "probe":
        return Q(_PgVectorMatch(query_sql, params, indexed=verdict == "few"))
    if len(ids) <= COLLECT_MAX:
        # The ids too: the planner, which may still expect thousands of matches, then
        # sorts these few rows instead of walking its order index in search of them.
        return Q(_PgVectorMatch(query_sql, params, indexed=True)) & Q(pk__in=ids)
    if rarest is not None:
        # Several words, together in more than COLLECT_MAX conversations ("martin facture"):
        # the rarest one read from the index, all of them checked on those rows.
        return (Q(_PgVectorMatch(*rarest, indexed=True))
                & Q(_PgVectorMatch(query_sql, params, indexed=False)))
    return Q(_PgVectorMatch(query_sql, params, indexed=True))


def _probes(parts: list[tuple[str, tuple[str, ...], Term | None]],
            contacts: list[tuple[str, Any] | None],
            verdicts: list[str]) -> list[tuple[str, tuple[Any, ...]]]:
    """The probes of the parts to probe (their ids, and a contact term's contact ids)."""
    probes: list[tuple[str, tuple[Any, ...]]] = []
    for (query_sql, params, term), contact, verdict in zip(parts, contacts, verdicts,
                                                           strict=True):
        if verdict == "probe":
            probes.append((_PG_PROBE.format(query=query_sql), params))
            if term and contact:
                probes.append((f"ARRAY({contact[0]} LIMIT {COLLECT_MAX + 1})", contact[1]))
    return probes


def _pg_estimates(db: str, queries: list[tuple[str, Any]]) -> list[float]:
    """The planner's estimate of the rows each query returns (its statistics; nothing is
    read), from one EXPLAIN: each query is an InitPlan `(… LIMIT 1)`, whose Limit node's
    child carries the estimate for the whole query."""
    if not queries:
        return []
    params: list[Any] = [p for _sql, values in queries for p in values]
    sql = "SELECT " + ", ".join(f"({query} LIMIT 1)" for query, _values in queries)
    with connections[db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    initplans = [node for node in plan[0]["Plan"].get("Plans", [])
                 if node.get("Parent Relationship") == "InitPlan"]
    if len(initplans) != len(queries):  # an unexpected plan shape: read as "few matches"
        return [0.0] * len(queries)
    return [float(node["Plans"][0]["Plan Rows"]) if node.get("Plans")
            else float(node["Plan Rows"]) for node in initplans]


def _pg_probe(db: str, probes: list[tuple[str, tuple[Any, ...]]]) -> list[list[int]]:
    """Runs every probe in one query: each is an ARRAY(SELECT id … LIMIT n) expression."""
    if not probes:
        return []
    params: list[Any] = [p for _sql, values in probes for p in values]
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(sql for sql, _values in probes), params)
        row = cursor.fetchone()
    return [list(ids) for ids in row]


# A term's full-text query as SQL over bound parameters (see _Postgres.condition).
_PG_COMPOUND = ("(plainto_tsquery('french_unaccent'::regconfig, %s) "
                "|| to_tsquery('french_unaccent'::regconfig, %s))")
_PG_NUMBER = ("(plainto_tsquery('french_unaccent'::regconfig, %s) "
              "|| plainto_tsquery('french_unaccent'::regconfig, %s))")


def _pg_term_query(term: Term) -> tuple[str, tuple[str, ...]]:
    """E-mails and domains: the token as the parser reads it (an e-mail is one lexeme) or its
    letters/digits runs, the last one a prefix ("dupont@exa"). Digits: as a number, or as the
    last part of a reference ("D-2026-000123" is parsed into '-2026' and '-000123')."""
    if term.kind == "compound":
        return _PG_COMPOUND, (term.text, pg_tsquery(term.words, prefix_last=True))
    return _PG_NUMBER, (term.text, "-" + term.text.lstrip("+"))


class _PgVectorMatch(Func):
    """The term's full-text query on the caller's rows. `indexed`: `search_vector @@ query`,
    read from the GIN index (or checked per row, as the planner finds cheaper); otherwise
    `ts_match_vq(search_vector, query)`, the same test as a function call, which no index
    answers: always checked per row on the stored vector, never a bitmap of every match."""

    output_field = BooleanField()

    def __init__(self, query_sql: str, params: tuple[str, ...], *, indexed: bool) -> None:
        super().__init__()
        self.query_sql = query_sql
        self.query_params = params
        self.indexed = indexed

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        table = compiler.query.get_initial_alias()
        column = f"{compiler.quote_name_unless_alias(table)}.search_vector"
        if self.indexed:
            return f"{column} @@ {self.query_sql}", self.query_params
        return f"ts_match_vq({column}, {self.query_sql})", self.query_params


# --- SQLite ----------------------------------------------------------------------------------


def fts5_phrase(text: str) -> str:
    """A quoted FTS5 string with prefix star: everything inside quotes is literal."""
    return '"' + text.replace('"', '""') + '"*'


class _SqliteRank(Func):
    """-bm25 for the RANKED_ROWS best matches, 0 for the others. FTS5 ranks its matches in one
    pass (`ORDER BY rank LIMIT n`); the scores are gathered once into a JSON object keyed by
    rowid (an uncorrelated subquery: evaluated once) and looked up per row. A correlated
    bm25() per row would recompute the query's statistics each time (up to ~20 ms a row)."""

    output_field = FloatField()

    def __init__(self, match: str) -> None:
        super().__init__(F("id"))
        self.match = match

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        # column_sql is a compiler-generated column reference; the match text is a parameter.
        sql = ("COALESCE(json_extract((SELECT json_group_object(rowid, -rank) FROM "  # noqa: S608  # nosec B608
               "(SELECT rowid, rank FROM inbox_conversation_fts "
               "WHERE inbox_conversation_fts MATCH %s ORDER BY rank LIMIT %s)), "
               f"'$.\"' || {column_sql} || '\"'), 0.0)")
        return sql, (self.match, RANKED_ROWS, *column_params)


class _Sqlite(_Backend):
    def condition(self, terms: list[Term]) -> Q:
        condition = Q()
        words = [t for t in terms if t.kind == "word"]
        if words:
            match = " ".join(fts5_phrase(t.text) for t in words)  # implicit AND
            condition &= Q(pk__in=_raw(_SQLITE_MATCH, match))
        for term in terms:
            if term.kind == "reference":
                condition &= _reference_match(term, as_range=True)
            elif term.kind != "word":
                condition &= (Q(pk__in=_raw(_SQLITE_MATCH, fts5_phrase(term.text)))
                              | Q(contact__in=_contacts(term).values("pk")))
        return condition

    def rank(self, terms: list[Term]) -> Expression:
        searchable = [t for t in terms if t.words]
        if not searchable:
            return Value(0.0, output_field=FloatField())
        return _SqliteRank(" OR ".join(fts5_phrase(t.text) for t in searchable))

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

The result is one SQL query (subqueries inside the caller's query); the caller's ordering is
kept unless ``ordered=True`` asks for relevance first: on PostgreSQL ``ts_rank`` of the
subject, on SQLite FTS5 ``bm25`` of the whole text for the best RANKED_ROWS matches; ties (and
the rest) keep the caller's order.
"""

from __future__ import annotations

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
# PostgreSQL. `to_tsvector('french_unaccent'::regconfig, search_text)` is the GIN-indexed
# expression. Every full-text match is a subquery ending with OFFSET 0, a planner fence: the
# matching ids are read from the GIN index once. Unfenced, the condition is one more filter
# on the caller's rows, and for a paginated list (ORDER BY … LIMIT 50) PostgreSQL prefers to
# walk the list's order index and run to_tsvector() on each row until 50 match: it costs that
# function far below its real ~0.5 ms a row, and a name found in 1 % of 200k conversations
# then took seconds instead of ~20 ms. (An OR, as for e-mails and phones also matched on
# their contact, cannot use the GIN index at all.)
_PG_MATCH_WORDS = (
    "SELECT id FROM inbox_conversation WHERE "
    "to_tsvector('french_unaccent'::regconfig, search_text) "
    "@@ to_tsquery('french_unaccent'::regconfig, %s) "
    "OFFSET 0"
)
#
# The entries of PostgreSQL's french.stop that can still match once unaccent has run (the
# accented ones never do). Dropped from queries beforehand, on both engines: PostgreSQL drops
# them too, and a query left empty ("le 06 12 34 56 78") would otherwise match nothing.
PG_STOP_WORDS = frozenset(["au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il", "je", "la", "le", "leur", "lui", "ma", "mais", "me", "mes", "moi", "mon", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se", "ses", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "c", "d", "j", "l", "m", "n", "s", "t", "y", "suis", "es", "est", "sommes", "sont", "serai", "seras", "sera", "serons", "serez", "seront", "serais", "serait", "serions", "seriez", "seraient", "fus", "fut", "furent", "sois", "soit", "soyons", "soyez", "soient", "fusse", "fusses", "fussions", "fussiez", "fussent", "ayant", "ayante", "ayantes", "ayants", "eu", "eue", "eues", "eus", "ai", "as", "avons", "avez", "ont", "aurai", "auras", "aura", "aurons", "aurez", "auront", "aurais", "aurait", "aurions", "auriez", "auraient", "avais", "avait", "avions", "aviez", "avaient", "eut", "eurent", "aie", "aies", "ait", "ayons", "ayez", "aient", "eusse", "eusses", "eussions", "eussiez", "eussent"])
# E-mails and domains: the token as the parser reads it (an e-mail is one lexeme) or its
# letters/digits runs, the last one a prefix ("dupont@exa" while typing).
_PG_MATCH_COMPOUND = (
    "SELECT id FROM inbox_conversation WHERE "
    "to_tsvector('french_unaccent'::regconfig, search_text) "
    "@@ (plainto_tsquery('french_unaccent'::regconfig, %s) "
    "|| to_tsquery('french_unaccent'::regconfig, %s)) "
    "OFFSET 0"
)
# Digits: as a number, or as the last part of a reference ("D-2026-000123" is parsed into the
# lexemes '-2026' and '-000123').
_PG_MATCH_NUMBER = (
    "SELECT id FROM inbox_conversation WHERE "
    "to_tsvector('french_unaccent'::regconfig, search_text) "
    "@@ (plainto_tsquery('french_unaccent'::regconfig, %s) "
    "|| plainto_tsquery('french_unaccent'::regconfig, %s)) "
    "OFFSET 0"
)
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


def search_conversations(qs: QuerySet[Conversation], q: str, *, ordered: bool = False,
                         for_count: bool = False) -> QuerySet[Conversation]:
    """`qs` narrowed to the conversations matching `q` (see the module docstring).

    Never widens `qs`; empty or unsearchable `q` returns `qs` unchanged. With `ordered=True`
    the result is annotated with `search_rank` and ordered by it, then by `qs`'s ordering.
    `for_count=True`: the same rows, written for an unordered (capped) count — on
    PostgreSQL the words are matched without the planner fence (see _PgMatch).
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
        backend = _Postgres(fenced=not for_count)
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
    return RawSQL(sql, params)  # noqa: S611 (constant SQL, bound params)


def _contacts(term: Term) -> QuerySet[Contact]:
    """Contacts whose e-mail (compound terms) or phone number (phone terms) contains the term:
    the contact columns are short, unlike search_text whose first line repeats them."""
    contacts = Contact._default_manager.order_by()
    if term.kind == "compound":
        return contacts.filter(email__icontains=term.text)
    phone: Any = F("phone")
    for sep in (" ", ".", "-", "/"):
        phone = Replace(phone, Value(sep), Value(""), output_field=CharField())
    condition = Q()
    for variant in phone_variants(term.text):
        condition |= Q(Contains(phone, variant))
    return contacts.filter(condition)


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


class _PgMatch(Func):
    """to_tsvector('french_unaccent'::regconfig, search_text) @@ to_tsquery(…, %s) as a plain
    condition on the caller's rows (unfenced): only for unordered queries such as the capped
    count, where PostgreSQL reads the GIN bitmap and stops after the LIMIT (~20 ms where the
    fenced form builds every matching id first, ~150 ms for a word in 1 conversation out of
    6). Never for an ORDER BY … LIMIT query (see _PG_MATCH_WORDS), never inside an OR."""

    output_field = BooleanField()

    def __init__(self, tsquery: str) -> None:
        super().__init__(F("search_text"))
        self.tsquery = tsquery

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        return (f"to_tsvector('french_unaccent'::regconfig, {column_sql}) "
                "@@ to_tsquery('french_unaccent'::regconfig, %s)",
                (*column_params, self.tsquery))


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
    def __init__(self, *, fenced: bool = True) -> None:
        self.fenced = fenced

    @staticmethod
    def _either(match: RawSQL, term: Term) -> Q:
        """Full-text match or a matching contact, as one union of index scans (GIN,
        contact_id) rather than an OR over the caller's rows."""
        ids = Conversation._default_manager.order_by()
        return Q(pk__in=ids.filter(pk__in=match).values("pk").union(
            ids.filter(contact__in=_contacts(term).values("pk")).values("pk"), all=True))

    def condition(self, terms: list[Term]) -> Q:
        condition = Q()
        words = [w for t in terms if t.kind == "word" for w in t.words if not _is_stop_word(w)]
        if words:
            tsquery = pg_tsquery(words, prefix_last=True)
            condition &= (Q(pk__in=_raw(_PG_MATCH_WORDS, tsquery)) if self.fenced
                          else Q(_PgMatch(tsquery)))
        for term in terms:
            if term.kind == "reference":
                condition &= _reference_match(term)
            elif term.kind == "compound":
                match = _raw(_PG_MATCH_COMPOUND, term.text,
                             pg_tsquery(term.words, prefix_last=True))
                condition &= self._either(match, term)
            elif term.kind == "phone":
                match = _raw(_PG_MATCH_NUMBER, term.text, "-" + term.text.lstrip("+"))
                condition &= self._either(match, term)
        return condition

    def rank(self, terms: list[Term]) -> Expression:
        words = [w for t in terms for w in t.words]
        if not words:
            return Value(0.0, output_field=FloatField())
        return _PgRank(pg_tsquery(words, prefix_last=True, operator=" | "))


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
        sql = ("COALESCE(json_extract((SELECT json_group_object(rowid, -rank) FROM "  # noqa: S608
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

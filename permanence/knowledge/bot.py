"""The FAQ bot: the best public article for a visitor's question, with a confidence.

Local and lexical (nothing fetched, no model): the account's published public articles
(plus the operator's global public ones) are scored with BM25 over knowledge.text terms
(accents folded, stop words dropped, light French stemming, a small synonym list); a word
no article contains is read as the closest term of the articles' vocabulary (one edit on
either side: insertion, deletion, substitution, transposition).

Confidence (0..1) is what share of the question's information the best article covers: the
idf-weighted share of the question's terms found in it, lowered when a second article is
almost as good (ambiguous). An out-of-scope question (« quel temps fait-il ») has few or
no terms in any article: low confidence, below BOT_CONFIDENCE_THRESHOLD → hand-over. The
visitor asking for a person (« parler à un conseiller », « un humain »…) hands over too.

The index of each account is built once per process and kept while the account's articles
do not change (checked by one aggregate query per question), so a question costs a few
dictionary look-ups: well under a millisecond over 2,000 articles.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount

from . import selectors
from .text import STOP_WORDS, SYNONYM_GROUPS, fold, term_of, terms, words

K1, B = 1.2, 0.75
TITLE_BOOST = 2  # title terms count as if written this many more times
MAX_QUESTION_CHARS = 1000
ANSWER_CHARS = 600
UNKNOWN_WEIGHT = 0.7
MAX_CACHED_ACCOUNTS = 500

# The visitor asks for a person (matched on the folded question).
_HUMAN = re.compile(
    r"\b(conseill\w*|humain\w*|operat\w*|standardist\w*|secretair\w*|interlocut\w*|"
    r"quelqu.?un|vrai(e)? personne|une personne|(un|une|a un|a une|au) agent|"
    r"parler a (un|une|la|le|quelqu)\w*|personne physique|etre humain|human|someone|"
    r"real person|an agent)\b")


@dataclass(frozen=True)
class BotAnswer:
    article_id: int | None
    title: str
    answer: str
    confidence: float
    handover: bool


@dataclass
class _Doc:
    pk: int
    title: str
    text: str
    tf: Counter[str]
    length: int


@dataclass
class _Index:
    docs: list[_Doc]
    df: Counter[str]
    avg_length: float
    postings: dict[str, list[int]] = field(default_factory=dict)
    # Typos: each word of the articles (and of the synonym list) and its one-letter
    # deletions → the terms of those words.
    deletes: dict[str, set[str]] = field(default_factory=dict)

    def idf(self, term: str) -> float:
        n = len(self.docs)
        return math.log(1 + (n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))


def _deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1:] for i in range(len(term))}


def _build(rows: list[tuple[int, str, str]]) -> _Index:
    docs: list[_Doc] = []
    df: Counter[str] = Counter()
    postings: dict[str, list[int]] = {}
    for i, (pk, title, text) in enumerate(rows):
        tf = Counter(terms(text))
        for term in terms(title):
            tf[term] += 1 + TITLE_BOOST
        docs.append(_Doc(pk, title, text, tf, sum(tf.values())))
        for term in tf:
            df[term] += 1
            postings.setdefault(term, []).append(i)
    deletes: dict[str, set[str]] = {}
    vocabulary = {w for _pk, title, text in rows for w in words(f"{title} {text}")}
    vocabulary |= {w for group in SYNONYM_GROUPS.values() for w in group}
    for word in vocabulary:
        term = term_of(word)
        if len(word) >= 4 and word not in STOP_WORDS and term in df:
            for variant in _deletions(word) | {word}:
                deletes.setdefault(variant, set()).add(term)
    avg = sum(d.length for d in docs) / len(docs) if docs else 1.0
    return _Index(docs, df, avg or 1.0, postings, deletes)


def _correct(index: _Index, word: str) -> str:
    """The term of a question's word; a word one edit away from a word of the articles
    (« anuler », « teleconsultaion ») is read as that word."""
    term = term_of(word)
    if term in index.df or len(word) < 4:
        return term
    candidates: set[str] = set(index.deletes.get(word, ()))
    for variant in _deletions(word):
        candidates |= index.deletes.get(variant, set())
    if not candidates:
        return term
    return max(sorted(candidates), key=lambda c: index.df[c])


_CACHE: dict[Any, tuple[Any, _Index]] = {}
_LOCK = threading.Lock()


def _index_for(account: ClientAccount) -> _Index:
    scope = selectors.public_articles(account, include_global=True)
    stamp = tuple(scope.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id")).values())
    key = account.pk
    cached = _CACHE.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    index = _build(list(scope.order_by("id").values_list("id", "title", "body_text")))
    with _LOCK:
        if len(_CACHE) >= MAX_CACHED_ACCOUNTS:  # bounded memory: rebuilt on next question
            _CACHE.clear()
        _CACHE[key] = (stamp, index)
    return index


def _score(index: _Index, query: list[str]) -> list[tuple[float, int]]:
    scores: dict[int, float] = {}
    for term in set(query):
        idf = index.idf(term)
        for i in index.postings.get(term, ()):
            doc = index.docs[i]
            tf = doc.tf[term]
            norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * doc.length / index.avg_length))
            scores[i] = scores.get(i, 0.0) + idf * norm
    return sorted(((s, i) for i, s in scores.items()), reverse=True)


def _excerpt(text: str) -> str:
    if len(text) <= ANSWER_CHARS:
        return text
    cut = text[:ANSWER_CHARS]
    end = max(cut.rfind(". "), cut.rfind("\n"))
    return (cut[:end + 1] if end > ANSWER_CHARS // 3 else cut.rsplit(" ", 1)[0] + " …").strip()


def threshold() -> float:
    return float(getattr(settings, "BOT_CONFIDENCE_THRESHOLD", 0.5))


def _handover(confidence: float = 0.0) -> BotAnswer:
    return BotAnswer(None, "", _("Je vous mets en relation avec un conseiller."),
                     round(confidence, 3), True)


def wants_a_person(question: str) -> bool:
    return bool(_HUMAN.search(fold(question)))


def answer(account: ClientAccount, question: str) -> BotAnswer:
    """The best public article for `question`, or a hand-over (see the module docstring)."""
    return answer_from_index(_index_for(account), question)


def answer_from_index(index: _Index, question: str) -> BotAnswer:
    question = (question or "")[:MAX_QUESTION_CHARS]
    if wants_a_person(question):
        return _handover()
    query = [_correct(index, w) for w in words(question)
             if w not in STOP_WORDS and len(w) >= 2]
    if not query or not index.docs:
        return _handover()
    ranked = _score(index, query)
    if not ranked:
        return _handover()
    best_score, best = ranked[0]
    doc = index.docs[best]
    # A word no article has weighs half as much as the rarest possible one: it may be the
    # question's subject (out of scope) or a detail (« mon père »).
    unknown_idf = UNKNOWN_WEIGHT * index.idf("\x00")
    weights = {t: (index.idf(t) if t in index.df else unknown_idf) for t in set(query)}
    covered = sum(w for t, w in weights.items() if t in doc.tf) / sum(weights.values())
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    margin = 1.0 if best_score <= 0 else min(1.0, 0.6 + 0.4 * (best_score - second) / best_score
                                                   + 0.2)
    confidence = max(0.0, min(1.0, covered * margin))
    if confidence < threshold():
        return _handover(confidence)
    return BotAnswer(doc.pk, doc.title, _excerpt(doc.text), round(confidence, 3), False)


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()

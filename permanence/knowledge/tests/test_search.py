"""Search on both engines: French stemming, accents folded, typos, ranking, snippets.
(Run with DATABASE_URL set for PostgreSQL; the default is SQLite.)"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from permanence.knowledge import search, selectors, services
from permanence.knowledge.html import MARK_END, MARK_START


@pytest.fixture
def faq(write: Any, account: Any) -> dict[str, Any]:
    return {
        "rdv": write(account, "Prendre rendez-vous",
                     "<p>Réservez votre rendez-vous en ligne ou par téléphone.</p>"),
        "annulation": write(account, "Annuler une consultation",
                            "<p>L'annulation se fait au moins 24 heures à l'avance.</p>"),
        "ordonnance": write(account, "Renouvellement d'ordonnance",
                            "<p>Les ordonnances sont renouvelées lors d'une consultation.</p>"),
        "echeance": write(account, "Échéances de paiement",
                          "<p>Le règlement des échéances se fait par carte <b>bancaire</b> "
                          "&lt;script&gt;.</p>"),
        "internal": write(account, "Procédure interne d'annulation",
                          "<p>Annuler dans le logiciel puis prévenir le médecin.</p>",
                          visibility="internal"),
        "draft": write(account, "Annulation (brouillon)", "<p>annulation</p>", published=False),
    }


def _titles(query: str, account: Any, **kw: Any) -> list[str]:
    return [h.article.title for h in selectors.search_articles(query, account=account, **kw)]


def test_accents_are_folded_both_ways(faq: Any, account: Any) -> None:
    assert _titles("echeances", account) == ["Échéances de paiement"]
    assert _titles("réglement", account) == ["Échéances de paiement"]


def test_stemming_finds_other_forms(faq: Any, account: Any) -> None:
    assert _titles("annuler", account)[0] == "Annuler une consultation"
    assert "Renouvellement d'ordonnance" in _titles("ordonnance", account)


@pytest.mark.parametrize("query", ["rendez-vous", "rendez vous", "RENDEZ-VOUS", "rdv rendez"])
def test_rendez_vous_with_or_without_hyphen(faq: Any, account: Any, query: str) -> None:
    assert _titles(query, account)[0] == "Prendre rendez-vous"


def test_a_typo_is_tolerated(faq: Any, account: Any) -> None:
    assert "Renouvellement d'ordonnance" in _titles("ordonnace", account)
    assert _titles("anulation", account)[0] == "Annuler une consultation"


def test_public_search_never_returns_internal_or_draft(faq: Any, account: Any) -> None:
    titles = _titles("annulation", account)
    assert "Procédure interne d'annulation" not in titles
    assert "Annulation (brouillon)" not in titles
    staff = _titles("annulation", account, visibility=None)
    assert "Procédure interne d'annulation" in staff


def test_other_accounts_articles_are_out_of_scope(faq: Any, account: Any, other_account: Any,
                                                   write: Any) -> None:
    write(other_account, "Annulation chez l'avocat", "<p>annulation</p>")
    assert "Annulation chez l'avocat" not in _titles("annulation", account)
    assert _titles("annulation", other_account) == ["Annulation chez l'avocat"]


def test_snippets_are_escaped_with_highlights(faq: Any, account: Any) -> None:
    hit = selectors.search_articles("carte", account=account)[0]
    assert "<mark>" in hit.snippet and "</mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    # PostgreSQL's headline leaves tag-like words out; SQLite keeps them, escaped.
    assert connection.vendor != "sqlite" or "&lt;script&gt;" in hit.snippet


def test_snippet_html_escapes_everything_but_the_marks() -> None:
    raw = f'<img src=x onerror="a()"> {MARK_START}rendez-vous{MARK_END} & <b>'
    assert search._snippet_html(raw) == (
        "&lt;img src=x onerror=&quot;a()&quot;&gt; <mark>rendez-vous</mark> &amp; &lt;b&gt;")


def test_ranking_prefers_the_title(faq: Any, account: Any, write: Any) -> None:
    write(account, "Tarifs", "<p>Une consultation coûte 30 euros, ordonnance comprise.</p>")
    assert _titles("ordonnance", account)[0] == "Renouvellement d'ordonnance"


def test_edits_and_deletes_reach_the_index(faq: Any, account: Any, admin_user: Any) -> None:
    services.article_update(actor=admin_user, article=faq["echeance"],
                            data=services.ArticleData(title="Moyens de règlement"))
    assert _titles("moyens", account) == ["Moyens de règlement"]
    services.article_delete(actor=admin_user, article=faq["rdv"])
    assert _titles("rendez-vous", account) == []


def test_an_empty_scope_finds_nothing(faq: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    nobody = selectors.articles_visible_to(AnonymousUser())
    assert selectors.search_articles("annulation", within=nobody) == []


def test_queries_with_nothing_searchable(faq: Any, account: Any) -> None:
    for query in ("", "   ", "?!", "le la de", "'\"; DROP TABLE", "a" * 5000, "\x00"):
        selectors.search_articles(query, account=account)  # no error


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5 triggers")
def test_sqlite_triggers_are_installed(db: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                       "AND tbl_name = 'knowledge_article'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"knowledge_article_fts_ai", "knowledge_article_fts_ad",
                     "knowledge_article_fts_au"}

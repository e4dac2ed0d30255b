"""Article bodies are sanitised with nh3 before they are stored."""

from __future__ import annotations

from typing import Any

from permanence.knowledge import services
from permanence.knowledge.html import MARK_START, clean, plain_text


def test_scripts_handlers_and_javascript_links_are_stripped() -> None:
    dirty = ('<p onclick="steal()">Bonjour <script>alert(1)</script>'
             '<img src=x onerror="alert(1)"><a href="javascript:alert(1)">lien</a>'
             '<a href="https://exemple.fr">ok</a></p><style>p{}</style><iframe src="x"></iframe>')
    out = clean(dirty)
    for bad in ("script", "onclick", "onerror", "javascript:", "<img", "<iframe", "<style",
                "alert"):
        assert bad not in out
    assert '<a href="https://exemple.fr" rel="noopener noreferrer nofollow">ok</a>' in out
    assert out.startswith("<p>Bonjour")


def test_plain_text_and_forged_highlights() -> None:
    body = clean(f"<p>Tarifs &amp; paiement {MARK_START}faux</p><ul><li>Carte</li></ul>")
    assert MARK_START not in body
    assert plain_text(body) == "Tarifs & paiement faux\nCarte"


def test_the_service_stores_the_sanitised_body(db: Any, admin_user: Any, account: Any) -> None:
    article = services.article_create(actor=admin_user, account=account, data=services.ArticleData(
        title="  Horaires   du cabinet ", body='<p>Ouvert<script>x()</script></p><b onmouseover="x">9 h</b>'))
    article.refresh_from_db()
    assert article.title == "Horaires du cabinet"
    assert article.body == "<p>Ouvert</p><b>9 h</b>"
    assert article.body_text == "Ouvert\n9 h"

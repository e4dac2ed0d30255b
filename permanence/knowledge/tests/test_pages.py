"""Staff and public pages: they render, and their query count does not grow with the rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.inbox import services as inbox
from permanence.knowledge import services
from permanence.knowledge.models import Article


def _many(write: Any, account: Any, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        write(account if i % 2 else None, f"Article {i}", f"<p>Texte {i} rendez-vous</p>",
              visibility="internal" if i % 3 == 0 else "public")


def _count(client: Client, url: str, data: Any = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, data or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("url_name", "params"), [
    ("knowledge:list", {}), ("knowledge:list", {"q": "rendez-vous"}),
    ("knowledge:list", {"stale": "on", "visibility": "public"}),
])
def test_staff_list_queries_do_not_grow(client: Any, supervisor: Any, write: Any, account: Any,
                                        url_name: str, params: Any,
                                        django_assert_max_num_queries: Any) -> None:
    client.force_login(supervisor)
    url = reverse(url_name)
    _many(write, account, 3)
    small = _count(client, url, params)
    _many(write, account, 12, start=3)
    with django_assert_max_num_queries(small):
        assert client.get(url, params).status_code == 200


@pytest.mark.parametrize("kind", ["faq", "help"])
def test_public_lists_queries_do_not_grow(write: Any, account: Any, kind: str,
                                          django_assert_max_num_queries: Any) -> None:
    url = reverse("knowledge_public:faq") if kind == "faq" else reverse(
        "knowledge_public:help", args=[account.slug])
    _many(write, account, 3)
    small = _count(Client(), url)
    _many(write, account, 12, start=3)
    with django_assert_max_num_queries(small):
        assert Client().get(url).status_code == 200


def test_staff_journey(client: Any, agent: Any, account: Any) -> None:
    client.force_login(agent)
    response = client.post(reverse("knowledge:create"), {
        "account": str(account.pk), "title": "Procédure d'accueil",
        "body": "<p>Décrocher <script>x</script>en 3 sonneries.</p>", "visibility": "internal",
        "language": "fr"})
    article = Article.objects.get(title="Procédure d'accueil")
    assert response.status_code == 302 and "script" not in article.body
    detail = client.get(reverse("knowledge:detail", args=[article.pk]))
    assert "Décrocher" in detail.content.decode()
    edit = client.post(reverse("knowledge:edit", args=[article.pk]), {
        "title": "Procédure d'accueil", "body": "<p>Décrocher vite.</p>",
        "visibility": "internal", "language": "fr", "new_category": "Accueil"})
    assert edit.status_code == 302
    article.refresh_from_db()
    assert article.category is not None and article.category.name == "Accueil"
    client.post(reverse("knowledge:status", args=[article.pk]), {"to": "published"})
    article.refresh_from_db()
    assert article.status == "published" and article.published_at is not None
    # Global articles: administrators and supervisors only.
    assert client.post(reverse("knowledge:create"), {
        "account": "global", "title": "x", "visibility": "public", "language": "fr"}
    ).status_code == 200  # the choice is not offered: form error
    assert not Article.objects.filter(title="x").exists()


def test_stale_flag_and_review(client: Any, supervisor: Any, write: Any, account: Any,
                               settings: Any) -> None:
    article = write(account, "Ancien article", "<p>x</p>")
    Article.objects.filter(pk=article.pk).update(last_reviewed_at="2020-01-01T00:00:00Z")
    client.force_login(supervisor)
    page = client.get(reverse("knowledge:list"), {"stale": "on"}).content.decode()
    assert "Ancien article" in page and "À relire" in page
    client.post(reverse("knowledge:review", args=[article.pk]))
    page = client.get(reverse("knowledge:list"), {"stale": "on"}).content.decode()
    assert "Ancien article" not in page


def test_suggestions_panel(client: Any, agent: Any, other_agent: Any, write: Any,
                           account: Any) -> None:
    write(account, "Annuler un rendez-vous", "<p>Annulation 24 h à l'avance.</p>")
    write(account, "Procédure annulation", "<p>Dans le logiciel.</p>", visibility="internal")
    conversation = inbox.conversation_open(inbox.Incoming(
        account=account, channel="email", subject="Annulation de mon rendez-vous",
        body_text="Bonjour, je dois annuler mon rendez-vous de jeudi.",
        contact_email="patient@exemple.fr", acknowledge=False))
    client.force_login(agent)
    html = client.get(reverse("knowledge:suggestions"),
                      {"conversation": conversation.pk}).content.decode()
    assert "Annuler un rendez-vous" in html and "Procédure annulation" in html
    assert "<mark>" in html
    client.force_login(other_agent)
    assert client.get(reverse("knowledge:suggestions"),
                      {"conversation": conversation.pk}).status_code == 404
    assert client.get(reverse("knowledge:suggestions"), {"q": "annuler"}).status_code == 200
    # The conversation page loads the panel for the message being read.
    client.force_login(agent)
    page = client.get(reverse("inbox:detail", args=[conversation.pk])).content.decode()
    assert f'{reverse("knowledge:suggestions")}?conversation={conversation.pk}' in page


def test_public_article_page_in_english(write: Any, account: Any, admin_user: Any) -> None:
    fr = write(account, "Horaires", "<p>Ouvert.</p>")
    en = write(account, "Opening hours", "<p>Open.</p>", language="en")
    services.article_update(actor=admin_user, article=en,
                            data=services.ArticleData(translation_of_id=fr.pk))
    page = Client().get(reverse("knowledge_public:help_article", args=[account.slug, fr.pk]))
    assert 'hreflang="en"' in page.content.decode()
    assert f"/aide/{account.slug}/{en.pk}/" in page.content.decode()


def test_client_writes_their_faq_in_the_espace_client(client: Any, client_user: Any,
                                                      account: Any, write: Any) -> None:
    internal = write(account, "Procédure", "<p>x</p>", visibility="internal")
    client.force_login(client_user)
    response = client.post(reverse("knowledge_portal:create"), {
        "title": "Acceptez-vous la carte Vitale ?", "body": "<p>Oui.</p>", "language": "fr",
        "visibility": "internal"})
    assert response.status_code == 302
    article = Article.objects.get(title="Acceptez-vous la carte Vitale ?")
    assert article.visibility == "public" and article.status == "draft"
    client.post(reverse("knowledge_portal:status", args=[article.pk]), {"to": "published"})
    page = client.get(reverse("knowledge_portal:list")).content.decode()
    assert "Acceptez-vous la carte Vitale ?" in page and "Procédure" not in page
    assert Client().get(reverse("knowledge_public:help_article",
                                args=[account.slug, article.pk])).status_code == 200
    assert client.get(reverse("knowledge_portal:edit", args=[internal.pk])).status_code == 404

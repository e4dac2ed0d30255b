"""Isolation: internal articles never public nor for clients; an account's articles never for
another account's clients or unassigned secretaries; writes by role; votes de-duplicated."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from permanence.knowledge import selectors
from permanence.knowledge.models import Article, ArticleVote


@pytest.fixture
def articles(write: Any, account: Any, other_account: Any) -> dict[str, Article]:
    return {
        "public": write(account, "Horaires du cabinet", "<p>Ouvert de 8 h à 19 h.</p>"),
        "internal": write(account, "Procédure secrète", "<p>Code porte 1234.</p>",
                          visibility="internal"),
        "draft": write(account, "Brouillon public", "<p>pas encore</p>", published=False),
        "other": write(other_account, "FAQ avocat", "<p>Honoraires.</p>"),
        "other_internal": write(other_account, "Procédure avocat", "<p>interne</p>",
                                visibility="internal"),
        "global": write(None, "FAQ opérateur", "<p>Permanence.</p>"),
        "global_internal": write(None, "Procédure opérateur", "<p>interne</p>",
                                 visibility="internal"),
    }


def _visible(user: Any) -> set[str]:
    return set(selectors.articles_visible_to(user).values_list("title", flat=True))


def test_visibility_per_role(articles: Any, agent: Any, other_agent: Any, client_user: Any,
                             billing: Any, supervisor: Any) -> None:
    assert _visible(client_user) == {"Horaires du cabinet", "Brouillon public",
                                     "FAQ opérateur"}
    assert _visible(agent) == {"Horaires du cabinet", "Procédure secrète", "Brouillon public",
                               "FAQ opérateur", "Procédure opérateur"}
    assert "Procédure secrète" not in _visible(other_agent)
    assert "Procédure avocat" in _visible(other_agent)
    assert _visible(billing) == _visible(supervisor) == {a.title for a in articles.values()}


def test_public_pages_show_only_published_public_articles(articles: Any, account: Any) -> None:
    client = Client()
    page = client.get(reverse("knowledge_public:help", args=[account.slug])).content.decode()
    assert "Horaires du cabinet" in page
    for hidden in ("Procédure secrète", "Brouillon public", "FAQ avocat",
                   "FAQ opérateur"):
        assert hidden not in page
    faq = client.get(reverse("knowledge_public:faq")).content.decode()
    assert "FAQ opérateur" in faq and "Procédure opérateur" not in faq
    assert "Horaires du cabinet" not in faq
    search = client.get(reverse("knowledge_public:help", args=[account.slug]),
                        {"q": "code porte procédure"}).content.decode()
    assert "Procédure secrète" not in search
    for pk in (articles["internal"].pk, articles["draft"].pk, articles["other"].pk):
        url = reverse("knowledge_public:help_article", args=[account.slug, pk])
        assert client.get(url).status_code == 404
    assert client.get(reverse("knowledge_public:faq_article",
                              args=[articles["global_internal"].pk])).status_code == 404
    ok = client.get(reverse("knowledge_public:help_article",
                            args=[account.slug, articles["public"].pk]))
    assert ok.status_code == 200 and "Ouvert de 8 h" in ok.content.decode()


def test_unknown_or_inactive_help_page_is_404(db: Any, account: Any) -> None:
    account.status = "resilie"
    account.save()
    assert Client().get(reverse("knowledge_public:help", args=[account.slug])).status_code == 404
    assert Client().get(reverse("knowledge_public:help", args=["inconnu"])).status_code == 404


def test_clients_and_unassigned_secretaries_through_the_api(
        articles: Any, api_client_for: Any, client_user: Any, outsider_client: Any,
        other_agent: Any) -> None:
    for user, pk, status in ((client_user, articles["internal"].pk, 404),
                             (client_user, articles["other"].pk, 404),
                             (client_user, articles["public"].pk, 200),
                             (outsider_client, articles["public"].pk, 404),
                             (outsider_client, articles["draft"].pk, 404),
                             (other_agent, articles["internal"].pk, 404),
                             (other_agent, articles["other_internal"].pk, 200)):
        response = api_client_for(user).get(f"/api/v1/knowledge/articles/{pk}")
        assert response.status_code == status, (user, pk)
    listed = api_client_for(client_user).get("/api/v1/knowledge/articles").json()
    assert {a["title"] for a in listed} == {"Horaires du cabinet", "Brouillon public",
                                            "FAQ opérateur"}


def test_who_writes_what(articles: Any, api_client_for: Any, client_user: Any, agent: Any,
                         billing: Any, supervisor: Any, account: Any) -> None:
    body = {"account": account.pk, "title": "Nouvelle procédure", "visibility": "internal"}
    assert api_client_for(client_user).post("/api/v1/knowledge/articles", body,
                                            content_type="application/json").status_code == 403
    assert api_client_for(billing).post("/api/v1/knowledge/articles", body,
                                        content_type="application/json").status_code == 403
    assert api_client_for(agent).post("/api/v1/knowledge/articles", body,
                                      content_type="application/json").status_code == 201
    public = {**body, "visibility": "public", "title": "Question des patients"}
    assert api_client_for(client_user).post("/api/v1/knowledge/articles", public,
                                            content_type="application/json").status_code == 201
    glob = {"title": "FAQ globale", "visibility": "public"}
    assert api_client_for(agent).post("/api/v1/knowledge/articles", glob,
                                      content_type="application/json").status_code == 403
    assert api_client_for(supervisor).post("/api/v1/knowledge/articles", glob,
                                           content_type="application/json").status_code == 201
    # A client cannot turn their public article into an internal one.
    pk = articles["public"].pk
    assert api_client_for(client_user).patch(
        f"/api/v1/knowledge/articles/{pk}", {"visibility": "internal"},
        content_type="application/json").status_code == 403
    assert Article.objects.get(pk=pk).visibility == "public"


def test_votes_are_deduplicated_per_session(articles: Any, account: Any) -> None:
    article = articles["public"]
    url = reverse("knowledge_public:vote", args=[article.pk])
    browser = Client(enforce_csrf_checks=False)
    assert browser.post(url, {"helpful": "oui", "comment": "Merci"}).status_code == 302
    assert browser.post(url, {"helpful": "non"}).status_code == 302
    other = Client()
    other.post(url, {"helpful": "non"})
    article.refresh_from_db()
    assert (article.helpful_count, article.unhelpful_count) == (1, 1)
    assert ArticleVote.objects.filter(article=article).count() == 2
    assert ArticleVote.objects.get(article=article, helpful=True).comment == "Merci"
    assert browser.post(url, {"helpful": "peut-être"}).status_code == 422
    internal = reverse("knowledge_public:vote", args=[articles["internal"].pk])
    assert Client().post(internal, {"helpful": "oui"}).status_code == 404


def test_vote_needs_csrf(articles: Any) -> None:
    url = reverse("knowledge_public:vote", args=[articles["public"].pk])
    assert Client(enforce_csrf_checks=True).post(url, {"helpful": "oui"}).status_code == 403
    assert not ArticleVote.objects.exists()


def test_staff_pages_refuse_clients(articles: Any, client: Any, client_user: Any) -> None:
    client.force_login(client_user)
    assert client.get(reverse("knowledge:list")).status_code == 403

"""The API: bad input is a 4xx with field errors (never a 500), the bot's contract."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from permanence.knowledge.models import Article


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("body", [
    {"account": 10**30, "question": "horaires"},
    {"account": -10**30, "question": "horaires"},
    {"account": [1], "question": "horaires"},
    {"account": {"id": 1}, "question": "horaires"},
    {"account": None, "question": "horaires"},
    {"account": True, "question": "horaires"},
    {"question": "horaires"},
    {"account": "cabinet-martin"},
    {"account": "cabinet-martin", "question": ""},
    {"account": "cabinet-martin", "question": 42},
    {"account": "cabinet-martin", "question": ["a"]},
    {"account": "cabinet-martin", "question": "x" * 1001},
    [1, 2],
    "texte",
    None,
])
def test_bot_refuses_bad_input(db: Any, account: Any, body: Any) -> None:
    response = _post(Client(), "/api/v1/bot/answer", body)
    assert response.status_code in (400, 422), (body, response.content)
    assert response.json()["code"] == "invalid"


def test_bot_invalid_json(db: Any, account: Any) -> None:
    response = Client().post("/api/v1/bot/answer", "{nope", content_type="application/json")
    assert response.status_code == 422


def test_bot_unknown_account_is_404(db: Any, account: Any) -> None:
    for ref in ("inconnu", 999999, "999999"):
        response = _post(Client(), "/api/v1/bot/answer", {"account": ref, "question": "horaires"})
        assert response.status_code == 404, ref


def test_bot_answers_by_id_or_slug_without_login(write: Any, account: Any) -> None:
    article = write(account, "Horaires d'ouverture", "<p>Ouvert du lundi au vendredi, 8 h à 19 h.</p>")
    for ref in (account.pk, str(account.pk), account.slug):
        data = _post(Client(), "/api/v1/bot/answer",
                     {"account": ref, "question": "Quels sont vos horaires ?"}).json()
        assert set(data) == {"article_id", "title", "answer", "confidence", "handover"}
        assert data["article_id"] == article.pk and data["handover"] is False
        assert data["title"] == "Horaires d'ouverture"
        assert "lundi" in data["answer"] and 0 <= data["confidence"] <= 1
    person = _post(Client(), "/api/v1/bot/answer",
                   {"account": account.slug, "question": "Je veux parler à un conseiller"}).json()
    assert person["handover"] is True and person["article_id"] is None


def test_bot_is_rate_limited(db: Any, account: Any, settings: Any) -> None:
    settings.BOT_RATE_LIMIT = 3
    codes = [_post(Client(), "/api/v1/bot/answer",
                   {"account": account.slug, "question": "horaires"}).status_code
             for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


@pytest.mark.parametrize("body", [
    {"account": 10**30, "title": "x"},
    {"account": "abc", "title": "x"},
    {"title": 12},
    {"title": ""},
    {"title": "x" * 201},
    {"title": "x", "visibility": "secret"},
    {"title": "x", "language": "de"},
    {"title": "x", "related": 5},
    {"title": "x", "related": [10**30]},
    {"title": "x", "category": 10**30},
    {"title": "x", "status": "archived"},
    {},
])
def test_article_create_refuses_bad_input(db: Any, api_client_for: Any, supervisor: Any,
                                          body: Any) -> None:
    response = _post(api_client_for(supervisor), "/api/v1/knowledge/articles", body)
    assert response.status_code in (400, 404, 422), (body, response.content)
    assert not Article.objects.exists()


def test_article_crud(db: Any, api_client_for: Any, supervisor: Any, account: Any,
                      outsider_client: Any) -> None:
    client = api_client_for(supervisor)
    created = _post(client, "/api/v1/knowledge/articles", {
        "account": account.pk, "title": "Parking", "body": "<p onclick='x'>Rue Bert</p>",
        "visibility": "public", "language": "fr", "status": "published"})
    assert created.status_code == 201
    data = created.json()
    assert data["body"] == "<p>Rue Bert</p>" and data["status"] == "published"
    assert data["stale"] is False and data["account"] == account.pk
    pk = data["id"]
    english = _post(client, "/api/v1/knowledge/articles", {
        "account": account.pk, "title": "Parking", "language": "en", "translation_of": pk})
    assert english.json()["translation_of"] == pk
    linked = client.patch(f"/api/v1/knowledge/articles/{pk}", {
        "related": [english.json()["id"]], "owner": supervisor.pk},
        content_type="application/json").json()
    assert linked["related"] == [english.json()["id"]] and linked["owner"] == supervisor.pk
    assert client.patch(f"/api/v1/knowledge/articles/{pk}", {"owner": outsider_client.pk},
                        content_type="application/json").status_code == 422
    patched = client.patch(f"/api/v1/knowledge/articles/{pk}", {"title": "Stationnement",
                                                                "status": "draft"},
                           content_type="application/json").json()
    assert patched["title"] == "Stationnement" and patched["status"] == "draft"
    bad = client.patch(f"/api/v1/knowledge/articles/{pk}", {"status": "brouillon"},
                       content_type="application/json")
    assert bad.status_code == 422
    assert client.get(f"/api/v1/knowledge/articles/{10**30}").status_code == 422
    found = client.get("/api/v1/knowledge/articles", {"q": "stationnement"}).json()
    assert [a["id"] for a in found] == [pk]
    found = client.get("/api/v1/knowledge/articles", {"q": "bert"}).json()
    assert "<mark>Bert</mark>" in found[0]["snippet"]
    assert client.delete(f"/api/v1/knowledge/articles/{pk}").status_code == 204
    assert client.get(f"/api/v1/knowledge/articles/{pk}").status_code == 404


def test_archived_cannot_be_published_directly(db: Any, api_client_for: Any, supervisor: Any,
                                               write: Any, account: Any) -> None:
    article = write(account, "Ancien", "<p>x</p>")
    client = api_client_for(supervisor)
    url = f"/api/v1/knowledge/articles/{article.pk}"
    assert client.patch(url, {"status": "archived"},
                        content_type="application/json").status_code == 200
    response = client.patch(url, {"status": "published"}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


XSS_BODY = ('<p>Accès <img src=x onerror="alert(1)"><script>alert(2)</script>'
            '<a href="javascript:alert(3)">ici</a> <b onmouseover="alert(4)">rue Bert</b></p>')


def test_an_article_written_through_the_api_is_inert_on_every_page(
        db: Any, api_client_for: Any, supervisor: Any, account: Any) -> None:
    created = _post(api_client_for(supervisor), "/api/v1/knowledge/articles", {
        "account": account.pk, "title": "Accès", "body": XSS_BODY, "visibility": "public",
        "language": "fr", "status": "published"})
    assert created.status_code == 201
    pk = created.json()["id"]
    staff = Client()
    staff.force_login(supervisor)
    pages = [staff.get(f"/app/connaissances/{pk}/"),
             Client().get(f"/aide/{account.slug}/{pk}/")]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "rue Bert" in html
        for payload in ("onerror", "alert(", "javascript:", "onmouseover", "<img"):
            assert payload not in html, payload

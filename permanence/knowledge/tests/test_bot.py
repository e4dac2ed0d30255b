"""Bot quality on a medical practice's FAQ: top-1 accuracy and hand-over."""

from __future__ import annotations

from typing import Any

from permanence.knowledge import bot, services
from permanence.knowledge.models import Article

from .bot_fixtures import ARTICLES, QUESTIONS


def _seed(write: Any, account: Any) -> dict[int, str]:
    return {write(account, title, body).pk: key for key, (title, body) in ARTICLES.items()}


def test_fixture_size() -> None:
    assert len(ARTICLES) >= 30
    assert len(QUESTIONS) >= 100
    assert all(key in ARTICLES for _q, key in QUESTIONS if key)


def test_top1_accuracy_and_handover(write: Any, account: Any) -> None:
    keys = _seed(write, account)
    in_scope = [(q, k) for q, k in QUESTIONS if k]
    misses = []
    for question, expected in in_scope:
        result = bot.answer(account, question)
        got = None if result.handover else keys.get(result.article_id or 0)
        if got != expected:
            misses.append((question, expected, got, result.confidence))
    accuracy = 1 - len(misses) / len(in_scope)
    assert accuracy >= 0.8, misses
    wrong_handover = [(q, bot.answer(account, q)) for q, k in QUESTIONS if k is None]
    assert all(r.handover and r.article_id is None for _q, r in wrong_handover), wrong_handover


def test_global_public_articles_answer_too_but_never_internal_or_others(
        write: Any, account: Any, other_account: Any) -> None:
    write(None, "Horaires du service client", "<p>Le service client répond de 9 h à 18 h.</p>")
    write(account, "Code de la porte", "<p>Le code de la porte est 1234.</p>",
          visibility="internal")
    write(other_account, "Code wifi", "<p>Le code wifi est abc.</p>")
    assert bot.answer(account, "horaires du service client").title == \
        "Horaires du service client"
    assert bot.answer(account, "code de la porte").handover is True
    assert bot.answer(account, "code wifi").handover is True


def test_the_index_follows_edits(write: Any, account: Any, admin_user: Any) -> None:
    article = write(account, "Parking", "<p>Un parking public se trouve rue Bert.</p>")
    assert bot.answer(account, "ou se garer").article_id == article.pk
    services.article_unpublish(actor=admin_user, article=article)
    assert bot.answer(account, "ou se garer").handover is True
    services.article_publish(actor=admin_user, article=Article.objects.get(pk=article.pk))
    services.article_update(actor=admin_user, article=Article.objects.get(pk=article.pk),
                            data=services.ArticleData(title="Vaccination",
                                                      body="<p>Vaccin contre la grippe.</p>"))
    assert bot.answer(account, "vaccin grippe").article_id == article.pk


def test_no_article_means_handover(db: Any, account: Any) -> None:
    result = bot.answer(account, "Quels sont vos horaires ?")
    assert result.handover is True and result.confidence == 0


def test_human_requests(db: Any) -> None:
    for text in ("Je veux parler à un conseiller", "un humain svp", "passez-moi quelqu'un",
                 "je voudrais parler a une personne", "Puis-je avoir un opérateur ?"):
        assert bot.wants_a_person(text), text
    for text in ("Quels sont vos horaires ?", "Personne ne répond au téléphone",
                 "prendre rendez-vous"):
        assert not bot.wants_a_person(text), text

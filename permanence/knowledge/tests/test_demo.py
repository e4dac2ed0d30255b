"""The demo's knowledge base: written once, found by the bot and the search."""

from __future__ import annotations

from typing import Any

from permanence.knowledge import bot, selectors
from permanence.knowledge.demo import seed_knowledge
from permanence.knowledge.models import Article


def test_demo_articles_once(db: Any, supervisor: Any, account: Any) -> None:
    written = seed_knowledge()
    assert written == Article.objects.count() > 10
    assert seed_knowledge() == 0
    assert Article.objects.filter(account=account, visibility="internal").exists()
    assert bot.answer(account, "quels sont vos horaires ?").title == \
        "Horaires d'ouverture du cabinet"
    assert selectors.search_articles("ordonance", account=account)[0].article.title == \
        "Renouvellement d'ordonnance"

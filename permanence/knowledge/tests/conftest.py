"""Knowledge fixtures: a helper writing articles through the services."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.knowledge import bot, services
from permanence.knowledge.models import Article


@pytest.fixture(autouse=True)
def _fresh_bot_cache() -> Any:
    # Ids repeat from one test to the next (rolled back): the process cache must not.
    bot.clear_cache()
    yield
    bot.clear_cache()


@pytest.fixture
def write(admin_user: Any) -> Any:
    """write(account, title, body, visibility="public", published=True, language="fr")."""

    def make(account: Any, title: str, body: str = "", *, visibility: str = "public",
             published: bool = True, language: str = "fr") -> Article:
        article = services.article_create(actor=admin_user, account=account,
                                          data=services.ArticleData(
                                              title=title, body=body, visibility=visibility,
                                              language=language))
        if published:
            article = services.article_publish(actor=admin_user, article=article)
        return article

    return make

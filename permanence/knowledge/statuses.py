"""The article status machine (ARTICLE_TRANSITIONS, beside the model) on the kernel's helper:
the only code that changes an article's status."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.transitions import Machine, transition

from .models import ARTICLE_TRANSITIONS, Article, ArticleStatus, ArticleStatusChange

ARTICLE_MACHINE: Machine[Article] = Machine(
    model=Article, transitions=ARTICLE_TRANSITIONS, history_model=ArticleStatusChange,
    history_fk="article", status_choices=ArticleStatus, ref_field="title",
    error_message=lambda: _("L'article « %(ref)s » ne peut pas passer de « %(a)s » à "
                            "« %(b)s »."))


@transaction.atomic
def article_transition(*, article: Article | int, to: str, actor: User | None = None,
                       note: str = "") -> Article:
    """Move `article` to `to` (validated) or raise DomainError (409). Publishing stamps the
    publication date; every move touches `updated_at` (the bot's index notices it)."""

    def stamp(obj: Article, _previous: str, new: str, _actor: object, at: datetime) -> None:
        obj.updated_at = at
        if new == ArticleStatus.PUBLISHED:
            obj.published_at = at

    moved = transition(ARTICLE_MACHINE, instance=article, to=to, actor=actor, note=note,
                       stamp=stamp)
    if moved.previous != to:
        audit_record(actor=actor, action=Action.UPDATE, target=moved.instance,
                     account=moved.instance.account,
                     changes={"status": [moved.previous, to]})
    return moved.instance

"""Writes: articles, categories, votes. Each service checks its input, writes in one
transaction and records the audit row. Access (which article, which account) is decided
before, by the selectors and permissions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from permanence.accounts.models import STAFF_ROLES, ClientAccount, User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record, diff_fields
from permanence.core import clock
from permanence.core.errors import DomainError, invalid_fields

from . import html
from .models import Article, ArticleStatus, ArticleVote, Category, Language, Visibility
from .statuses import article_transition

MAX_TITLE = 200
MAX_COMMENT = 2000
MAX_RELATED = 20


@dataclass
class ArticleData:
    """The editable fields; None leaves a field unchanged on update."""

    title: str | None = None
    body: str | None = None
    visibility: str | None = None
    language: str | None = None
    category_id: int | None = None
    translation_of_id: int | None = None
    owner_id: int | None = None
    related_ids: list[int] | None = None


def _validate(data: ArticleData, *, account_id: int | None,
              creating: bool, pk: int | None = None) -> dict[str, Any]:
    """The model fields to write, or DomainError 422 naming the faulty fields."""
    errors: dict[str, list[str]] = {}
    values = _content(data, creating=creating, errors=errors)
    values.update(_links(data, account_id=account_id, pk=pk, errors=errors))
    if errors:
        raise invalid_fields(errors)
    return values


def _content(data: ArticleData, *, creating: bool,
             errors: dict[str, list[str]]) -> dict[str, Any]:
    """Title, sanitised body and its text, visibility, language."""
    values: dict[str, Any] = {}
    if data.title is not None or creating:
        title = " ".join((data.title or "").split())
        if not title:
            errors["title"] = [_("Le titre est obligatoire.")]
        elif len(title) > MAX_TITLE:
            errors["title"] = [_("200 caractères au plus.")]
        values["title"] = title
    if data.body is not None or creating:
        if len(data.body or "") > html.MAX_BODY_CHARS:
            errors["body"] = [_("Le contenu est trop long.")]
        values["body"] = html.clean(data.body or "")
        values["body_text"] = html.plain_text(values["body"])
    if data.visibility is not None:
        if data.visibility not in Visibility.values:
            errors["visibility"] = [_("Valeur non autorisée ; attendu : public ou internal.")]
        values["visibility"] = data.visibility
    if data.language is not None:
        if data.language not in Language.values:
            errors["language"] = [_("Valeur non autorisée ; attendu : fr ou en.")]
        values["language"] = data.language
    return values


def _links(data: ArticleData, *, account_id: int | None, pk: int | None,
           errors: dict[str, list[str]]) -> dict[str, Any]:
    """Category, translation, owner and related articles: within the article's scope (its
    account, or the global articles). 0 clears a link, None leaves it."""
    values: dict[str, Any] = {}
    same_scope = Q(account__isnull=True) if account_id is None else Q(account_id=account_id)
    scope_or_global = Q(account__isnull=True) | Q(account_id=account_id)
    if data.category_id is not None:
        if data.category_id and not Category.objects.filter(
                scope_or_global, pk=data.category_id).exists():
            errors["category"] = [_("Catégorie introuvable pour ce compte.")]
        values["category_id"] = data.category_id or None
    if data.translation_of_id is not None:
        if data.translation_of_id and (data.translation_of_id == pk or not Article.objects.filter(
                same_scope, pk=data.translation_of_id).exists()):
            errors["translation_of"] = [_("Article introuvable pour ce compte.")]
        values["translation_of_id"] = data.translation_of_id or None
    if data.owner_id is not None:
        # Staff, or a user of the article's account: who may keep it up to date.
        owners = User.objects.filter(Q(role__in=STAFF_ROLES) | Q(memberships__account_id=(
            account_id or 0)), is_active=True)
        if data.owner_id and not owners.filter(pk=data.owner_id).exists():
            errors["owner"] = [_("Utilisateur introuvable.")]
        values["owner_id"] = data.owner_id or None
    if data.related_ids is not None:
        ids = sorted(set(data.related_ids) - {pk})
        if len(ids) > MAX_RELATED or Article.objects.filter(
                scope_or_global, pk__in=ids).count() != len(ids):
            errors["related"] = [_("Articles liés introuvables pour ce compte.")]
    return values


@transaction.atomic
def article_create(*, actor: User | None, account: ClientAccount | None,
                   data: ArticleData, publish: bool = False) -> Article:
    """A new article (a draft, or published at once with `publish`)."""
    values = _validate(data, account_id=account.pk if account else None, creating=True)
    values.setdefault("owner_id", actor.pk if actor and actor.pk else None)
    now = clock.now()
    article = Article.objects.create(account=account, created_at=now, updated_at=now,
                                     last_reviewed_at=now, **values)
    if data.related_ids:
        article.related.set(data.related_ids)
    audit_record(actor=actor, action=Action.CREATE, target=article, account=account,
                 changes={"title": article.title, "visibility": article.visibility})
    if publish:
        article = article_transition(article=article.pk, to=ArticleStatus.PUBLISHED,
                                     actor=actor)
    return article


@transaction.atomic
def article_update(*, actor: User | None, article: Article, data: ArticleData) -> Article:
    locked = Article.objects.select_for_update().get(pk=article.pk)
    values = _validate(data, account_id=locked.account_id, creating=False, pk=locked.pk)
    changes = diff_fields(locked, {k: v for k, v in values.items() if k != "body_text"})
    for name, value in values.items():
        setattr(locked, name, value)
    # Editing an article is reviewing it: the stale flag goes away.
    locked.updated_at = locked.last_reviewed_at = clock.now()
    locked.save()
    if data.related_ids is not None:
        locked.related.set(sorted(set(data.related_ids) - {locked.pk}))
    if changes:
        audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                     changes=changes)
    return locked


def article_publish(*, actor: User | None, article: Article) -> Article:
    return article_transition(article=article.pk, to="published", actor=actor)


def article_unpublish(*, actor: User | None, article: Article) -> Article:
    return article_transition(article=article.pk, to="draft", actor=actor)


def article_set_status(*, actor: User | None, article: Article, to: str) -> Article:
    return article_transition(article=article.pk, to=to, actor=actor)


@transaction.atomic
def article_review(*, actor: User | None, article: Article) -> Article:
    """« Relu » : the content is still right; the article is no longer stale."""
    now = clock.now()
    Article.objects.filter(pk=article.pk).update(last_reviewed_at=now)
    article.last_reviewed_at = now
    audit_record(actor=actor, action=Action.UPDATE, target=article, account=article.account,
                 changes={"last_reviewed_at": now.isoformat()})
    return article


@transaction.atomic
def article_delete(*, actor: User | None, article: Article) -> None:
    audit_record(actor=actor, action=Action.DELETE, target=article, account=article.account,
                 changes={"title": article.title})
    Article.objects.filter(pk=article.pk).delete()


@transaction.atomic
def category_create(*, actor: User | None, account: ClientAccount | None,
                    name: str) -> Category:
    name = " ".join((name or "").split())[:120]
    if not name:
        raise invalid_fields({"name": [_("Le nom est obligatoire.")]})
    category, created = Category.objects.get_or_create(account=account, name=name)
    if created:
        audit_record(actor=actor, action=Action.CREATE, target=category, account=account)
    return category


def voter_key(*, session_key: str = "", user_id: int | None = None) -> str:
    """Who voted, without storing it: a hash of the user or of the browser session."""
    raw = f"user:{user_id}" if user_id else f"session:{session_key}"
    return hashlib.sha256(raw.encode()).hexdigest()


def vote_record(*, article: Article, voter: str, helpful: bool,
                comment: str = "") -> tuple[ArticleVote, bool]:
    """« Cet article vous a-t-il aidé ? »: one vote per visitor and article (a second one
    changes nothing: returns the first, created False). The counters follow."""
    comment = (comment or "").strip()[:MAX_COMMENT]
    try:
        with transaction.atomic():
            vote = ArticleVote.objects.create(article=article, voter=voter, helpful=helpful,
                                              comment=comment, created_at=clock.now())
            counter = "helpful_count" if helpful else "unhelpful_count"
            Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    except IntegrityError:
        existing = ArticleVote.objects.filter(article=article, voter=voter).first()
        if existing is None:  # pragma: no cover - the row that conflicted was deleted since
            raise DomainError("vote_failed", _("Vote non enregistré."), status=409) from None
        return existing, False
    return vote, True

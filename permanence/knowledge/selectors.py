"""Reads. `articles_visible_to` is the single gate in front of every article query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, Role, User
from permanence.accounts.permissions import Actor, role_of, sees_all_accounts
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock
from permanence.core.errors import Forbidden, NotFound

from . import permissions, search
from .models import Article, ArticleStatus, Category, Visibility, stale_days


def articles_visible_to(user: Actor) -> QuerySet[Article]:
    """Staff: the global articles and those of the accounts they see, internal ones included.
    Client users: the public articles of their accounts (drafts too: they write them) and
    the published global public ones. Anybody else: nothing (public pages use
    `public_articles`)."""
    qs = Article.objects.all()
    if sees_all_accounts(user):
        return qs
    role = role_of(user)
    if role == Role.AGENT:
        return qs.filter(Q(account__isnull=True) | Q(account__in=accounts_visible_to(user)))
    if role == Role.CLIENT:
        own = Q(account__in=accounts_visible_to(user))
        published_global = Q(account__isnull=True, status=ArticleStatus.PUBLISHED)
        return qs.filter(own | published_global, visibility=Visibility.PUBLIC)
    return qs.none()


def public_articles(account: ClientAccount | None, *, include_global: bool = False,
                    language: str | None = None) -> QuerySet[Article]:
    """What anybody may read: published public articles of `account` (None: the operator's
    global ones), with the global ones too when `include_global`."""
    scope = Q(account__isnull=True) if account is None else Q(account=account)
    if include_global and account is not None:
        scope |= Q(account__isnull=True)
    qs = Article.objects.filter(scope, status=ArticleStatus.PUBLISHED,
                                visibility=Visibility.PUBLIC)
    if language:
        qs = qs.filter(language=language)
    return qs


def search_articles(query: str, *, account: ClientAccount | None = None,
                    visibility: str | None = Visibility.PUBLIC, language: str | None = None,
                    limit: int = 10, include_global: bool = False,
                    within: QuerySet[Article] | None = None) -> list[search.Hit]:
    """The one search every caller uses (public FAQ, help pages, staff list, side panel, bot):
    ranked hits with highlighted snippets. `within`: the caller's permission-filtered
    articles (staff); otherwise the published articles of `account` (None: global) with
    `visibility` (public pages must leave it "public")."""
    if within is None:
        scope = Q(account__isnull=True) if account is None else Q(account=account)
        if include_global and account is not None:
            scope |= Q(account__isnull=True)
        within = Article.objects.filter(scope, status=ArticleStatus.PUBLISHED)
        if visibility:
            within = within.filter(visibility=visibility)
    if language:
        within = within.filter(language=language)
    return search.run(within, query, limit=limit)


def get_article_for_user(user: User, pk: Any, action: str = "view") -> Article:
    """The article if `user` may see it (404 otherwise) and do `action` ("view" or "edit";
    403 otherwise)."""
    try:
        article = articles_visible_to(user).select_related("account", "category", "owner").get(
            pk=int(pk))
    except (Article.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Article introuvable.")) from None
    if action != "view" and not permissions.can_edit(user, article):
        raise Forbidden(_("Vous ne pouvez pas modifier cet article."))
    return article


def get_public_article(pk: Any, account: ClientAccount | None) -> Article:
    try:
        return public_articles(account).select_related("account", "category").get(pk=int(pk))
    except (Article.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Article introuvable.")) from None


def get_public_account(slug: str) -> ClientAccount:
    """An account whose help page is public: active, not the operator (its FAQ is /faq/)."""
    account = ClientAccount.objects.filter(slug=slug, status="actif", is_operator=False).first()
    if account is None:
        raise NotFound(_("Page d'aide introuvable."))
    return account


def stale_cutoff() -> Any:
    return clock.now() - timedelta(days=stale_days())


def article_list(user: User, *, account: str = "", visibility: str = "", status: str = "",
                 language: str = "", stale: bool = False) -> QuerySet[Article]:
    """The staff list: visible articles with the filters ("global" for `account`: the
    operator's articles)."""
    qs = articles_visible_to(user)
    if account == "global":
        qs = qs.filter(account__isnull=True)
    elif account.isdigit() and len(account) < 19:
        qs = qs.filter(account_id=int(account))
    if visibility in Visibility.values:
        qs = qs.filter(visibility=visibility)
    if status in ArticleStatus.values:
        qs = qs.filter(status=status)
    if language:
        qs = qs.filter(language=language)
    if stale:
        qs = qs.filter(last_reviewed_at__lt=stale_cutoff())
    return qs.select_related("account", "category", "owner").order_by("title", "id")


def categories_for(account: ClientAccount | None) -> QuerySet[Category]:
    scope = Q(account__isnull=True) if account is None else Q(account=account) | Q(
        account__isnull=True)
    return Category.objects.filter(scope)


def related_public(article: Article) -> list[Article]:
    return list(article.related.filter(status=ArticleStatus.PUBLISHED,
                                       visibility=Visibility.PUBLIC))


def translations_of(article: Article) -> QuerySet[Article]:
    """The other language versions of the article (linked through `translation_of`)."""
    root = article.translation_of_id or article.pk
    return Article.objects.filter(Q(pk=root) | Q(translation_of_id=root)).exclude(pk=article.pk)


def get_votable_article(pk: Any) -> Article:
    """A published public article, whoever's (the vote form of any public page)."""
    try:
        return Article.objects.select_related("account").get(
            pk=int(pk), status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)
    except (Article.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Article introuvable.")) from None

"""The knowledge base's API: articles (CRUD with the UI's permissions) and the bot.

`POST /bot/answer` is public (the chat widget calls it from the client's site, without
login) and rate-limited per IP; it reads only published public articles of an active account.
Articles: visibility is articles_visible_to's (another account's article is a 404), writing
is knowledge.permissions' (403)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Respond
from pydantic import StrictInt, StrictStr

from permanence.accounts.models import ClientAccount
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.access import AuthedHttpRequest
from permanence.core.errors import DomainError, Forbidden, NotFound
from permanence.core.middleware import client_ip
from permanence.core.ratelimit import FixedWindowLimit

from . import bot, permissions, selectors, services
from .models import Article, ArticleStatus

router = Router(tags=["knowledge"])

BOT_LIMIT = FixedWindowLimit(prefix="knowledge-bot", setting="BOT", limit=60, window=60)


# --- Bot --------------------------------------------------------------------------------------


class BotIn(Schema):
    account: StrictInt | StrictStr = Field(..., description="Compte client : identifiant numérique ou "
                                                "identifiant texte (slug)")
    question: str = Field(..., min_length=1, max_length=1000)


class BotOut(Schema):
    article_id: int | None
    title: str
    answer: str
    confidence: float = Field(..., ge=0, le=1)
    handover: bool = Field(..., description="Passer la main à un conseiller")


def _bot_account(value: int | str) -> ClientAccount:
    """An active account (or the operator's) by id or slug; 404 otherwise."""
    active = ClientAccount.objects.filter(status="actif")
    if isinstance(value, int) or (value.isdigit() and len(value) < 19):
        account = active.filter(pk=int(value)).first()
    else:
        account = active.filter(slug=value.strip()[:80]).first()
    if account is None:
        raise NotFound(_("Compte client introuvable."))
    return account


@router.post("/bot/answer", auth=None, response=BotOut, url_name="bot_answer",
             summary="Réponse du bot à la question d'un visiteur (public, limité par IP)")
def bot_answer(request: HttpRequest, payload: BotIn) -> dict[str, Any]:
    ip = client_ip(request) or "unknown"
    if BOT_LIMIT.exceeded(ip):
        raise DomainError("rate_limited", _("Trop de questions, réessayez dans une minute."),
                          status=429)
    BOT_LIMIT.hit(ip)
    account = _bot_account(payload.account)
    result = bot.answer(account, payload.question)
    return {"article_id": result.article_id, "title": result.title, "answer": result.answer,
            "confidence": result.confidence, "handover": result.handover}


# --- Articles ---------------------------------------------------------------------------------


class ArticleOut(Schema):
    id: int
    account: int | None = Field(..., description="Vide : article global de l'opérateur")
    title: str
    body: str = Field(..., description="HTML nettoyé")
    visibility: Literal["public", "internal"]
    language: Literal["fr", "en"]
    status: Literal["draft", "published", "archived"]
    category: int | None
    translation_of: int | None
    owner: int | None
    related: list[int]
    last_reviewed_at: datetime
    stale: bool
    helpful_count: int
    unhelpful_count: int
    updated_at: datetime
    published_at: datetime | None
    snippet: str | None = Field(None, description="Extrait surligné (recherche)")


class ArticleIn(Schema):
    account: int | None = Field(None, description="Compte client ; vide : article global")
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000, description="HTML (nettoyé à l'enregistrement)")
    visibility: Literal["public", "internal"] = "public"
    language: Literal["fr", "en"] = "fr"
    category: int | None = None
    translation_of: int | None = None
    related: list[int] | None = Field(None, max_length=20)
    owner: int | None = Field(None, description="Responsable ; vide : l'auteur")
    status: Literal["draft", "published"] = "draft"


class ArticlePatch(Schema):
    title: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=100_000)
    visibility: Literal["public", "internal"] | None = None
    language: Literal["fr", "en"] | None = None
    category: int | None = None
    translation_of: int | None = None
    related: list[int] | None = Field(None, max_length=20)
    owner: int | None = None
    status: Literal["draft", "published", "archived"] | None = None
    reviewed: bool | None = Field(None, description="true : marquer comme relu")


def article_out(article: Article, snippet: str | None = None) -> dict[str, Any]:
    return {
        "id": article.pk, "account": article.account_id, "title": article.title,
        "body": article.body, "visibility": article.visibility, "language": article.language,
        "status": article.status, "category": article.category_id,
        "translation_of": article.translation_of_id, "owner": article.owner_id,
        "related": sorted(a.pk for a in article.related.all()),
        "last_reviewed_at": article.last_reviewed_at, "stale": article.is_stale,
        "helpful_count": article.helpful_count, "unhelpful_count": article.unhelpful_count,
        "updated_at": article.updated_at, "published_at": article.published_at,
        "snippet": snippet,
    }


def _data(values: dict[str, Any]) -> services.ArticleData:
    return services.ArticleData(
        title=values.get("title"), body=values.get("body"), visibility=values.get("visibility"),
        language=values.get("language"),
        category_id=values["category"] or 0 if "category" in values else None,
        translation_of_id=values["translation_of"] or 0 if "translation_of" in values else None,
        owner_id=values["owner"] or 0 if values.get("owner") is not None else None,
        related_ids=values.get("related"))


def _require_read(user: Any) -> None:
    if not (permissions.can_use_staff_pages(user) or permissions.can_write(user)):
        raise Forbidden()


class ArticleFilters(Schema):
    account: int | None = Field(None, description="Compte client")
    visibility: Literal["public", "internal"] | None = None
    language: Literal["fr", "en"] | None = None
    status: Literal["draft", "published", "archived"] | None = None
    q: str = Field("", max_length=200, description="Recherche plein texte (classée)")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


@router.get("/knowledge/articles", response=list[ArticleOut],
            summary="Articles visibles (filtres, recherche plein texte avec q)")
def article_list(request: AuthedHttpRequest,
                 filters: Query[ArticleFilters]) -> list[dict[str, Any]]:
    _require_read(request.user)
    qs = selectors.article_list(request.user, account=str(filters.account or ""),
                                visibility=filters.visibility or "",
                                status=filters.status or "", language=filters.language or "")
    if filters.q.strip():
        hits = selectors.search_articles(filters.q, within=qs, limit=min(filters.limit, 100))
        prefetch_related_objects([h.article for h in hits], "related")
        return [article_out(h.article, str(h.snippet)) for h in hits]
    page = qs.prefetch_related("related")[filters.offset:filters.offset + filters.limit]
    return [article_out(a) for a in page]


@router.post("/knowledge/articles", response={201: ArticleOut}, summary="Créer un article")
def article_create(request: AuthedHttpRequest, payload: ArticleIn) -> Any:
    _require_read(request.user)
    account = None
    if payload.account is not None:
        account = accounts_visible_to(request.user).filter(pk=payload.account).first()
        if account is None:
            raise NotFound(_("Compte client introuvable."))
    if not permissions.can_write_in(request.user, global_article=account is None,
                                    visibility=payload.visibility):
        raise Forbidden(_("Vous ne pouvez pas écrire cet article."))
    values = payload.dict()
    article = services.article_create(actor=request.user, account=account, data=_data(values),
                                      publish=payload.status == ArticleStatus.PUBLISHED)
    return Respond(201, article_out(article))


@router.get("/knowledge/articles/{article_id}", response=ArticleOut, summary="Un article")
def article_detail(request: AuthedHttpRequest, article_id: int) -> dict[str, Any]:
    _require_read(request.user)
    return article_out(selectors.get_article_for_user(request.user, article_id))


@router.patch("/knowledge/articles/{article_id}", response=ArticleOut,
              summary="Modifier, publier, dépublier, archiver ou marquer relu un article")
def article_patch(request: AuthedHttpRequest, article_id: int,
                  payload: ArticlePatch) -> dict[str, Any]:
    _require_read(request.user)
    article = selectors.get_article_for_user(request.user, article_id, "edit")
    values = payload.dict(exclude_unset=True)
    if values.get("visibility") and not permissions.can_write_in(
            request.user, global_article=article.account_id is None,
            visibility=values["visibility"]):
        raise Forbidden(_("Vous ne pouvez pas rendre cet article interne."))
    editable = {k: v for k, v in values.items() if k not in ("status", "reviewed")}
    if editable:
        article = services.article_update(actor=request.user, article=article,
                                          data=_data(editable))
    if values.get("status"):
        article = services.article_set_status(actor=request.user, article=article,
                                              to=values["status"])
    if values.get("reviewed"):
        article = services.article_review(actor=request.user, article=article)
    return article_out(article)


@router.delete("/knowledge/articles/{article_id}", response={204: None},
               summary="Supprimer un article")
def article_delete(request: AuthedHttpRequest, article_id: int) -> Any:
    _require_read(request.user)
    article = selectors.get_article_for_user(request.user, article_id, "edit")
    services.article_delete(actor=request.user, article=article)
    return Respond(204, None)

"""Staff pages of the knowledge base (/app/connaissances/): list and search, article page,
editor, publication and review, and the suggestions side panel (htmx partial)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import ClientAccount
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, Forbidden, NotFound
from permanence.inbox.selectors import get_conversation_for_user

from . import permissions, selectors, services
from .forms import GLOBAL, ArticleForm, FilterForm
from .models import ArticleStatus

staff_only = role_required(permissions.can_use_staff_pages)
PAGE_SIZE = 50
SUGGESTIONS = 5


def _account_choices(request: AuthedHttpRequest) -> list[tuple[int, str]]:
    return list(accounts_visible_to(request.user).order_by("name").values_list("pk", "name"))


@staff_only
def article_list(request: AuthedHttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None, accounts=_account_choices(request))
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    qs = selectors.article_list(request.user, account=data.get("account") or "",
                                visibility=data.get("visibility") or "",
                                status=data.get("status") or "",
                                language=data.get("language") or "",
                                stale=bool(data.get("stale")))
    query = (data.get("q") or "").strip()
    context: dict[str, Any] = {"form": form, "query": query,
                               "can_write": permissions.can_write(request.user)}
    if query:
        context["hits"] = selectors.search_articles(query, within=qs, limit=PAGE_SIZE)
    else:
        context["page"] = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "knowledge/_results.html" if request.htmx else "knowledge/list.html"
    return render(request, template, context)


def _writable_accounts(request: AuthedHttpRequest) -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    if permissions.can_edit_global(request.user):
        choices.append((GLOBAL, _("Article global (opérateur)")))
    if permissions.can_write(request.user):
        choices += [(str(pk), name) for pk, name in _account_choices(request)]
    return choices


def _data(cleaned: dict[str, Any], *, editing: bool) -> services.ArticleData:
    data = services.ArticleData(title=cleaned["title"], body=cleaned["body"],
                                visibility=cleaned["visibility"], language=cleaned["language"])
    if editing:
        data.category_id = cleaned["category"].pk if cleaned.get("category") else 0
        data.translation_of_id = (cleaned["translation_of"].pk if cleaned.get("translation_of")
                                  else 0)
        data.related_ids = [a.pk for a in cleaned.get("related") or []]
        data.owner_id = cleaned["owner"].pk if cleaned.get("owner") else 0
    return data


@staff_only
def article_create(request: AuthedHttpRequest) -> HttpResponse:
    choices = _writable_accounts(request)
    if not choices:
        raise Forbidden(_("Vous ne pouvez pas écrire d'article."))
    form = ArticleForm(request.POST or None, accounts=choices,
                       initial={"account": request.GET.get("account", "")})
    if request.method == "POST" and form.is_valid():
        choice = form.cleaned_data["account"]
        account = None
        if choice != GLOBAL:
            account = accounts_visible_to(request.user).filter(pk=int(choice)).first()
            if account is None:
                raise NotFound(_("Compte client introuvable."))
        if not permissions.can_write_in(request.user, global_article=account is None,
                                        visibility=form.cleaned_data["visibility"]):
            raise Forbidden(_("Vous ne pouvez pas écrire cet article."))
        try:
            article = services.article_create(actor=request.user, account=account,
                                              data=_data(form.cleaned_data, editing=False))
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            return redirect("knowledge:detail", pk=article.pk)
    return render(request, "knowledge/edit.html", {"form": form, "article": None})


@staff_only
def article_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article_for_user(request.user, pk)
    return render(request, "knowledge/detail.html", {
        "article": article, "can_edit": permissions.can_edit(request.user, article),
        "translations": list(selectors.translations_of(article)),
        "related": list(article.related.all()),
        "history": list(article.status_changes.select_related("actor").order_by("-at")[:10]),
    })


@staff_only
def article_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article_for_user(request.user, pk, "edit")
    initial = {"title": article.title, "body": article.body, "visibility": article.visibility,
               "language": article.language, "category": article.category_id,
               "translation_of": article.translation_of_id,
               "related": list(article.related.values_list("pk", flat=True)),
               "owner": article.owner_id}
    form = ArticleForm(request.POST or None, accounts=None, scope_account=article.account,
                       article=article, initial=initial)
    if request.method == "POST" and form.is_valid():
        if not permissions.can_write_in(request.user, global_article=article.account_id is None,
                                        visibility=form.cleaned_data["visibility"]):
            raise Forbidden(_("Vous ne pouvez pas rendre cet article interne."))
        try:
            data = _data(form.cleaned_data, editing=True)
            if form.cleaned_data.get("new_category"):
                data.category_id = services.category_create(
                    actor=request.user, account=article.account,
                    name=form.cleaned_data["new_category"]).pk
            services.article_update(actor=request.user, article=article, data=data)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            return redirect("knowledge:detail", pk=article.pk)
    return render(request, "knowledge/edit.html", {"form": form, "article": article})


@require_POST
@staff_only
def article_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article_for_user(request.user, pk, "edit")
    to = request.POST.get("to", "")
    if to not in ArticleStatus.values:
        raise DomainError("invalid", _("Statut inconnu."), status=422)
    services.article_set_status(actor=request.user, article=article, to=to)
    return redirect("knowledge:detail", pk=article.pk)


@require_POST
@staff_only
def article_review(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = selectors.get_article_for_user(request.user, pk, "edit")
    services.article_review(actor=request.user, article=article)
    return redirect("knowledge:detail", pk=article.pk)


@staff_only
def suggestions(request: AuthedHttpRequest) -> HttpResponse:
    """The side panel: articles for the message being read (?conversation=<id>) or for a
    motif / free text (?q=), published, of the conversation's account or global."""
    text = request.GET.get("q", "")[:400]
    account: ClientAccount | None = None
    conversation_id = request.GET.get("conversation", "")
    if conversation_id:
        conversation = get_conversation_for_user(request.user, conversation_id)
        account = conversation.account
        text = f"{conversation.subject} {conversation.preview} {text}"
    elif request.GET.get("account", "").isdigit():
        account = accounts_visible_to(request.user).filter(
            pk=int(request.GET["account"][:18])).first()
    within = selectors.articles_visible_to(request.user).filter(status=ArticleStatus.PUBLISHED)
    scope = Q(account__isnull=True) if account is None else (
        Q(account__isnull=True) | Q(account=account))
    within = within.filter(scope)
    hits = selectors.search_articles(text, within=within, limit=SUGGESTIONS) if text.strip() \
        else []
    return render(request, "knowledge/_suggestions.html", {"hits": hits, "query": text})

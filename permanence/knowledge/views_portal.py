"""Espace client › Aide (/espace/aide/): a client user writes the public FAQ of the account
they are looking at (never internal articles: those are the secretaries')."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import ClientAccount
from permanence.accounts.selectors import PORTAL_ACCOUNT_SESSION_KEY, client_current_account
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import DomainError, NotFound

from . import selectors, services
from .forms import ArticleForm
from .models import Article, ArticleStatus, Visibility


def _account(request: AuthedHttpRequest) -> ClientAccount:
    account, _accounts = client_current_account(
        request.user, request.session.get(PORTAL_ACCOUNT_SESSION_KEY))
    if account is None:
        raise NotFound(_("Aucun compte client."))
    return account


def _public_form(form: ArticleForm) -> ArticleForm:
    """Clients write public articles only: the visibility is not theirs to choose."""
    del form.fields["visibility"]
    return form


@client_required
def article_list(request: AuthedHttpRequest) -> HttpResponse:
    account = _account(request)
    articles = selectors.articles_visible_to(request.user).filter(account=account).order_by(
        "title", "id")
    return render(request, "knowledge/portal_list.html",
                  {"account": account, "articles": articles})


def _data(cleaned: dict[str, str]) -> services.ArticleData:
    return services.ArticleData(title=cleaned["title"], body=cleaned["body"],
                                visibility=Visibility.PUBLIC, language=cleaned["language"])


@client_required
def article_create(request: AuthedHttpRequest) -> HttpResponse:
    account = _account(request)
    form = _public_form(ArticleForm(request.POST or None, accounts=None))
    if request.method == "POST" and form.is_valid():
        try:
            services.article_create(actor=request.user, account=account,
                                    data=_data(form.cleaned_data))
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            return redirect("knowledge_portal:list")
    return render(request, "knowledge/portal_edit.html",
                  {"account": account, "form": form, "article": None})


def _own_article(request: AuthedHttpRequest, pk: int) -> Article:
    """An article of the account being looked at, that the client may edit (404 / 403)."""
    article = selectors.get_article_for_user(request.user, pk, "edit")
    if article.account_id != _account(request).pk:
        raise NotFound(_("Article introuvable."))
    return article


@client_required
def article_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = _own_article(request, pk)
    form = _public_form(ArticleForm(request.POST or None, accounts=None, initial={
        "title": article.title, "body": article.body, "language": article.language}))
    if request.method == "POST" and form.is_valid():
        try:
            services.article_update(actor=request.user, article=article,
                                    data=_data(form.cleaned_data))
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            return redirect("knowledge_portal:list")
    return render(request, "knowledge/portal_edit.html",
                  {"account": article.account, "form": form, "article": article})


@require_POST
@client_required
def article_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    article = _own_article(request, pk)
    to = request.POST.get("to", "")
    if to not in ArticleStatus.values:
        raise DomainError("invalid", _("Statut inconnu."), status=422)
    services.article_set_status(actor=request.user, article=article, to=to)
    return redirect("knowledge_portal:list")

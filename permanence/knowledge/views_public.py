"""Public pages: the operator's FAQ (/faq/), each account's help page (/aide/<slug>/), an
article, and « Cet article vous a-t-il aidé ? » (no login; one vote per visitor and article,
rate-limited per IP). Only published public articles are ever read here."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.models import ClientAccount
from permanence.core.errors import DomainError
from permanence.core.middleware import client_ip
from permanence.core.ratelimit import FixedWindowLimit

from . import selectors, services
from .forms import VoteForm
from .models import Article

VOTE_LIMIT = FixedWindowLimit(prefix="knowledge-vote", setting="KNOWLEDGE_VOTE", limit=30,
                              window=10 * 60)
SEARCH_RESULTS = 20


def _language(account: ClientAccount | None) -> str:
    """The visitor's language when the help page has articles in it, else French."""
    language = (get_language() or "fr")[:2]
    if language != "fr" and selectors.public_articles(account, language=language).exists():
        return language
    return "fr"


def _index(request: HttpRequest, account: ClientAccount | None) -> HttpResponse:
    language = _language(account)
    query = request.GET.get("q", "").strip()[:200]
    context: dict[str, Any] = {"account": account, "query": query}
    if query:
        context["hits"] = selectors.search_articles(query, account=account, language=language,
                                                    limit=SEARCH_RESULTS)
    else:
        context["articles"] = list(selectors.public_articles(account, language=language)
                                   .select_related("category")
                                   .order_by("category__position", "category__name", "title"))
    return render(request, "knowledge/public_index.html", context)


def _article(request: HttpRequest, account: ClientAccount | None, pk: int) -> HttpResponse:
    article = selectors.get_public_article(pk, account)
    return render(request, "knowledge/public_article.html", {
        "account": account, "article": article,
        "related": selectors.related_public(article),
        "translations": list(selectors.translations_of(article).filter(
            status="published", visibility="public")),
        "voted": request.session.get(f"knowledge-voted-{article.pk}"),
        "form": VoteForm(),
    })


def faq(request: HttpRequest) -> HttpResponse:
    return _index(request, None)


def faq_article(request: HttpRequest, pk: int) -> HttpResponse:
    return _article(request, None, pk)


def help_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _index(request, selectors.get_public_account(slug))


def help_article(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    return _article(request, selectors.get_public_account(slug), pk)


def article_url(article: Article) -> str:
    account = article.account
    if account is None:
        return reverse("knowledge_public:faq_article", args=[article.pk])
    return reverse("knowledge_public:help_article", args=[account.slug, article.pk])


@require_POST
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    """One vote per visitor (their session, or their user when logged in) and article; a
    second one is ignored. CSRF-checked (the page's form)."""
    article = selectors.get_votable_article(pk)
    form = VoteForm(request.POST)
    if not form.is_valid():
        raise DomainError("invalid", _("Réponse attendue : oui ou non."), status=422)
    ip = client_ip(request) or "unknown"
    if VOTE_LIMIT.exceeded(ip):
        raise DomainError("rate_limited", _("Trop de votes depuis votre connexion, réessayez "
                                            "plus tard."), status=429)
    if not request.session.session_key:
        request.session.save()
    user_id = request.user.pk if request.user.is_authenticated else None
    _vote, created = services.vote_record(
        article=article, voter=services.voter_key(session_key=request.session.session_key or "",
                                                  user_id=user_id),
        helpful=form.cleaned_data["helpful"], comment=form.cleaned_data["comment"])
    if created:
        VOTE_LIMIT.hit(ip)
    request.session[f"knowledge-voted-{article.pk}"] = True
    messages.success(request, _("Merci pour votre avis !"))
    return redirect(article_url(article))

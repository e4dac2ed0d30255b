"""The public contact pages: /contact/ (the operator) and /contact/<slug>/ (a client account).

`?embed=1` is the variant a client puts in an <iframe> on their own site: no site chrome,
framing allowed. Inside a third-party iframe browsers do not send our (SameSite=Lax) cookies,
so that variant cannot use the CSRF cookie; it does not need it either: the form is
anonymous, acts for nobody, and is protected by the honeypot and the rate limit. The normal
page keeps Django's CSRF check.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import ClientAccount
from permanence.accounts.permissions import is_staff_member
from permanence.core.errors import DomainError
from permanence.core.middleware import client_ip
from permanence.inbox.models import Conversation
from permanence.inbox.promise import customer_promise

from . import selectors, services
from .forms import (
    HONEYPOT_FIELD,
    REQUEST_TOO_LARGE,
    ContactForm,
    request_too_large,
    too_large,
)

PUBLIC_BASE = "public_base.html"
EMBED_BASE = "channels_webform/embed_base.html"
RATE_LIMIT_MESSAGE = _("Trop de demandes ont été envoyées depuis votre connexion. "
                       "Merci de patienter quelques minutes avant de réessayer.")


def _page_url(account: ClientAccount) -> str:
    if account.is_operator:
        return reverse("channels_webform:operator")
    return reverse("channels_webform:account", kwargs={"slug": account.slug})


def _context(request: HttpRequest, account: ClientAccount, *, embed: bool,
             **extra: Any) -> dict[str, Any]:
    page = _page_url(account)
    context: dict[str, Any] = {
        "account": account, "embed": embed, "base_template": EMBED_BASE if embed
        else PUBLIC_BASE, "action": f"{page}?embed=1" if embed else page,
        "honeypot": HONEYPOT_FIELD,
    }
    if not embed and is_staff_member(request.user):
        context["embed_url"] = f"{settings.SITE_URL}{page}?embed=1"
    context.update(extra)
    return context


def _form_page(request: HttpRequest, account: ClientAccount, form: ContactForm, *,
               embed: bool, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "channels_webform/contact.html",
                  _context(request, account, embed=embed, form=form, **extra), status=status)


def _acknowledgement(request: HttpRequest, account: ClientAccount, *, embed: bool,
                     conversation: Conversation | None = None) -> HttpResponse:

    # The one promise every customer-facing text shares (inbox.promise).
    promise = customer_promise(conversation, ui=True) if conversation is not None else None
    deadline = promise.text if promise else ""
    return render(request, "channels_webform/acknowledgement.html",
                  _context(request, account, embed=embed, conversation=conversation,
                           deadline=deadline))


def _contact_page(request: HttpRequest, slug: str | None = None, *,
                  embed: bool = False) -> HttpResponse:
    account = selectors.contact_account(slug)
    if request.method != "POST":
        return _form_page(request, account, ContactForm(account_name=account.name),
                          embed=embed)
    ip = client_ip(request) or "inconnue"
    if services.rate_limited(ip):
        kept = {k: v for k, v in request.POST.items()
                if k in ("kind", "name", "email", "phone", "subject", "message")}
        response = _form_page(request, account,
                              ContactForm(initial=kept, account_name=account.name),
                              embed=embed, status=429, refused=RATE_LIMIT_MESSAGE)
        response["Retry-After"] = str(services.retry_after_seconds())
        return response
    if request.POST.get(HONEYPOT_FIELD, "").strip():
        # A robot: look successful, keep nothing.
        services.rate_limit_hit(ip)
        return _acknowledgement(request, account, embed=embed)
    form = ContactForm(request.POST, request.FILES, account_name=account.name)
    if not form.is_valid():
        return _form_page(request, account, form, embed=embed,
                          status=413 if too_large(form) else 422)
    services.rate_limit_hit(ip)
    data = form.cleaned_data
    try:
        conversation = services.webform_submit(
            account=account, kind=data["kind"], name=data["name"], email=data["email"],
            phone=data["phone"], subject=data["subject"], message=data["message"],
            attachments=data["attachments"], consent_text=form.consent_text, embedded=embed)
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _form_page(request, account, form, embed=embed, status=exc.status)
    return _acknowledgement(request, account, embed=embed, conversation=conversation)


def _too_large_page(request: HttpRequest, slug: str | None = None, *,
                    embed: bool = False) -> HttpResponse:
    account = selectors.contact_account(slug)
    return _form_page(request, account, ContactForm(account_name=account.name), embed=embed,
                      status=413, refused=REQUEST_TOO_LARGE)


_embedded_page = xframe_options_exempt(_contact_page)
_embedded_too_large_page = xframe_options_exempt(_too_large_page)
_standalone_page = csrf_protect(_contact_page)


@csrf_exempt  # checked below for the normal page; see the module docstring for the embed
@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    embed = request.GET.get("embed") == "1"
    if request.method == "POST" and request_too_large(request):
        # Refused before anything (the CSRF check included) parses the uploaded files.
        refuse = _embedded_too_large_page if embed else _too_large_page
        return refuse(request, slug, embed=embed)
    if embed:
        return _embedded_page(request, slug, embed=True)
    return _standalone_page(request, slug, embed=False)

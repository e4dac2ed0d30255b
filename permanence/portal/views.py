"""The espace client: thin pages over the other apps' selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import ClientAccount
from permanence.accounts.selectors import (
    PORTAL_ACCOUNT_SESSION_KEY,
    accounts_of_client,
    client_current_account,
)
from permanence.accounts.views import profile_for_template
from permanence.calendars.selectors import active_notices
from permanence.channels_webform.forms import too_large
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import DomainError, NotFound
from permanence.desk import setup as desk_setup
from permanence.inbox.models import Conversation, Origin
from permanence.inbox.promise import customer_promise
from permanence.inbox.views import attachment_response

from . import selectors, services
from .forms import RequestForm, RequestReplyForm

SESSION_KEY = PORTAL_ACCOUNT_SESSION_KEY

REQUESTS_PER_PAGE = 25
SECTIONS = {
    "commandes": (gettext_lazy("Commandes et abonnement"),
                  gettext_lazy("Vos commandes et votre abonnement apparaîtront ici.")),
}


def current_account(request: AuthedHttpRequest) -> tuple[ClientAccount | None,
                                                         list[ClientAccount]]:
    """The account the client is looking at (chosen with the switcher), among their own."""
    return client_current_account(request.user, request.session.get(SESSION_KEY))


@client_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    account, accounts = current_account(request)
    return render(request, "portal/home.html", {
        "account": account, "accounts": accounts,
        "notices": active_notices(audience="portal", accounts=accounts),
        "requests": selectors.account_requests_summary(request.user, account)
        if account else None,
        "activity": selectors.account_activity_summary(request.user, account)
        if account else None,
        "setup": _setup_in_progress(account),
    })


def _setup_in_progress(account: ClientAccount | None) -> Any:
    """The new service's set-up while it is not in service (a card on the home page)."""
    found = desk_setup.setup_for(account) if account else None
    return desk_setup.setup_view(found) if found and found.live_at is None else None


@client_required
def section(request: AuthedHttpRequest, name: str) -> HttpResponse:
    if name not in SECTIONS:
        raise NotFound()
    account, accounts = current_account(request)
    title, text = SECTIONS[name]
    return render(request, "portal/section.html", {
        "account": account, "accounts": accounts, "section": name, "title": title,
        "text": text, "notices": active_notices(audience="portal", accounts=accounts),
    })


@require_POST
@client_required
def switch_account(request: AuthedHttpRequest) -> HttpResponse:
    try:
        wanted = int(request.POST.get("account", ""))
    except ValueError:
        raise NotFound() from None
    if not accounts_of_client(request.user).filter(pk=wanted).exists():
        raise NotFound(_("Compte client introuvable."))
    request.session[SESSION_KEY] = wanted
    return redirect("portal:home")


@client_required
def profile(request: AuthedHttpRequest) -> HttpResponse:
    return profile_for_template(request, "portal/profile.html")


# --- Mes demandes ----------------------------------------------------------------------------

def _base(request: AuthedHttpRequest) -> tuple[ClientAccount, dict[str, Any]]:
    """The current account (404 when the user belongs to none) and the layout's context."""
    account, accounts = current_account(request)
    if account is None:
        raise NotFound(_("Votre accès n'est rattaché à aucun compte client."))
    return account, {"account": account, "accounts": accounts,
                     "notices": active_notices(audience="portal", accounts=accounts)}


@client_required
def requests_list(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    page = Paginator(selectors.account_requests(request.user, account),
                     REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/requests.html", {**context, "page": page})


@require_http_methods(["GET", "HEAD", "POST"])
@client_required
def request_new(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    if request.method != "POST":
        return render(request, "portal/request_new.html", {**context, "form": RequestForm()})
    form = RequestForm(request.POST, request.FILES)
    status = 413 if not form.is_valid() and too_large(form) else 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            conversation = services.request_open(
                user=request.user, account=account, kind=data["kind"],
                subject=data["subject"], body=data["body"], attachments=data["attachments"])
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
            status = exc.status
        else:
            messages.success(request, _acknowledgement(conversation))
            return redirect("portal:request_detail", pk=conversation.pk)
    return render(request, "portal/request_new.html", {**context, "form": form},
                  status=status)


def promised_answer(conversation: Conversation) -> str:
    """The answer promised for a conversation, as the page shows it ("" when none is owed,
    or when closed): the one promise every customer-facing text shares (inbox.promise)."""
    if not conversation.is_open:
        return ""
    promise = customer_promise(conversation, ui=True)
    return promise.text if promise else ""


def _acknowledgement(conversation: Conversation) -> str:

    text = _("Votre demande est enregistrée sous la référence %(reference)s. ") % {
        "reference": conversation.reference}
    promised = promised_answer(conversation)
    if promised:
        text += _("Nous vous répondrons au plus tard le %(deadline)s. ") % {
            "deadline": promised}
    return text + _("Un accusé de réception vous est également envoyé par e-mail.")


def _detail(request: AuthedHttpRequest, conversation: Conversation,
            context: dict[str, Any], *, form: RequestReplyForm | None = None,
            status: int = 200) -> HttpResponse:
    return render(request, "portal/request_detail.html", {
        **context, "c": conversation, "timeline": selectors.client_timeline(conversation),
        "status_label": selectors.client_status_label(conversation.status),
        "can_reply": selectors.can_reply(conversation),
        "promised": promised_answer(conversation),
        "form": form or RequestReplyForm(),
    }, status=status)


@client_required
def request_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account, context = _base(request)
    conversation = selectors.client_conversation(request.user, account, pk)
    if conversation.origin != Origin.CLIENT:
        # A contact's conversation (an old link to it): it lives in "Activité".
        return redirect("portal:activity_detail", pk=conversation.pk)
    services.request_mark_seen(user=request.user, conversation=conversation)
    return _detail(request, conversation, context)


@require_POST
@client_required
def request_reply(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account, context = _base(request)
    # Only on the client's own requests: a contact's conversation has no reply form (404).
    conversation = selectors.client_conversation(request.user, account, pk,
                                                 origin=Origin.CLIENT)
    form = RequestReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, conversation, context, form=form,
                       status=413 if too_large(form) else 422)
    try:
        services.request_reply(user=request.user, account=account, conversation=conversation,
                               body=form.cleaned_data["body"],
                               attachments=form.cleaned_data["attachments"])
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _detail(request, conversation, context, form=form, status=exc.status)
    messages.success(request, _("Votre message a bien été envoyé."))
    return redirect("portal:request_detail", pk=conversation.pk)


@client_required  # type: ignore[arg-type]  # access.py types views as HttpResponse only
def request_attachment(request: AuthedHttpRequest, attachment_id: int) -> FileResponse:
    account, _context = _base(request)
    return attachment_response(selectors.client_attachment(request.user, account,
                                                           attachment_id))

"""The espace client's "Activité": the conversations its contacts opened (mails, forms,
calls), handled by the secretaries on its behalf, read from the client business's side. No
reply form: on an item the client may only leave an instruction for the secretaries."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import DomainError
from permanence.inbox.models import OPEN_STATUSES, Conversation, Origin, Status

from . import selectors, services
from .forms import InstructionForm
from .views import REQUESTS_PER_PAGE, _base, promised_answer

# ?etat= filters of the list: all, in progress, handled.
STATES = {"en-cours": list(OPEN_STATUSES), "traitees": [Status.RESOLVED, Status.CLOSED]}


@client_required
def activity_list(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    state = request.GET.get("etat", "")
    items = selectors.account_activity(request.user, account)
    if state in STATES:
        items = items.filter(status__in=STATES[state])
    page = Paginator(items, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/activity.html", {**context, "page": page,
                                                    "state": state if state in STATES else ""})


def _detail(request: AuthedHttpRequest, conversation: Conversation, context: dict[str, object],
            *, form: InstructionForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "portal/activity_detail.html", {
        **context, "c": conversation, "timeline": selectors.activity_timeline(conversation),
        "status_label": selectors.activity_status_label(conversation.status),
        "promised": promised_answer(conversation),
        "form": form or InstructionForm(),
    }, status=status)


@client_required
def activity_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account, context = _base(request)
    conversation = selectors.client_conversation(request.user, account, pk,
                                                 origin=Origin.CONTACT)
    services.request_mark_seen(user=request.user, conversation=conversation)
    return _detail(request, conversation, context)


@require_POST
@client_required
def activity_instruction(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account, context = _base(request)
    conversation = selectors.client_conversation(request.user, account, pk,
                                                 origin=Origin.CONTACT)
    form = InstructionForm(request.POST)
    if not form.is_valid():
        return _detail(request, conversation, context, form=form, status=422)
    try:
        services.activity_instruction(user=request.user, account=account,
                                      conversation=conversation,
                                      body=form.cleaned_data["body"])
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _detail(request, conversation, context, form=form, status=exc.status)
    messages.success(request, _("Votre consigne a été transmise à nos télésecrétaires. "
                                "Elle n'est pas envoyée à votre contact."))
    return redirect("portal:activity_detail", pk=conversation.pk)

"""The secretaries' chat console (/app/chats/): the queue, their chats, one chat open with
its transcript, the visitor's page and history, canned replies; accept, reply, transfer,
end. Live through /ws/chat/agent/ (consumers.AgentChatConsumer); every action is a plain
POST too, so the page works without JavaScript."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import User
from permanence.accounts.selectors import get_account_for_user
from permanence.core.access import role_required
from permanence.core.errors import DomainError, Forbidden, error_text
from permanence.inbox.canned import canned_for
from permanence.inbox.selectors import contact_other_conversations

from . import selectors, services
from .forms import ChatSettingsForm
from .models import ChatSession, ChatStatus
from .payloads import message_for_staff
from .permissions import (
    can_act_on_chat,
    can_configure_chat,
    can_supervise_chats,
    can_take_chats,
    can_use_chat_console,
)

console_required = role_required(lambda u: u.is_active and can_use_chat_console(u))


def _safe_page(url: str) -> str:
    """The visitor's page as a link only when it is a web address."""
    return url if url.startswith(("http://", "https://")) else ""


def _panel(user: User, session: ChatSession) -> dict[str, Any]:
    conversation = session.conversation
    chat_settings = selectors.settings_of(session.account)
    capacity = chat_settings.capacity_per_agent if chat_settings else 1
    transcript = [message_for_staff(m, session) for m in selectors.staff_messages(session)]
    return {
        "chat": session, "transcript": transcript,
        "last_id": transcript[-1]["id"] if transcript else 0,
        "page_link": _safe_page(session.page_url),
        "history": contact_other_conversations(user, conversation) if conversation else [],
        "canned": canned_for(conversation, user) if conversation else [],
        "can_act": can_act_on_chat(user, session) and session.status == ChatStatus.ACTIVE,
        "can_accept": can_take_chats(user) and session.status == ChatStatus.WAITING,
        "targets": selectors.transfer_targets(session, capacity)
        if session.status == ChatStatus.ACTIVE else [],
    }


@console_required
def console(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    context: dict[str, Any] = {
        **selectors.queue_for(user), "supervisor": can_supervise_chats(user),
        "seated": selectors.is_seated(user), "active": selectors.active_count(user),
    }
    if request.GET.get("fragment") == "queue":
        return render(request, "livechat/_queue.html", context)
    chosen = request.GET.get("chat")
    if chosen:
        context.update(_panel(user, selectors.get_chat_for_user(user, chosen)))
    if can_supervise_chats(user):
        context["stats"] = selectors.bot_stats()
    return render(request, "livechat/console.html", context)


def _back(session: ChatSession) -> HttpResponse:
    return redirect(reverse("livechat:console") + f"?chat={session.pk}")


def _done(request: HttpRequest, session: ChatSession, error: DomainError | None = None,
          **extra: Any) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        if error is not None:
            return JsonResponse(error.as_json(), status=error.status)
        return JsonResponse({"ok": True, **extra})
    if error is not None:
        flash.error(request, error_text(error))
    return _back(session)


@console_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_chat_for_user(request.user, pk)
    try:
        services.chat_accept(actor=request.user, session=session)  # type: ignore[arg-type]
    except DomainError as exc:
        return _done(request, session, exc)
    return _done(request, session)


@console_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_chat_for_user(request.user, pk)
    try:
        message = services.chat_reply(actor=request.user,  # type: ignore[arg-type]
                                      session=session, body=request.POST.get("body", ""))
    except DomainError as exc:
        return _done(request, session, exc)
    return _done(request, session, id=message.pk)


@console_required
@require_POST
def transfer(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_chat_for_user(request.user, pk)
    raw = request.POST.get("to", "")
    target = None
    if raw:
        target = User.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 \
            else None
        if target is None:
            return _done(request, session, DomainError(
                "invalid", _("Choisissez un collègue disponible."), status=422))
    try:
        services.chat_transfer(actor=request.user,  # type: ignore[arg-type]
                               session=session, to=target)
    except DomainError as exc:
        return _done(request, session, exc)
    return _done(request, session)


@console_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.get_chat_for_user(request.user, pk)
    try:
        services.chat_end(actor=request.user, session=session)  # type: ignore[arg-type]
    except DomainError as exc:
        return _done(request, session, exc)
    return _done(request, session)


@console_required
def chat_settings(request: HttpRequest, account_id: int) -> HttpResponse:
    """The widget of one account: on or off, its sites, texts, capacity; the line to paste."""
    user: Any = request.user
    if not can_configure_chat(user):
        raise Forbidden()
    account = get_account_for_user(user, account_id)
    current = selectors.settings_of(account)
    initial = {"enabled": current.enabled, "allowed_origins": current.allowed_origins,
               "welcome_text": current.welcome_text, "consent_text": current.consent_text,
               "capacity_per_agent": current.capacity_per_agent} if current else None
    form = ChatSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.chat_settings_save(actor=user, account=account, **form.cleaned_data)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            flash.success(request, _("Réglages du chat enregistrés."))
            return redirect("livechat:settings", account_id=account.pk)
    widget = reverse("livechat:widget", kwargs={"slug": account.slug})
    return render(request, "livechat/settings.html", {
        "account": account, "form": form, "snippet": f"{settings.SITE_URL}{widget}",
        "stats": selectors.bot_stats(account)})

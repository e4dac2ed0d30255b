"""The visitor's side over HTTP: the widget script, starting a chat, and the polling
fallback of the socket (messages after an id, send, actions, attachments).

No cookie: a chat is named by its token (issued at start, kept by the widget in the host
page's storage). Every call with an Origin must come from one of the account's allowed
sites (403 otherwise), and only those get CORS headers. Errors are JSON 4xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from permanence.core.errors import DomainError, Forbidden, NotFound, invalid
from permanence.core.middleware import client_ip
from permanence.core.ratelimit import FixedWindowLimit

from . import live, origins, selectors, services, visitor_ops
from .models import DEFAULT_CONSENT, ChatSession, ChatSettings
from .payloads import message_for_visitor

MAX_JSON = 64 * 1024
MAX_ID = 2**63 - 1
START_LIMIT = FixedWindowLimit(prefix="chat-start", setting="CHAT_START", limit=20)
_WIDGET = Path(__file__).parent / "static" / "livechat" / "widget.js"


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_JSON:
        raise DomainError("too_large", _("Requête trop volumineuse."), status=413)
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise DomainError("bad_json", _("JSON invalide."), status=400) from None
    if not isinstance(data, dict):
        raise DomainError("bad_json", _("Un objet JSON est attendu."), status=400)
    return data


def _check_origin(request: HttpRequest, chat_settings: ChatSettings) -> str:
    """The request's Origin if allowed; a call without one (no browser sends a cross-site
    call without it) is let through without CORS. Any other origin: 403."""
    origin = origins.request_origin(request)
    if origin and not origins.allowed(chat_settings, origin):
        raise Forbidden(_("Ce site n'est pas autorisé à utiliser ce chat."))
    return origin


def visitor_api(methods: tuple[str, ...]) -> Callable[..., Any]:
    """JSON in and out, CORS for allowed origins, DomainError → JSON 4xx."""

    def decorate(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            origin = ""
            try:
                chat_settings, session = _resolve(kwargs)
                origin = _check_origin(request, chat_settings)
                if request.method == "OPTIONS":
                    response: HttpResponse = HttpResponse(status=204)
                elif request.method not in methods:
                    response = JsonResponse({"code": "method", "message": "", "errors": {}},
                                            status=405)
                    response["Allow"] = ", ".join(methods)
                else:
                    response = view(request, chat_settings=chat_settings, session=session)
            except DomainError as exc:
                response = JsonResponse(exc.as_json(), status=exc.status)
            if origin:
                origins.with_cors(response, origin)
            return response

        return wrapped

    return decorate


def _resolve(kwargs: dict[str, Any]) -> tuple[ChatSettings, ChatSession | None]:
    if "token" in kwargs:
        session = selectors.session_for_token(kwargs["token"])
        chat_settings = selectors.settings_of(session.account)
        if chat_settings is None or not chat_settings.enabled:
            raise NotFound()
        return chat_settings, session
    return selectors.settings_for_slug(kwargs["slug"]), None


def _status_payload(chat_settings: ChatSettings, session: ChatSession | None) -> dict[str, Any]:
    online, why = selectors.availability(chat_settings)
    out: dict[str, Any] = {"online": online, "reason": why}
    if session is not None:
        out["status"] = session.status
    return out


@visitor_api(("POST",))
def start(request: HttpRequest, *, chat_settings: ChatSettings, session: None) -> HttpResponse:
    ip = client_ip(request) or "inconnue"
    if START_LIMIT.exceeded(ip):
        raise DomainError("rate_limited", _("Trop de conversations ouvertes : réessayez plus "
                                            "tard."), status=429)
    data = _json_body(request)
    new, token = services.chat_start(
        chat_settings=chat_settings, origin=origins.request_origin(request),
        name=data.get("name"), email=data.get("email"), consent=data.get("consent"),
        page_url=data.get("page_url", ""), page_title=data.get("page_title", ""))
    START_LIMIT.hit(ip)
    return JsonResponse({"token": token, **_status_payload(chat_settings, new)}, status=201)


def _after(request: HttpRequest) -> int:
    raw = request.GET.get("after", "0")
    if not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        raise invalid(after=_("Identifiant de message invalide."))
    return int(raw)


@visitor_api(("GET", "POST"))
def messages(request: HttpRequest, *, chat_settings: ChatSettings,
             session: ChatSession) -> HttpResponse:
    if request.method == "POST":
        data = _json_body(request)
        message, created = visitor_ops.send(session.pk, data.get("client_id"),
                                            data.get("body"))
        if created:
            visitor_ops.bot(session.pk, message)
        return JsonResponse({"id": message.pk, "created": created},
                            status=201 if created else 200)
    after = _after(request)
    fresh = visitor_ops.session_of(session.pk)
    items = [message_for_visitor(m, fresh) for m in selectors.visitor_messages(fresh,
                                                                             after=after)]
    return JsonResponse({"messages": items, **_status_payload(chat_settings, fresh),
                         "typing": bool(cache.get(live.typing_key(session.pk)))})


@visitor_api(("POST",))
def actions(request: HttpRequest, *, chat_settings: ChatSettings,
            session: ChatSession) -> HttpResponse:
    data = _json_body(request)
    kind = data.get("type")
    if kind == "typing":
        live.chat_typing(session.pk, "visitor", data.get("typing") is True)
    elif kind in visitor_ops.ACTIONS:
        visitor_ops.action(session.pk, data)
    else:
        raise invalid(type=_("Action inconnue."))
    return JsonResponse({"ok": True})


@visitor_api(("POST",))
def attachments(request: HttpRequest, *, chat_settings: ChatSettings,
                session: ChatSession) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        raise invalid(file=_("Choisissez un fichier."))
    if (upload.size or 0) > services.ATTACHMENT_MAX_BYTES:
        raise DomainError("too_large", _("La pièce jointe dépasse 5 Mo."), status=413)
    message, created = visitor_ops.send(session.pk, request.POST.get("client_id"),
                                        request.POST.get("body", ""),
                                        attachment=(upload.name or "", upload.read()))
    return JsonResponse({"id": message.pk, "created": created}, status=201 if created else 200)


def widget_js(request: HttpRequest, slug: str) -> HttpResponse:
    """The widget: one script, its settings inlined. Unknown or disabled chat: an empty
    script that does nothing (404), so a host page never breaks."""
    try:
        chat_settings = selectors.settings_for_slug(slug)
    except NotFound:
        return HttpResponse("/* chat indisponible */", status=404,
                            content_type="text/javascript; charset=utf-8")
    config = {
        "slug": chat_settings.account.slug, "account": chat_settings.account.name,
        "welcome": chat_settings.welcome_text or _("Bonjour ! Posez-nous votre question."),
        "consent": chat_settings.consent_text or str(DEFAULT_CONSENT),
        "base": settings.SITE_URL,
        "texts": _widget_texts(),
    }
    # JSON inside a script: "<" escaped so that no text can close a tag.
    blob = json.dumps(config).replace("<", "\\u003c")
    body = _WIDGET.read_text().replace("/*CONFIG*/{}", blob, 1)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _widget_texts() -> dict[str, str]:
    return {
        "open": _("Discuter avec nous"), "close": _("Fermer le chat"),
        "title": _("Chat"), "name": _("Votre nom"), "email": _("Votre e-mail"),
        "start": _("Commencer"), "send": _("Envoyer"), "message": _("Votre message"),
        "helped": _("Cela vous a aidé ?"), "yes": _("Oui"), "no": _("Non"),
        "person": _("Parler à un conseiller"), "typing": _("Le conseiller écrit…"),
        "transcript": _("Recevoir la transcription par e-mail"),
        "transcript_sent": _("Transcription envoyée."), "attach": _("Joindre un fichier"),
        "end": _("Terminer la conversation"), "again": _("Nouvelle conversation"),
        "offline": _("Nos conseillers ne sont pas disponibles : "
                                           "laissez votre message, nous vous répondrons "
                                           "par e-mail."),
        "reconnecting": _("Connexion perdue, reconnexion…"), "error": _("Erreur"),
        "unavailable": _("Le chat est indisponible pour le moment."),
        "you": _("Vous"), "bot": _("Assistant"), "agent": _("Conseiller"),
        "opinion": _("Votre avis"), "opinion_rating": _("Votre note (de 1 à 5)"),
        "opinion_comment": _("Un commentaire (facultatif)"),
        "opinion_thanks": _("Merci pour votre avis : il est transmis à l'équipe."),
    }


def demo_site(request: HttpRequest, slug: str) -> HttpResponse:
    """A pretend client site with the widget line pasted in (make demo)."""
    chat_settings = selectors.settings_for_slug(slug)
    path = reverse("livechat:widget", kwargs={"slug": chat_settings.account.slug})
    return render(request, "livechat/demo_site.html", {
        "account": chat_settings.account,
        # The line a client pastes (our public address), and the one this page loads (from
        # wherever this page is served).
        "snippet_url": f"{settings.SITE_URL}{path}",
        "script_url": request.build_absolute_uri(path)})

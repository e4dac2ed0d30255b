"""« Votre avis » (anyone, from any page; JSON for the page's dialog, a page without
JavaScript) and the improvement board (supervisors and administrators)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from permanence.accounts.forms import apply_field_errors
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, error_text
from permanence.core.middleware import client_ip
from permanence.core.ratelimit import FixedWindowLimit

from . import selectors, services
from .forms import FeedbackForm, FollowUpForm
from .models import Feedback, FeedbackStatus, Source
from .permissions import can_manage_feedback, can_view_feedback

LIMIT = FixedWindowLimit(prefix="feedback", setting="FEEDBACK", limit=10)
board_required = role_required(lambda u: u.is_active and can_view_feedback(u))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _errors(form: FeedbackForm) -> dict[str, list[str]]:
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


def leave(request: HttpRequest) -> HttpResponse:
    """GET: the form on its own page (no JavaScript); POST: the opinion."""
    if request.method != "POST":
        page = services.clean_page(request.GET.get("page", "/"))
        form = FeedbackForm(initial={"page": page, "source": request.GET.get("source", "")})
        return render(request, "feedback/leave.html", {"form": form, "page": page})
    ip = client_ip(request) or "inconnue"
    if LIMIT.exceeded(ip):
        text = _("Merci ! Vous avez déjà donné plusieurs avis : réessayez dans quelques "
                 "minutes.")
        response: HttpResponse = (JsonResponse({"error": text}, status=429)
                                  if _wants_json(request) else HttpResponse(text, status=429))
        response["Retry-After"] = str(LIMIT.retry_after_seconds())
        return response
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"errors": _errors(form)}, status=422)
        return render(request, "feedback/leave.html", {
            "form": form, "page": services.clean_page(request.POST.get("page", "/"))},
            status=422)
    data = form.cleaned_data
    try:
        services.feedback_submit(page=data["page"], rating=data["rating"],
                                 comment=data["comment"], source=data["source"] or Source.SITE,
                                 user=request.user if request.user.is_authenticated else None,
                                 account_id=data["account"], language=get_language() or "")
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"errors": exc.fields, "error": error_text(exc)},
                                status=exc.status)
        apply_field_errors(form, exc.fields, error_text(exc))
        return render(request, "feedback/leave.html", {"form": form, "page": data["page"]},
                      status=exc.status)
    LIMIT.hit(ip)
    thanks = _("Merci pour votre avis : il est transmis à l'équipe.")
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": thanks}, status=201)
    messages.success(request, thanks)
    back = services.clean_page(data["page"])
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return redirect(back)


@board_required
def board(request: AuthedHttpRequest) -> HttpResponse:
    status = request.GET.get("statut", "")
    page = request.GET.get("page_avis", "")
    items = list(selectors.feedback_filtered(status=status, page=page)[:100])
    return render(request, "feedback/board.html", {
        "items": items, "pages": selectors.by_page(), "themes": selectors.named_themes(),
        "words": selectors.recurring_words(), "statuses": FeedbackStatus.choices,
        "status": status, "page_filter": page, "can_manage": can_manage_feedback(request.user)})


@board_required
def detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Feedback.objects.select_related("account", "owner", "user"), pk=pk)
    form = FollowUpForm(request.POST or None, initial={
        "status": item.status, "owner": item.owner_id, "theme": item.theme,
        "notes": item.notes})
    if request.method == "POST":
        if not can_manage_feedback(request.user):
            return HttpResponse(status=403)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.feedback_update(actor=request.user, feedback=item,
                                         status=data["status"], owner=data["owner"],
                                         theme=data["theme"], notes=data["notes"])
            except DomainError as exc:
                apply_field_errors(form, exc.fields, error_text(exc))
            else:
                messages.success(request, _("Avis mis à jour."))
                return redirect("feedback:detail", pk=item.pk)
        return render(request, "feedback/detail.html", {
            "item": item, "form": form, "history": list(item.history.select_related("actor")),
            "can_manage": True}, status=422)
    return render(request, "feedback/detail.html", {
        "item": item, "form": form, "history": list(item.history.select_related("actor")),
        "can_manage": can_manage_feedback(request.user)})

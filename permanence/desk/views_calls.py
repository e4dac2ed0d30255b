"""The desk's call pages: the home (calls in progress and recent, « Nouvel appel »), the call
screen (greeting, consignes, triage, motif and its questions, message, « Enregistrer »,
« Transmettre » with its proof, « Terminer »), and the public « J'ai pris connaissance »."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.selectors import account_list
from permanence.audit.services import audit_view
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import DomainError, NotFound

from . import forwarding, record, selectors
from .consignes_doc import NO, YES, triage_answer_key, triage_answer_label, triage_emergency_key
from .forms_calls import CallRecordForm, CallStartForm, answers_from_post
from .models import Call, CallState, ForwardStatus, Urgency
from .permissions import can_read_calls, can_take_calls

desk_required = role_required(lambda u: u.is_active and can_take_calls(u))

ACCOUNT_CHOICES_MAX = 8


def _matching_accounts(request: AuthedHttpRequest, q: str) -> list[Any]:
    if len(q.strip()) < 2:
        return []
    return list(account_list(request.user, q=q).only("pk", "name")[:ACCOUNT_CHOICES_MAX])


def _home(request: AuthedHttpRequest, form: CallStartForm, *, choices: list[Any] | None = None,
          status: int = 200) -> HttpResponse:
    return render(request, "desk/home.html", {
        "form": form, "choices": choices or [],
        **selectors.desk_calls(request.user)}, status=status)


@desk_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    return _home(request, CallStartForm())


@desk_required
def account_search(request: AuthedHttpRequest) -> HttpResponse:
    """« Nouvel appel »: the accounts matching a name or a dialled number (htmx fragment)."""
    q = request.GET.get("account_q", "")[:200]
    return render(request, "desk/_account_choices.html",
                  {"choices": _matching_accounts(request, q), "q": q})


@require_POST
@desk_required
def call_start(request: AuthedHttpRequest) -> HttpResponse:
    form = CallStartForm(request.POST)
    if not form.is_valid():
        return _home(request, form, status=422)
    data = form.cleaned_data
    account = None
    choices: list[Any] = []
    if data.get("account"):
        account = account_list(request.user).filter(pk=data["account"]).first()
        if account is None:  # not an account this user works for: as if it did not exist
            raise NotFound(_("Compte client introuvable."))
    else:
        choices = _matching_accounts(request, data.get("account_q") or "")
        if len(choices) == 1:
            account = choices[0]
        elif not choices:
            form.add_error("account_q", _("Tapez le nom du client ou le numéro appelé."))
        else:
            form.add_error("account_q", _("Plusieurs comptes correspondent : choisissez."))
    if account is None:
        return _home(request, form, choices=choices, status=422)
    try:
        call = record.call_start_manual(actor=request.user, account=account,
                                        from_number=data.get("from_number") or "",
                                        caller_name=data.get("caller_name") or "")
    except DomainError as exc:
        apply_field_errors(form, exc.fields, str(exc.message))
        return _home(request, form, status=exc.status)
    return redirect("desk:call", pk=call.pk)


def _screen(request: AuthedHttpRequest, call: Call, *, form: CallRecordForm | None = None,
            posted: Any = None, errors: dict[str, list[str]] | None = None,
            status: int = 200) -> HttpResponse:
    version = selectors.consigne_current_for_call(call)
    content = version.content if version is not None and isinstance(version.content,
                                                                     dict) else {}
    errors = errors or {}
    answers = call.answers or {}
    chosen = posted.get("motif", call.motif) if posted is not None else call.motif
    motifs = []
    for m in selectors.consigne_motifs(version):
        given = (answers.get("questions") or {}) if m["code"] == call.motif else {}
        questions = []
        for n, q in enumerate(m.get("questions") or []):
            value = (posted.get(f"q-{m['code']}-{n}", "") if posted is not None
                     else given.get(q, ""))
            questions.append({"name": f"q-{m['code']}-{n}", "label": q, "value": value,
                              "errors": errors.get(f"q_{n}", []) if m["code"] == chosen
                              else []})
        motifs.append({**m, "questions_form": questions, "checked": m["code"] == chosen})
    triage = []
    given_t = answers.get("triage") or {}
    for n, t in enumerate(selectors.consigne_triage(version)):
        value = posted.get(f"t-{n}", "") if posted is not None else given_t.get(t["question"],
                                                                                "")
        # Keys as values ("yes", "no"), words as labels: what is stored reads in any language.
        emergency = triage_emergency_key(t.get("emergency"))
        other = NO if emergency != NO else YES
        value = triage_answer_key(value)
        triage.append({"name": f"t-{n}", "question": t["question"], "value": value,
                       "emergency": emergency,
                       "options": [(key, triage_answer_label(key)) for key in (emergency, other)],
                       "guidance": t.get("guidance") or _("Appelez le 15 (SAMU) ou le 112"),
                       "alarm": value.casefold() == emergency.casefold()})
    if form is None:
        form = CallRecordForm(initial={
            "motif": call.motif, "caller_name": call.caller_name, "message": call.message,
            "urgency": call.urgency, "recording_consent": call.recording_consent,
            "caller_phone": call.from_number if call.from_number.startswith("+") else ""})
    forwards = selectors.call_forwards(call)
    return render(request, "desk/call.html", {
        "call": call, "account": call.account, "version": version, "content": content,
        "greeting": selectors.greeting_render(version, call.account, request.user)
        if call.account else "",
        "motifs": motifs, "motif_error": errors.get("motif", []), "triage": triage,
        "form": form, "forwards": forwards, "caller": selectors.caller_identify(request.user,
                                                                                call),
        "can_close": call.state != CallState.ENDED and (
            call.state == CallState.WRAPUP or (call.manual and call.state in (
                CallState.ANSWERED, CallState.ON_HOLD))),
        "poll": _polling(forwards), "urgent": Urgency.URGENT,
        # Heard through Permanence only (desk:call_recording), never at the provider's URL.
        "can_listen": bool(call.recording_url) and can_read_calls(request.user),
    }, status=status)


def _polling(forwards: list[Any]) -> bool:
    """Keep refreshing the proof while a row may still change (not failed nor read)."""
    return any(f.status not in (ForwardStatus.FAILED, ForwardStatus.READ) for f in forwards)


@desk_required
def call_screen(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_user(request.user, pk)
    # Who saw a caller's message, for the auditor and the client (espace client ›
    # Confidentialité); once per person and call within the audit's window.
    audit_view(actor=request.user, target=call, account=call.account)
    return _screen(request, call)


@require_POST
@desk_required
def call_save(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_user(request.user, pk)
    form = CallRecordForm(request.POST)
    if not form.is_valid():
        return _screen(request, call, form=form, posted=request.POST, status=422)
    data = form.cleaned_data
    version = selectors.consigne_current_for_call(call)
    answers = answers_from_post(request.POST, selectors.consigne_motifs(version),
                                selectors.consigne_triage(version), data["motif"])
    try:
        call = record.call_record_save(
            actor=request.user, call=call, motif=data["motif"], answers=answers,
            message=data["message"], urgency=data["urgency"], caller_name=data["caller_name"],
            caller_phone=data["caller_phone"], caller_email=data["caller_email"],
            recording_consent=data["recording_consent"])
    except DomainError as exc:
        apply_field_errors(form, {k: v for k, v in exc.fields.items() if k in form.fields},
                           str(exc.message))
        return _screen(request, call, form=form, posted=request.POST, errors=exc.fields,
                       status=exc.status)
    messages.success(request, _("Appel enregistré."))
    return redirect("desk:call", pk=call.pk)


@require_POST
@desk_required
def call_forward(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_user(request.user, pk)
    try:
        rows = forwarding.forward_send(actor=request.user, call=call)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Message transmis à %(who)s.") % {
            "who": ", ".join(sorted({f.recipient_name for f in rows}))})
    return redirect("desk:call", pk=call.pk)


@desk_required
def call_forwards(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The proof, refreshed in place while a delivery or a read may still come."""
    call = selectors.get_call_for_user(request.user, pk)
    forwards = selectors.call_forwards(call)
    return render(request, "desk/_forwards.html", {"call": call, "forwards": forwards,
                                                   "poll": _polling(forwards)})


@require_POST
@desk_required
def call_close(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    call = selectors.get_call_for_user(request.user, pk)
    try:
        record.call_close(actor=request.user, call=call)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return redirect("desk:call", pk=call.pk)
    messages.success(request, _("Appel terminé."))
    return redirect("desk:home")


@require_http_methods(["GET", "HEAD", "POST"])
def forward_read(request: HttpRequest, token: str) -> HttpResponse:
    """« J'ai pris connaissance », public (the token is the credential). GET shows the
    message and one button; the POST records the read: mail scanners that open every link
    of a message (GET) must not acknowledge an urgent message nobody has read."""
    forward = selectors.forward_by_token(token)
    if forward is None:
        raise NotFound(_("Ce lien n'est pas valide."))
    if request.method == "POST":
        forward = forwarding.forward_mark_read(token=token) or forward
    return render(request, "desk/forward_read.html", {
        "forward": forward, "call": forward.call, "account": forward.account,
        "motif": selectors.consigne_motif(forward.call.consigne_version,
                                          forward.call.motif) if forward.call else None})

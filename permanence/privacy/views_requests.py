"""Pages of the data subjects' requests: the administrators' list, creation and detail with
its actions (export, erasure after its dry run, objection, rectification, refusal), the
downloads, and the espace client's « Mes données » (the account's exports)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.selectors import PORTAL_ACCOUNT_SESSION_KEY, client_current_account
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, client_required, role_required
from permanence.core.counting import CappedPaginator
from permanence.core.errors import DomainError, NotFound

from . import exports, requests
from .forms_requests import RectifyForm, RefuseForm, RequestForm
from .models_requests import ExportStatus, RequestKind, SubjectExport
from .permissions import can_manage_privacy

PER_PAGE = 50


@role_required(can_manage_privacy)
def request_list(request: AuthedHttpRequest) -> HttpResponse:
    page = CappedPaginator(requests.requests_list(), PER_PAGE).get_page(request.GET.get("page"))
    now = clock.now()
    rows = [{"r": r, "late": requests.is_late(r, now)} for r in page.object_list]
    return render(request, "privacy/requests_list.html", {
        "section": "settings", "page": page, "rows": rows})


@role_required(can_manage_privacy)
def request_create(request: AuthedHttpRequest) -> HttpResponse:
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = requests.request_create(
                actor=request.user, kind=data["kind"], target=data["target"],
                contact=data.get("contact"), account=data.get("account"),
                description=data.get("description", ""), email=data.get("email", ""),
                received_at=data.get("received_at"), note=data.get("note", ""))
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Demande %(ref)s enregistrée.") % {
                "ref": created.reference})
            return redirect("privacy_request_detail", pk=created.pk)
    return render(request, "privacy/requests_form.html", {"section": "settings", "form": form},
                  status=422 if form.errors else 200)


@role_required(can_manage_privacy)
def request_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    subject = requests.request_get(pk)
    preview = None
    if subject.kind == RequestKind.ERASURE and subject.status in ("recue", "en_cours"):
        preview = sorted(requests.erasure_preview(request=subject).items())
    return render(request, "privacy/requests_detail.html", {
        "section": "settings", "r": subject, "late": requests.is_late(subject),
        "history": subject.history.select_related("actor"),
        "exports": subject.exports.all(), "preview": preview,
        "refuse_form": RefuseForm(), "rectify_form": RectifyForm(),
        "kinds": RequestKind})


@require_POST
@role_required(can_manage_privacy)
def request_action(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """One POST for the request's actions: start, export, erase, object, rectify, refuse."""
    subject = requests.request_get(pk)
    action = request.POST.get("action", "")
    try:
        if action == "start":
            requests.request_start(request=subject, actor=request.user)
        elif action == "export":
            requests.request_export(request=subject, actor=request.user)
            messages.success(request, _("L'export est en préparation."))
        elif action == "erase":
            requests.request_erase(request=subject, actor=request.user)
            messages.success(request, _("La personne a été effacée."))
        elif action == "object":
            requests.request_object(request=subject, actor=request.user)
        elif action == "rectify":
            form = RectifyForm(request.POST)
            if not form.is_valid():
                raise DomainError("invalid", _("Décrivez ce qui a été rectifié."), status=400)
            requests.request_rectify(request=subject, actor=request.user,
                                     changes=form.cleaned_data["changes"])
        elif action == "refuse":
            refuse = RefuseForm(request.POST)
            if not refuse.is_valid():
                raise DomainError("invalid", _("Indiquez le motif du refus."), status=400)
            requests.request_refuse(request=subject, actor=request.user,
                                    reason=refuse.cleaned_data["reason"])
        else:
            raise DomainError("invalid", _("Action inconnue."), status=400)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("privacy_request_detail", pk=subject.pk)


def _download(export: SubjectExport) -> HttpResponseBase:
    path = exports.absolute(export)
    if not path.is_file():
        raise NotFound(_("Le fichier de cet export n'existe plus."))
    response = FileResponse(path.open("rb"), as_attachment=True, filename=path.name,
                            content_type="application/zip")
    response["X-Checksum-SHA256"] = export.sha256
    return response


@role_required(can_manage_privacy)
def export_download(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    return _download(requests.export_get(pk))


@client_required
def client_exports(request: AuthedHttpRequest) -> HttpResponse:
    """Espace client › Mes données: the account's exports (reversibility), download only;
    the titulaire may ask for a new one."""
    account, _accounts = client_current_account(
        request.user, request.session.get(PORTAL_ACCOUNT_SESSION_KEY))
    if account is None:
        raise NotFound(_("Aucun compte client."))
    owner = requests.is_owner(request.user, account)
    if request.method == "POST":
        try:
            requests.client_export_request(actor=request.user, account=account)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Votre export est en préparation ; il apparaîtra "
                                        "ci-dessous une fois prêt."))
        return redirect("privacy_client_exports")
    return render(request, "privacy/requests_client_exports.html", {
        "account": account, "owner": owner, "exports": requests.account_exports(account),
        "ready": ExportStatus.READY})


@client_required
def client_export_download(request: AuthedHttpRequest, pk: int) -> HttpResponseBase:
    return _download(requests.client_export_get(user=request.user, pk=pk))

"""Consignes pages for staff (/app/poste/consignes/): the accounts with their version in force
and, for supervisors, how many assigned secretaries have not read it; an account's sheet
readable at a glance, « J'ai lu ces consignes », the edit form, the history with readable
diffs. An account the user may not see is a 404; billing staff read but do not edit (403)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from permanence.accounts.models import ClientAccount, User
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError, Forbidden

from . import consignes
from .consignes_doc import diff_summary
from .forms_consignes import ConsigneEditor
from .models import ConsigneVersion
from .permissions import can_edit_consignes, can_supervise_desk, can_take_calls

HISTORY_PAGE = 20


def version_diffs(account: ClientAccount, versions: list[ConsigneVersion]) -> list[dict[str, Any]]:
    """Each version of a page of the history with what it changed from the one before."""
    if not versions:
        return []
    lowest = versions[-1].number
    previous = consignes.consigne_versions(account).filter(number=lowest - 1).first()
    chain = [*versions, previous]
    entries = []
    for i, v in enumerate(versions):
        changes = consignes.consigne_diff(chain[i + 1], v)
        # A summary nobody wrote is made here, in the reader's language (never stored).
        entries.append({"version": v, "changes": changes,
                        "summary": v.summary or diff_summary(changes)})
    return entries


def history_context(request: HttpRequest, account: ClientAccount) -> dict[str, Any]:
    page = Paginator(consignes.consigne_versions(account), HISTORY_PAGE).get_page(
        request.GET.get("page"))
    return {"page": page, "entries": version_diffs(account, list(page.object_list))}


def save_from_editor(request: AuthedHttpRequest, account: ClientAccount,
                     editor: ConsigneEditor) -> ConsigneVersion | None:
    """Validate the editor and save a version; None (errors put on the form) when invalid.
    A version equal to the one in force is not written (the message says so)."""
    if not editor.is_valid():
        return None
    before = consignes.consigne_current(account)
    base = request.POST.get("base", "")
    if before is not None and base != str(before.number):
        # Someone saved meanwhile: saving now would silently undo their change. The page
        # comes back with this edit and the new base; saving again confirms.
        who = before.author.full_name or before.author.email if before.author else ""
        editor.main.add_error(None, _(
            "Les consignes ont été modifiées pendant votre saisie (version %(n)s, %(who)s). "
            "Vérifiez l'historique ; enregistrez à nouveau pour remplacer cette version par "
            "la vôtre.") % {"n": before.number, "who": who})
        return None
    try:
        version = consignes.consigne_save(actor=request.user, account=account,
                                          content=editor.content(),
                                          summary=editor.main.cleaned_data["summary"])
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        editor.apply_errors(exc.fields, str(exc.message))
        return None
    if before is not None and before.pk == version.pk:
        messages.info(request, _("Aucune modification : la version %(n)s reste en vigueur.")
                      % {"n": version.number})
    else:
        messages.success(request, _("Consignes enregistrées : version %(n)s.")
                         % {"n": version.number})
    return version


def _account(request: AuthedHttpRequest, account_pk: int) -> ClientAccount:
    return consignes.get_consigne_account(request.user, account_pk)


def _secretaire(user: User) -> str:
    name = (user.full_name or "").strip()
    return name.split()[0] if name else ""


@staff_required
def consigne_list(request: AuthedHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:100]
    rows = consignes.consigne_accounts(request.user, q=q)
    return render(request, "desk/consignes_list.html", {
        "rows": rows, "q": q, "supervisor": can_supervise_desk(request.user),
        "reader": can_take_calls(request.user)})


@staff_required
def consigne_detail(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    version = consignes.consigne_current(account)
    supervisor = can_supervise_desk(request.user)
    previous = (consignes.consigne_versions(account).filter(number=version.number - 1).first()
                if version else None)
    return render(request, "desk/consignes_detail.html", {
        "account": account, "version": version,
        "sheet": consignes.consigne_sheet(account, version,
                                          secretaire=_secretaire(request.user)),
        "changes": consignes.consigne_diff(previous, version) if version and previous else [],
        "has_read": consignes.consigne_has_read(request.user, version),
        "reader": can_take_calls(request.user),
        "can_edit": can_edit_consignes(request.user), "supervisor": supervisor,
        "unread": consignes.consigne_unread_by(account) if supervisor else [],
        "reads": consignes.consigne_read_by(version) if supervisor and version else [],
    })


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def consigne_edit(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    if not can_edit_consignes(request.user):
        raise Forbidden(_("Vous ne pouvez pas modifier ces consignes."))
    current = consignes.consigne_current(account)
    status = 200
    if request.method == "POST":
        editor = ConsigneEditor(data=request.POST)
        if not editor.adding:
            if save_from_editor(request, account, editor) is not None:
                return redirect("desk:consignes_detail", account_pk=account.pk)
            status = 422
    else:
        editor = ConsigneEditor(content=current.content if current else None)
    return render(request, "desk/consignes_edit.html", {
        "account": account, "version": current, "editor": editor,
        "base": current.number if current else ""}, status=status)


@staff_required
def consigne_history(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    return render(request, "desk/consignes_history.html", {
        "account": account, **history_context(request, account)})


@staff_required
def consigne_version(request: AuthedHttpRequest, account_pk: int, number: int) -> HttpResponse:
    account = _account(request, account_pk)
    version = consignes.consigne_version(account, number)
    previous = consignes.consigne_versions(account).filter(number=number - 1).first()
    current = consignes.consigne_current(account)
    return render(request, "desk/consignes_version.html", {
        "account": account, "version": version, "current": current,
        "sheet": consignes.consigne_sheet(account, version,
                                          secretaire=_secretaire(request.user)),
        "changes": consignes.consigne_diff(previous, version)})


@require_POST
@staff_required
def consigne_read(request: AuthedHttpRequest, account_pk: int) -> HttpResponse:
    account = _account(request, account_pk)
    version = consignes.consigne_current(account)
    if version is None:
        messages.info(request, _("Ce compte n'a pas encore de consignes."))
        return redirect("desk:consignes_detail", account_pk=account.pk)
    posted = request.POST.get("version", "")
    if posted and posted != str(version.number):
        messages.error(request, _("Une version plus récente des consignes est en vigueur : "
                                  "lisez-la avant de confirmer."))
        return redirect("desk:consignes_detail", account_pk=account.pk)
    consignes.consigne_mark_read(user=request.user, version=version)
    messages.success(request, _("Merci : lecture de la version %(n)s confirmée.")
                     % {"n": version.number})
    return redirect("desk:consignes_detail", account_pk=account.pk)

"""Espace client → Consignes: the client reads and edits its own account's consignes (the same
sheet, form and services as the staff's desk pages), and sees their history. Always the
current account of the switcher: there is no account in the URL, so a client can only ever
reach its own accounts' consignes."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from permanence.core.access import AuthedHttpRequest, client_required
from permanence.desk import consignes
from permanence.desk.forms_consignes import ConsigneEditor
from permanence.desk.views_consignes import history_context, save_from_editor

from .views import _base


@client_required
def consignes_page(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    version = consignes.consigne_current(account)
    return render(request, "portal/consignes.html", {
        **context, "version": version, "sheet": consignes.consigne_sheet(
            account, version, secretaire=_("[prénom de la télésecrétaire]"))})


@require_http_methods(["GET", "HEAD", "POST"])
@client_required
def consignes_edit(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    current = consignes.consigne_current(account)
    status = 200
    if request.method == "POST":
        editor = ConsigneEditor(data=request.POST)
        if not editor.adding:
            if save_from_editor(request, account, editor) is not None:
                return redirect("portal:consignes")
            status = 422
    else:
        editor = ConsigneEditor(content=current.content if current else None)
    return render(request, "portal/consignes_edit.html", {
        **context, "version": current, "editor": editor,
        "base": current.number if current else ""}, status=status)


@client_required
def consignes_history(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    return render(request, "portal/consignes_history.html", {
        **context, **history_context(request, account)})

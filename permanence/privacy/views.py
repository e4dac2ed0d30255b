from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from permanence.accounts.selectors import (
    PORTAL_ACCOUNT_SESSION_KEY,
    accounts_visible_to,
    client_current_account,
)
from permanence.core.access import AuthedHttpRequest, client_required, role_required
from permanence.core.counting import CappedPaginator
from permanence.core.errors import NotFound

from . import access, consents, registry
from .forms_consents import ConsentFilterForm
from .permissions import can_manage_privacy, can_view_consents

PER_PAGE = 50


@role_required(can_manage_privacy)
def registry_page(request: AuthedHttpRequest) -> HttpResponse:
    """The registry of personal data, as the auditor reads it: per kind of person, what is
    held, why, on what basis and for how long."""
    groups = []
    for subject, label in registry.SUBJECTS.items():
        rows = [{"entry": e, "category": registry.CATEGORIES[e.category],
                 "basis": registry.BASES[e.basis], "rule": registry.RETENTION[e.retention],
                 "sealed": registry.sealable_fields(e)}
                for e in registry.REGISTRY if e.subject == subject]
        groups.append({"key": subject, "label": label, "rows": rows})
    return render(request, "privacy/registry.html", {
        "section": "settings", "groups": groups, "rules": registry.RETENTION})


@client_required
def client_accesses(request: AuthedHttpRequest) -> HttpResponse:
    """Espace client › Confidentialité: who at the operator opened the account's data."""
    account, _accounts = client_current_account(
        request.user, request.session.get(PORTAL_ACCOUNT_SESSION_KEY))
    if account is None:
        raise NotFound(_("Aucun compte client."))
    page = CappedPaginator(access.accesses(account), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "privacy/client_accesses.html", {
        "account": account, "page": page, "rows": [access.row(e) for e in page.object_list]})


@role_required(can_view_consents)
def consents_page(request: AuthedHttpRequest) -> HttpResponse:
    """Consentements: what each person agreed to, where, when, in which words (read-only),
    for the accounts the user sees."""
    accounts = list(accounts_visible_to(request.user).order_by("name").values_list("pk", "name"))
    form = ConsentFilterForm(request.GET or None, accounts=accounts)
    rows: list[consents.Row] = []
    page = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        data = form.cleaned_data if form.is_bound else {}
        found = consents.consents(user=request.user, account_id=data.get("account"),
                                  source=data.get("source") or "", **(data.get("q") or {}))
        page = consents.ConsentPaginator(found, PER_PAGE).get_page(request.GET.get("page"))
        rows = consents.page_rows(list(page.object_list), dict(accounts))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "privacy/consents.html", {
        "section": "settings", "form": form, "page": page, "rows": rows,
        "query": query.urlencode(), "can_manage": can_manage_privacy(request.user)},
        status=status)

"""The espace client: thin pages over the other apps' selectors and services."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from permanence.accounts.selectors import accounts_of_client
from permanence.accounts.views import profile_for_template
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import NotFound
from permanence.core.selectors import active_notices

SESSION_KEY = "portal_account_id"

SECTIONS = {
    "demandes": ("Mes demandes", "Vos demandes et leurs réponses apparaîtront ici."),
    "appels": ("Appels et messages", "Les appels pris et les messages laissés pour vous "
               "apparaîtront ici."),
    "agenda": ("Agenda", "Les rendez-vous pris par nos télésecrétaires s'afficheront ici."),
    "factures": ("Factures", "Vos factures et avoirs seront disponibles ici."),
    "commandes": ("Commandes et abonnement", "Vos commandes et votre abonnement "
                  "apparaîtront ici."),
}


def current_account(request: AuthedHttpRequest):  # type: ignore[no-untyped-def]
    """The account the client is looking at (chosen with the switcher), among their own."""
    accounts = list(accounts_of_client(request.user))
    if not accounts:
        return None, accounts
    chosen = request.session.get(SESSION_KEY)
    for account in accounts:
        if account.pk == chosen:
            return account, accounts
    return accounts[0], accounts


@client_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    account, accounts = current_account(request)
    return render(request, "portal/home.html", {
        "account": account, "accounts": accounts,
        "notices": active_notices(audience="portal", accounts=accounts),
    })


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
        raise NotFound("Compte client introuvable.")
    request.session[SESSION_KEY] = wanted
    return redirect("portal:home")


@client_required
def profile(request: AuthedHttpRequest) -> HttpResponse:
    return profile_for_template(request, "portal/profile.html")

"""Espace client: « Mon abonnement » (/espace/abonnement/): the plan, its options and terms;
change of plan and options with the prorated preview; cancellation (three clicks from the
home page: Abonnement → Résilier votre contrat → Confirmer, the end date shown before and
after). Only the account's titulaire changes or cancels; its members read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from permanence.accounts.models import ClientAccount, Membership, MembershipRole
from permanence.billing import subscriptions as lifecycle
from permanence.billing.models import Subscription
from permanence.calendars.selectors import active_notices
from permanence.catalog.models import Offer
from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.errors import DomainError, error_text

from .views import current_account


def _is_owner(request: AuthedHttpRequest, account: ClientAccount | None) -> bool:
    return account is not None and Membership.objects.filter(
        user=request.user, account=account, role=MembershipRole.OWNER).exists()


def _context(request: AuthedHttpRequest, **extra: Any) -> dict[str, Any]:
    account, accounts = current_account(request)
    sub = lifecycle.current_subscription(account) if account else None
    return {"account": account, "accounts": accounts, "sub": sub,
            "can_manage": _is_owner(request, account),
            "notices": active_notices(audience="portal", accounts=accounts), **extra}


def _offer(pk: Any) -> Offer | None:
    try:
        return Offer.objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def _managed(request: AuthedHttpRequest) -> tuple[dict[str, Any], Subscription] | None:
    """The page's context and the subscription, when the user may act on it."""
    ctx = _context(request)
    if ctx["sub"] is None:
        messages.error(request, _("Aucun abonnement en cours sur ce compte."))
        return None
    if not ctx["can_manage"]:
        messages.error(request, _("Seul le titulaire du compte peut modifier l'abonnement."))
        return None
    return ctx, ctx["sub"]


@client_required
def subscription(request: AuthedHttpRequest) -> HttpResponse:
    ctx = _context(request)
    sub = ctx["sub"]
    if sub is not None:
        ctx.update(period=lifecycle.current_period(sub),
                   total_cents=lifecycle.total_monthly_cents(sub),
                   history=list(sub.changes.select_related("to_offer")[:10]))
    return render(request, "portal/subscription.html", ctx)


@client_required
@require_http_methods(["GET", "POST"])
def subscription_change(request: AuthedHttpRequest) -> HttpResponse:
    """GET: the plans; GET ?offer=<id>: the preview; POST offer=<id>: confirmed."""
    found = _managed(request)
    if found is None:
        return redirect("portal:subscription")
    ctx, sub = found
    offer = _offer(request.POST.get("offer") or request.GET.get("offer"))
    on = lifecycle.today()
    try:
        if request.method == "POST" and offer is not None:
            change = lifecycle.change_apply(subscription=sub, new_offer=offer, at=on,
                                            actor=request.user)
            messages.success(request, _("Votre formule est désormais « %(name)s ».")
                             % {"name": offer.name})
            if change.prorated_cents:
                messages.info(request, _("L'ajustement au prorata figurera sur votre "
                                         "prochaine facture."))
            return redirect("portal:subscription")
        preview = (lifecycle.change_preview(subscription=sub, new_offer=offer, at=on)
                   if offer is not None else None)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("portal:subscription_change")
    return render(request, "portal/subscription_change.html", {
        **ctx, "plans": lifecycle.plans_available(sub), "offer": offer, "preview": preview,
        "total_cents": lifecycle.total_monthly_cents(sub)})


@client_required
@require_http_methods(["GET", "POST"])
def subscription_option(request: AuthedHttpRequest) -> HttpResponse:
    """GET ?offer=<id>&action=ajouter|retirer: the preview; POST: confirmed."""
    found = _managed(request)
    if found is None:
        return redirect("portal:subscription")
    ctx, sub = found
    data = request.POST if request.method == "POST" else request.GET
    option, add = _offer(data.get("offer")), data.get("action") != "retirer"
    if option is None:
        messages.error(request, _("Choisissez une option."))
        return redirect("portal:subscription")
    on = lifecycle.today()
    try:
        if request.method == "POST":
            lifecycle.option_apply(subscription=sub, option=option, add=add, at=on,
                                   actor=request.user)
            messages.success(request, (_("Option « %(name)s » ajoutée.") if add else
                                       _("Option « %(name)s » retirée.")) % {"name": option.name})
            return redirect("portal:subscription")
        preview = lifecycle.option_preview(subscription=sub, option=option, add=add, at=on)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("portal:subscription")
    return render(request, "portal/subscription_option.html", {
        **ctx, "option": option, "add": add, "preview": preview})


@client_required
@require_http_methods(["GET", "POST"])
def subscription_cancel(request: AuthedHttpRequest) -> HttpResponse:
    """GET: the confirmation page with the end date; POST: the cancellation scheduled."""
    found = _managed(request)
    if found is None:
        return redirect("portal:subscription")
    ctx, sub = found
    on = lifecycle.today()
    try:
        if request.method == "POST":
            done = lifecycle.cancel_apply(subscription=sub, on=on, actor=request.user)
            messages.success(request, _("Résiliation enregistrée : votre service prendra fin "
                                        "le %(date)s.") % {"date": date_format(done.ends_on or on)})
            return redirect("portal:subscription")
        ends_on = lifecycle.cancel_preview(subscription=sub, on=on)
    except DomainError as exc:
        messages.error(request, error_text(exc))
        return redirect("portal:subscription")
    return render(request, "portal/subscription_cancel.html", {**ctx, "ends_on": ends_on})


@client_required
@require_POST
def subscription_withdraw(request: AuthedHttpRequest) -> HttpResponse:
    found = _managed(request)
    if found is not None:
        try:
            lifecycle.cancel_withdraw(subscription=found[1], on=lifecycle.today(),
                                      actor=request.user)
            messages.success(request, _("Votre résiliation est annulée : l'abonnement "
                                        "continue."))
        except DomainError as exc:
            messages.error(request, error_text(exc))
    return redirect("portal:subscription")

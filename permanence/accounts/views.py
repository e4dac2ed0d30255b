from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.audit.services import audit_view
from permanence.core.access import AuthedHttpRequest, role_required, safe_next, staff_required
from permanence.core.errors import DomainError

from . import permissions, selectors, services
from .forms import (
    AccountForm,
    AgentsForm,
    ApiTokenForm,
    ChannelForm,
    ClientUserForm,
    InvitationForm,
    OperatorForm,
    ProfileForm,
    StaffForm,
    apply_field_errors,
)
from .models import AccountKind, AccountStatus, ApiToken, ContactChannel, Role, Sector, User

ACCOUNT_PAGE_SIZE = 25


@staff_required
def account_list(request: AuthedHttpRequest) -> HttpResponse:
    f = request.GET
    qs = selectors.account_list(
        request.user, q=f.get("q", "").strip(), status=f.get("status", ""),
        sector=f.get("sector", ""), kind=f.get("kind", ""),
    ).prefetch_related("assigned_agents")
    page = Paginator(qs, ACCOUNT_PAGE_SIZE).get_page(f.get("page"))
    context = {
        "page": page, "filters": f, "statuses": AccountStatus.choices,
        "sectors": Sector.choices, "kinds": AccountKind.choices,
        "can_create": permissions.can_manage_accounts(request.user),
    }
    # htmx search-as-you-type re-renders only the results.
    template = "accounts/account_list.html#results" if request.htmx else \
        "accounts/account_list.html"
    return render(request, template, context)


@role_required(permissions.can_manage_accounts)
def account_create(request: AuthedHttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, initial={"status": AccountStatus.PROSPECT})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        agents = [u.pk for u in data.pop("assigned_agents")]
        try:
            account = services.account_create(actor=request.user, data=data, agent_ids=agents)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Compte « %(name)s » créé.") % {"name": account.name})
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/account_form.html", {"form": form, "creating": True},
                  status=422 if form.errors else 200)


@staff_required
def account_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.get_account_for_user(request.user, pk)
    audit_view(actor=request.user, target=account)
    return render(request, "accounts/account_detail.html", {
        "account": account,
        "agents": account.assigned_agents.all(),
        "channels": account.channels.all(),
        "members": account.memberships.select_related("user"),
        "can_manage": permissions.can_manage_accounts(request.user),
        "channel_form": ChannelForm(), "client_form": ClientUserForm(),
    })


@staff_required
def account_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.get_account_for_user(request.user, pk, action="change")
    form = AccountForm(request.POST or None, initial=AccountForm.initial_for(account))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        agents = [u.pk for u in data.pop("assigned_agents")]
        try:
            with transaction.atomic():
                services.account_update(actor=request.user, account=account, data=data)
                services.account_set_agents(actor=request.user, account=account,
                                            agent_ids=agents)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Modifications enregistrées."))
            return redirect("accounts:detail", pk=account.pk)
    return render(request, "accounts/account_form.html", {"form": form, "account": account},
                  status=422 if form.errors else 200)


@require_POST
@staff_required
def account_agents(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.get_account_for_user(request.user, pk, action="change")
    form = AgentsForm(request.POST)
    if form.is_valid():
        services.account_set_agents(actor=request.user, account=account,
                                    agent_ids=[u.pk for u in form.cleaned_data["assigned_agents"]])
        messages.success(request, _("Affectations enregistrées."))
    else:
        messages.error(request, _("Sélection invalide."))
    return redirect("accounts:detail", pk=account.pk)


@require_POST
@staff_required
def channel_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.get_account_for_user(request.user, pk, action="change")
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            services.channel_add(actor=request.user, account=account, **form.cleaned_data)
        except DomainError as exc:
            for msgs in exc.fields.values():
                for m in msgs:
                    messages.error(request, m)
        else:
            messages.success(request, _("Canal ajouté."))
    else:
        messages.error(request, _("Canal invalide."))
    return redirect("accounts:detail", pk=account.pk)


@require_POST
@staff_required
def channel_remove(request: AuthedHttpRequest, pk: int, channel_id: int) -> HttpResponse:
    account = selectors.get_account_for_user(request.user, pk, action="change")
    channel = get_object_or_404(ContactChannel, pk=channel_id, account=account)
    services.channel_remove(actor=request.user, channel=channel)
    messages.success(request, _("Canal supprimé."))
    return redirect("accounts:detail", pk=account.pk)


@require_POST
@staff_required
def client_user_add(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account = selectors.get_account_for_user(request.user, pk, action="change")
    form = ClientUserForm(request.POST)
    if form.is_valid():
        try:
            membership = services.client_user_add(actor=request.user, account=account,
                                                  **form.cleaned_data)
        except DomainError as exc:
            for msgs in exc.fields.values():
                for m in msgs:
                    messages.error(request, m)
        else:
            _send_invitation(request, membership.user)
            messages.success(request, _("Accès ouvert pour %(email)s ; un e-mail lui permet de choisir "
                                        "son mot de passe.") % {"email": membership.user.email})
    else:
        messages.error(request, _("Adresse e-mail invalide."))
    return redirect("accounts:detail", pk=account.pk)


def _send_invitation(request: AuthedHttpRequest, user: User) -> None:

    form = InvitationForm({"email": user.email})
    if form.is_valid():
        form.save(request=request, use_https=request.is_secure(),
                  subject_template_name="registration/invitation_subject.txt",
                  email_template_name="registration/invitation_email.txt")


# --- Staff ---------------------------------------------------------------------------------

@role_required(permissions.can_manage_staff)
def staff_list(request: AuthedHttpRequest) -> HttpResponse:
    users = selectors.staff_users()
    return render(request, "accounts/staff_list.html", {"users": users})


@role_required(permissions.can_manage_staff)
def staff_create(request: AuthedHttpRequest) -> HttpResponse:
    form = StaffForm(request.POST or None, initial={"role": Role.AGENT, "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_create(actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            _send_invitation(request, user)
            messages.success(request, _("%(user)s ajouté(e) à l'équipe ; une invitation est partie.")
                             % {"user": user})
            return redirect("accounts:staff")
    return render(request, "accounts/staff_form.html", {"form": form, "creating": True},
                  status=422 if form.errors else 200)


@role_required(permissions.can_manage_staff)
def staff_edit(request: AuthedHttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(selectors.staff_users(), pk=user_id)
    initial = {k: getattr(member, k) for k in ("email", "full_name", "phone", "role",
                                               "is_active")}
    form = StaffForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(actor=request.user, user=member, data=form.cleaned_data)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Modifications enregistrées."))
            return redirect("accounts:staff")
    return render(request, "accounts/staff_form.html", {"form": form, "member": member},
                  status=422 if form.errors else 200)


# --- Operator identity ------------------------------------------------------------------------

@role_required(permissions.can_edit_operator)
def operator_edit(request: AuthedHttpRequest) -> HttpResponse:
    identity = services.operator_identity()
    initial = {k: getattr(identity, k) for k in services.OPERATOR_FIELDS}
    form = OperatorForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        logo = data.pop("logo", None)
        try:
            services.operator_update(actor=request.user, data=data, logo=logo)
        except DomainError as exc:
            apply_field_errors(form, exc.fields, str(exc.message))
        else:
            messages.success(request, _("Identité de l'opérateur enregistrée."))
            return redirect("accounts:operator")
    return render(request, "accounts/operator_form.html", {"form": form, "identity": identity},
                  status=422 if form.errors else 200)


# --- Own profile and API tokens (staff and clients alike) -------------------------------------

def _profile_form(user: User, data: Any = None) -> ProfileForm:
    form = ProfileForm(data, initial={
        "full_name": user.full_name, "phone": user.phone, "language": user.language,
        "notify_by_email": user.notify_by_email})
    if not user.is_staff_member:
        del form.fields["notify_by_email"]  # clients get no staff notifications
    return form


def _profile(request: AuthedHttpRequest, template: str) -> HttpResponse:
    user = request.user
    form = _profile_form(user, request.POST or None)
    new_token: str | None = None
    token_form = ApiTokenForm()
    if request.method == "POST" and "create_token" in request.POST:
        token_form = ApiTokenForm(request.POST)
        form = _profile_form(user)
        if token_form.is_valid():
            _token, new_token = services.api_token_create(
                actor=user, user=user, name=token_form.cleaned_data["name"])
            token_form = ApiTokenForm()
    elif request.method == "POST" and form.is_valid():
        services.profile_update(actor=user, data=form.cleaned_data)
        messages.success(request, _("Profil enregistré."))
        return redirect(request.path)
    return render(request, template, {
        "form": form, "token_form": token_form, "new_token": new_token,
        "tokens": user.api_tokens.all(),
    })


@staff_required
def profile(request: AuthedHttpRequest) -> HttpResponse:
    return _profile(request, "accounts/profile.html")


def profile_for_template(request: AuthedHttpRequest, template: str) -> HttpResponse:
    return _profile(request, template)


@require_POST
def token_revoke(request: AuthedHttpRequest, token_id: int) -> Any:
    if not request.user.is_authenticated:
        return redirect("login")
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Jeton révoqué."))
    return redirect(safe_next(request, "accounts:profile"))

"""Staff two-factor authentication pages: the « Sécurité » page of the profile (enrolment,
backup codes, disabling), an administrator's reset, and the login's code step.

Login in two steps: `LoginView` checks the password; for a user with a second factor it does
not log in but keeps the user's id in the session (PENDING_KEY, for
TWO_FACTOR_PENDING_SECONDS) and sends to /connexion/code/, where a valid code — or an unused
backup code — calls login(). A wrong code is reported as a failed login (audit log, and
django-axes counts it toward the lockout); after MAX_ATTEMPTS the pending login is dropped.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required, safe_next, staff_required
from permanence.core.errors import DomainError

from . import permissions, selectors, totp
from . import services_two_factor as services
from .forms import EmailAuthenticationForm, TwoFactorCodeForm, TwoFactorLoginForm
from .models import User

PENDING_KEY = "two_factor_pending"
MAX_ATTEMPTS = 5


# --- Login ---------------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    """Django's login page; a user with a second factor goes on to the code step."""

    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not user.two_factor_enabled:
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk, "backend": user.backend, "attempts": 0,
            "since": clock.now().timestamp(), "next": self.get_success_url(),
        }
        return redirect("login_code")


def _pending(request: HttpRequest) -> tuple[dict[str, Any], User] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = clock.now().timestamp() - float(pending.get("since", 0))
    user = User.objects.filter(pk=int(pending.get("user_id") or 0), is_active=True).first()
    if age > settings.TWO_FACTOR_PENDING_SECONDS or age < 0 or user is None:
        del request.session[PENDING_KEY]
        return None
    return pending, user


@sensitive_post_parameters("code")
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    found = _pending(request)
    if found is None:
        messages.error(request, _("Votre connexion a expiré : saisissez à nouveau votre mot "
                                  "de passe."))
        return redirect("login")
    pending, user = found
    form = TwoFactorLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        used = services.two_factor_login_check(user=user, code=form.cleaned_data["code"])
        if used is not None:
            del request.session[PENDING_KEY]
            login(request, user, backend=pending["backend"])
            if used == services.BACKUP:
                messages.warning(request, _(
                    "Vous vous êtes connecté(e) avec un code de secours ; il vous en reste "
                    "%(n)s.") % {"n": selectors.backup_codes_left(user)})
            return redirect(pending["next"])
        pending["attempts"] = int(pending.get("attempts", 0)) + 1
        request.session[PENDING_KEY] = pending
        # Django's failed-login signal: the audit log records it, django-axes counts it.
        user_login_failed.send(sender=__name__, request=request,
                               credentials={"username": user.email, "step": "two_factor"})
        if pending["attempts"] >= MAX_ATTEMPTS:
            del request.session[PENDING_KEY]
            messages.error(request, _("Trop de codes incorrects : reprenez la connexion."))
            return redirect("login")
        form.add_error("code", _("Code incorrect ou expiré."))
    return render(request, "registration/login_code.html", {"form": form},
                  status=422 if form.errors else 200)


# --- Profile › Sécurité ----------------------------------------------------------------------

def _codes_page(request: AuthedHttpRequest, codes: list[str]) -> HttpResponse:
    return render(request, "accounts/security.html", {
        "backup_codes": codes, "form": TwoFactorCodeForm(),
        "codes_left": len(codes), "required": permissions.two_factor_required(request.user),
    })


@sensitive_post_parameters("code")
@never_cache
@staff_required
def security(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    form = TwoFactorCodeForm(request.POST or None)
    action = next((a for a in ("start", "confirm", "regenerate", "disable")
                   if a in request.POST), "") if request.method == "POST" else ""
    try:
        if action == "start":
            services.two_factor_start(actor=user)
            return redirect("accounts:security")
        if action and form.is_valid():
            code = form.cleaned_data["code"]
            if action == "confirm":
                codes = services.two_factor_confirm(actor=user, code=code)
                update_session_auth_hash(request, user)
                messages.success(request, _("Double authentification activée."))
                return _codes_page(request, codes)
            if action == "regenerate":
                codes = services.backup_codes_regenerate(actor=user, code=code)
                messages.success(request, _("Nouveaux codes de secours créés ; les anciens "
                                            "ne fonctionnent plus."))
                return _codes_page(request, codes)
            if action == "disable":
                services.two_factor_disable(actor=user, code=code)
                update_session_auth_hash(request, user)
                messages.success(request, _("Double authentification désactivée."))
                return redirect("accounts:security")
    except DomainError as exc:
        for field, errors in exc.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        if not exc.fields:
            form.add_error(None, str(exc.message))
    secret = services.pending_secret(user)
    context: dict[str, Any] = {
        "form": form if action in ("confirm", "regenerate", "disable") else TwoFactorCodeForm(),
        "failed_action": action, "required": permissions.two_factor_required(user),
        "codes_left": selectors.backup_codes_left(user) if user.two_factor_enabled else 0,
    }
    if secret:
        uri = totp.provisioning_uri(secret, user.email)
        qr = totp.qr_svg(uri, _("Code QR de la clé, à scanner avec l'application"))
        context |= {"secret": secret, "secret_grouped": totp.grouped(secret),
                    "otpauth_uri": uri,
                    # segno writes the SVG and escapes the title; nothing else is in it.
                    "otpauth_qr": mark_safe(qr)}  # noqa: S308  # nosec B308 B703
    return render(request, "accounts/security.html", context,
                  status=422 if form.errors else 200)


@require_POST
@role_required(permissions.can_manage_staff)
def staff_two_factor_reset(request: AuthedHttpRequest, user_id: int) -> HttpResponse:
    member = get_object_or_404(selectors.staff_users(), pk=user_id)
    try:
        services.two_factor_reset(actor=request.user, user=member)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if member.pk == request.user.pk:
            update_session_auth_hash(request, member)
        messages.success(request, _("Double authentification de %(user)s réinitialisée : "
                                    "elle ou il se connectera avec son mot de passe et "
                                    "l'activera de nouveau.") % {"user": member})
    return redirect(safe_next(request, "accounts:staff"))

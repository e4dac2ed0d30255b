"""The two-factor policy: staff whose role requires a second factor (settings
TWO_FACTOR_REQUIRED_ROLES) and who have not enrolled are sent to the enrolment page from
every back-office page (/app/…), except that page itself. Logging out, the public site,
the espace client and the API (bearer tokens, no session) are not concerned."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import permissions

STAFF_PREFIX = "/app/"


class TwoFactorPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated
                and request.path.startswith(STAFF_PREFIX)
                and not getattr(user, "two_factor_enabled", True)
                and permissions.two_factor_required(user)):
            target = reverse("accounts:security")
            if request.path != target:
                messages.warning(request, _(
                    "Votre rôle exige la double authentification : activez-la pour "
                    "continuer."))
                if getattr(request, "htmx", False):  # a fragment: the whole page moves
                    return HttpResponse(status=204, headers={"HX-Redirect": target})
                return redirect(target)
        return self.get_response(request)

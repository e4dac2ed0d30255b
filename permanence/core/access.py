"""View decorators: the page-level half of the permission rules (see accounts/permissions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.http import url_has_allowed_host_and_scheme

from .errors import Forbidden


def role_required(check: Callable[[Any], bool]) -> Callable[..., Any]:
    """Anonymous → login page; logged in but not allowed → 403 page."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise Forbidden()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def staff_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    # The kernel asks the user object (accounts.User.is_staff_member) rather than importing
    # the identity layer's rules.
    return role_required(
        lambda u: u.is_active and bool(getattr(u, "is_staff_member", False)))(view)


def client_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    return role_required(lambda u: u.is_active and u.is_client)(view)


if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from permanence.accounts.models import User

    class AuthedHttpRequest(HttpRequest):
        """What a view behind one of the decorators above receives (for type checking)."""

        user: User  # type: ignore[assignment]
        htmx: HtmxDetails
else:
    AuthedHttpRequest = HttpRequest


def safe_next(request: HttpRequest, default: str) -> str:
    """The posted `next` if it points inside this site, else `default` (no open redirect)."""

    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default

"""The REST API at /api/v1/ (django-ninja). Same services and permissions as the UI."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from permanence.accounts.services import api_token_authenticate
from permanence.core.errors import DomainError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ActiveSession(SessionAuth):
    """The logged-in browser session (CSRF-checked on writes)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


api = NinjaAPI(
    title="Permanence API",
    version="1",
    description="API de Permanence. Authentification : `Authorization: Bearer <jeton>`.",
    auth=[BearerToken(), ActiveSession()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, code: str, message: str,
           errors: dict[str, list[str]] | None = None) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "errors": errors or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_json(), status=exc.status)


# pydantic's messages are English; the API speaks French like the UI.
FRENCH_MESSAGES = {
    "missing": "Champ obligatoire.",
    "string_too_short": "Trop court.",
    "string_too_long": "Trop long.",
    "string_type": "Texte attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_type": "Nombre entier attendu.",
    "float_parsing": "Nombre attendu.",
    "bool_parsing": "Booléen attendu (true ou false).",
    "datetime_parsing": "Date et heure ISO 8601 attendues (ex. 2026-11-23T09:00:00+01:00).",
    "datetime_from_date_parsing": "Date et heure ISO 8601 attendues.",
    "date_parsing": "Date ISO 8601 attendue (ex. 2026-11-23).",
    "enum": "Valeur non autorisée.",
    "literal_error": "Valeur non autorisée.",
    "greater_than_equal": "Valeur trop petite.",
    "less_than_equal": "Valeur trop grande.",
    "list_type": "Liste attendue.",
    "dict_type": "Objet JSON attendu.",
    "model_attributes_type": "Objet JSON attendu.",
    "json_invalid": "JSON invalide.",
}


def _french(err: dict[str, Any]) -> str:
    message = FRENCH_MESSAGES.get(str(err.get("type", "")))
    if message and err.get("type") == "enum" and err.get("ctx", {}).get("expected"):
        return f"Valeur non autorisée ; attendu : {err['ctx']['expected']}."
    return message or str(err.get("msg", "Valeur invalide."))


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        # Strip only the leading location and parameter name: a field may be called "body".
        loc = [str(p) for p in err.get("loc", [])]
        if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
            loc = loc[1:]
            if loc and loc[0] in ("payload", "filters"):
                loc = loc[1:]
        key = ".".join(loc) or "__all__"
        errors.setdefault(key, []).append(_french(err))
    return _error(request, 422, "invalid", "Certains champs sont invalides.", errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized",
                  "Authentification requise : Authorization: Bearer <jeton>.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


from permanence.accounts.api import router as accounts_router  # noqa: E402
from permanence.calendars.api import router as calendar_router  # noqa: E402
from permanence.inbox.api import router as inbox_router  # noqa: E402

api.add_router("", accounts_router)
api.add_router("", calendar_router)
api.add_router("", inbox_router)

from permanence.catalog.api import router as catalog_router  # noqa: E402
from permanence.payments.api import router as payments_router  # noqa: E402
from permanence.shop.api import router as shop_router  # noqa: E402
from permanence.shop.quotes.api import router as quotes_router  # noqa: E402

api.add_router("", catalog_router)
api.add_router("", shop_router)
api.add_router("", quotes_router)
api.add_router("", payments_router)

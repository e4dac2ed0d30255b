"""One exception type for domain errors: a code, a translated message, field errors.

The UI shows `message` (and puts `fields` next to the inputs); the API returns it as JSON
with `status` (4xx). Services raise it; nothing else should reach the user as a 500.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext as _


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        message: Any,
        *,
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "errors": {k: [str(m) for m in v] for k, v in self.fields.items()},
        }


def error_text(exc: DomainError) -> str:
    """One line for a page's message: the field errors when there are (they say what to
    fix), else the message."""
    texts = [str(m) for msgs in exc.fields.values() for m in msgs]
    return " ".join(texts) if texts else str(exc.message)


class NotFound(DomainError):
    def __init__(self, message: Any = None) -> None:
        super().__init__("not_found", _("Introuvable.") if message is None else message,
                         status=404)


class Forbidden(DomainError):
    def __init__(self, message: Any = None) -> None:
        super().__init__("forbidden", _("Accès refusé.") if message is None else message,
                         status=403)


def invalid_fields(fields: dict[str, list[str]]) -> DomainError:
    """A 422 with messages next to the named fields (forms) or under `errors` (API)."""

    return DomainError("invalid", gettext("Certains champs sont invalides."), status=422,
                       fields=fields)


def invalid(**fields: str) -> DomainError:
    """invalid(body="Le message est vide.") — one message per field."""
    return invalid_fields({k: [v] for k, v in fields.items()})


def not_found_by_query(description: str) -> dict[str, Any]:
    """`openapi_extra` of an API operation whose query parameter names an object (an account,
    an appointment type) that may not exist or not be visible: it declares the 404 answered
    then, with the API's error body (path parameters and bodies get theirs in permanence.api)."""
    return {"responses": {404: {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}

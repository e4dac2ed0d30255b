"""The REST API at /api/v1/ (django-ninja). Same services and permissions as the UI."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth
from pydantic import BaseModel

from permanence.accounts.services import api_token_authenticate
from permanence.core.errors import DomainError

logger = logging.getLogger(__name__)


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


ERROR_SCHEMA = {
    "title": "Erreur",
    "type": "object",
    "description": "Toute erreur de l'API : un code stable, un message en français, et les "
                   "erreurs par champ (`__all__` : la requête entière).",
    "properties": {
        "code": {"type": "string", "title": "Code",
                 "examples": ["invalid", "not_found", "forbidden", "invalid_transition"]},
        "message": {"type": "string", "title": "Message"},
        "errors": {"type": "object", "title": "Erreurs par champ",
                   "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["code", "message", "errors"],
}
ERROR_DESCRIPTIONS = {
    400: "Requête refusée (règle métier)",
    401: "Authentification requise",
    403: "Action non autorisée pour ce rôle",
    404: "Introuvable, ou non visible pour cet utilisateur",
    409: "Conflit avec l'état actuel (transition impossible, déjà fait)",
    422: "Champs invalides (détail par champ dans `errors`)",
}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    """The 4xx an operation may answer, read from what it declares: writes may break a
    business rule (400) or conflict with the current state (409); authenticated operations
    may answer 401 and 403; a path parameter or an id in the body may name nothing visible
    (404); any input may be
    invalid (422). The Stripe webhook (public) declares its own 400."""
    statuses = set()
    params = operation.get("parameters", [])
    has_input = bool(params or operation.get("requestBody"))
    if method != "get":
        statuses.add(400)
    if operation.get("security"):
        statuses.add(401)
        if has_input:
            statuses.add(403)
        if method != "get":
            statuses.add(409)
    if operation.get("requestBody") or any(p.get("in") == "path" for p in params):
        statuses.add(404)
    if has_input:
        statuses.add(422)
    return sorted(statuses)


class PermanenceAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        """ninja's document, with the 4xx answers of each operation and their schema (the
        exception handlers below produce them; ninja does not know of them)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"$ref": "#/components/schemas/Error"}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(method, operation):
                    existing = responses.get(status) or responses.get(str(status))
                    if existing is None:
                        responses[status] = {
                            "description": ERROR_DESCRIPTIONS[status],
                            "content": {"application/json": {"schema": ref}}}
        return schema


api = PermanenceAPI(
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
    "decimal_parsing": "Nombre attendu.",
    "decimal_type": "Nombre attendu.",
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
    "int_out_of_range": "Nombre hors limites (entre -9223372036854775808 et "
                        "9223372036854775807).",
    "object_expected": "Un objet JSON est attendu.",
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


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def on_out_of_range(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The last net under `_bounded_integers`: a value the database cannot hold (a number
    beyond its column) is the client's mistake, answered like any other bad input."""
    logger.warning("API input refused by the database on %s: %s", request.path, exc)
    return _error(request, 422, "invalid", "Certains champs sont invalides.",
                  {"__all__": ["Valeur hors limites."]})


# --- Input guards, applied to every operation ----------------------------------------------
# Integers: pydantic accepts any size, the databases do not (PostgreSQL's bigint and SQLite's
# INTEGER stop at 2^63 - 1), and a number beyond is an OverflowError or a DataError deep in
# a query. Rather than an annotation on each of the API's integers, one guard checks every
# validated argument (path, query, body, nested, in lists) before the operation runs.

INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _out_of_range(value: Any, loc: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            yield loc
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _out_of_range(getattr(value, name, None), (*loc, name))
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:  # the field is named, not the item's index
            yield from _out_of_range(item, loc)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _out_of_range(item, (*loc, str(key)))


def _bounded_integers(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Operation decorator (runs after validation): refuses integers out of the 64-bit range
    with a 422 naming the field, before the operation touches the database."""

    @functools.wraps(view_func)
    def guarded(request: HttpRequest, *args: Any, **values: Any) -> Any:
        bad = sorted({loc for name, value in values.items()
                      for loc in _out_of_range(value, ("path", name))})
        if bad:
            raise NinjaValidationError([{"type": "int_out_of_range", "loc": loc,
                                         "msg": "integer out of range"} for loc in bad])
        return view_func(request, *args, **values)

    return guarded


def _variants(schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    while "$ref" in schema:
        schema = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    return [v for o in options for v in _variants(o, defs)] if options else [schema]


def _not_objects(value: Any, schema: dict[str, Any], defs: dict[str, Any],
                 loc: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Where `value` holds something else than the JSON object its schema asks for."""
    if value is None:
        return
    variants = _variants(schema, defs)
    kinds = {v.get("type") for v in variants} - {"null"}
    if kinds == {"object"} and not isinstance(value, dict):
        yield loc
        return
    for variant in variants:
        if variant.get("type") == "object" and isinstance(value, dict):
            for name, prop in variant.get("properties", {}).items():
                if name in value:
                    yield from _not_objects(value[name], prop, defs, (*loc, name))
        elif variant.get("type") == "array" and isinstance(value, list):
            for item in value:
                yield from _not_objects(item, variant.get("items", {}), defs, loc)


def _body_schema(operation: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(schema of the JSON body, its definitions), if the operation reads one."""
    for model in getattr(operation, "models", []):
        if getattr(model, "__ninja_param_source__", None) != "body":
            continue
        full = model.model_json_schema()
        name = getattr(model, "__read_from_single_attr__", None)
        root = full.get("properties", {}).get(name, {}) if name else full
        return root, full.get("$defs", {})
    return None


def _object_body(run: Callable[..., Any]) -> Callable[..., Any]:
    """View decorator (runs before validation) of an operation that reads a JSON body: the
    body, and each field its schema declares as an object, must be JSON objects. ninja's
    schemas read attributes from whatever they are given, so `[null, null]` or `"texte"`
    would otherwise pass as an empty object (a PATCH doing nothing, answered 200; a
    conversation created with a `contact` of "texte")."""
    found = _body_schema(getattr(run, "__self__", None))
    if found is None:
        return run
    schema, defs = found

    @functools.wraps(run)
    def guarded(request: HttpRequest, *args: Any, **kw: Any) -> Any:
        bad: list[tuple[str, ...]]
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            bad, kind = [()], "json_invalid"
        else:
            bad = [()] if not isinstance(body, dict) else list(
                _not_objects(body, schema, defs, ()))
            kind = "object_expected"
        if bad:
            return api.on_exception(request, NinjaValidationError(
                [{"type": kind, "loc": ("body", *loc), "msg": kind} for loc in bad]))
        return run(request, *args, **kw)

    return guarded


# Instants and days: pydantic also reads a number (`?to=0.5`, `"start": 1700000000`) as a Unix
# timestamp, which the OpenAPI document does not announce (`format: date-time`, a string) and
# which no client means: found by schemathesis (tests/test_api_fuzz.py). One guard refuses a
# number where the schema asks for an ISO 8601 date or instant, in the query and the body.

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
_TEMPORAL = frozenset({"date-time", "date"})


def _numeric_temporals(value: Any, schema: dict[str, Any], defs: dict[str, Any],
                       loc: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Where `value` holds a number for a date or date-time of its schema."""
    if value is None:
        return
    variants = _variants(schema, defs)
    if any(v.get("format") in _TEMPORAL for v in variants):
        numeric = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            isinstance(value, str) and _NUMBER.fullmatch(value) is not None)
        if numeric:
            yield loc
        return
    for variant in variants:
        if variant.get("type") == "object" and isinstance(value, dict):
            for name, prop in variant.get("properties", {}).items():
                if name in value:
                    yield from _numeric_temporals(value[name], prop, defs, (*loc, name))
        elif variant.get("type") == "array" and isinstance(value, list):
            for item in value:
                yield from _numeric_temporals(item, variant.get("items", {}), defs, loc)


def _operation_of(run: Callable[..., Any]) -> Any:
    """The ninja operation behind a view, through the view decorators already applied."""
    while not hasattr(run, "__self__") and hasattr(run, "__wrapped__"):
        run = run.__wrapped__
    return getattr(run, "__self__", None)


def _temporal_inputs(operation: Any) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(source, schema, definitions) of the query and body inputs holding a date. The query's
    parameter models (`Query[Filters]`) are flattened, as ninja reads them."""
    found = []
    for model in getattr(operation, "models", []):
        source = getattr(model, "__ninja_param_source__", None)
        if source not in ("query", "body"):
            continue
        full = model.model_json_schema()
        defs = full.get("$defs", {})
        name = getattr(model, "__read_from_single_attr__", None)
        root = full.get("properties", {}).get(name, {}) if name else full
        if source == "query":
            flat: dict[str, Any] = {}
            for param, prop in full.get("properties", {}).items():
                objects = [v for v in _variants(prop, defs) if v.get("type") == "object"]
                if objects:
                    for variant in objects:
                        flat.update(variant.get("properties", {}))
                else:
                    flat[param] = prop
            root = {"type": "object", "properties": flat}
        if '"date' in json.dumps(root) + json.dumps(defs):
            found.append((source, root, defs))
    return found


def _iso_temporals(run: Callable[..., Any]) -> Callable[..., Any]:
    """View decorator: a date or an instant given as a number is refused (422, field named)."""
    inputs = _temporal_inputs(_operation_of(run))
    if not inputs:
        return run

    @functools.wraps(run)
    def guarded(request: HttpRequest, *args: Any, **kw: Any) -> Any:
        bad: list[tuple[str, ...]] = []
        for source, schema, defs in inputs:
            if source == "query":
                values: Any = request.GET.dict()
            else:
                try:
                    values = json.loads(request.body or b"null")
                except (ValueError, UnicodeDecodeError):
                    continue  # _object_body answers it
            bad += [(source, *loc) for loc in _numeric_temporals(values, schema, defs, ())]
        if bad:
            return api.on_exception(request, NinjaValidationError(
                [{"type": "datetime_parsing", "loc": loc, "msg": "ISO 8601 expected"}
                 for loc in bad]))
        return run(request, *args, **kw)

    return guarded


api.add_decorator(_bounded_integers, mode="operation")
api.add_decorator(_object_body, mode="view")
api.add_decorator(_iso_temporals, mode="view")


from permanence.accounts.api import router as accounts_router  # noqa: E402
from permanence.calendars.api import router as calendar_router  # noqa: E402
from permanence.desk.api import router as desk_router  # noqa: E402
from permanence.inbox.api import router as inbox_router  # noqa: E402

api.add_router("", accounts_router)
api.add_router("", calendar_router)
api.add_router("", inbox_router)
api.add_router("", desk_router)

from permanence.agenda.api import router as agenda_router  # noqa: E402

api.add_router("", agenda_router)

from permanence.catalog.api import router as catalog_router  # noqa: E402
from permanence.payments.api import router as payments_router  # noqa: E402
from permanence.shop.api import router as shop_router  # noqa: E402
from permanence.shop.quotes.api import router as quotes_router  # noqa: E402

api.add_router("", catalog_router)
api.add_router("", shop_router)
api.add_router("", quotes_router)
api.add_router("", payments_router)

from permanence.billing.api_usage import router as usage_router  # noqa: E402

api.add_router("", usage_router)

from permanence.billing.api_documents import router as billing_router  # noqa: E402

api.add_router("", billing_router)

from permanence.channels_sms.api import router as sms_router  # noqa: E402

api.add_router("", sms_router)

from permanence.knowledge.api import router as knowledge_router  # noqa: E402

api.add_router("", knowledge_router)

from permanence.reports.api import router as reports_router  # noqa: E402

api.add_router("", reports_router)

"""Bad input never gets a 500 from the API (issue 9, "Bad input, the last few").

The walk reads every operation from the OpenAPI document, so a new route or a new integer
field is probed without anyone adding it here: each integer (path, query, JSON body, list
items, nested objects) is sent as 2^63 and as -2^63 - 1 (beyond PostgreSQL's bigint and
SQLite's INTEGER), by every role, and the answer must be a JSON 4xx (or a 2xx that did not
use the number). Bodies of the wrong JSON type are refused the same way."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from permanence.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

HUGE = 2**63
NEGATIVE_HUGE = -(2**63) - 1
# Also past 32-bit columns (PositiveIntegerField is an int4 on PostgreSQL) and past doubles.
PROBES = (HUGE, NEGATIVE_HUGE, 2**31, 2**53 + 1, -1)
API = "/api/v1"


def _schema() -> dict[str, Any]:
    from permanence.api import api

    return api.get_openapi_schema()


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _variants(schema: dict[str, Any], doc: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema, doc)
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if options:
        return [_resolve(s, doc) for s in options]
    return [schema]


def _is_int(schema: dict[str, Any], doc: dict[str, Any]) -> bool:
    return any(v.get("type") == "integer" for v in _variants(schema, doc))


def _example(schema: dict[str, Any], doc: dict[str, Any], depth: int = 0) -> Any:
    """A plausible value for `schema`: gets the body past validation to the code behind."""
    for variant in _variants(schema, doc):
        if "default" in variant and variant["default"] is not None:
            return copy.deepcopy(variant["default"])
        if variant.get("enum"):
            return variant["enum"][0]
        if "const" in variant:
            return variant["const"]
        kind = variant.get("type")
        if kind == "object" and depth < 4:
            return {name: _example(prop, doc, depth + 1)
                    for name, prop in variant.get("properties", {}).items()}
        if kind == "array":
            return []
        if kind == "integer":
            return 1
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        if kind == "string":
            return {"date-time": "2026-11-23T09:00:00+01:00", "date": "2026-11-23",
                    "email": "x@exemple.fr"}.get(variant.get("format", ""), "x")
    if "default" in schema:
        return schema["default"]
    return None


def _int_paths(schema: dict[str, Any], doc: dict[str, Any], depth: int = 0
               ) -> Iterator[tuple[tuple[Any, ...], bool]]:
    """(path inside the body, is a list of ints) for every integer the body may carry."""
    if depth > 4:
        return
    for variant in _variants(schema, doc):
        if variant.get("type") == "object":
            for name, prop in variant.get("properties", {}).items():
                if _is_int(prop, doc):
                    yield (name,), False
                for sub in _variants(prop, doc):
                    if sub.get("type") == "array":
                        items = sub.get("items", {})
                        if _is_int(items, doc):
                            yield (name,), True
                        else:
                            for inner, as_list in _int_paths(items, doc, depth + 1):
                                yield (name, 0, *inner), as_list
                    elif sub.get("type") == "object":
                        for inner, as_list in _int_paths(sub, doc, depth + 1):
                            yield (name, *inner), as_list


def _put(body: Any, path: tuple[Any, ...], value: Any, doc: dict[str, Any],
         schema: dict[str, Any]) -> Any:
    body = copy.deepcopy(body)
    node = body
    for i, key in enumerate(path[:-1]):
        if isinstance(key, int):
            if not node:
                node.append({})
            node = node[0]
        else:
            nxt = path[i + 1]
            if not isinstance(node.get(key), (dict, list)):
                node[key] = [] if isinstance(nxt, int) else {}
            node = node[key]
    node[path[-1]] = value
    return body


class World:
    def __init__(self) -> None:
        from permanence.accounts.models import ClientAccount, Membership, User
        from permanence.inbox import services
        from permanence.shop.orders import order_transition
        from testkit.shop import make_order

        def user(email: str, role: str) -> Any:
            return User.objects.create_user(email, None, role=role, full_name=email[:5])

        self.users = {"admin": user("admin@test.fr", "admin"),
                      "supervisor": user("sup@test.fr", "supervisor"),
                      "agent": user("agent@test.fr", "agent"),
                      "billing": user("compta@test.fr", "billing"),
                      "client": user("client@test.fr", "client")}
        ClientAccount.objects.create(name="Permanence", slug="operateur", is_operator=True,
                                     status="actif")
        self.account = ClientAccount.objects.create(name="Cabinet Martin",
                                                    slug="cabinet-martin", status="actif")
        self.account.assigned_agents.add(self.users["agent"])
        Membership.objects.create(user=self.users["client"], account=self.account,
                                  role="titulaire")
        conversation = services.conversation_open(services.Incoming(
            account=self.account, channel="email", subject="Question", body_text="Bonjour",
            contact_email="jean@exemple.fr", acknowledge=False))
        order = make_order(self.account, self.users["client"])
        order_transition(order=order, to="payee")
        self.ids = {"account_id": self.account.pk, "conversation_id": conversation.pk,
                    "order_id": order.pk, "quote_id": 1, "slug": "essentiel"}
        self.tokens = {role: api_token_create(actor=u, user=u, name="t")[1]
                       for role, u in self.users.items()}

    def client(self, role: str) -> Client:
        # A 500 is an answer to report, not an exception to stop the walk at.
        return Client(headers={"Authorization": f"Bearer {self.tokens[role]}"},
                      raise_request_exception=False)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def _url(path: str, ids: dict[str, Any], override: dict[str, Any] | None = None) -> str:
    values = {**ids, **(override or {})}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


def _send(client: Client, method: str, url: str, body: Any = None,
          query: dict[str, Any] | None = None) -> Any:
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    if method == "GET":
        return client.get(url)
    raw = json.dumps(body) if not isinstance(body, (str, bytes)) else body
    return client.generic(method, url, data=raw, content_type="application/json")


def _assert_json_not_5xx(response: Any, what: str,
                         declared: dict[str, Any] | None = None) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if declared is not None and response.status_code >= 400:
        # The OpenAPI document announces the error this operation just gave.
        assert str(response.status_code) in {str(k) for k in declared}, (
            f"{what}: {response.status_code} not declared in {sorted(map(str, declared))}")
    assert response["Content-Type"].startswith("application/json"), (
        f"{what}: {response.status_code} {response['Content-Type']}")
    body = response.json()
    if response.status_code >= 400:
        assert {"code", "message", "errors"} <= set(body), f"{what}: {body}"


def _probes(doc: dict[str, Any], ids: dict[str, Any]) -> Iterator[tuple[str, str, str, Any,
                                                                        dict[str, Any]]]:
    """(what, method, url, body, query) for each integer of each operation, out of range;
    `what` starts with "METHOD path"."""
    for method, path, op in _operations(doc):
        body_schema = (op.get("requestBody", {}).get("content", {})
                       .get("application/json", {}).get("schema"))
        base_body = _example(body_schema, doc) if body_schema else None
        for value in PROBES:
            for param in op.get("parameters", []):
                if not _is_int(param.get("schema", {}), doc):
                    continue
                what = f"{method} {path} {param['in']} {param['name']}={value}"
                if param["in"] == "path":
                    yield (what, method, _url(path, ids, {param["name"]: value}), base_body,
                           {})
                elif param["in"] == "query":
                    yield what, method, _url(path, ids), base_body, {param["name"]: value}
            if body_schema:
                for where, as_list in _int_paths(body_schema, doc):
                    what = f"{method} {path} body {'.'.join(map(str, where))}={value}"
                    payload = _put(base_body, where, [value] if as_list else value, doc,
                                   body_schema)
                    yield what, method, _url(path, ids), payload, {}


def test_the_walk_finds_the_integers_the_issue_names() -> None:
    doc = _schema()
    found = {what.rsplit("=", 1)[0] for what, *_rest in _probes(doc, {})}
    for expected in ("GET /api/v1/conversations query offset",
                     "GET /api/v1/accounts query offset",
                     "GET /api/v1/orders query account",
                     "PATCH /api/v1/accounts/{account_id} body assigned_agents",
                     "POST /api/v1/quotes body lines.0.offer",
                     "POST /api/v1/orders/{order_id}/transition path order_id"):
        assert expected in found, sorted(found)


@pytest.mark.parametrize("role", ["admin", "agent", "client"])
def test_huge_integers_anywhere_give_a_json_4xx(role: str) -> None:
    world = World()
    client = world.client(role)
    doc = _schema()
    failures = []
    for what, method, url, body, query in _probes(doc, world.ids):
        response = _send(client, method, url, body, query)
        path = what.split(" ")[1]
        try:
            _assert_json_not_5xx(response, what, doc["paths"][path][method.lower()]["responses"])
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


def test_a_huge_integer_is_named_in_the_errors() -> None:
    world = World()
    response = world.client("admin").get(f"{API}/conversations?offset={HUGE}")
    assert response.status_code == 422
    assert "offset" in response.json()["errors"]
    response = world.client("admin").patch(
        f"{API}/accounts/{world.account.pk}", data={"assigned_agents": [HUGE]},
        content_type="application/json")
    assert response.status_code in (400, 422)
    assert "assigned_agents" in response.json()["errors"]


WRONG_BODIES = ["[null, null]", "[]", '"texte"', "42", "null", "true", "{", ""]


@pytest.mark.parametrize("role", ["admin", "client"])
def test_a_body_of_the_wrong_json_type_is_refused(role: str) -> None:
    world = World()
    client = world.client(role)
    doc = _schema()
    failures = []
    for method, path, op in _operations(doc):
        schema = (op.get("requestBody", {}).get("content", {})
                  .get("application/json", {}).get("schema"))
        if not schema or not any(v.get("type") == "object" for v in _variants(schema, doc)):
            continue
        url = _url(path, world.ids)
        for raw in WRONG_BODIES:
            response = _send(client, method, url, raw)
            what = f"{method} {path} body {raw!r}"
            try:
                _assert_json_not_5xx(response, what, op["responses"])
                assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
            except AssertionError as exc:
                failures.append(str(exc))
    assert not failures, "\n".join(failures)


def test_a_patch_with_a_list_body_changes_nothing() -> None:
    world = World()
    before = world.account.name
    response = world.client("admin").generic(
        "PATCH", f"{API}/accounts/{world.account.pk}", data="[null, null]",
        content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    world.account.refresh_from_db()
    assert world.account.name == before


def _object_fields(schema: dict[str, Any], doc: dict[str, Any]) -> Iterator[str]:
    """Top-level body fields whose every accepted form is a JSON object."""
    for variant in _variants(schema, doc):
        for name, prop in variant.get("properties", {}).items():
            kinds = {v.get("type") for v in _variants(prop, doc)} - {"null"}
            if kinds == {"object"}:
                yield name


def test_a_string_where_a_nested_object_is_expected_is_refused() -> None:
    world = World()
    client = world.client("admin")
    doc = _schema()
    failures, probed = [], 0
    for method, path, op in _operations(doc):
        schema = (op.get("requestBody", {}).get("content", {})
                  .get("application/json", {}).get("schema"))
        if not schema:
            continue
        base = _example(schema, doc)
        for name in _object_fields(schema, doc):
            probed += 1
            for wrong in ("texte", [None, None], 42):
                response = _send(client, method, _url(path, world.ids), {**base, name: wrong})
                what = f"{method} {path} {name}={wrong!r}"
                try:
                    _assert_json_not_5xx(response, what, op["responses"])
                    assert 400 <= response.status_code < 500, f"{what}: {response.status_code}"
                except AssertionError as exc:
                    failures.append(str(exc))
    assert probed, "no nested object field found: the walk is broken"
    assert not failures, "\n".join(failures)

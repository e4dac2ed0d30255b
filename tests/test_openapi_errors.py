"""The OpenAPI document declares the 4xx answers of each operation, with the error schema
every error body follows (issue 9); tests/test_api_bad_input.py checks, on real answers, that
each 4xx it provokes is one the document announces."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in doc["paths"].items()
            for method, op in ops.items()]


def test_the_error_schema_is_declared(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "errors"}
    assert error["properties"]["errors"]["additionalProperties"]["items"]["type"] == "string"


def test_every_operation_declares_its_4xx_with_the_error_schema(doc: dict[str, Any]) -> None:
    missing = []
    for method, path, op in _operations(doc):
        responses = op["responses"]
        expected = set()
        if op.get("parameters") or op.get("requestBody"):
            expected.add("422")
        if op.get("security"):
            expected.add("401")
            if op.get("parameters") or op.get("requestBody"):
                expected.add("403")
            if method != "get":
                expected.add("409")
        if op.get("requestBody") or any(p["in"] == "path" for p in op.get("parameters", [])):
            expected.add("404")
        if method != "get":
            expected.add("400")
        for status in expected:
            answer = responses.get(status)
            if answer is None:
                missing.append(f"{method.upper()} {path}: {status}")
                continue
            schema = answer["content"]["application/json"]["schema"]
            if "/payments/stripe/webhook" in path:
                continue  # its own 400 schema, the same three fields
            if schema != {"$ref": "#/components/schemas/Error"}:
                missing.append(f"{method.upper()} {path}: {status} schema {schema}")
    assert not missing, missing


def test_the_issue_examples(doc: dict[str, Any]) -> None:
    transition = doc["paths"]["/api/v1/orders/{order_id}/transition"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "422"} <= set(transition)
    listing = doc["paths"]["/api/v1/conversations"]["get"]["responses"]
    assert {"401", "403", "422"} <= set(listing)
    assert "404" not in listing
    plans = doc["paths"]["/api/v1/catalog/plans"]["get"]["responses"]
    assert "401" not in plans  # public
    webhook = doc["paths"]["/api/v1/payments/stripe/webhook"]["post"]["responses"]
    assert set(webhook) == {"200", "400"}


def test_the_declared_errors_are_the_ones_answered(client: Any, doc: dict[str, Any]) -> None:
    """Without a token, an authenticated operation answers the declared 401 in the schema's
    shape."""
    response = client.get("/api/v1/orders")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "errors"}
    assert "401" in doc["paths"]["/api/v1/orders"]["get"]["responses"]

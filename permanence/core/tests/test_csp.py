"""The Content-Security-Policy: a fresh nonce per response, no inline script or handler in
any template, framing refused except where a page allows it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def _directives(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, _sep, value = part.strip().partition(" ")
        out[name] = value
    return out


def test_every_page_gets_a_policy_with_a_fresh_nonce(client: Client, supervisor: Any) -> None:
    client.force_login(supervisor)
    first = _directives(client.get("/app/"))
    second = _directives(client.get("/app/"))
    assert first["script-src"].startswith("'self' 'nonce-")
    assert "unsafe-inline" not in first["script-src"]
    assert "unsafe-eval" not in first["script-src"]
    assert first["script-src"] != second["script-src"]  # a nonce per response
    assert first["object-src"] == "'none'" and first["frame-ancestors"] == "'none'"
    assert "ws://testserver" in first["connect-src"]


def test_the_public_site_and_the_login_page_too(client: Client, db: Any) -> None:
    for url in ("/connexion/", "/offres/"):
        assert _directives(client.get(url))["frame-ancestors"] == "'none'", url


def test_the_nonce_in_the_header_is_the_one_pages_can_use(rf: Any) -> None:
    from django.http import HttpResponse
    from django.template import engines

    from permanence.core.csp import ContentSecurityPolicyMiddleware

    template = engines["django"].from_string("<script nonce='{{ request.csp_nonce }}'></script>")

    def view(request: Any) -> HttpResponse:
        return HttpResponse(template.render({}, request))

    request = rf.get("/")
    response = ContentSecurityPolicyMiddleware(view)(request)
    nonce = re.search(r"nonce='([^']+)'", response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_json_and_files_carry_no_policy(client: Client) -> None:
    assert "Content-Security-Policy" not in client.get("/healthz")


@pytest.mark.parametrize(("pattern", "what"), [
    (r"\son[a-z]+\s*=", "an inline event handler (use data-autosubmit / data-confirm)"),
    (r"hx-on[:-]", "an htmx inline handler (evaluated as script)"),
])
def test_no_template_holds_inline_code(pattern: str, what: str) -> None:
    offenders = []
    for path in ROOT.glob("permanence/**/templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(pattern, text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"{what}: {offenders}"


def test_every_inline_script_carries_the_nonce() -> None:
    offenders = []
    for path in ROOT.glob("permanence/**/templates/**/*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(encoding="utf-8")):
            if "src=" not in tag and "csp_nonce" not in tag and "application/json" not in tag:
                offenders.append(f"{path.relative_to(ROOT)}: {tag}")
    assert not offenders, offenders

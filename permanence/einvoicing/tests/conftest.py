"""E-invoicing fixtures: the seller's identity, a French business buyer, and the platform
stand-in (testkit/einvoicing_standin.py) served on a loopback port, settings pointed at it —
the only thing not real in these tests is the platform itself, reached over real HTTP."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

# The seller and the business buyer of billing's tests (one definition for both apps).
from permanence.billing.tests.conftest import business, operator  # noqa: F401 (fixtures)
from testkit.einvoicing_standin import PlatformStandIn, make_standin_server

TOKEN = "pa-test-token"


@dataclass
class RunningPlatform:
    app: PlatformStandIn
    url: str

    def control(self, path: str, method: str = "POST") -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/_control/{path}",  # noqa: S310 (loopback)
                                         data=b"" if method == "POST" else None, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return dict(json.loads(response.read()))

    def deposits(self) -> int:
        """How many POST /v1/flows the platform received."""
        return sum(1 for m, p in self.app.requests if m == "POST" and p == "/v1/flows")


@pytest.fixture
def platform_standin(settings: Any) -> Iterator[RunningPlatform]:
    app = PlatformStandIn(token=TOKEN)
    server = make_standin_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    settings.EINVOICING_PLATFORM_URL = url
    settings.EINVOICING_PLATFORM_TOKEN = TOKEN
    settings.EINVOICING_SYNTAX = "Factur-X"
    settings.EINVOICING_FROM = ""
    try:
        yield RunningPlatform(app=app, url=url)
    finally:
        server.shutdown()
        server.server_close()




TWENTY = Decimal("20")
TEN = Decimal("10")


def consumer(name: str = "Jeanne Dupont") -> dict[str, Any]:
    from permanence.billing import parties

    return {"name": name, "legal_name": "", "siren": "", "siret": "", "vat_number": "",
            "email": "jeanne.dupont@example.fr",
            "address": parties.address("3 allée des Pins\n33000 Bordeaux"),
            "is_business": False}


def issue(account: Any, lines: list[tuple[str, int, Decimal]], *, buyer: Any = None,
          pdf: bool = True, **draft: Any) -> Any:
    """An issued invoice, its PDF stored (as billing's task does after the commit) or, with
    `pdf=False`, not yet (the task not run)."""
    from permanence.billing import documents, issuing
    from permanence.core import background

    make = issuing.Draft(account=account, buyer=buyer or {}, **draft,
                         lines=[issuing.Line(label, cents, rate) for label, cents, rate in lines])
    if pdf:
        invoice = issuing.issue(make)
    else:
        with mock.patch.object(background, "enqueue_on_commit"):
            invoice = issuing.issue(make)
    if pdf:
        documents.invoice_pdf_store(invoice.pk, send_email=False)
        invoice.refresh_from_db()
    return invoice

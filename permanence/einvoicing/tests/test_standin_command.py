"""`manage.py einvoicing_standin` (what `make demo` starts in e-invoicing test mode) serves the
platform stand-in: a separate process that takes a CII flow from our client, refuses a
wrong token, and reports the flow's lifecycle."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from permanence.core.management.commands import runstack
from permanence.einvoicing.client import AfnorFlowPlatform, Document, PlatformError
from testkit.stack import base_env, free_port

ROOT = Path(__file__).resolve().parents[3]
CII = b"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice
  xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
<rsm:ExchangedDocument><ram:ID>F2026-000042</ram:ID></rsm:ExchangedDocument>
<rsm:SupplyChainTradeTransaction><ram:ApplicableHeaderTradeAgreement>
<ram:SellerTradeParty><ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">552081317</ram:ID>
</ram:SpecifiedLegalOrganization></ram:SellerTradeParty>
<ram:BuyerTradeParty><ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">732829320</ram:ID>
</ram:SpecifiedLegalOrganization></ram:BuyerTradeParty>
</ram:ApplicableHeaderTradeAgreement></rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""


def test_the_command_serves_the_platform(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, "manage.py", "einvoicing_standin", "--port", str(port),
         "--token", "demo-token"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=base_env(tmp_path, tmp_path / "unused.sqlite3"))
    try:
        client = AfnorFlowPlatform(f"http://127.0.0.1:{port}", "demo-token", timeout=5)
        deadline = time.monotonic() + 30
        while True:
            try:
                assert client.find("F2026-000042") is None
                break
            except PlatformError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        document = Document(tracking_id="F2026-000042", name="F2026-000042.xml",
                            syntax="CII", content=CII, content_type="application/xml")
        deposit = client.deposit(document)
        assert client.find("F2026-000042") == deposit
        assert [s.code for s in client.statuses(deposit.flow_id)] == ["200", "203"]
        with pytest.raises(PlatformError) as duplicate:
            client.deposit(document)
        assert duplicate.value.duplicate and duplicate.value.status == 409
        with pytest.raises(PlatformError) as refused:
            AfnorFlowPlatform(f"http://127.0.0.1:{port}", "wrong", timeout=5).find("x")
        assert refused.value.permanent and refused.value.status == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_make_demo_starts_the_stand_in_in_test_mode_only(settings: Any) -> None:
    settings.EINVOICING_TEST_MODE = True
    settings.EINVOICING_STANDIN_PORT = 12199
    command = runstack.processes("127.0.0.1", 8000)["einvoicing-standin"]
    assert command[-3:] == ["einvoicing_standin", "--port", "12199"]
    assert ("EINVOICING_STANDIN_PORT", "127.0.0.1", 12199) in runstack.ports_to_check(
        "127.0.0.1", 8000)
    settings.EINVOICING_TEST_MODE = False  # a real platform configured
    assert "einvoicing-standin" not in runstack.processes("127.0.0.1", 8000)

"""The FEC of the worked example (accounting_example.py): the 18 columns in order, the file
name, dates and amounts in the format of BOI-CF-IOR-60-40-20, balanced entries (overall and
per EcritureNum), the sales journal VE (411 / 706 / 44571, the credit note reversed) and the
bank journal BQ (512 / 411, the refund reversed), with the client's auxiliary account."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from permanence.billing import fec, journals
from permanence.billing.tests.accounting_example import Example, build
from testkit.payments import standin  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

URL = "/app/facturation/exports/fec.txt"
COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum",
           "CompteLib", "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib",
           "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise",
           "Idevise"]


@pytest.fixture
def example(client: Any, standin: Any, billing: Any, account: Any,  # noqa: F811
            other_account: Any) -> Example:
    return build(client=client, standin=standin, billing=billing, account=account,
                 other_account=other_account)


@pytest.fixture
def lines(client: Any, billing: Any, example: Example) -> list[dict[str, str]]:
    client.force_login(billing)
    response = client.get(URL, {"mois": "2027-03"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="552081317FEC20270331.txt"'
    text = b"".join(response.streaming_content).decode("iso-8859-15")
    rows = [line.split("\t") for line in text.split("\r\n")]
    assert rows[-1] == [""]  # every line ends with CRLF
    assert rows[0] == COLUMNS
    assert all(len(r) == 18 for r in rows[1:-1])
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows[1:-1]]


def amount(text: str) -> Decimal:
    assert re.fullmatch(r"\d+,\d{2}", text), text  # comma decimal, no thousands separator
    return Decimal(text.replace(",", "."))


def test_columns_name_dates_and_amounts(lines: list[dict[str, str]]) -> None:
    for line in lines:
        for field in ("EcritureDate", "PieceDate", "ValidDate"):
            assert re.fullmatch(r"202703[0-3]\d", line[field])  # YYYYMMDD
        amount(line["Debit"])
        amount(line["Credit"])
        assert (line["Montantdevise"], line["Idevise"]) == ("", "")
    assert fec.filename(journals.Period(date(2027, 1, 1), date(2027, 12, 31)),
                        "552081317") == "552081317FEC20271231.txt"


def test_balanced_overall_and_per_entry(lines: list[dict[str, str]]) -> None:
    entries: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in lines:
        entries[line["EcritureNum"]][0] += amount(line["Debit"])
        entries[line["EcritureNum"]][1] += amount(line["Credit"])
    assert all(debit == credit for debit, credit in entries.values())
    assert sum(amount(x["Debit"]) for x in lines) == sum(amount(x["Credit"]) for x in lines) \
        == Decimal("935.20")
    # Numbers run without gaps per journal, in date order.
    assert list(entries) == ["VE000001", "VE000002", "VE000003", "BQ000001", "BQ000002",
                             "BQ000003"]


def test_sales_journal_entries(lines: list[dict[str, str]], example: Example) -> None:
    ve = [x for x in lines if x["JournalCode"] == "VE"]
    assert {x["JournalLib"] for x in ve} == {"Journal des ventes"}
    aux_a = f"C{example.invoice_a.account_id:06d}"
    got = [(x["EcritureNum"], x["EcritureDate"], x["PieceRef"], x["CompteNum"],
            x["CompAuxNum"], x["Debit"], x["Credit"]) for x in ve]
    assert got == [
        ("VE000001", "20270303", "F2027-000001", "411000", aux_a, "178,80", "0,00"),
        ("VE000001", "20270303", "F2027-000001", "706000", "", "0,00", "149,00"),
        ("VE000001", "20270303", "F2027-000001", "445710", "", "0,00", "29,80"),
        ("VE000002", "20270310", "F2027-000002", "411000",
         f"C{example.invoice_b.account_id:06d}", "110,00", "0,00"),
        ("VE000002", "20270310", "F2027-000002", "706000", "", "0,00", "100,00"),
        ("VE000002", "20270310", "F2027-000002", "445710", "", "0,00", "10,00"),
        # The credit note: the same entry reversed.
        ("VE000003", "20270315", "AV2027-000001", "411000", aux_a, "0,00", "178,80"),
        ("VE000003", "20270315", "AV2027-000001", "706000", "", "149,00", "0,00"),
        ("VE000003", "20270315", "AV2027-000001", "445710", "", "29,80", "0,00")]
    assert ve[0]["CompAuxLib"] == example.invoice_a.account.name
    assert ve[1]["CompteLib"] == "Prestations de services 20 %"
    assert ve[5]["CompteLib"] == "TVA collectée 10 %"
    assert ve[0]["EcritureLib"].startswith("Facture F2027-000001")
    assert ve[0]["ValidDate"] == ve[0]["PieceDate"] == "20270303"


def test_bank_journal_entries(lines: list[dict[str, str]], example: Example) -> None:
    bq = [x for x in lines if x["JournalCode"] == "BQ"]
    aux_a = f"C{example.invoice_a.account_id:06d}"
    got = [(x["EcritureNum"], x["EcritureDate"], x["PieceRef"], x["CompteNum"],
            x["CompAuxNum"], x["Debit"], x["Credit"]) for x in bq]
    assert got == [
        ("BQ000001", "20270303", "F2027-000001", "512000", "", "178,80", "0,00"),
        ("BQ000001", "20270303", "F2027-000001", "411000", aux_a, "0,00", "178,80"),
        ("BQ000002", "20270310", "F2027-000002", "512000", "", "110,00", "0,00"),
        ("BQ000002", "20270310", "F2027-000002", "411000",
         f"C{example.invoice_b.account_id:06d}", "0,00", "110,00"),
        # The refund: money leaves the bank, the customer's account is debited back.
        ("BQ000003", "20270320", "F2027-000001", "512000", "", "0,00", "178,80"),
        ("BQ000003", "20270320", "F2027-000001", "411000", aux_a, "178,80", "0,00")]
    assert bq[4]["EcritureLib"].startswith("Remboursement stripe")
    # Lettering the customer's account: invoice A, its credit note, its payment and refund
    # all sit on the same auxiliary account and net to zero.
    net = sum(amount(x["Debit"]) - amount(x["Credit"]) for x in lines
              if x["CompAuxNum"] == aux_a)
    assert net == 0


def test_text_fields_never_break_the_columns() -> None:
    assert fec.fec_text("Cabinet\tMartin | Fils\r\nLyon") == "Cabinet Martin   Fils  Lyon"
    assert fec.fec_amount(123456) == "1234,56"
    assert fec.fec_amount(5) == "0,05"


def test_an_empty_period_is_the_header_alone(client: Any, billing: Any) -> None:
    client.force_login(billing)
    response = client.get(URL, {"du": "2027-01-01", "au": "2027-12-31"})
    text = b"".join(response.streaming_content).decode("iso-8859-15")
    assert text == "\t".join(COLUMNS) + "\r\n"
    assert response["Content-Disposition"].endswith('FEC20271231.txt"')

"""The Fichier des Écritures Comptables (FEC, LPF art. L47 A and A47 A-1; format commented
in BOI-CF-IOR-60-40-20) of the sales and the bank movements of a period.

- The 18 mandatory columns, in their order, named on the first line; fields separated by a
  tab; one entry line per line (CRLF); dates YYYYMMDD; amounts with a comma before the cents,
  no thousands separator, both Debit and Credit filled (0,00 on the other side); the
  characters in ISO 8859-15 (one of the sets A47 A-1 names; € and the French accents fit).
- The file is named `<SIREN>FEC<closing date YYYYMMDD>.txt`, the SIREN being the seller's
  as the invoices print it (parties.seller, from the operator's identity).
- Sales journal VE, one entry per document: the customer (411, with the client account's
  auxiliary account) debited TTC, sales (706) credited HT and VAT collected (44571)
  credited, per VAT rate; a credit note is the same entry reversed.
- Bank journal BQ, one entry per movement: a payment debits the bank (512) and credits the
  customer; a refund the reverse.
- EcritureNum runs without gaps per journal through the file, in date order; every entry
  balances (debits = credits), so the file does too. Entries come from the journals' rows
  (journals.py): the same query per source, streamed.

It is the operator's sales and bank side for the period, to merge into its accounting (the
accountant's software adds the other journals and the opening balances)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings

from permanence.accounts.services import operator_identity

from . import parties
from .journals import (
    RECEIPT,
    REFUND,
    RETURN,
    Period,
    aux_account,
    client_name,
    document_rates,
    payment_rows,
    sales_documents,
    sign_of,
)
from .models_invoices import DocumentKind

COLUMNS = ("JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum",
           "CompteLib", "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib",
           "Debit", "Credit", "EcritureLet", "DateLet", "ValidDate", "Montantdevise",
           "Idevise")
SEPARATOR = "\t"
ENCODING = "iso-8859-15"

# The general ledger accounts (Plan comptable général), six digits; an operator whose chart
# differs sets BILLING_FEC_ACCOUNTS = {"sales": ("706100", "…"), …}.
DEFAULT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "customers": ("411000", "Clients"),
    "sales": ("706000", "Prestations de services"),
    "vat": ("445710", "TVA collectée"),
    "bank": ("512000", "Banque"),
}
# The file's texts are French whatever the screen's language (a legal file for the French
# tax administration): plain strings, not translated.
JOURNALS = {"VE": "Journal des ventes", "BQ": "Banque"}
BANK_LABELS = {RECEIPT: "Paiement", REFUND: "Remboursement", RETURN: "Retour"}


def accounts() -> dict[str, tuple[str, str]]:
    return {**DEFAULT_ACCOUNTS, **getattr(settings, "BILLING_FEC_ACCOUNTS", {})}


def seller_siren() -> str:
    return str(parties.seller(operator_identity())["siren"] or "")


def filename(period: Period, siren: str) -> str:
    return f"{siren or '000000000'}FEC{period.end:%Y%m%d}.txt"


def fec_date(day: date | None) -> str:
    return f"{day:%Y%m%d}" if day else ""


def fec_amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def rate_text(rate: Any) -> str:
    return f"{rate.normalize():f}".replace(".", ",") + " %"


def fec_text(value: Any, limit: int = 200) -> str:
    """One field: no separator, no line break inside it."""
    text = str(value or "")
    for char in ("\t", "|", "\r", "\n"):
        text = text.replace(char, " ")
    return text.strip()[:limit]


@dataclass(frozen=True)
class Line:
    """One side of an entry: `cents` > 0 on its side, < 0 swaps to the other."""

    account: tuple[str, str]
    debit: bool
    cents: int
    aux: tuple[str, str] = ("", "")


def _entry(journal: str, *, num: int, day: date, piece: str, label: str,
           lines: list[Line]) -> list[list[str]]:
    out = []
    for line in lines:
        if not line.cents:
            continue
        debit = line.debit if line.cents > 0 else not line.debit
        amount = fec_amount(abs(line.cents))
        out.append([journal, JOURNALS[journal], f"{journal}{num:06d}", fec_date(day),
                    line.account[0], fec_text(line.account[1]), fec_text(line.aux[0]),
                    fec_text(line.aux[1]), fec_text(piece), fec_date(day), fec_text(label),
                    amount if debit else "0,00", "0,00" if debit else amount, "", "",
                    fec_date(day), "", ""])
    return out


def sales_entries(period: Period) -> Iterator[list[str]]:
    acc = accounts()
    num = 0
    for doc in sales_documents(period):
        sign = sign_of(doc)
        # The auxiliary account's label is the client account's name, the same on every
        # line of that account; the entry's label names the buyer as the document does.
        aux = (aux_account(doc["account_id"]), doc["account__name"] or "")
        rates = document_rates(doc)
        what = "Avoir" if doc["kind"] == DocumentKind.CREDIT_NOTE else "Facture"
        label = f"{what} {doc['number']} {client_name(doc['buyer'])}"
        # Debit side = the sum of the credit side, rate by rate: the entry balances.
        lines = [Line(acc["customers"], True, sign * sum(b + v for _r, b, v in rates), aux)]
        for rate, base, vat in rates:
            lines.append(Line((acc["sales"][0], f"{acc['sales'][1]} {rate_text(rate)}"), False,
                              sign * base))
            lines.append(Line((acc["vat"][0], f"{acc['vat'][1]} {rate_text(rate)}"), False,
                              sign * vat))
        entry = _entry("VE", num=num + 1, day=doc["issued_on"], piece=doc["number"],
                       label=label, lines=lines)
        if entry:  # a document of 0,00 € moves no account: no entry, no gap in the numbers
            num += 1
            yield from entry


def bank_entries(period: Period) -> Iterator[list[str]]:
    acc = accounts()
    for num, row in enumerate(payment_rows(period), start=1):
        aux = (aux_account(row.account_id), row.client)
        label = f"{BANK_LABELS[row.kind]} {row.provider} {row.order} {row.client}"
        piece = row.invoice or row.order or f"P{row.payment_id}"
        # A receipt (> 0) debits the bank; a refund or a return (< 0) swaps both sides.
        yield from _entry("BQ", num=num, day=row.day, piece=piece, label=label, lines=[
            Line(acc["bank"], True, row.amount_cents),
            Line(acc["customers"], False, row.amount_cents, aux)])


def rows(period: Period) -> Iterator[list[str]]:
    """Header, then the sales journal, then the bank journal."""
    yield list(COLUMNS)
    yield from sales_entries(period)
    yield from bank_entries(period)


def chunks(period: Period) -> Iterator[bytes]:
    for row in rows(period):
        yield (SEPARATOR.join(row) + "\r\n").encode(ENCODING, errors="replace")

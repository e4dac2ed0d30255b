"""Tables as files people open in a spreadsheet: CSV for French Excel (UTF-8 with a BOM, `;`
between fields, a comma before the decimals, dates dd/mm/yyyy) and XLSX (openpyxl's write-only
workbook: rows go to disk as they come, memory stays flat).

A table is its headers and a function from a row to cells (dates as `date`, amounts as
`Decimal`): the same cells feed both formats. Used by the billing journals and the reports."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font


@dataclass(frozen=True)
class Table:
    name: str
    headers: tuple[Any, ...]
    cells: Callable[[Any], list[Any]]


# --------------------------------------------------------------------------- CSV


class _Line:
    """csv.writer writes one line into this and we hand it on (no buffer grows)."""

    def write(self, value: str) -> str:
        return value


# A text cell starting with one of these is a formula to a spreadsheet: a client's name
# typed at checkout must never run as one (CSV injection), so it gets a leading apostrophe.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_chunks(table: Table, rows: Iterable[Any]) -> Iterator[bytes]:
    """The file, line by line, encoded: the BOM first so Excel reads UTF-8."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff".encode() + writer.writerow([str(h) for h in table.headers]).encode()
    for row in rows:
        yield writer.writerow([csv_text(c) for c in table.cells(row)]).encode()


# --------------------------------------------------------------------------- XLSX


def xlsx_file(table: Table, rows: Iterable[Any], title: str) -> IO[bytes]:
    """A temporary file holding the workbook, at its start (deleted once closed)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    bold = Font(bold=True)

    def header(text: Any) -> Any:
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.font = bold
        return cell

    sheet.append([header(h) for h in table.headers])
    for row in rows:
        out = []
        for value in table.cells(row):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # openpyxl would store it as a formula
            out.append(cell)
        sheet.append(out)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    book.save(handle)
    handle.seek(0)
    return handle

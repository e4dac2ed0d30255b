"""Reading a campaign's contact list from a CSV or XLSX file.

Every line is checked before anything is written: a file with errors imports nothing and the
report lists each error with its line number, so the list never ends up half-imported.
Duplicates (the same number twice in the file, or already in the campaign) are not errors:
they are skipped and listed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import IO, Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from permanence.core import uploads

MAX_BYTES = uploads.CONTACT_LIST.max_bytes
MAX_ROWS = 20_000
# Accepted column titles (compared lower-cased, accents and spaces as typed by people).
COLUMNS = {
    "name": {"nom", "name", "nom complet", "contact", "nom et prénom", "nom prénom"},
    "company": {"société", "societe", "entreprise", "company", "raison sociale"},
    "phone": {"téléphone", "telephone", "tél", "tel", "tél.", "phone", "mobile", "portable",
              "numéro", "numero"},
    "email": {"e-mail", "email", "courriel", "mail", "adresse e-mail"},
    "notes": {"notes", "note", "commentaire", "commentaires", "remarques"},
}
LIMITS = {"name": 120, "company": 120, "notes": 500}


@dataclass(frozen=True)
class Row:
    line: int
    name: str
    company: str
    phone: str  # E.164
    email: str
    notes: str


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, number)
    objected: list[tuple[int, str]] = field(default_factory=list)  # (line, number): GDPR
    imported: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class FileRefused(Exception):
    """The file as a whole cannot be read (message in French)."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed in a spreadsheet cell
    return str(value).strip()


def _table(name: str, data: bytes) -> list[list[str]]:
    if name.lower().endswith(".xlsx"):
        # Imported here: only this path needs the spreadsheet reader.
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise FileRefused(_("Ce fichier Excel ne peut pas être lu.")) from exc
        try:
            sheet = book.worksheets[0]
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # no sheet, or a damaged one read lazily
            raise FileRefused(_("Ce fichier Excel ne peut pas être lu.")) from exc
        finally:
            book.close()
    if not name.lower().endswith((".csv", ".txt")):
        raise FileRefused(_("Envoyez un fichier CSV ou Excel (.xlsx)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    # newline="": a lone carriage return inside a line (old Mac files) is the csv module's
    # to read, not an error; a malformed file is refused, never a 500 (property-tested).
    try:
        return [[c.strip() for c in row]
                for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise FileRefused(_("Ce fichier CSV ne peut pas être lu.")) from exc


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for name, titles in COLUMNS.items():
            if key in titles and name not in found:
                found[name] = index
    return found


def _phone(raw: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_contacts(name: str, upload: IO[bytes], *, existing: set[str]) -> Report:
    """Parse and check every line of the file; `existing` holds the numbers already in the
    campaign (E.164)."""
    declared = getattr(upload, "size", None) or 0
    data = b"" if declared > MAX_BYTES else upload.read(MAX_BYTES + 1)
    if declared > MAX_BYTES or len(data) > MAX_BYTES:
        raise FileRefused(_("Fichier trop lourd (5 Mo au plus)."))
    # By content before any reader sees it: openpyxl inflates the sheet, so a zip bomb
    # named .xlsx is refused here from its central directory (core.uploads).
    try:
        uploads.check((name, data), uploads.CONTACT_LIST)
    except uploads.UploadRefused as exc:
        raise FileRefused(str(exc.message)) from None
    table = [row for row in _table(name, data)]
    while table and not any(table[0]):
        table.pop(0)
    if not table:
        raise FileRefused(_("Le fichier est vide."))
    columns = _columns(table[0])
    missing = [label for key, label in (("name", _("Nom")), ("phone", _("Téléphone")))
               if key not in columns]
    if missing:
        raise FileRefused(ngettext(
            "Colonne manquante : %(cols)s. La première ligne doit nommer les colonnes (Nom, "
            "Téléphone, et si vous voulez Société, E-mail, Notes).",
            "Colonnes manquantes : %(cols)s. La première ligne doit nommer les colonnes (Nom, "
            "Téléphone, et si vous voulez Société, E-mail, Notes).", len(missing))
            % {"cols": ", ".join(missing)})
    if len(table) - 1 > MAX_ROWS:
        raise FileRefused(ngettext("%(max)s ligne au plus par fichier.",
                                   "%(max)s lignes au plus par fichier.", MAX_ROWS)
                          % {"max": MAX_ROWS})
    report = Report()
    seen = set(existing)
    for offset, raw in enumerate(table[1:], start=2):
        if not any(raw):
            continue
        values = {key: (raw[index] if index < len(raw) else "") for key, index in columns.items()}
        row, problems = _check_line(offset, values)
        if row is None:
            report.errors.append((offset, " ; ".join(problems)))
        elif row.phone in seen:
            report.duplicates.append((offset, row.phone))
        else:
            seen.add(row.phone)
            report.rows.append(row)
    return report


def _check_line(line: int, values: dict[str, str]) -> tuple[Row | None, list[str]]:
    """One line of the file: the row, or the list of what is wrong with it."""
    problems = []
    if not values.get("name", ""):
        problems.append(_("nom manquant"))
    for key, limit in LIMITS.items():
        if len(values.get(key, "")) > limit:
            problems.append(ngettext("%(col)s : %(max)s caractère au plus",
                                     "%(col)s : %(max)s caractères au plus", limit) % {
                "col": key, "max": limit})
    phone = _phone(values.get("phone", ""))
    if phone is None:
        problems.append(_("numéro de téléphone invalide : « %(value)s »") % {
            "value": values.get("phone", "")[:40]})
    email = values.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_("e-mail invalide : « %(value)s »") % {"value": email[:80]})
    if problems or phone is None:
        return None, problems
    return Row(line=line, name=values["name"], company=values.get("company", ""), phone=phone,
               email=email, notes=values.get("notes", "")), []

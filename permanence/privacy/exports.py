"""Access, portability and reversibility exports: one ZIP per request, with for every
registered model holding the person's (or the account's) rows a JSON file and a CSV file of
the same rows (ids, foreign keys, dates and the registered fields), the files those rows
point to (attachments, raw messages), and a manifest. Written entry by entry, row by row, into
the ZIP (values_list().iterator(), zipfile's streaming writes): memory stays flat whatever the
account's size. Stored under MEDIA_ROOT/privacy/exports/ with its SHA-256."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from permanence.core import clock

from . import registry
from .models_requests import SubjectExport
from .scope import Scope, entries_for, queryset, scope_of

logger = logging.getLogger(__name__)

EXPORT_DIR = "privacy/exports"
CHUNK = 500


def export_root() -> Path:
    root = Path(settings.MEDIA_ROOT) / EXPORT_DIR
    root.mkdir(parents=True, exist_ok=True)
    return root


def columns(entry: registry.Entry) -> list[str]:
    """id, foreign keys' ids, dates, then the registered fields (each once)."""
    model = apps.get_model(entry.model)
    out = ["id"]
    for field in model._meta.concrete_fields:
        if field.is_relation:
            out.append(field.attname)
        elif isinstance(field, models.DateField) and field.name not in out:
            out.append(field.name)
    out += [name for name in entry.fields if name not in out]
    return out


def _rows(qs: models.QuerySet[Any], cols: list[str]) -> Iterator[dict[str, Any]]:
    for values in qs.values_list(*cols).iterator(chunk_size=CHUNK):
        yield dict(zip(cols, values, strict=True))


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _write_entry(zf: zipfile.ZipFile, entry: registry.Entry, qs: models.QuerySet[Any]) -> int:
    cols = columns(entry)
    count = 0
    with zf.open(f"json/{entry.model}.json", "w", force_zip64=True) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8")
        out.write("[")
        for row in _rows(qs, cols):
            out.write(",\n" if count else "\n")
            out.write(json.dumps(row, ensure_ascii=False, cls=DjangoJSONEncoder))
            count += 1
        out.write("\n]\n")
        out.flush()
        out.detach()
    with zf.open(f"csv/{entry.model}.csv", "w", force_zip64=True) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(out, delimiter=";")
        writer.writerow(cols)
        for row in _rows(qs, cols):
            writer.writerow([_csv_value(row[c]) for c in cols])
        out.flush()
        out.detach()
    return count


def _write_files(zf: zipfile.ZipFile, entry: registry.Entry, qs: models.QuerySet[Any]) -> int:
    """The files the rows point to (inbox.Attachment's, a message's raw source), under
    fichiers/<model>/<id>-<name>."""
    model = apps.get_model(entry.model)
    file_fields = [n for n in entry.fields
                   if isinstance(model._meta.get_field(n), models.FileField)]
    # The name people gave the file (inbox.Attachment.filename), else the stored one.
    shown = "filename" if any(f.name == "filename" for f in model._meta.concrete_fields) \
        else None
    written = 0
    for name in file_fields:
        cols = ["pk", name] + ([shown] if shown else [])
        for row in qs.exclude(**{name: ""}).values_list(*cols).iterator(chunk_size=CHUNK):
            pk, stored = row[0], row[1]
            if not stored or not default_storage.exists(stored):
                continue
            label = Path(str(row[2] if shown and row[2] else stored)).name
            arcname = f"fichiers/{entry.model}/{pk}-{label}"
            with default_storage.open(stored, "rb") as src, \
                    zf.open(arcname, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            written += 1
    return written


def write_zip(path: Path, scope: Scope, manifest: dict[str, Any]) -> int:
    """Write the ZIP of the scope's rows to `path`; the number of rows."""
    counts: dict[str, int] = {}
    files = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for entry in entries_for(scope):
            qs = queryset(entry, scope)
            if qs is None or not qs.exists():
                continue
            counts[entry.model] = _write_entry(zf, entry, qs)
            files += _write_files(zf, entry, qs)
        manifest = {**manifest, "rows": counts, "files": files}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2,
                                                cls=DjangoJSONEncoder))
    return sum(counts.values())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def build(export: SubjectExport) -> tuple[str, int, str, int]:
    """Build the export's ZIP: (path relative to MEDIA_ROOT, size, sha256, rows)."""
    request = export.request
    scope = scope_of(request)
    name = f"{request.reference}-{clock.now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.zip"
    path = export_root() / name
    manifest = {"request": request.reference, "kind": request.kind,
                "target": request.target, "account_id": scope.account_id,
                "contact_id": scope.contact_id, "generated_at": clock.now(),
                "format": "JSON (UTF-8) et CSV (UTF-8, séparateur « ; ») par modèle"}
    try:
        rows = write_zip(path, scope, manifest)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return f"{EXPORT_DIR}/{name}", path.stat().st_size, sha256_of(path), rows


def absolute(export: SubjectExport) -> Path:
    return Path(settings.MEDIA_ROOT) / export.path

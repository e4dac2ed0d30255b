"""Erasure (RGPD art. 17): the person anonymised in every registered model that holds their
data, read from the registry — names become « Personne effacée », addresses and numbers are
blanked (or a stable pseudonym where a value is required), texts become « [contenu effacé le
JJ/MM/AAAA] », files are deleted.

What a legal obligation keeps is never touched: entries whose basis is a legal obligation
(invoices: 10 years, Code de commerce L123-22; the SMS opt-outs the law requires us to honour)
and those kept with the invoices (orders, payments and their history).

One transaction per batch of rows of a model; idempotent (a value already anonymised is left
as it is: a second run changes nothing); the dry run goes through the same code without
writing, so its counts are the real run's."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models, transaction

from . import registry
from .scope import Scope, entries_for, is_email_field, is_phone_field, queryset

ERASED_NAME = "Personne effacée"
ERASED_PREFIX = "[contenu effacé le "
ERASED_FILENAME = "fichier-efface"
BATCH = 500
KEPT_RETENTIONS = {"invoices"}


def erasable(entry: registry.Entry) -> bool:
    return entry.basis != registry.LEGAL_OBLIGATION and entry.retention not in KEPT_RETENTIONS


def kept_entries(scope: Scope) -> list[registry.Entry]:
    """The person's models kept as they are (shown with the result)."""
    return [e for e in entries_for(scope) if not erasable(e)]


def _order(entry: registry.Entry) -> int:
    # The contact and the account last: their identifiers were read before, but a reader
    # of a half-done erasure still finds the rest through them.
    return 1 if entry.model in {"inbox.Contact", "accounts.ClientAccount"} else 0


def _is_name(field: models.Field[Any, Any]) -> bool:
    return field.name == "name" or (field.name.endswith("name") and "file" not in field.name
                                    and "legal" not in field.name)


def erased_value(field: models.Field[Any, Any], value: Any, *, pk: Any, request_id: int,
                 today: date) -> Any:
    """What `value` becomes; the value itself when there is nothing (left) to erase."""
    if value in (None, "", {}, []):
        return value
    if isinstance(field, models.FileField):
        return ""
    if isinstance(field, models.JSONField):
        return type(value)() if isinstance(value, dict | list) else None
    if isinstance(field, models.GenericIPAddressField):
        return None if field.null else value
    if not isinstance(field, models.CharField | models.TextField) or field.choices:
        return value
    if isinstance(field, models.URLField):
        return ""
    if is_email_field(field) or is_phone_field(field):
        return _erased_address(field, str(value), pk=pk, request_id=request_id)
    return _erased_text(field, str(value), today=today)


def _erased_address(field: models.Field[Any, Any], value: str, *, pk: Any,
                    request_id: int) -> str:
    """Blank when the field may be, else a stable pseudonym (the same on every run)."""
    if field.blank:
        return ""
    if value.startswith("efface-"):
        return value
    pseudonym = f"efface-{request_id}-{pk}"
    if isinstance(field, models.EmailField) or "email" in field.name or "@" in value:
        pseudonym += "@efface.invalid"
    return pseudonym[:field.max_length or None]


def _erased_text(field: models.Field[Any, Any], value: str, *, today: date) -> str:
    max_length = field.max_length or 10**9
    if _is_name(field):
        return ERASED_NAME[:max_length]
    if "filename" in field.name:
        return ERASED_FILENAME
    if value.startswith(ERASED_PREFIX) or value in {ERASED_NAME, ERASED_FILENAME}:
        return value
    text = f"{ERASED_PREFIX}{today:%d/%m/%Y}]"
    if len(text) > max_length:
        return "" if field.blank else text[:max_length]
    return text


def _erase_row(row: models.Model, fields: list[models.Field[Any, Any]], *, request_id: int,
               today: date) -> tuple[bool, list[tuple[str, str]]]:
    """Set the row's erased values: (changed, the (field, stored name) of files to delete)."""
    dirty = False
    files: list[tuple[str, str]] = []
    for field in fields:
        old = getattr(row, field.attname)
        if isinstance(field, models.FileField):
            old = old.name if old else ""
        new = erased_value(field, old, pk=row.pk, request_id=request_id, today=today)
        if new != old:
            dirty = True
            if isinstance(field, models.FileField):
                files.append((field.name, old))
            setattr(row, field.attname, new)
    return dirty, files


def _erase_entry(entry: registry.Entry, scope: Scope, *, request_id: int, today: date,
                 dry_run: bool, on_file: Callable[[str], None]) -> int:
    qs = queryset(entry, scope)
    if qs is None:
        return 0
    model = apps.get_model(entry.model)
    fields = [model._meta.get_field(n) for n in entry.fields]
    pks = list(qs.values_list("pk", flat=True))
    changed_rows = 0
    for start in range(0, len(pks), BATCH):
        chunk = pks[start:start + BATCH]
        with transaction.atomic():
            rows = model._default_manager.filter(pk__in=chunk).order_by("pk")
            if not dry_run:
                rows = rows.select_for_update()
            changed: list[models.Model] = []
            files: list[tuple[str, str]] = []
            for row in rows.only("pk", *entry.fields):
                dirty, row_files = _erase_row(row, fields, request_id=request_id, today=today)
                if dirty:
                    changed.append(row)
                    files += row_files
            changed_rows += len(changed)
            if not dry_run and changed:
                model._default_manager.bulk_update(changed, list(entry.fields))
                for field_name, name in files:
                    # A file shared with a row kept (the same stored name) stays.
                    if not model._default_manager.filter(**{field_name: name}).exists():
                        transaction.on_commit(functools.partial(on_file, name))
    return changed_rows


def _delete_file(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def erase(scope: Scope, *, request_id: int, today: date, dry_run: bool) -> dict[str, int]:
    """{model label: rows changed (or that would be)} for every erasable registered model
    with the person's rows (models with nothing to change are left out)."""
    counts: dict[str, int] = {}
    for entry in sorted((e for e in entries_for(scope) if erasable(e)), key=_order):
        count = _erase_entry(entry, scope, request_id=request_id, today=today,
                             dry_run=dry_run, on_file=_delete_file)
        if count:
            counts[entry.model] = count
    return counts

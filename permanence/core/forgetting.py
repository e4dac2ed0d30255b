"""What « forgotten » looks like, shared by the apps' `forget` modules (what each app forgets
when the privacy app's retention schedules or an erasure request ask).

The privacy app decides what is forgotten and when (the rule, the cutoff, the rows, the
batches, the dry run, the report); the app that owns a table does the write, through its own
`forget.py` — an app writes only its own tables. This kernel module holds what those apps
share: the placeholders, and the erasure of registered fields (RGPD art. 17), whose value per
field depends only on the field's type, so that each app's `forget.erase` applies it to its
own models instead of repeating it."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any, cast

from django.core.files.storage import default_storage
from django.db import models, transaction

# Retention: what replaces data past its duration.
ANONYMISED = "Anonymisé"
REDACTED = "[Supprimé : durée de conservation écoulée]"

# Erasure: names, texts and files of an erased person.
ERASED_NAME = "Personne effacée"
ERASED_PREFIX = "[contenu effacé le "
ERASED_FILENAME = "fichier-efface"


def is_email_field(field: models.Field[Any, Any]) -> bool:
    return isinstance(field, models.EmailField) or "email" in field.name or field.name in {
        "address", "sender"}


def is_phone_field(field: models.Field[Any, Any]) -> bool:
    return "phone" in field.name or field.name == "number" or field.name.endswith("_number")


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


def _delete_file(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def erase_rows(model: type[models.Model], pks: list[int], field_names: tuple[str, ...], *,
               request_id: int, today: date, dry_run: bool) -> int:
    """Erase `field_names` of `model`'s rows `pks`, in one transaction, the rows locked in a
    real run; the rows changed (or, in a dry run, that would be: nothing is written). Called
    only by the `forget.erase` of the app owning `model`. A file cleared is deleted from the
    storage once committed, unless a row kept shares it (the same stored name)."""
    manager = model._default_manager
    # The registry's personal fields are concrete fields (never a reverse relation).
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(n)) for n in field_names]
    with transaction.atomic():
        rows = manager.filter(pk__in=pks).order_by("pk")
        if not dry_run:
            rows = rows.select_for_update()
        changed: list[models.Model] = []
        files: list[tuple[str, str]] = []
        for row in rows.only("pk", *field_names):
            dirty, row_files = _erase_row(row, fields, request_id=request_id, today=today)
            if dirty:
                changed.append(row)
                files += row_files
        if not dry_run and changed:
            manager.bulk_update(changed, list(field_names))
            for field_name, name in files:
                if not manager.filter(**{field_name: name}).exists():
                    transaction.on_commit(functools.partial(_delete_file, name))
    return len(changed)

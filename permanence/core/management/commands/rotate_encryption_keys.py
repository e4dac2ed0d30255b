"""Re-encrypt every sealed value under the first FIELD_ENCRYPTION_KEYS key (README ›
Sécurité › key rotation). Short transactions of BATCH rows; safe to run again or to stop."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from permanence.core.crypto import PREFIX, generate_key, reseal, seal
from permanence.core.fields import SealableJSONField, SealableTextField

BATCH = 500


def sealable_columns() -> list[tuple[Any, Any]]:
    """(model, field) for every sealable field of every installed model."""
    return [(model, field) for model in apps.get_models() for field in model._meta.local_fields
            if isinstance(field, SealableTextField | SealableJSONField)]


def _raw(value: Any, is_json: bool) -> str:
    """The column's stored text as the driver hands it (jsonb comes decoded on PostgreSQL)."""
    if is_json and isinstance(value, str) and value.startswith('"'):
        return value[1:-1]
    return value if isinstance(value, str) else ""


class Command(BaseCommand):
    help = "Re-encrypt sealed fields under the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--new-key", action="store_true",
                            help="Print a new key to put first in FIELD_ENCRYPTION_KEYS.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(generate_key())
            return
        for model, field in sealable_columns():
            done = self._rotate(model, field)
            self.stdout.write(f"{model._meta.label}.{field.name}: {done}")

    def _rotate(self, model: Any, field: Any) -> int:
        """Rows are read and written as raw column text, so a value is re-encrypted without
        the field's conversions (and an unreadable one is left as it is)."""
        table, column, pk = (model._meta.db_table, field.column, model._meta.pk.column)
        is_json = isinstance(field, SealableJSONField)
        q = connection.ops.quote_name
        cast = "::text" if is_json and connection.vendor == "postgresql" else ""
        # A field sealed whatever the row (always=True) also gets its plain rows sealed:
        # those written before it was.
        always = bool(getattr(field, "always", False))
        select = (f"SELECT {q(pk)}, {q(column)}{cast} FROM {q(table)} "  # noqa: S608 (quoted names from the models, parameters bound)  # nosec B608
                  f"WHERE {q(pk)} > %s AND {q(column)}{cast} {'<>' if always else 'LIKE'} %s "
                  f"ORDER BY {q(pk)} LIMIT %s")
        pattern = "" if always else ('"' if is_json else "") + PREFIX + "%"
        last, done = 0, 0
        while True:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(select, [last, pattern, BATCH])
                    rows = cursor.fetchall()
                    for row_pk, value in rows:
                        old = _raw(value, is_json)
                        new = reseal(old) if old.startswith(PREFIX) or not always else seal(old)
                        if new != old:
                            stored = f'"{new}"' if is_json else new
                            cursor.execute(
                                f"UPDATE {q(table)} SET {q(column)} = %s{cast and '::jsonb'} "  # noqa: S608 (as above)  # nosec B608
                                f"WHERE {q(pk)} = %s", [stored, row_pk])
                            done += 1
            if len(rows) < BATCH:
                return done
            last = rows[-1][0]

"""The indicators as a table for CSV/XLSX: the value now, the previous period's, the unit and
the formula (the same reports.kpis figures as the page and the API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import User
from permanence.core.exports import Table

from . import kpis


def _cells(row: dict[str, Any]) -> list[Any]:
    return [row["key"], row["label"], row["value"] if row["value"] is not None else "",
            row["previous"] if row["previous"] is not None else "", row["unit"],
            row["formula"]]


INDICATORS = Table("indicateurs", (
    _("Indicateur"), _("Libellé"), _("Valeur"), _("Période précédente"), _("Unité"),
    _("Formule")), _cells)


def indicators_table(user: User, filters: kpis.Filters) -> tuple[Table, Iterator[dict[str, Any]]]:
    computed = kpis.compute(user, filters)
    now = computed["values"]
    before = kpis.compute(user, filters.previous())["values"]
    definitions = kpis.definitions(business=computed["business"])
    rows = ({"key": key, "label": d["label"], "value": now[key], "previous": before[key],
             "unit": d["unit"], "formula": d["formula"]} for key, d in definitions.items())
    return INDICATORS, rows

"""CalendarSpec.from_json, error by error: every field's messages, in the order they are found.

The error payload is what the calendar editor shows next to each input, so its exact content
(keys, French messages, their order) is pinned here. Pure tests: no database.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from permanence.core.business_time import CalendarSpec
from permanence.core.errors import DomainError
from permanence.core.field_errors import FieldErrors

PARIS = ZoneInfo("Europe/Paris")


def _error(data: object) -> DomainError:
    with pytest.raises(DomainError) as exc:
        CalendarSpec.from_json(data)  # type: ignore[arg-type]
    return exc.value


def test_every_error_of_every_part_at_once_in_order() -> None:
    error = _error({
        "timezone": " Mars/Olympus ",
        "weekly": {"tue": [["8:00", "25:00"], ["x", "y"], ["10:00", "09:00"]], "funday": [],
                   "mon": "08:00", "wed": [["08:00", "12:00"], ["11:00", "14:00"]]},
        "holidays": "DE",
        "closures": [
            {"start": "2026-08-20T00:00:00+02:00", "end": "2026-08-10T00:00:00+02:00",
             "message": 5},
            "closed",
            {"start": "2026-08-10T00:00:00", "end": "hier", "message": "x" * 301},
            {"end": datetime(2026, 8, 10)},  # noqa: DTZ001 (a naive datetime is the error)
        ],
    })
    assert (error.code, error.status, error.message) == ("invalid", 422, "Calendrier invalide.")
    assert list(error.fields.items()) == [
        ("timezone", ["Fuseau horaire inconnu : «  Mars/Olympus  »."]),
        ("weekly.tue", [
            "Heure de fin invalide : « 25:00 » (format HH:MM, 00:01 à 24:00).",
            "Heure de début invalide : « x » (format HH:MM, 00:00 à 23:59).",
            "Heure de fin invalide : « y » (format HH:MM, 00:01 à 24:00).",
            "Le créneau 10:00–09:00 doit finir après son début.",
        ]),
        ("weekly", ["Jour inconnu : « funday » (attendu : mon, tue, wed, thu, fri, sat, sun)."]),
        ("weekly.mon", ['Une liste de créneaux ["HH:MM", "HH:MM"] est attendue.']),
        ("weekly.wed", ["Les créneaux 08:00–12:00 et 11:00–14:00 se chevauchent."]),
        ("holidays", ["Jours fériés inconnus : « DE » (attendu : FR, FR-57 ou vide)."]),
        ("closures.0.message", ["Le message doit être un texte."]),
        ("closures.0.end", ["La fin de la fermeture doit être après son début."]),
        ("closures.1", ["Fermeture invalide : un objet {start, end, message} est attendu."]),
        ("closures.2.start",
         ["La date doit préciser son fuseau horaire (ex. 2026-08-10T00:00:00+02:00)."]),
        ("closures.2.end", ["Date invalide : « hier » (format ISO 8601 attendu)."]),
        ("closures.2.message", ["Message trop long (300 caractères au plus)."]),
        ("closures.3.start", ["Date obligatoire (format ISO 8601 avec fuseau horaire)."]),
        ("closures.3.end",
         ["La date doit préciser son fuseau horaire (ex. 2026-08-10T00:00:00+02:00)."]),
    ]


@pytest.mark.parametrize(("data", "fields"), [
    ([], {"__all__": ["Un objet JSON est attendu."]}),
    ({"timezone": "  ", "weekly": {}}, {"timezone": ["Fuseau horaire obligatoire."]}),
    ({"timezone": None, "weekly": {}}, {"timezone": ["Fuseau horaire obligatoire."]}),
    ({"timezone": "UTC"}, {"weekly": ["Horaires hebdomadaires obligatoires."]}),
    ({"timezone": "UTC", "weekly": []},
     {"weekly": ["Les horaires doivent être un objet (mon … sun)."]}),
    ({"timezone": "UTC", "weekly": {}, "closures": "août"},
     {"closures": ["Les fermetures doivent être une liste."]}),
])
def test_one_error(data: object, fields: dict[str, list[str]]) -> None:
    assert _error(data).fields == fields


def test_defaults_and_closures_in_chronological_order() -> None:
    spec = CalendarSpec.from_json({
        "weekly": {"mon": [["09:00", "10:00"]]},
        "holidays": None,
        "closures": [
            {"start": "2026-08-12T00:00:00+00:00", "end": "2026-08-13T00:00:00+00:00",
             "message": "b"},
            {"start": "2026-08-10T00:00:00+02:00", "end": "2026-08-11T00:00:00+02:00"},
            # The same period as "b", given another way: ties keep the order of the input.
            {"start": datetime(2026, 8, 12, 2, tzinfo=PARIS), "end": "2026-08-13T02:00:00+02:00",
             "message": "c"},
        ],
    })
    assert spec.tz.key == "Europe/Paris"
    assert spec.holidays == ""
    assert spec.closure_messages == ("", "b", "c")
    # Bounds are converted to the calendar's zone.
    assert [(a.isoformat(), b.isoformat()) for a, b in spec.closures] == [
        ("2026-08-10T00:00:00+02:00", "2026-08-11T00:00:00+02:00"),
        ("2026-08-12T02:00:00+02:00", "2026-08-13T02:00:00+02:00"),
        ("2026-08-12T02:00:00+02:00", "2026-08-13T02:00:00+02:00"),
    ]
    assert all(a.tzinfo is PARIS and b.tzinfo is PARIS for a, b in spec.closures)


def test_field_errors_keep_the_order_found() -> None:
    errors = FieldErrors()
    assert not errors
    errors.add("b", "one")
    report = errors.on("a")
    report("two")
    errors.add("b", "three")
    assert errors
    assert list(errors.fields.items()) == [("b", ["one", "three"]), ("a", ["two"])]

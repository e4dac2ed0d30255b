"""Business-time engine: examples on tricky dates, plus property tests on several calendars.

Pure tests: no database. Run alone with
`python -m pytest permanence/core/tests/test_business_time.py -p no:django`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permanence.core.business_time import (
    WEEKDAYS,
    CalendarSpec,
    add_business_days,
    add_business_hours,
    add_business_time,
    business_time_between,
    is_open,
    next_opening,
    open_intervals,
)
from permanence.core.errors import DomainError

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)

OFFICE_DAY = [["08:30", "12:30"], ["14:00", "18:00"]]


def week(days: dict[str, list[list[str]]] | None = None, **kw: list[list[str]]) -> dict:
    out = {d: [] for d in WEEKDAYS}
    out.update(days or {})
    out.update(kw)
    return out


def office(holidays: str | None = "FR", closures: list | None = None, tz: str = "Europe/Paris"):
    return CalendarSpec.from_json({
        "timezone": tz,
        "weekly": week({d: OFFICE_DAY for d in ("mon", "tue", "wed", "thu", "fri")}),
        "holidays": holidays,
        "closures": closures or [],
    })


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


OFFICE = office()
OFFICE_57 = office("FR-57")
SPLIT = CalendarSpec.from_json({
    "timezone": "Europe/Paris",
    "weekly": week(
        {d: [["09:00", "12:00"], ["13:30", "17:30"]] for d in ("mon", "tue", "wed", "thu")},
        fri=[["09:00", "12:00"], ["13:30", "16:00"]],
        sat=[["09:00", "12:00"]],
    ),
    "holidays": "FR-57",
})
SATURDAY_MORNING = CalendarSpec.from_json({
    "timezone": "Europe/Paris",
    "weekly": week({d: [["08:00", "12:00"]] for d in ("tue", "wed", "thu", "fri", "sat")}),
    "holidays": "FR",
})
ALWAYS = CalendarSpec.from_json({
    "timezone": "Europe/Paris",
    "weekly": {d: [["00:00", "24:00"]] for d in WEEKDAYS},
    "holidays": None,
})
# Evening slots ending at 24:00 in a zone whose local midnight is not UTC midnight, and
# with its own DST dates (8 March / 1 November 2026).
EVENINGS_NY = CalendarSpec.from_json({
    "timezone": "America/New_York",
    "weekly": week({d: [["18:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                   sun=[["00:00", "03:00"], ["20:00", "24:00"]]),
    "holidays": "",
})
WITH_CLOSURES = office(closures=[
    {"start": "2026-05-20T10:00:00+02:00", "end": "2026-05-20T14:30:00+02:00",
     "message": "Formation"},
    {"start": "2026-08-03T00:00:00+02:00", "end": "2026-08-17T00:00:00+02:00",
     "message": "Congés d'été"},
    # Spans the autumn DST change.
    {"start": "2026-10-23T16:00:00+02:00", "end": "2026-10-26T12:00:00+01:00",
     "message": "Déménagement"},
    # Overlaps the previous one: closures may overlap.
    {"start": "2026-10-26T11:00:00+01:00", "end": "2026-10-26T15:00:00+01:00",
     "message": ""},
])

CALENDARS = {
    "office": OFFICE,
    "split-fr57": SPLIT,
    "saturday": SATURDAY_MORNING,
    "always": ALWAYS,
    "evenings-ny": EVENINGS_NY,
    "closures": WITH_CLOSURES,
}


# ------------------------------------------------------------------ explicit examples


class TestAddBusinessTime:
    def test_within_a_slot(self) -> None:
        assert add_business_time(OFFICE, paris(2026, 3, 2, 9), 2 * H) == paris(2026, 3, 2, 11)

    def test_lunch_break(self) -> None:
        # 30 min before lunch, 30 min after.
        assert add_business_time(OFFICE, paris(2026, 3, 2, 12), H) == paris(2026, 3, 2, 14, 30)

    def test_exact_remaining_returns_interval_end(self) -> None:
        assert add_business_time(OFFICE, paris(2026, 3, 2, 12), 30 * M) == paris(
            2026, 3, 2, 12, 30
        )
        assert add_business_time(OFFICE, paris(2026, 3, 6, 17), H) == paris(2026, 3, 6, 18)

    def test_start_during_lunch_or_night(self) -> None:
        assert add_business_time(OFFICE, paris(2026, 3, 2, 13), H) == paris(2026, 3, 2, 15)
        assert add_business_time(OFFICE, paris(2026, 3, 2, 22), H) == paris(2026, 3, 3, 9, 30)

    def test_friday_evening_to_monday(self) -> None:
        assert add_business_time(OFFICE, paris(2026, 3, 6, 17, 30), H) == paris(2026, 3, 9, 9)
        assert add_business_time(OFFICE, paris(2026, 3, 6, 20), H) == paris(2026, 3, 9, 9, 30)

    def test_new_year_across_year_end(self) -> None:
        # Thu 31 Dec 2026: 1 h left; Fri 1 Jan 2027 is a holiday, then the weekend.
        result = add_business_time(OFFICE, paris(2026, 12, 31, 17), 2 * H)
        assert result == paris(2027, 1, 4, 9, 30)
        assert result.tzinfo == PARIS and result.utcoffset() == H

    def test_christmas(self) -> None:
        assert add_business_time(OFFICE, paris(2026, 12, 24, 17), 2 * H) == paris(
            2026, 12, 28, 9, 30
        )

    def test_easter_monday(self) -> None:
        # Fri 3 Apr 2026 (Good Friday) is worked in France; Mon 6 Apr is Easter Monday.
        assert add_business_time(OFFICE, paris(2026, 4, 3, 17), 2 * H) == paris(
            2026, 4, 7, 9, 30
        )
        assert not is_open(OFFICE, paris(2026, 4, 6, 10))

    def test_good_friday_only_in_alsace_moselle(self) -> None:
        good_friday = paris(2026, 4, 3, 10)
        assert is_open(OFFICE, good_friday)
        assert not is_open(OFFICE_57, good_friday)
        start = paris(2026, 4, 2, 17)
        assert add_business_time(OFFICE, start, 2 * H) == paris(2026, 4, 3, 9, 30)
        assert add_business_time(OFFICE_57, start, 2 * H) == paris(2026, 4, 7, 9, 30)
        # 26 December (Saint-Étienne) as well.
        assert is_open(OFFICE, paris(2025, 12, 26, 10))
        assert not is_open(OFFICE_57, paris(2025, 12, 26, 10))

    def test_no_holidays(self) -> None:
        assert is_open(office(holidays=None), paris(2026, 4, 6, 10))

    def test_closure_mid_week(self) -> None:
        # Wed 20 May 2026, closed 10:00–14:30.
        assert add_business_time(WITH_CLOSURES, paris(2026, 5, 20, 9), 2 * H) == paris(
            2026, 5, 20, 15, 30
        )
        assert not is_open(WITH_CLOSURES, paris(2026, 5, 20, 10))
        assert is_open(WITH_CLOSURES, paris(2026, 5, 20, 9, 59))
        assert next_opening(WITH_CLOSURES, paris(2026, 5, 20, 11)) == paris(2026, 5, 20, 14, 30)
        assert business_time_between(
            WITH_CLOSURES, paris(2026, 5, 20), paris(2026, 5, 21)
        ) == timedelta(hours=5)

    def test_summer_closure(self) -> None:
        assert add_business_time(WITH_CLOSURES, paris(2026, 7, 31, 17), 2 * H) == paris(
            2026, 8, 17, 9, 30
        )

    def test_closure_spanning_dst_change(self) -> None:
        # Closed from Fri 23 Oct 16:00 to Mon 26 Oct 15:00 (two overlapping closures).
        assert add_business_time(WITH_CLOSURES, paris(2026, 10, 23, 15), 2 * H) == paris(
            2026, 10, 26, 16
        )

    def test_24_00_slot_end(self) -> None:
        # Mon 2 Mar 2026 23:00 New York: one hour to midnight, then Tue 18:00.
        ny = ZoneInfo("America/New_York")
        start = datetime(2026, 3, 2, 23, tzinfo=ny)
        assert add_business_time(EVENINGS_NY, start, H) == datetime(2026, 3, 3, 0, tzinfo=ny)
        assert add_business_time(EVENINGS_NY, start, 2 * H) == datetime(2026, 3, 3, 19, tzinfo=ny)
        assert not is_open(EVENINGS_NY, datetime(2026, 3, 3, 0, tzinfo=ny))

    def test_always_open(self) -> None:
        start = paris(2026, 3, 28, 12)
        for hours in (1, 24, 100, 1000):
            assert add_business_time(ALWAYS, start, hours * H) == start.astimezone(UTC) + hours * H
        # Local wall clock across the spring-forward night: +24 h real = 13:00 CEST.
        assert add_business_time(ALWAYS, start, 24 * H) == paris(2026, 3, 29, 13)
        assert add_business_time(ALWAYS, start, 24 * H).utcoffset() == 2 * H

    def test_zero_delta_returns_start_unchanged(self) -> None:
        start = datetime(2026, 3, 7, 10, tzinfo=UTC)  # a Saturday: closed
        assert add_business_time(OFFICE, start, timedelta(0)) is start

    def test_result_is_in_calendar_timezone(self) -> None:
        start = datetime(2026, 3, 2, 8, tzinfo=UTC)  # 09:00 in Paris
        result = add_business_time(OFFICE, start, H)
        assert result.tzinfo == PARIS
        assert result == paris(2026, 3, 2, 10)

    def test_bad_input(self) -> None:
        with pytest.raises(DomainError) as exc:
            add_business_time(OFFICE, paris(2026, 3, 2, 9), -H)
        assert exc.value.code == "invalid"
        with pytest.raises(DomainError):
            add_business_time(OFFICE, paris(2026, 3, 2, 9).replace(tzinfo=None), H)

    def test_business_hours_helper(self) -> None:
        assert add_business_hours(OFFICE, paris(2026, 3, 2, 9), 1.5) == paris(2026, 3, 2, 10, 30)
        assert add_business_hours(OFFICE, paris(2026, 3, 2, 9), 24) == paris(2026, 3, 5, 9)


class TestDaylightSaving:
    def test_spring_forward_day_is_23_hours(self) -> None:
        assert business_time_between(ALWAYS, paris(2026, 3, 29), paris(2026, 3, 30)) == 23 * H
        assert business_time_between(ALWAYS, paris(2026, 3, 28), paris(2026, 3, 30)) == 47 * H

    def test_fall_back_day_is_25_hours(self) -> None:
        assert business_time_between(ALWAYS, paris(2026, 10, 25), paris(2026, 10, 26)) == 25 * H

    def test_slots_around_the_gap(self) -> None:
        spec = CalendarSpec.from_json({
            "timezone": "Europe/Paris",
            "weekly": week(sun=[["01:00", "04:00"]], sat=[["02:00", "02:30"]],
                           mon=[["02:30", "03:30"]]),
            "holidays": None,
        })
        # Sun 29 Mar 2026: 01:00 CET → 04:00 CEST is 2 real hours.
        assert business_time_between(spec, paris(2026, 3, 29), paris(2026, 3, 30)) == 2 * H
        assert add_business_time(spec, paris(2026, 3, 29), 2 * H) == paris(2026, 3, 29, 4)
        # Sun 25 Oct 2026: 01:00 CEST → 04:00 CET is 4 real hours.
        assert business_time_between(spec, paris(2026, 10, 25), paris(2026, 10, 26)) == 4 * H
        assert add_business_time(spec, paris(2026, 10, 25), 4 * H) == paris(2026, 10, 25, 4)

    def test_nonexistent_local_times_clamp_to_the_transition(self) -> None:
        # 02:00–02:30 never happens on 29 Mar 2026: an empty slot, not 30 shifted minutes.
        spec = CalendarSpec.from_json({
            "timezone": "Europe/Paris",
            "weekly": week(sun=[["02:00", "02:30"], ["10:00", "11:00"]]),
            "holidays": None,
        })
        assert business_time_between(spec, paris(2026, 3, 29), paris(2026, 3, 30)) == H
        # 02:30–03:30 on that day opens when the clock jumps (03:00 CEST): 30 minutes.
        spec = CalendarSpec.from_json({
            "timezone": "Europe/Paris", "weekly": week(sun=[["02:30", "03:30"]]),
            "holidays": None,
        })
        transition = datetime(2026, 3, 29, 1, tzinfo=UTC)
        assert next_opening(spec, paris(2026, 3, 29)) == transition
        assert business_time_between(spec, paris(2026, 3, 29), paris(2026, 3, 30)) == 30 * M

    def test_ambiguous_local_time_uses_first_occurrence(self) -> None:
        spec = CalendarSpec.from_json({
            "timezone": "Europe/Paris", "weekly": week(sun=[["02:30", "03:30"]]),
            "holidays": None,
        })
        # 02:30 CEST (00:30 UTC) → 03:30 CET (02:30 UTC): 2 real hours.
        # (Compared in UTC: PEP 495 makes ambiguous times unequal to any other zone.)
        opening = next_opening(spec, paris(2026, 10, 25))
        assert opening.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        assert opening.fold == 0 and opening.utcoffset() == 2 * H
        assert business_time_between(spec, paris(2026, 10, 25), paris(2026, 10, 26)) == 2 * H

    def test_office_hours_keep_wall_clock_across_dst(self) -> None:
        # Fri 27 Mar 17:00 CET + 2 h → Mon 30 Mar 09:30 CEST.
        result = add_business_time(OFFICE, paris(2026, 3, 27, 17), 2 * H)
        assert result == paris(2026, 3, 30, 9, 30) and result.utcoffset() == 2 * H
        result = add_business_time(OFFICE, paris(2026, 10, 23, 17), 2 * H)
        assert result == paris(2026, 10, 26, 9, 30) and result.utcoffset() == H

    def test_new_york_dst(self) -> None:
        ny = ZoneInfo("America/New_York")
        # Sun 8 Mar 2026, 02:00 EST → 03:00 EDT: slot 00:00–03:00 lasts 2 h.
        day = datetime(2026, 3, 8, tzinfo=ny)
        assert business_time_between(EVENINGS_NY, day, day.replace(hour=12)) == 2 * H


class TestQueries:
    def test_is_open_bounds(self) -> None:
        assert is_open(OFFICE, paris(2026, 3, 2, 8, 30))
        assert not is_open(OFFICE, paris(2026, 3, 2, 8, 29, 59))
        assert is_open(OFFICE, paris(2026, 3, 2, 12, 29, 59))
        assert not is_open(OFFICE, paris(2026, 3, 2, 12, 30))
        assert not is_open(OFFICE, paris(2026, 3, 7, 10))  # Saturday

    def test_next_opening(self) -> None:
        open_instant = paris(2026, 3, 2, 10, 17, 3, 5)
        assert next_opening(OFFICE, open_instant) == open_instant
        assert next_opening(OFFICE, paris(2026, 3, 2, 12, 30)) == paris(2026, 3, 2, 14)
        assert next_opening(OFFICE, paris(2026, 3, 6, 18)) == paris(2026, 3, 9, 8, 30)
        assert next_opening(OFFICE, paris(2026, 3, 6, 18)).tzinfo == PARIS

    def test_business_time_between(self) -> None:
        monday, friday = paris(2026, 3, 2, 8), paris(2026, 3, 6, 20)
        assert business_time_between(OFFICE, monday, friday) == 40 * H
        assert business_time_between(OFFICE, friday, monday) == -40 * H
        assert business_time_between(OFFICE, monday, monday) == timedelta(0)
        assert business_time_between(OFFICE, paris(2026, 3, 2, 12), paris(2026, 3, 2, 15)) == (
            90 * M
        )

    def test_open_intervals(self) -> None:
        got = list(itertools.islice(open_intervals(OFFICE, paris(2026, 3, 6, 17)), 3))
        assert got == [
            (paris(2026, 3, 6, 17), paris(2026, 3, 6, 18)),
            (paris(2026, 3, 9, 8, 30), paris(2026, 3, 9, 12, 30)),
            (paris(2026, 3, 9, 14), paris(2026, 3, 9, 18)),
        ]
        assert all(a.tzinfo == UTC and b.tzinfo == UTC for a, b in got)

    def test_add_business_days(self) -> None:
        assert add_business_days(OFFICE, paris(2026, 3, 6, 10), 1) == paris(2026, 3, 9, 10)
        assert add_business_days(OFFICE, paris(2026, 3, 2, 10), 5) == paris(2026, 3, 9, 10)
        # After hours: same time of day is closed, rolled to the next opening.
        assert add_business_days(OFFICE, paris(2026, 3, 6, 19), 1) == paris(2026, 3, 10, 8, 30)
        assert add_business_days(OFFICE, paris(2026, 3, 2, 13), 1) == paris(2026, 3, 3, 14)
        # Saturday counts from the next open day; holidays are skipped.
        assert add_business_days(OFFICE, paris(2026, 3, 7, 10), 1) == paris(2026, 3, 9, 10)
        assert add_business_days(OFFICE, paris(2026, 4, 3, 10), 1) == paris(2026, 4, 7, 10)
        assert add_business_days(OFFICE_57, paris(2026, 4, 2, 10), 1) == paris(2026, 4, 7, 10)
        # Whole-day closures are not open days.
        assert add_business_days(WITH_CLOSURES, paris(2026, 7, 31, 10), 1) == paris(
            2026, 8, 17, 10
        )
        start = paris(2026, 3, 2, 10)
        assert add_business_days(OFFICE, start, 0) is start
        with pytest.raises(DomainError):
            add_business_days(OFFICE, start, -1)


class TestNeverOpen:
    def test_no_slot_at_all(self) -> None:
        spec = CalendarSpec.from_json({"timezone": "Europe/Paris", "weekly": week()})
        for call in (
            lambda: add_business_time(spec, paris(2026, 1, 1), H),
            lambda: next_opening(spec, paris(2026, 1, 1)),
            lambda: business_time_between(spec, paris(2026, 1, 1), paris(2026, 2, 1)),
            lambda: add_business_days(spec, paris(2026, 1, 1), 1),
        ):
            with pytest.raises(DomainError) as exc:
                call()
            assert exc.value.code == "calendar_never_open"
        assert not is_open(spec, paris(2026, 1, 1))

    def test_closed_for_years(self) -> None:
        spec = office(closures=[{"start": "2026-01-01T00:00:00+01:00",
                                 "end": "2031-01-01T00:00:00+01:00"}])
        with pytest.raises(DomainError) as exc:
            add_business_time(spec, paris(2026, 1, 1), H)
        assert exc.value.code == "calendar_never_open"

    def test_closed_for_two_years_then_open(self) -> None:
        spec = office(closures=[{"start": "2026-01-01T00:00:00+01:00",
                                 "end": "2028-01-01T00:00:00+01:00"}])
        # 1 Jan 2028 is a Saturday (and a holiday): first opening on Mon 3 Jan.
        assert next_opening(spec, paris(2026, 1, 1)) == paris(2028, 1, 3, 8, 30)

    def test_single_weekly_slot_is_enough(self) -> None:
        spec = CalendarSpec.from_json({"timezone": "UTC", "weekly": week(sun=[["10:00", "11:00"]])})
        assert next_opening(spec, datetime(2026, 3, 2, tzinfo=UTC)) == datetime(
            2026, 3, 8, 10, tzinfo=UTC
        )


class TestFromJson:
    def _fields(self, data: dict) -> dict[str, list[str]]:
        with pytest.raises(DomainError) as exc:
            CalendarSpec.from_json(data)
        assert exc.value.code == "invalid"
        assert exc.value.status == 422
        return exc.value.fields

    def test_round_trip(self) -> None:
        for spec in CALENDARS.values():
            assert CalendarSpec.from_json(spec.to_json()) == spec
        data = WITH_CLOSURES.to_json()
        assert data["closures"][0] == {
            "start": "2026-05-20T10:00:00+02:00",
            "end": "2026-05-20T14:30:00+02:00",
            "message": "Formation",
        }
        assert data["holidays"] == "FR"
        assert ALWAYS.to_json()["weekly"]["mon"] == [["00:00", "24:00"]]
        assert ALWAYS.to_json()["holidays"] is None

    def test_slots_are_sorted_and_touching_slots_allowed(self) -> None:
        spec = CalendarSpec.from_json({
            "timezone": "Europe/Paris",
            "weekly": {"mon": [["14:00", "18:00"], ["08:00", "14:00"]]},
        })
        assert spec.to_json()["weekly"]["mon"] == [["08:00", "14:00"], ["14:00", "18:00"]]
        assert business_time_between(spec, paris(2026, 3, 2), paris(2026, 3, 3)) == 10 * H
        assert spec.holidays == ""

    def test_unknown_timezone(self) -> None:
        assert "timezone" in self._fields({"timezone": "Europe/Lutece", "weekly": week()})
        assert "timezone" in self._fields({"timezone": "../etc/passwd", "weekly": week()})
        assert "timezone" in self._fields({"timezone": 3, "weekly": week()})

    def test_bad_slots(self) -> None:
        fields = self._fields({
            "timezone": "Europe/Paris",
            "weekly": {
                "mon": [["8h30", "12:30"]],
                "tue": [["14:00", "12:00"]],
                "wed": [["08:00", "12:00"], ["11:00", "13:00"]],
                "thu": [["24:00", "24:00"]],
                "fri": [["10:00", "00:00"]],
                "sat": "closed",
                "sun": [["09:00"]],
            },
        })
        for day in WEEKDAYS:
            assert f"weekly.{day}" in fields, day
        assert "chevauchent" in fields["weekly.wed"][0]
        assert all(isinstance(m, str) for msgs in fields.values() for m in msgs)

    def test_unknown_weekday_and_holidays(self) -> None:
        fields = self._fields({
            "timezone": "Europe/Paris",
            "weekly": {"monday": [["08:00", "12:00"]]},
            "holidays": "DE",
        })
        assert "monday" in fields["weekly"][0]
        assert "holidays" in fields
        assert "weekly" in self._fields({"timezone": "UTC"})
        assert "weekly" in self._fields({"timezone": "UTC", "weekly": [["08:00", "12:00"]]})

    def test_bad_closures(self) -> None:
        fields = self._fields({
            "timezone": "Europe/Paris",
            "weekly": week(),
            "closures": [
                {"start": "2026-05-20T10:00:00+02:00", "end": "2026-05-20T10:00:00+02:00"},
                {"start": "2026-05-20T10:00:00", "end": "2026-05-21T10:00:00+02:00"},
                {"start": "hier", "end": None},
                {"start": "2026-05-20T10:00:00Z", "end": "2026-05-21T10:00:00Z",
                 "message": "x" * 301},
                "août",
            ],
        })
        assert set(fields) == {
            "closures.0.end", "closures.1.start", "closures.2.start", "closures.2.end",
            "closures.3.message", "closures.4",
        }

    def test_all_errors_reported_at_once(self) -> None:
        fields = self._fields({
            "timezone": "Mars/Olympus",
            "weekly": {"mon": [["25:00", "26:00"]]},
            "holidays": "XX",
        })
        assert {"timezone", "weekly.mon", "holidays"} <= set(fields)


# ------------------------------------------------------------------ properties

BASE = datetime(2025, 6, 1, tzinfo=UTC)
SPAN_S = 3 * 365 * 86400  # covers two DST seasons, year ends, Easter 2026–2028
BOUNDARY_WALLS = [(0, 0), (2, 30), (8, 30), (12, 30), (14, 0), (18, 0), (20, 0), (23, 59)]

arbitrary_instants = st.integers(0, SPAN_S * 1_000_000).map(
    lambda us: BASE + timedelta(microseconds=us)
)
# Exact local slot boundaries, where off-by-one mistakes hide.
boundary_instants = st.builds(
    lambda days, wall, tz: datetime.combine(
        (BASE + timedelta(days=days)).date(), datetime.min.time(), tzinfo=ZoneInfo(tz)
    ).replace(hour=wall[0], minute=wall[1]),
    st.integers(0, 3 * 365),
    st.sampled_from(BOUNDARY_WALLS),
    st.sampled_from(["Europe/Paris", "America/New_York"]),
)
instants = st.one_of(arbitrary_instants, boundary_instants)
deltas = st.one_of(
    st.integers(1, 120 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(1, 200 * 3600 * 1_000_000).map(lambda us: timedelta(microseconds=us)),
)

PROPS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
calendars = pytest.mark.parametrize("spec", CALENDARS.values(), ids=CALENDARS.keys())


def utc(dt: datetime) -> datetime:
    # Same-zone datetime comparisons ignore `fold` (PEP 495): compare instants in UTC.
    return dt.astimezone(UTC)


def _open_or_end(spec: CalendarSpec, t: datetime) -> bool:
    return is_open(spec, t) or is_open(spec, t - US)


@calendars
@PROPS
@given(t=instants, d1=deltas, d2=deltas)
def test_monotonic_in_delta(spec: CalendarSpec, t: datetime, d1: timedelta, d2: timedelta) -> None:
    lo, hi = sorted((d1, d2))
    r1, r2 = utc(add_business_time(spec, t, lo)), utc(add_business_time(spec, t, hi))
    assert r1 <= r2
    if lo < hi:
        assert r1 < r2
    assert r1 > t


@calendars
@PROPS
@given(t=instants, a=deltas, b=deltas)
def test_additive(spec: CalendarSpec, t: datetime, a: timedelta, b: timedelta) -> None:
    assert utc(add_business_time(spec, add_business_time(spec, t, a), b)) == utc(
        add_business_time(spec, t, a + b)
    )


@calendars
@PROPS
@given(t=instants, d=deltas)
def test_never_lands_in_a_closed_period(spec: CalendarSpec, t: datetime, d: timedelta) -> None:
    result = add_business_time(spec, t, d)
    assert _open_or_end(spec, result)
    assert result.tzinfo == spec.tz


@calendars
@PROPS
@given(t=instants, d=deltas)
def test_round_trips_with_elapsed(spec: CalendarSpec, t: datetime, d: timedelta) -> None:
    end = add_business_time(spec, t, d)
    assert business_time_between(spec, t, end) == d
    assert business_time_between(spec, end, t) == -d


@calendars
@PROPS
@given(t=instants)
def test_next_opening_is_open(spec: CalendarSpec, t: datetime) -> None:
    opening = next_opening(spec, t)
    assert is_open(spec, opening)
    assert utc(opening) >= t
    assert business_time_between(spec, t, opening) == timedelta(0)
    assert (utc(opening) == utc(t)) == is_open(spec, t)


@calendars
@PROPS
@given(t=instants)
def test_intervals_agree_with_is_open(spec: CalendarSpec, t: datetime) -> None:
    got = list(itertools.islice(open_intervals(spec, t), 6))
    assert got[0][0] == utc(next_opening(spec, t))
    for (a, b), following in zip(got, [*got[1:], None], strict=True):
        assert t <= a < b
        assert is_open(spec, a) and is_open(spec, b - US)
        # Intervals are maximal within a day; only day boundaries (24/7) may touch.
        if following is not None:
            assert b <= following[0]
            if is_open(spec, b):
                assert following[0] == b


@pytest.mark.parametrize("spec", [OFFICE, OFFICE_57, WITH_CLOSURES], ids=["fr", "fr57", "cl"])
@PROPS
@given(t=arbitrary_instants)
def test_is_open_matches_a_naive_wall_clock_reading(spec: CalendarSpec, t: datetime) -> None:
    """Independent oracle: read the local wall clock and check the rules by hand."""
    import holidays

    local = t.astimezone(PARIS)
    region = holidays.France(years=local.year, subdiv="57" if spec.holidays == "FR-57" else None)
    hhmm = local.strftime("%H:%M")
    expected = (
        local.weekday() < 5
        and local.date() not in region
        and any(s <= hhmm < e for s, e in OFFICE_DAY)
        and not any(a <= t < b for a, b in spec.closures)
    )
    assert is_open(spec, t) == expected

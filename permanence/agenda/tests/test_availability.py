"""The free-slot engine (availability.py) by properties: whatever the weekly hours, breaks,
busy blocks, buffers, notice and horizon, every offered start lies in an opening of its
local day (never on a public holiday), its block overlaps nothing busy, it respects the
notice and the horizon; and the local wall times survive DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from permanence.agenda.availability import Busy, Rules, free_starts
from permanence.core.business_time import CalendarSpec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONES = ["Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@st.composite
def weekly(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """Per day zero to two slots (a morning and an afternoon, i.e. with a break)."""
    out = {}
    for day in WEEKDAYS:
        slots = []
        start = draw(st.integers(6 * 4, 11 * 4))  # quarter hours
        for _n in range(draw(st.integers(0, 2))):
            end = start + draw(st.integers(2, 16))
            if end > 23 * 4:
                break
            slots.append([f"{start // 4:02d}:{start % 4 * 15:02d}",
                          f"{end // 4:02d}:{end % 4 * 15:02d}"])
            start = end + draw(st.integers(1, 8))  # the break
        out[day] = slots
    return out


def _local_day_open(tz: ZoneInfo, start: datetime, end: datetime,
                    weekly_hours: dict[str, list[list[str]]]) -> bool:
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    for a, b in weekly_hours[WEEKDAYS[local_start.weekday()]]:
        lo = datetime.combine(local_start.date(), time.fromisoformat(a), tzinfo=tz)
        hi = datetime.combine(local_start.date(), time.fromisoformat(b), tzinfo=tz)
        if lo <= local_start and local_end <= hi:
            return True
    # (Openings start at 06:00 or later: no DST gap, which happens at night, is inside one.)
    return False


@settings(max_examples=60, deadline=None)
@given(hours=weekly(), zone=st.sampled_from(ZONES),
       duration=st.integers(5, 90), before=st.integers(0, 30), after=st.integers(0, 30),
       notice=st.integers(0, 72 * 60), horizon=st.integers(1, 40),
       busy_raw=st.lists(st.tuples(st.integers(0, 30 * 24 * 4), st.integers(1, 40)),
                         max_size=25),
       now_offset=st.integers(0, 24 * 60),
       first_day=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 1)))
def test_every_offered_start_obeys_every_rule(hours: dict[str, list[list[str]]], zone: str,
                                              duration: int, before: int, after: int,
                                              notice: int, horizon: int,
                                              busy_raw: list[tuple[int, int]],
                                              now_offset: int, first_day: date) -> None:
    tz = ZoneInfo(zone)
    spec = CalendarSpec.from_json({"timezone": zone, "weekly": hours, "holidays": "FR"})
    origin = datetime.combine(first_day, time(0), tzinfo=UTC)
    now = origin + timedelta(minutes=now_offset)
    busy = [(origin + timedelta(minutes=15 * s), origin + timedelta(minutes=15 * (s + n)))
            for s, n in busy_raw]
    rules = Rules(duration=timedelta(minutes=duration), before=timedelta(minutes=before),
                  after=timedelta(minutes=after), min_notice=timedelta(minutes=notice),
                  horizon=timedelta(days=horizon))
    end = origin + timedelta(days=31)
    found = free_starts(spec=spec, extra_open=[], busy=Busy(busy), rules=rules,
                        start=origin, end=end, now=now)
    assert found == sorted(set(found))
    for start in found:
        finish = start + rules.duration
        assert now + rules.min_notice <= start <= now + rules.horizon
        assert origin <= start < end
        assert _local_day_open(tz, start, finish, hours), (start, zone)
        assert not any(a < finish + rules.after and start - rules.before < b
                       for a, b in busy), start
        holidays_fr = spec.holidays and start.astimezone(tz).date() in _holidays(
            start.astimezone(tz).year)
        assert not holidays_fr


def _holidays(year: int) -> set[date]:
    import holidays

    return set(holidays.France(years=year))


PARIS = ZoneInfo("Europe/Paris")
OFFICE = {d: [["09:00", "12:00"]] for d in WEEKDAYS}


def _starts(day: date, zone: ZoneInfo = PARIS, hours: dict[str, list[list[str]]] = OFFICE,
            **rules: int) -> list[datetime]:
    spec = CalendarSpec.from_json({"timezone": zone.key, "weekly": hours, "holidays": None})
    origin = datetime.combine(day, time(0), tzinfo=zone)
    return free_starts(spec=spec, extra_open=[], busy=Busy([]),
                       rules=Rules(duration=timedelta(minutes=rules.get("duration", 60))),
                       start=origin, end=origin + timedelta(days=1),
                       now=origin - timedelta(days=1))


def test_spring_forward_keeps_the_wall_times() -> None:
    # 28 March 2027: Paris goes from +01:00 to +02:00 at 02:00.
    starts = _starts(date(2027, 3, 28))
    assert [s.astimezone(PARIS).strftime("%H:%M") for s in starts] == ["09:00", "10:00",
                                                                        "11:00"]
    assert starts[0] == datetime(2027, 3, 28, 7, 0, tzinfo=UTC)


def test_fall_back_keeps_the_wall_times() -> None:
    # 31 October 2027: Paris goes back to +01:00 at 03:00.
    starts = _starts(date(2027, 10, 31))
    assert starts[0] == datetime(2027, 10, 31, 8, 0, tzinfo=UTC)
    assert len(starts) == 3


def test_a_night_opening_across_the_spring_gap_has_no_phantom_hour() -> None:
    night = {d: [["01:00", "04:00"]] for d in WEEKDAYS}
    starts = _starts(date(2027, 3, 28), hours=night)
    # 01:00–04:00 lasts two real hours that night: two one-hour slots, not three.
    assert [s.astimezone(PARIS).strftime("%H:%M") for s in starts] == ["01:00", "03:00"]


def test_public_holidays_offer_nothing() -> None:
    spec = CalendarSpec.from_json({"timezone": "Europe/Paris", "weekly": OFFICE,
                                   "holidays": "FR"})
    day = datetime(2027, 7, 14, tzinfo=PARIS)
    assert free_starts(spec=spec, extra_open=[], busy=Busy([]),
                       rules=Rules(duration=timedelta(minutes=30)), start=day,
                       end=day + timedelta(days=1), now=day - timedelta(days=1)) == []


def test_extra_opening_adds_slots_on_a_closed_day() -> None:
    spec = CalendarSpec.from_json({"timezone": "Europe/Paris", "weekly": {},
                                   "holidays": None})
    day = datetime(2027, 3, 6, tzinfo=PARIS)  # a Saturday, closed
    extra = [(day.replace(hour=10), day.replace(hour=11))]
    found = free_starts(spec=spec, extra_open=extra, busy=Busy([]),
                        rules=Rules(duration=timedelta(minutes=30)), start=day,
                        end=day + timedelta(days=1), now=day - timedelta(days=1))
    assert [s.astimezone(PARIS).hour for s in found] == [10, 10]

"""Business-time engine: opening hours, public holidays, closures, DST-correct arithmetic.

Every SLA and deadline of the application is computed here, in the business hours of a
client account's calendar. The module is pure Python (no ORM import): the ORM glue lives in
`permanence.calendars.services`.

Internals work on integer microseconds since the Unix epoch (UTC): integer arithmetic is
exact (no float drift) and an order of magnitude faster than datetime arithmetic. The open
intervals of each local day are computed once per `CalendarSpec` instance and memoised, so a
typical "add 72 business hours" walks a handful of cached tuples.

Local wall-clock times are mapped to instants with one monotonic rule, used for slot starts
and ends alike so that adjacent slots stay contiguous:

* an ambiguous time (autumn fall-back: 02:30 happens twice in Europe/Paris) maps to its
  first occurrence (fold=0);
* a nonexistent time (spring-forward gap: 02:30 never happens) maps to the transition
  instant, i.e. the moment the wall clock jumps past it. This keeps the mapping
  non-decreasing (shifting forward by the gap length, as java.time does, would not: 02:30
  would map after 03:00).
"""

from __future__ import annotations

import bisect
import functools
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import DomainError
from .field_errors import FieldErrors

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY_REGIONS = ("", "FR", "FR-57")

# Beyond this many consecutive days without any opening, a calendar is deemed never open
# (about three years; the margin covers a leap year and a partial week).
NEVER_OPEN_DAYS = 3 * 366 + 7

_US = timedelta(microseconds=1)
_MINUTE_US = 60_000_000
_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Bound on the per-spec day cache (a few years of days); cleared wholesale when exceeded.
_DAY_CACHE_MAX = 4096

# One-digit hours ("8:30") are accepted: people type them; to_json writes "08:30".
_HHMM = re.compile(r"^(?:[01]?\d|2[0-3]):[0-5]\d$")
_MIDNIGHT = time(0, 0)

Slot = tuple[time, time]
Interval = tuple[datetime, datetime]


# --------------------------------------------------------------------------- helpers


def _to_us(dt: datetime) -> int:
    return (dt - _EPOCH) // _US


def _from_us(us: int, tz: tzinfo) -> datetime:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(tz)


def _require_aware(dt: Any, name: str) -> datetime:
    if not isinstance(dt, datetime):
        raise DomainError(
            "invalid", f"« {name} » doit être une date et heure.", status=422,
            fields={name: ["Date et heure attendue."]},
        )
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise DomainError(
            "invalid", f"« {name} » doit comporter un fuseau horaire.", status=422,
            fields={name: ["Date et heure sans fuseau horaire."]},
        )
    return dt


def _minutes(t: time, *, is_end: bool) -> int:
    # In a slot end, 00:00 stands for "24:00" (midnight at the end of the day).
    m = t.hour * 60 + t.minute
    return 1440 if is_end and m == 0 else m


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _fmt(t: time, *, is_end: bool) -> str:
    return "24:00" if is_end and t == _MIDNIGHT else t.strftime("%H:%M")


@functools.lru_cache(maxsize=256)
def _holiday_ordinals(region: str, year: int) -> frozenset[int]:
    """Date ordinals of the public holidays of one year (building them costs milliseconds)."""
    if not region:
        return frozenset()
    import holidays  # local import: only needed on a cache miss

    if region == "FR-57":
        calendar = holidays.France(years=year, subdiv="57")
    else:
        calendar = holidays.France(years=year)
    return frozenset(d.toordinal() for d in calendar)


@functools.lru_cache(maxsize=1)
def _timezone_names() -> frozenset[str]:
    # Only IANA names are accepted (ZoneInfo alone would also open odd files of tzdata).
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _utc_offset_us(tz: ZoneInfo, us: int) -> int:
    offset = (_EPOCH + timedelta(microseconds=us)).astimezone(tz).utcoffset()
    return offset // _US  # type: ignore[operator]


def _wall_to_us(tz: ZoneInfo, ordinal: int, minute: int) -> int:
    """Instant (µs since epoch) at which local date `ordinal` reads `minute` (0..1440)."""
    if minute >= 1440:
        ordinal += minute // 1440
        minute %= 1440
    wall_us = (ordinal - _EPOCH_ORDINAL) * _DAY_US + minute * _MINUTE_US
    d = date.fromordinal(ordinal)
    local = datetime(d.year, d.month, d.day, minute // 60, minute % 60, tzinfo=tz)
    off0 = local.utcoffset() // _US  # type: ignore[operator]
    off1 = local.replace(fold=1).utcoffset() // _US  # type: ignore[operator]
    if off0 >= off1:
        # Regular time, or ambiguous time (fall-back): first occurrence.
        return wall_us - off0
    # Nonexistent time (spring-forward gap): the transition instant T lies in (lo, hi]
    # where the offset switches from off0 to off1. Rare path, so a plain bisection will do.
    lo, hi = wall_us - off1, wall_us - off0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _utc_offset_us(tz, mid) == off0:
            lo = mid
        else:
            hi = mid
    return hi


@functools.lru_cache(maxsize=65536)
def _raw_day(
    tz: ZoneInfo, slots: tuple[tuple[int, int], ...], region: str, ordinal: int
) -> tuple[tuple[int, int], ...]:
    """Open intervals (µs, UTC) of one local day before closures.

    Shared by all specs with the same zone, hours and holidays, so a freshly built spec
    (new calendar version) does not redo the time-zone arithmetic.
    """
    if not slots:
        return ()
    if region and ordinal in _holiday_ordinals(region, date.fromordinal(ordinal).year):
        return ()
    return tuple(
        _merge([(_wall_to_us(tz, ordinal, a), _wall_to_us(tz, ordinal, b)) for a, b in slots])
    )


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort, drop empty intervals and merge overlapping or touching ones."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if a >= b:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class CalendarSpec:
    """An immutable, validated business calendar.

    `weekly[0]` is Monday. A slot is `(start, end)` in local time; an end of `time(0, 0)`
    means 24:00 (midnight at the end of that day). Slots of a day may touch but not overlap.
    `closures` are `(start, end)` aware datetimes, closed during `[start, end)`;
    `closure_messages` (same order) only travels along for `to_json`.
    """

    tz: ZoneInfo
    weekly: tuple[tuple[Slot, ...], ...]
    holidays: str = "FR"
    closures: tuple[tuple[datetime, datetime], ...] = ()
    closure_messages: tuple[str, ...] = field(default=(), compare=False)
    # Derived data, computed in __post_init__ (not part of equality/hash).
    _slot_minutes: tuple[tuple[tuple[int, int], ...], ...] = field(
        init=False, repr=False, compare=False
    )
    _closures_us: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    _closure_ends: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _days: dict[int, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs 7 days")
        if self.holidays not in HOLIDAY_REGIONS:
            raise ValueError(f"unknown holidays region {self.holidays!r}")
        slot_minutes = tuple(
            tuple(
                _merge([
                    (_minutes(s, is_end=False), _minutes(e, is_end=True)) for s, e in day
                ])
            )
            for day in self.weekly
        )
        closures = _merge([(_to_us(a), _to_us(b)) for a, b in self.closures])
        # Frozen dataclass: derived fields are set through object.__setattr__.
        object.__setattr__(self, "_slot_minutes", slot_minutes)
        object.__setattr__(self, "_closures_us", tuple(closures))
        object.__setattr__(self, "_closure_ends", tuple(b for _, b in closures))
        object.__setattr__(self, "_days", {})

    # ------------------------------------------------------------------ JSON

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CalendarSpec:
        """Parse and validate the API shape; raise DomainError(422) with per-field errors.

        `{"timezone": "Europe/Paris", "weekly": {"mon": [["08:30", "12:30"], ...], ...},
        "holidays": "FR" | "FR-57" | null, "closures": [{"start": ISO, "end": ISO,
        "message": "..."}]}`. Missing weekdays are closed; unknown top-level keys are
        ignored (the payload may carry e.g. a name). Closure bounds may also be aware
        datetime objects (when coming from the database).

        Every error is reported at once: each part is parsed even when another one failed.
        """
        if not isinstance(data, Mapping):
            raise DomainError("invalid", "Calendrier invalide.", status=422,
                              fields={"__all__": ["Un objet JSON est attendu."]})
        errors = FieldErrors()
        tz = cls._parse_timezone(data.get("timezone", "Europe/Paris"), errors)
        weekly = cls._parse_weekly(data.get("weekly"), errors)
        region = cls._parse_holidays(data.get("holidays"), errors)
        closures = cls._parse_closures(data.get("closures") or [], tz, errors)
        if errors or tz is None:
            raise DomainError("invalid", "Calendrier invalide.", status=422, fields=errors.fields)
        # Chronological order, compared as instants (a stable sort: ties keep their order).
        closures.sort(key=lambda c: (_to_us(c[0]), _to_us(c[1])))
        return cls(
            tz=tz,
            weekly=weekly,
            holidays=region,
            closures=tuple((start, end) for start, end, _message in closures),
            closure_messages=tuple(message for _start, _end, message in closures),
        )

    @staticmethod
    def _parse_timezone(tz_name: Any, errors: FieldErrors) -> ZoneInfo | None:
        if not isinstance(tz_name, str) or not tz_name.strip():
            errors.add("timezone", "Fuseau horaire obligatoire.")
            return None
        key = tz_name.strip()
        if key in _timezone_names():
            try:
                return ZoneInfo(key)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                pass
        errors.add("timezone", f"Fuseau horaire inconnu : « {tz_name} ».")
        return None

    @classmethod
    def _parse_weekly(cls, raw_weekly: Any, errors: FieldErrors) -> tuple[tuple[Slot, ...], ...]:
        """The 7 days' slots (Monday first); a weekday missing from `raw_weekly` is closed."""
        weekly: list[tuple[Slot, ...]] = [() for _ in WEEKDAYS]
        if raw_weekly is None:
            errors.add("weekly", "Horaires hebdomadaires obligatoires.")
        elif not isinstance(raw_weekly, Mapping):
            errors.add("weekly", "Les horaires doivent être un objet (mon … sun).")
        else:
            for key, raw_slots in raw_weekly.items():
                if key not in WEEKDAYS:
                    errors.add(
                        "weekly", f"Jour inconnu : « {key} » (attendu : {', '.join(WEEKDAYS)})."
                    )
                    continue
                weekly[WEEKDAYS.index(key)] = cls._parse_day(raw_slots, errors.on(f"weekly.{key}"))
        return tuple(weekly)

    @staticmethod
    def _parse_holidays(region: Any, errors: FieldErrors) -> str:
        if region is None:
            return ""
        if region not in HOLIDAY_REGIONS:
            errors.add("holidays", f"Jours fériés inconnus : « {region} » (attendu : FR, FR-57 ou vide).")
            return ""
        return region

    @classmethod
    def _parse_closures(
        cls, raw_closures: Any, tz: ZoneInfo | None, errors: FieldErrors
    ) -> list[tuple[datetime, datetime, str]]:
        """The valid closures as `(start, end, message)`, in the calendar's zone when known."""
        if not isinstance(raw_closures, list | tuple):
            errors.add("closures", "Les fermetures doivent être une liste.")
            return []
        closures = []
        for i, raw in enumerate(raw_closures):
            closure = cls._parse_closure(raw, tz, errors, f"closures.{i}")
            if closure is not None:
                closures.append(closure)
        return closures

    @classmethod
    def _parse_closure(
        cls, raw: Any, tz: ZoneInfo | None, errors: FieldErrors, prefix: str
    ) -> tuple[datetime, datetime, str] | None:
        if not isinstance(raw, Mapping):
            errors.add(prefix, "Fermeture invalide : un objet {start, end, message} est attendu.")
            return None
        start = cls._parse_instant(raw.get("start"), errors.on(f"{prefix}.start"))
        end = cls._parse_instant(raw.get("end"), errors.on(f"{prefix}.end"))
        message = cls._parse_message(raw.get("message") or "", errors, f"{prefix}.message")
        if start is None or end is None:
            return None
        # Compared as instants: same-zone datetime comparison ignores `fold`.
        if _to_us(end) <= _to_us(start):
            errors.add(f"{prefix}.end", "La fin de la fermeture doit être après son début.")
            return None
        if tz is not None:
            start, end = start.astimezone(tz), end.astimezone(tz)
        return start, end, message

    @staticmethod
    def _parse_message(message: Any, errors: FieldErrors, key: str) -> str:
        if not isinstance(message, str):
            errors.add(key, "Le message doit être un texte.")
            return ""
        if len(message) > 300:
            errors.add(key, "Message trop long (300 caractères au plus).")
        return message

    @staticmethod
    def _parse_day(raw_slots: Any, err: Callable[[str], None]) -> tuple[Slot, ...]:
        if raw_slots is None:
            return ()
        if not isinstance(raw_slots, list | tuple):
            err("Une liste de créneaux [\"HH:MM\", \"HH:MM\"] est attendue.")
            return ()
        parsed: list[tuple[int, int, Slot]] = []
        for raw in raw_slots:
            if (
                not isinstance(raw, list | tuple)
                or len(raw) != 2
                or not all(isinstance(x, str) for x in raw)
            ):
                err(f"Créneau invalide : {raw!r} (attendu : [\"HH:MM\", \"HH:MM\"]).")
                continue
            s, e = raw[0].strip(), raw[1].strip()
            ok = True
            if not _HHMM.match(s):
                err(f"Heure de début invalide : « {s} » (format HH:MM, 00:00 à 23:59).")
                ok = False
            if not (_HHMM.match(e) or e == "24:00"):
                err(f"Heure de fin invalide : « {e} » (format HH:MM, 00:01 à 24:00).")
                ok = False
            if not ok:
                continue
            start = _parse_hhmm(s)
            end = _MIDNIGHT if e == "24:00" else _parse_hhmm(e)
            sm, em = _minutes(start, is_end=False), _minutes(end, is_end=True)
            if (end == _MIDNIGHT and e != "24:00") or sm >= em:
                err(f"Le créneau {s}–{e} doit finir après son début.")
                continue
            parsed.append((sm, em, (start, end)))
        parsed.sort(key=lambda p: (p[0], p[1]))
        for (_s1, e1, slot1), (s2, _e2, slot2) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                first = f"{_fmt(slot1[0], is_end=False)}–{_fmt(slot1[1], is_end=True)}"
                second = f"{_fmt(slot2[0], is_end=False)}–{_fmt(slot2[1], is_end=True)}"
                err(f"Les créneaux {first} et {second} se chevauchent.")
        return tuple(p[2] for p in parsed)

    @staticmethod
    def _parse_instant(raw: Any, err: Callable[[str], None]) -> datetime | None:
        if isinstance(raw, datetime):
            value = raw
        elif isinstance(raw, str) and raw.strip():
            try:
                value = datetime.fromisoformat(raw.strip())
            except ValueError:
                err(f"Date invalide : « {raw} » (format ISO 8601 attendu).")
                return None
        else:
            err("Date obligatoire (format ISO 8601 avec fuseau horaire).")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            err("La date doit préciser son fuseau horaire (ex. 2026-08-10T00:00:00+02:00).")
            return None
        return value

    def to_json(self) -> dict[str, Any]:
        messages = self.closure_messages or ("",) * len(self.closures)
        return {
            "timezone": self.tz.key,
            "weekly": {
                day: [[_fmt(s, is_end=False), _fmt(e, is_end=True)] for s, e in slots]
                for day, slots in zip(WEEKDAYS, self.weekly, strict=True)
            },
            "holidays": self.holidays or None,
            "closures": [
                {
                    "start": a.astimezone(self.tz).isoformat(),
                    "end": b.astimezone(self.tz).isoformat(),
                    "message": msg,
                }
                for (a, b), msg in zip(self.closures, messages, strict=False)
            ],
        }

    # ------------------------------------------------------------------ internals

    def _day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """Open intervals (µs, UTC) of one local day, holidays and closures applied."""
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        out = self._compute_day(ordinal)
        if len(self._days) >= _DAY_CACHE_MAX:
            self._days.clear()
        self._days[ordinal] = out
        return out

    def _compute_day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        weekday = (ordinal - 1) % 7  # date.fromordinal(1) is a Monday
        raw = _raw_day(self.tz, self._slot_minutes[weekday], self.holidays, ordinal)
        return self._subtract_closures(raw) if raw else raw

    def _subtract_closures(
        self, raw: tuple[tuple[int, int], ...]
    ) -> tuple[tuple[int, int], ...]:
        if not self._closures_us:
            return raw
        out: list[tuple[int, int]] = []
        closures, ends = self._closures_us, self._closure_ends
        for start, b in raw:
            a = start  # moves past each closure
            i = bisect.bisect_right(ends, a)  # first closure ending after a
            while i < len(closures) and closures[i][0] < b:
                ca, cb = closures[i]
                if ca > a:
                    out.append((a, ca))
                a = max(a, cb)
                i += 1
            if a < b:
                out.append((a, b))
        return tuple(out)

    def _local_ordinal(self, dt: datetime) -> int:
        return dt.astimezone(self.tz).toordinal()

    def _iter_us(self, start_us: int, ordinal: int) -> Iterator[tuple[int, int]]:
        """Open intervals from `start_us` (first one clipped), as µs pairs.

        `ordinal` is the local date of `start_us`: no interval of an earlier local day can
        end after it, because the wall→instant mapping is non-decreasing.
        """
        if not any(self._slot_minutes):
            raise _never_open()
        idle = 0
        day = self._day
        while True:
            found = False
            for a, b in day(ordinal):
                if b <= start_us:
                    continue
                found = True
                yield (a if a > start_us else start_us), b
            if found:
                idle = 0
            else:
                idle += 1
                if idle > NEVER_OPEN_DAYS:
                    raise _never_open()
            ordinal += 1


# --------------------------------------------------------------------------- deadline clocks

# How a deadline written in "heures ouvrées" counts (an SLA policy's or the operator's
# setting, see calendars.models.DeadlineClock):
# - WORKING_DAYS ("jours ouvrés", as French customers read "24 à 48 heures ouvrées"): each
#   working day — a local date with at least one opening, holidays and whole-day closures
#   excluded — counts as a whole day (24 h, midnight to midnight), other days count nothing.
#   24 h is one working day: Friday 10:00 + 24 h → Monday 10:00. A deadline never ends inside
#   a closed day (at the latest at the end, midnight, of its last working day).
# - OPENING_HOURS ("heures d'ouverture"): only the opening slots count (8-hour days: 24 h is
#   three working days).
WORKING_DAYS = "jours_ouvres"
OPENING_HOURS = "heures_ouverture"
CLOCKS = (WORKING_DAYS, OPENING_HOURS)


@dataclass(frozen=True)
class _WorkingDays(CalendarSpec):
    """The "jours ouvrés" view of a calendar: each working day open from 00:00 to 24:00."""

    def _compute_day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        if not super()._compute_day(ordinal):
            return ()
        return ((_wall_to_us(self.tz, ordinal, 0), _wall_to_us(self.tz, ordinal + 1, 0)),)


@functools.lru_cache(maxsize=512)
def _working_days_view(spec: CalendarSpec) -> CalendarSpec:
    return _WorkingDays(tz=spec.tz, weekly=spec.weekly, holidays=spec.holidays,
                        closures=spec.closures, closure_messages=spec.closure_messages)


def clock_view(spec: CalendarSpec, clock: str) -> CalendarSpec:
    """The calendar deadlines are counted in under `clock` (WORKING_DAYS or OPENING_HOURS):
    pass it to add_business_time / business_time_between like any spec."""
    if clock == WORKING_DAYS and not isinstance(spec, _WorkingDays):
        return _working_days_view(spec)
    return spec


def never_opens(spec: CalendarSpec, start: datetime) -> bool:
    """True when the calendar has no opening at all from `start` on (no weekly slot, or
    holidays and closures covering every one for years): no deadline can be computed."""
    try:
        next_opening(spec, start)
    except DomainError:
        return True
    return False


def _never_open() -> DomainError:
    return DomainError(
        "calendar_never_open",
        "Ce calendrier n'a aucune plage d'ouverture dans les trois prochaines années : "
        "vérifiez les horaires, les jours fériés et les fermetures.",
        status=422,
    )


# --------------------------------------------------------------------------- public API


def open_intervals(spec: CalendarSpec, start: datetime) -> Iterator[Interval]:
    """Successive open `[a, b)` intervals (UTC-aware) from `start`, the first one clipped.

    Intervals never span two local days (a 24/7 calendar yields one interval per day).
    Raises DomainError("calendar_never_open") when no opening exists within ~3 years.
    """
    _require_aware(start, "start")
    for a, b in spec._iter_us(_to_us(start), spec._local_ordinal(start)):
        yield _from_us(a, UTC), _from_us(b, UTC)


def add_business_time(spec: CalendarSpec, start: datetime, delta: timedelta) -> datetime:
    """The instant `delta` of open time after `start`, in the calendar's timezone.

    When the remaining time exactly fills an interval, the interval's end is returned (the
    last 30 minutes added at 12:00 of a slot ending at 12:30 give 12:30, not the next
    opening). `delta == 0` returns `start` unchanged; a negative delta is an error.
    """
    _require_aware(start, "start")
    if delta < timedelta(0):
        raise DomainError(
            "invalid", "La durée à ajouter ne peut pas être négative.", status=422,
            fields={"delta": ["Durée négative."]},
        )
    if not delta:
        return start
    remaining = delta // _US
    for a, b in spec._iter_us(_to_us(start), spec._local_ordinal(start)):
        length = b - a
        if remaining <= length:
            return _from_us(a + remaining, spec.tz)
        remaining -= length
    raise AssertionError("unreachable: _iter_us is infinite or raises")  # pragma: no cover


def business_time_between(spec: CalendarSpec, start: datetime, end: datetime) -> timedelta:
    """Open time in `[start, end)`; negative (of `[end, start)`) when `end < start`."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    # Compared as instants: same-zone datetime comparison would ignore `fold`.
    start_us, end_us = _to_us(start), _to_us(end)
    if end_us < start_us:
        return -business_time_between(spec, end, start)
    total = 0
    for a, b in spec._iter_us(start_us, spec._local_ordinal(start)):
        if a >= end_us:
            break
        total += (b if b < end_us else end_us) - a
    return timedelta(microseconds=total)


def next_opening(spec: CalendarSpec, instant: datetime) -> datetime:
    """`instant` itself (in the calendar's timezone) if open, else the next opening."""
    _require_aware(instant, "instant")
    for a, _b in spec._iter_us(_to_us(instant), spec._local_ordinal(instant)):
        return _from_us(a, spec.tz)
    raise AssertionError("unreachable")  # pragma: no cover


def is_open(spec: CalendarSpec, instant: datetime) -> bool:
    """Whether `instant` lies in an open interval (starts included, ends excluded)."""
    _require_aware(instant, "instant")
    t = _to_us(instant)
    ordinal = spec._local_ordinal(instant)
    # The next local day is looked at too: in zones falling back at midnight, the first
    # occurrence of 00:00 (where that day's slots start) precedes the end of the repeated
    # hour, which still belongs to the previous local date.
    return any(a <= t < b for a, b in spec._day(ordinal)) or any(
        a <= t < b for a, b in spec._day(ordinal + 1)
    )


def add_business_hours(spec: CalendarSpec, start: datetime, hours: float) -> datetime:
    """`add_business_time` with a number of hours (fractions allowed)."""
    return add_business_time(spec, start, timedelta(hours=hours))


def add_business_days(spec: CalendarSpec, start: datetime, days: int) -> datetime:
    """`days` business days after `start` ("J+N ouvrés"), in the calendar's timezone.

    Definition: an *open day* is a local date with at least one open moment (holidays and
    whole-day closures are not open days). The result is the same local time of day as
    `start`, on the `days`-th open day strictly after `start`'s local date; if that moment
    is closed (after hours, lunch break, partial closure…), it is rolled forward to the
    next opening. So Friday 10:00 + 1 → Monday 10:00, Friday 19:00 + 1 → Monday 19:00
    (closed) → Tuesday 08:30, Saturday 10:00 + 1 → Monday 10:00.
    `days == 0` returns `start` unchanged; negative values are an error.
    """
    _require_aware(start, "start")
    if not isinstance(days, int) or days < 0:
        raise DomainError(
            "invalid", "Le nombre de jours ouvrés doit être un entier positif.", status=422,
            fields={"days": ["Entier positif attendu."]},
        )
    if days == 0:
        return start
    if not any(spec._slot_minutes):
        raise _never_open()
    local = start.astimezone(spec.tz)
    ordinal = local.toordinal()
    idle = 0
    while days:
        ordinal += 1
        if spec._day(ordinal):
            days -= 1
            idle = 0
        else:
            idle += 1
            if idle > NEVER_OPEN_DAYS:
                raise _never_open()
    minute = local.hour * 60 + local.minute
    # Keep seconds/microseconds of the start: same local time of day, to the microsecond.
    sub_minute = local.second * 1_000_000 + local.microsecond
    target_us = _wall_to_us(spec.tz, ordinal, minute) + sub_minute
    for a, _b in spec._iter_us(target_us, ordinal):
        return _from_us(a, spec.tz)
    raise AssertionError("unreachable")  # pragma: no cover

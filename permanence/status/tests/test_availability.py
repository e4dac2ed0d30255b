"""The availability figure, worked by hand: minutes up ÷ minutes observed, declared
unavailability overriding the probe, planned maintenance stated separately, truncation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from permanence.status.models import Channel, ChannelDay, Incident
from permanence.status.selectors import availability, truncated_percent

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2027, 3, 10, 12, 0, tzinfo=PARIS)
DAY = date(2027, 3, 9)  # yesterday: a whole day of samples


def _day(channel: str = Channel.WEB, *, observed: int = 1440, up: int = 1440,
         day: date = DAY) -> ChannelDay:
    return ChannelDay.objects.create(channel=channel, day=day, minutes_observed=observed,
                                     minutes_up=up, last_at=NOW, last_up=True)


def _incident(start: datetime, end: datetime | None, *, channels: list[str] | None = None,
              **extra: Any) -> Incident:
    return Incident.objects.create(
        title="Panne", channels=channels or [Channel.WEB], starts_at=start, ends_at=end,
        created_at=NOW, updated_at=NOW,
        **({"kind": Incident.Kind.INCIDENT, "severity": Incident.Severity.UNAVAILABLE} | extra))


def test_1430_up_of_1440_observed_is_99_30(db: Any) -> None:
    _day(up=1430)
    figure = availability(channel=Channel.WEB, days=30, now=NOW)
    assert (figure.observed, figure.up, figure.down) == (1440, 1430, 10)
    assert figure.percent == Decimal("99.30")
    assert figure.maintenance == 0 and figure.percent_excl == Decimal("99.30")


def test_days_outside_the_window_and_other_channels_do_not_count(db: Any) -> None:
    _day(up=1430)
    _day(up=0, day=DAY - timedelta(days=40))  # only in the 90-day window
    _day(Channel.EMAIL, up=0)
    assert availability(channel=Channel.WEB, days=30, now=NOW).percent == Decimal("99.30")
    ninety = availability(channel=Channel.WEB, days=90, now=NOW)
    assert (ninety.observed, ninety.up) == (2880, 1430)
    assert ninety.percent == Decimal("49.65")  # 1430 / 2880 = 49.6527…


def test_a_declared_unavailability_overrides_the_probe(db: Any) -> None:
    _day(up=1440)  # the probe saw nothing…
    _incident(datetime(2027, 3, 9, 10, 0, tzinfo=PARIS), datetime(2027, 3, 9, 11, 0, tzinfo=PARIS))
    figure = availability(channel=Channel.WEB, days=30, now=NOW)
    assert figure.up == 1380  # …but one declared hour counts as down
    assert figure.percent == Decimal("95.83")  # 1380 / 1440 = 95.833…
    # The probe's own down minutes during the declared hour are not counted twice.
    ChannelDay.objects.update(minutes_up=1400)
    assert availability(channel=Channel.WEB, days=30, now=NOW).up == 1380
    # A degraded incident, or one on another channel, changes nothing.
    Incident.objects.update(severity=Incident.Severity.DEGRADED)
    assert availability(channel=Channel.WEB, days=30, now=NOW).up == 1400
    Incident.objects.update(severity=Incident.Severity.UNAVAILABLE, channels=[Channel.CHAT])
    assert availability(channel=Channel.WEB, days=30, now=NOW).up == 1400


def test_an_ongoing_incident_counts_until_now(db: Any) -> None:
    _day(day=NOW.date(), observed=720, up=720)  # today until noon
    _incident(datetime(2027, 3, 10, 11, 30, tzinfo=PARIS), None)
    figure = availability(channel=Channel.WEB, days=30, now=NOW)
    assert (figure.observed, figure.up) == (720, 690)


def test_planned_maintenance_is_stated_separately(db: Any) -> None:
    _day(up=1380)  # down during the maintenance hour
    _incident(datetime(2027, 3, 9, 2, 0, tzinfo=PARIS), datetime(2027, 3, 9, 3, 0, tzinfo=PARIS),
              kind=Incident.Kind.MAINTENANCE, planned=True)
    figure = availability(channel=Channel.WEB, days=30, now=NOW)
    assert figure.percent == Decimal("95.83")  # everything included
    assert figure.maintenance == 60
    assert (figure.observed_excl, figure.up_excl) == (1380, 1380)
    assert figure.percent_excl == Decimal("100.00")  # excluding planned maintenance


def test_maintenance_excluded_an_unplanned_outage_still_counts(db: Any) -> None:
    _day(up=1440)
    _incident(datetime(2027, 3, 9, 2, 0, tzinfo=PARIS), datetime(2027, 3, 9, 3, 0, tzinfo=PARIS),
              kind=Incident.Kind.MAINTENANCE, planned=True)
    _incident(datetime(2027, 3, 9, 15, 0, tzinfo=PARIS), datetime(2027, 3, 9, 15, 30, tzinfo=PARIS))
    figure = availability(channel=Channel.WEB, days=30, now=NOW)
    # Included: 60 min of maintenance (unavailable) + 30 min of outage down.
    assert figure.up == 1350
    # Excluded: 1380 observed outside the maintenance, 30 of them down.
    assert (figure.observed_excl, figure.up_excl) == (1380, 1350)
    assert figure.percent_excl == Decimal("97.82")  # 1350 / 1380 = 97.826… truncated


def test_the_percentage_is_truncated_never_rounded_up() -> None:
    assert truncated_percent(99996, 100000) == Decimal("99.99")  # rounding would say 100.00
    assert truncated_percent(2, 3) == Decimal("66.66")
    assert truncated_percent(14399, 14400) == Decimal("99.99")
    assert truncated_percent(1440, 1440) == Decimal("100.00")
    assert truncated_percent(0, 0) is None
    assert str(truncated_percent(1430, 1440)) == "99.30"


def test_no_samples_no_figure(db: Any) -> None:
    figure = availability(channel=Channel.PAYMENTS, days=90, now=NOW)
    assert figure.observed == 0 and figure.percent is None

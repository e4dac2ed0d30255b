"""Which calendar applies to an account, and editing it (permissions, closures, audit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.accounts.models import ClientAccount
from permanence.audit.models import AuditEvent
from permanence.calendars.models import BusinessCalendar, Closure
from permanence.calendars.services import (
    DEFAULT_CALENDAR_NAME,
    calendar_for_account,
    calendar_set,
    calendar_to_json,
    spec_for_account,
    spec_for_calendar,
)
from permanence.core.business_time import add_business_time, is_open
from permanence.core.errors import DomainError, Forbidden

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SATURDAY_ONLY = {d: ([["09:00", "12:00"]] if d == "sat" else []) for d in WEEKDAYS}


def payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "timezone": "Europe/Paris",
        "weekly": {d: [["09:00", "17:00"]] if d not in ("sat", "sun") else [] for d in WEEKDAYS},
        "holidays": "FR-57",
        "closures": [
            {"start": "2026-08-03T00:00:00+02:00", "end": "2026-08-17T00:00:00+02:00",
             "message": "Congés d'été"},
            {"start": "2026-05-20T10:00:00+02:00", "end": "2026-05-20T12:00:00+02:00",
             "message": ""},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def operator_account(db: Any) -> ClientAccount:
    calendar = BusinessCalendar.objects.create(
        name="Opérateur", weekly=SATURDAY_ONLY, holidays="", timezone="Europe/Paris"
    )
    return ClientAccount.objects.create(
        name="Opérateur", slug="operateur", is_operator=True, calendar=calendar
    )


class TestCalendarForAccount:
    def test_default_when_nothing_configured(self, account: ClientAccount) -> None:
        calendar = calendar_for_account(account)
        assert calendar.pk is None
        assert calendar.name == DEFAULT_CALENDAR_NAME
        assert calendar_to_json(calendar) == {
            "timezone": "Europe/Paris",
            "weekly": {
                d: ([["08:30", "12:30"], ["14:00", "18:00"]] if d not in ("sat", "sun") else [])
                for d in WEEKDAYS
            },
            "holidays": "FR",
            "closures": [],
        }
        spec = spec_for_account(account)
        assert is_open(spec, datetime(2026, 3, 2, 9, tzinfo=PARIS))
        assert spec_for_account(None) == spec

    def test_operator_calendar_is_inherited(
        self, account: ClientAccount, operator_account: ClientAccount
    ) -> None:
        assert calendar_for_account(account) == operator_account.calendar
        assert calendar_for_account(None) == operator_account.calendar
        assert spec_for_account(account).to_json()["weekly"] == SATURDAY_ONLY

    def test_own_calendar_wins(
        self, account: ClientAccount, operator_account: ClientAccount
    ) -> None:
        own = BusinessCalendar.objects.create(name="Cabinet", holidays="FR")
        account.calendar = own
        account.save()
        assert calendar_for_account(account) == own

    def test_operator_without_calendar_falls_back_to_default(self, account: ClientAccount) -> None:
        ClientAccount.objects.create(name="Opérateur", slug="op", is_operator=True)
        assert calendar_for_account(account).pk is None

    def test_spec_reflects_closures_and_is_cached(self, account: ClientAccount) -> None:
        calendar = BusinessCalendar.objects.create(name="C", holidays="")
        monday = datetime(2026, 3, 2, 9, tzinfo=PARIS)
        first = spec_for_calendar(calendar)
        assert spec_for_calendar(calendar) is first
        Closure.objects.create(calendar=calendar, start=monday, end=monday + timedelta(days=1))
        second = spec_for_calendar(calendar)
        assert second is not first
        assert not is_open(second, monday)
        # Prefetched closures: no extra query.
        prefetched = BusinessCalendar.objects.prefetch_related("closures").get(pk=calendar.pk)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert spec_for_calendar(prefetched) == second
        assert len(ctx.captured_queries) == 0


class TestCalendarSet:
    def test_creates_own_calendar_and_audits(
        self, supervisor: Any, account: ClientAccount, operator_account: ClientAccount
    ) -> None:
        calendar = calendar_set(actor=supervisor, account=account, data=payload())
        account.refresh_from_db()
        assert account.calendar == calendar
        assert calendar.name == account.name
        assert calendar != operator_account.calendar
        operator_account.calendar.refresh_from_db()
        assert operator_account.calendar.weekly == SATURDAY_ONLY  # untouched
        assert calendar.holidays == "FR-57"
        assert calendar.closures.count() == 2

        event = AuditEvent.objects.get(target_type="calendars.businesscalendar")
        assert event.action == AuditEvent.Action.UPDATE
        assert event.actor == supervisor
        assert event.account == account
        assert event.target_id == str(calendar.pk)
        assert event.changes["own_calendar"] == [False, True]
        assert event.changes["holidays"] == [None, "FR-57"]
        assert event.changes["weekly"][0]["sat"] == [["09:00", "12:00"]]

        # The new hours apply at once (new spec: updated_at changed).
        start = datetime(2026, 3, 2, 16, tzinfo=PARIS)
        assert add_business_time(spec_for_account(account), start, timedelta(hours=2)) == (
            datetime(2026, 3, 3, 10, tzinfo=PARIS)
        )

    def test_replaces_closures_and_updates_in_place(
        self, admin_user: Any, account: ClientAccount
    ) -> None:
        first = calendar_set(actor=admin_user, account=account, data=payload())
        old_ids = set(first.closures.values_list("pk", flat=True))
        data = payload(closures=[{"start": "2026-12-24T12:00:00+01:00",
                                  "end": "2026-12-24T18:00:00+01:00", "message": "Réveillon"}])
        second = calendar_set(actor=admin_user, account=account, data=data)
        assert second.pk == first.pk
        closures = list(second.closures.all())
        assert len(closures) == 1 and closures[0].pk not in old_ids
        assert closures[0].message == "Réveillon"
        assert calendar_to_json(second)["closures"] == [{
            "start": "2026-12-24T12:00:00+01:00", "end": "2026-12-24T18:00:00+01:00",
            "message": "Réveillon",
        }]
        last = AuditEvent.objects.filter(target_type="calendars.businesscalendar").order_by("pk").last()
        assert last is not None
        assert set(last.changes) == {"closures"}
        assert BusinessCalendar.objects.count() == 1

    def test_round_trip_through_json(self, admin_user: Any, account: ClientAccount) -> None:
        calendar = calendar_set(actor=admin_user, account=account, data=payload())
        data = calendar_to_json(calendar)
        assert data["closures"][0]["start"] == "2026-05-20T10:00:00+02:00"  # sorted
        before = AuditEvent.objects.count()
        calendar_set(actor=admin_user, account=account, data=data)
        assert AuditEvent.objects.count() == before  # nothing changed, nothing audited

    def test_shared_calendar_is_forked(
        self, admin_user: Any, account: ClientAccount, other_account: ClientAccount
    ) -> None:
        shared = BusinessCalendar.objects.create(name="Partagé", weekly=SATURDAY_ONLY)
        ClientAccount.objects.filter(pk__in=[account.pk, other_account.pk]).update(
            calendar=shared
        )
        account.refresh_from_db()
        calendar = calendar_set(actor=admin_user, account=account, data=payload())
        assert calendar.pk != shared.pk
        shared.refresh_from_db()
        assert shared.weekly == SATURDAY_ONLY
        other_account.refresh_from_db()
        assert other_account.calendar_id == shared.pk

    def test_validation_error_has_fields_and_writes_nothing(
        self, admin_user: Any, account: ClientAccount
    ) -> None:
        data = payload(timezone="Europe/Lutece", weekly={"mon": [["18:00", "09:00"]]},
                       closures=[{"start": "2026-05-20T10:00:00", "end": "2026-05-20T09:00:00"}])
        with pytest.raises(DomainError) as exc:
            calendar_set(actor=admin_user, account=account, data=data)
        assert exc.value.status == 422
        assert {"timezone", "weekly.mon", "closures.0.start", "closures.0.end"} <= set(
            exc.value.fields
        )
        account.refresh_from_db()
        assert account.calendar_id is None
        assert not BusinessCalendar.objects.exists()
        assert not AuditEvent.objects.filter(target_type="calendars.businesscalendar").exists()

    @pytest.mark.parametrize("who", ["agent", "billing", "client_user"])
    def test_forbidden(self, request: Any, who: str, account: ClientAccount) -> None:
        actor = request.getfixturevalue(who)
        with pytest.raises(Forbidden):
            calendar_set(actor=actor, account=account, data=payload())
        assert not BusinessCalendar.objects.exists()

"""Agenda fixtures: a practitioner with office hours, a 30-minute consultation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.agenda import services
from permanence.agenda.models import AppointmentType, Resource

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_9_TO_5 = {d: [["09:00", "12:00"], ["14:00", "17:00"]]
                   for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def resource(account: Any, supervisor: Any) -> Resource:
    return services.resource_create(actor=supervisor, account_id=account.pk, data={
        "name": "Dr Martin", "timezone": "Europe/Paris", "weekly": WEEKDAYS_9_TO_5})


@pytest.fixture
def second_resource(account: Any, supervisor: Any) -> Resource:
    return services.resource_create(actor=supervisor, account_id=account.pk, data={
        "name": "Dr Bernard", "timezone": "Europe/Paris", "weekly": WEEKDAYS_9_TO_5})


@pytest.fixture
def kind(account: Any, supervisor: Any, resource: Resource) -> AppointmentType:
    return services.type_create(actor=supervisor, account_id=account.pk, data={
        "name": "Consultation", "duration_minutes": 30, "buffer_after_minutes": 10,
        "min_notice_minutes": 60, "online": True, "questions": ["Motif de la visite"]},
        resource_ids=[resource.pk])


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)

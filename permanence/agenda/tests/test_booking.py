"""Booking, holding, moving, cancelling: the slot search and the no-double-booking rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from permanence.agenda import selectors, services
from permanence.agenda.models import Appointment, AppointmentStatus, Origin
from permanence.core import clock
from permanence.core.errors import DomainError

from .conftest import paris

MONDAY = (2027, 3, 1)  # a Monday with no public holiday


def booking(name: str = "Jeanne Dupont", **extra: Any) -> services.Booking:
    return services.Booking(contact=services.Contact(name=name, phone="+33612345678",
                                                     email="jeanne@example.org"), **extra)


@pytest.mark.django_db
def test_slots_follow_hours_breaks_and_buffers(kind: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)):
        found = selectors.slots(kind, paris(*MONDAY), paris(*MONDAY) + timedelta(days=1))
    local = [s.local.strftime("%H:%M") for s in found]
    # 30 minutes + 10 after, laid from 09:00 and 14:00; none overlaps lunch or 17:00.
    assert local == ["09:00", "09:40", "10:20", "11:00", "14:00", "14:40", "15:20", "16:00"]


@pytest.mark.django_db
def test_a_booked_slot_and_its_buffer_are_gone(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)):
        services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9, 40),
                                  booking=booking())
        found = selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 12))
    assert [s.local.strftime("%H:%M") for s in found] == ["09:00", "10:20", "11:00"]


@pytest.mark.django_db
def test_a_booking_by_the_secretariat_records_no_consent(kind: Any, agent: Any) -> None:
    """The contact ticked nothing: no consent is claimed for them."""
    with clock.frozen(paris(2027, 2, 26, 18)):
        done = services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                         booking=booking())
    assert (done.consent_text, done.consent_version, done.consent_at) == ("", "", None)


@pytest.mark.django_db
def test_the_same_slot_twice_is_refused_with_409(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)):
        services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                  booking=booking())
        with pytest.raises(DomainError) as exc:
            services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9, 20),
                                      booking=booking("Paul"))
    assert exc.value.status == 409 and exc.value.code == "slot_taken"
    assert Appointment.objects.filter(status=AppointmentStatus.CONFIRMED).count() == 1


@pytest.mark.django_db
def test_outside_hours_is_refused(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)), pytest.raises(DomainError) as exc:
        services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 12, 0),
                                  booking=booking())
    assert exc.value.status == 422 and "start" in exc.value.fields


@pytest.mark.django_db
def test_a_hold_blocks_until_it_expires_then_frees(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)):
        hold = services.appointment_hold(actor=agent, kind=kind, start=paris(*MONDAY, 9))
        with pytest.raises(DomainError):
            services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                      booking=booking("Paul"))
    with clock.frozen(paris(2027, 2, 26, 18, 6)):
        other = services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                          booking=booking("Paul"))
    hold.refresh_from_db()
    assert hold.status == AppointmentStatus.EXPIRED and other.status == "confirmed"


@pytest.mark.django_db
def test_a_hold_becomes_the_booking(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)):
        hold = services.appointment_hold(actor=agent, kind=kind, start=paris(*MONDAY, 9))
        booked = services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                           booking=booking(), hold=hold)
    assert booked.pk == hold.pk and booked.status == AppointmentStatus.CONFIRMED
    assert booked.contact_name == "Jeanne Dupont"


@pytest.mark.django_db
def test_move_frees_the_old_slot_and_is_recorded(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)):
        a = services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                      booking=booking())
        services.appointment_move(actor=agent, appointment=a, start=paris(*MONDAY, 14))
        starts = [s.local.strftime("%H:%M") for s in
                  selectors.slots(kind, paris(*MONDAY), paris(*MONDAY, 10))]
    a.refresh_from_db()
    assert a.sequence == 1 and a.moves.count() == 1 and "09:00" in starts


@pytest.mark.django_db
def test_cancel_frees_the_slot_and_cancels_reminders(kind: Any, agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 20, 18)):
        a = services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                      booking=booking())
        assert a.reminders.filter(status="pending").count() == 2
        services.appointment_cancel(actor=agent, appointment=a, reason="Empêché")
        again = services.appointment_book(actor=agent, kind=kind, start=paris(*MONDAY, 9),
                                          booking=booking("Paul"))
    assert again.status == "confirmed"
    assert a.reminders.filter(status="pending").count() == 0


@pytest.mark.django_db
def test_online_booking_respects_notice_and_answers(kind: Any) -> None:
    with clock.frozen(paris(*MONDAY, 8, 30)), pytest.raises(DomainError) as exc:
        services.appointment_book(actor=None, kind=kind, start=paris(*MONDAY, 9),
                                  booking=booking(origin=Origin.ONLINE))
    assert "start" in exc.value.fields or "answers" in exc.value.fields
    with clock.frozen(paris(2027, 2, 26, 18)), pytest.raises(DomainError) as exc:
        services.appointment_book(actor=None, kind=kind, start=paris(*MONDAY, 9),
                                  booking=booking(origin=Origin.ONLINE))
    assert "answers" in exc.value.fields


@pytest.mark.django_db
def test_absence_and_public_holiday_close_the_day(kind: Any, resource: Any,
                                                  supervisor: Any) -> None:
    services.exception_add(actor=supervisor, resource=resource, kind="closed",
                           start=paris(*MONDAY, 14), end=paris(*MONDAY, 18))
    with clock.frozen(paris(2027, 2, 26, 18)):
        monday = selectors.slots(kind, paris(*MONDAY), paris(2027, 3, 2))
        easter_monday = selectors.slots(kind, paris(2027, 3, 29), paris(2027, 3, 30))
    assert [s.local.hour for s in monday] == [9, 9, 10, 11]
    assert easter_monday == []


@pytest.mark.django_db
def test_outsider_cannot_book(kind: Any, other_agent: Any) -> None:
    with clock.frozen(paris(2027, 2, 26, 18)), pytest.raises(DomainError) as exc:
        services.appointment_book(actor=other_agent, kind=kind, start=paris(*MONDAY, 9),
                                  booking=booking())
    assert exc.value.status == 403

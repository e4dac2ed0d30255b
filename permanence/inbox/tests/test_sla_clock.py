"""One deadline per request, with a stated clock: jours ouvrés or opening hours (an SLA
policy's setting, the default one also governing orders and quotes), one promise told to the
customer everywhere, a calendar that never opens refused, and periodic jobs that survive
one bad account."""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.calendars.models import BusinessCalendar
from permanence.catalog.models import TermsVersion
from permanence.core import clock, local_cache, scheduler
from permanence.core.business_time import (
    OPENING_HOURS,
    WORKING_DAYS,
    CalendarSpec,
    add_business_time,
    clock_view,
)
from permanence.core.isolation import each_isolated
from permanence.inbox import services, sla, sla_monitor
from permanence.inbox.canned import render_canned
from permanence.inbox.models import Channel, Conversation, SlaEvent, SlaPolicy
from permanence.inbox.promise import customer_promise
from permanence.inbox.services import Incoming
from permanence.shop.orders import operator_deadline

PARIS = ZoneInfo("Europe/Paris")
OFFICE = [["08:30", "12:30"], ["14:00", "18:00"]]
WEEK = {d: OFFICE for d in ("mon", "tue", "wed", "thu", "fri")}
FRIDAY_10 = datetime(2026, 12, 4, 10, 0, tzinfo=PARIS)
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)


def paris(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


def office() -> CalendarSpec:
    return CalendarSpec.from_json({"timezone": "Europe/Paris", "weekly": WEEK,
                                   "holidays": "FR"})


def open_conv(account: Any, at: datetime, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Rendez-vous", "body_text": "Bonjour",
                              "contact_email": "jean@exemple.fr", "contact_name": "Jean"}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


# --- The clock ---------------------------------------------------------------------------------


def test_working_days_count_24_hours_per_working_day() -> None:
    spec = office()
    days = clock_view(spec, WORKING_DAYS)
    assert add_business_time(days, FRIDAY_10, timedelta(hours=24)) == MONDAY_10
    assert add_business_time(days, FRIDAY_10, timedelta(hours=48)) == paris(2026, 12, 8, 10)
    # Opening hours only: 24 h of 8-hour days is three days.
    assert add_business_time(spec, FRIDAY_10, timedelta(hours=24)) == paris(2026, 12, 9, 10)
    # Received on a closed day: counted from the next working day, ending with it (24:00),
    # never on a closed day — nor on a public holiday (25 December).
    saturday = paris(2026, 12, 5, 10)
    assert add_business_time(days, saturday, timedelta(hours=24)) == paris(2026, 12, 8, 0)
    assert add_business_time(days, paris(2026, 12, 24, 10), timedelta(hours=24)) == paris(
        2026, 12, 28, 10)
    assert clock_view(spec, OPENING_HOURS) is spec


def test_the_seeded_policy_reads_24_hours_as_one_working_day(account: Any) -> None:
    assert sla.ensure_default_policy().clock == WORKING_DAYS
    c = open_conv(account, FRIDAY_10)
    assert c.first_response_due_at == MONDAY_10  # not "3 j 23 h" later


def test_the_clock_is_a_setting_of_the_policy(account: Any, supervisor: Any,
                                              django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account, FRIDAY_10)
    client = Client()
    client.force_login(supervisor)
    url = reverse("inbox:sla")
    shown = html.unescape(client.get(url).content.decode())
    assert "Comptage des délais" in shown and "Jours ouvrés" in shown
    policy = sla.ensure_default_policy()
    data: dict[str, Any] = {"policy-clock": OPENING_HOURS}
    for t in policy.targets.all():
        data |= {f"t{t.pk}-first_response_hours": t.first_response_hours,
                 f"t{t.pk}-next_response_hours": t.next_response_hours,
                 f"t{t.pk}-resolution_hours": t.resolution_hours}
        if t.first_response_same_day:
            data[f"t{t.pk}-first_response_same_day"] = "on"
    assert client.post(url, data | {"policy-clock": "n_importe_quoi"}).status_code == 422
    with clock.frozen(FRIDAY_10 + timedelta(minutes=5)), django_capture_on_commit_callbacks(
            execute=True):
        assert client.post(url, data).status_code == 302
    assert SlaPolicy.objects.get(pk=policy.pk).clock == OPENING_HOURS
    c.refresh_from_db()  # recomputed: 24 opening hours of 8-hour days
    assert c.first_response_due_at == paris(2026, 12, 9, 10)


# --- One promise, told everywhere --------------------------------------------------------------


def test_the_acknowledgement_and_the_canned_reply_promise_the_same_date(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    """Once the acknowledgement promised « mardi 8 décembre » and, a minute later, the
    canned reply « lundi 14 décembre » (the resolution target) to the same person."""
    account.email_address = "accueil@cabinet-martin.fr"
    with clock.frozen(paris(2026, 12, 7, 10)), django_capture_on_commit_callbacks(
            execute=True):
        c = services.conversation_open(Incoming(
            account=account, channel=Channel.WEBFORM, subject="Rendez-vous",
            body_text="Bonjour", contact_email="jean@exemple.fr", contact_name="Jean"))
    [ack] = mail.outbox
    c.refresh_from_db()
    promise = customer_promise(c)
    assert promise is not None and promise.at == c.first_response_due_at
    assert promise.text == "mardi 8 décembre 2026 à 10:00"
    assert f"au plus tard le {promise.text}" in ack.body
    with clock.frozen(paris(2026, 12, 7, 10, 1)):
        canned = render_canned("Réponse au plus tard le {echeance}.", c, agent)
    assert canned == f"Réponse au plus tard le {promise.text}."
    # The internal resolution target is never what the customer reads.
    assert c.resolution_due_at != promise.at
    resolution = customer_promise(Conversation(
        account=account, first_response_due_at=c.resolution_due_at))
    assert resolution is not None and resolution.text not in ack.body + canned


def test_a_working_days_deadline_at_midnight_reads_as_the_end_of_the_day(
        account: Any) -> None:
    c = open_conv(account, paris(2026, 12, 5, 10))  # a Saturday
    promise = customer_promise(c)
    assert promise is not None
    assert promise.text == "lundi 7 décembre 2026 en fin de journée"


# --- The clock, stated where customers read deadlines ---------------------------------------


def test_public_pages_and_orders_state_and_use_the_one_clock(db: Any, admin_user: Any) -> None:
    client = Client()
    service = html.unescape(client.get("/service-client/").content.decode())
    assert "se comptent en jours ouvrés : 24 heures ouvrées font un jour ouvré" in service
    assert "Résolution visée" not in service  # internal targets stay internal
    TermsVersion.objects.create(version="2026-12", body="Article 1.", published_at=clock.now(),
                                created_by=admin_user)
    terms = html.unescape(client.get("/cgv/").content.decode())
    assert "Comptage des délais" in terms and "24 heures ouvrées font un jour ouvré" in terms
    # Orders: "validées sous 24 heures ouvrées" is one working day, in the same clock.
    assert operator_deadline(FRIDAY_10, 24) == MONDAY_10
    SlaPolicy.objects.filter(pk=sla.ensure_default_policy().pk).update(clock=OPENING_HOURS)
    local_cache.invalidate()
    assert operator_deadline(FRIDAY_10, 24) == paris(2026, 12, 9, 10)
    service = html.unescape(client.get("/service-client/").content.decode())
    assert "uniquement pendant nos heures d'ouverture" in service


# --- A calendar that never opens is refused; periodic jobs survive a bad account ----------


def test_a_calendar_that_never_opens_is_refused(account: Any, supervisor: Any,
                                                api_client_for: Any) -> None:
    api = api_client_for(supervisor)
    url = f"/api/v1/accounts/{account.pk}/calendar"
    closed = {"timezone": "Europe/Paris", "weekly": {}, "holidays": "FR", "closures": []}
    response = api.put(url, closed, content_type="application/json")
    assert response.status_code == 422
    assert "weekly" in response.json()["errors"]
    forever = closed | {"weekly": WEEK, "closures": [
        {"start": "2020-01-01T00:00:00+01:00", "end": "2099-01-01T00:00:00+01:00",
         "message": "Fermé"}]}
    response = api.put(url, forever, content_type="application/json")
    assert response.status_code == 422
    assert "closures" in response.json()["errors"]
    account.refresh_from_db()
    assert account.calendar_id is None
    client = Client()
    client.force_login(supervisor)
    form = {"timezone": "Europe/Paris", "holidays": "FR"} | {
        d: "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    page = client.post(reverse("account_calendar", args=[account.pk]), form)
    assert page.status_code == 422
    assert "Indiquez au moins une plage d'ouverture" in html.unescape(page.content.decode())


def test_the_sla_check_isolates_an_account_with_a_broken_calendar(
        account: Any, other_account: Any, caplog: Any) -> None:
    good = open_conv(account, paris(2026, 12, 7, 9))
    bad = open_conv(other_account, paris(2026, 12, 7, 9))
    # Broken by hand (an unknown time zone): no deadline of this account can be computed.
    other_account.calendar = BusinessCalendar.objects.create(name="Cassé", weekly=WEEK,
                                                             holidays="FR",
                                                             timezone="Mars/Olympus")
    other_account.save(update_fields=["calendar"])
    with caplog.at_level(logging.ERROR):
        result = sla_monitor.run(paris(2026, 12, 8, 7))  # 22 of the 24 hours used
    assert result == "warned 1, breached 0, failed 1"
    assert SlaEvent.objects.filter(conversation=good, kind="warning").exists()
    assert not SlaEvent.objects.filter(conversation=bad).exists()
    assert f"conversation {bad.pk}" in caplog.text


def test_every_periodic_job_is_isolated(monkeypatch: Any, caplog: Any, db: Any) -> None:
    ran: list[str] = []

    class Task:
        def __init__(self, name: str, fail: bool) -> None:
            self.name, self.fail = name, fail

        def enqueue(self) -> None:
            if self.fail:
                raise RuntimeError("broken job")
            ran.append(self.name)

    registry = {name: scheduler.Job(name, timedelta(minutes=1), Task(name, name == "b"))
                for name in ("a", "b", "c")}
    monkeypatch.setattr(scheduler, "REGISTRY", registry)
    with caplog.at_level(logging.ERROR):
        assert scheduler.run_due_jobs() == ["a", "c"]
    assert ran == ["a", "c"] and "b" in caplog.text
    outcome = each_isolated([1, 0, 2], lambda n: Decimal(2) / n, job="test")
    assert (outcome.results, outcome.failed) == ([Decimal(2), Decimal(1)], [0])


def test_a_stored_calendar_that_never_opens_does_not_block_new_messages(
        account: Any) -> None:
    """Saved before such calendars were refused: deadlines use the default calendar."""
    account.calendar = BusinessCalendar.objects.create(name="Fermé", weekly={}, holidays="FR")
    account.save(update_fields=["calendar"])
    c = open_conv(account, FRIDAY_10)
    assert c.first_response_due_at == MONDAY_10

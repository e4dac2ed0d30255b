"""Scheduled exports: e-mailed to their owner once per period from 06:00 Paris on Mondays and
the 1st, with the owner's rights; a failed sending is not shown as sent and is tried again."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core import mail

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox.models import Conversation
from permanence.reports import scheduled
from permanence.reports.models import ScheduledExport

PARIS = ZoneInfo("Europe/Paris")
CREATED = datetime(2026, 11, 4, 15, 0, tzinfo=PARIS)  # a Wednesday


def _create(user: Any, **fields: Any) -> ScheduledExport:
    values = {"what": "", "which": "", "account_id": None, "channel": "",
              "frequency": "hebdomadaire", "fmt": "xlsx"} | fields
    with clock.frozen(CREATED):
        return scheduled.scheduled_export_create(actor=user, **values)


def _run(at: datetime) -> int:
    with clock.frozen(at):
        return scheduled.exports_due()


def test_periods_worked_out_by_hand() -> None:
    monday = date(2026, 11, 9)
    assert scheduled.period_for("hebdomadaire", monday) == (date(2026, 11, 2), date(2026, 11, 8))
    assert scheduled.period_for("hebdomadaire", date(2026, 11, 15)) == (
        date(2026, 11, 2), date(2026, 11, 8))  # the Sunday after: still that week
    assert scheduled.period_for("mensuel", date(2026, 12, 1)) == (date(2026, 11, 1),
                                                                  date(2026, 11, 30))
    assert scheduled.period_for("mensuel", date(2026, 3, 1)) == (date(2026, 2, 1),
                                                                 date(2026, 2, 28))
    # Before 06:00 it is still the day before.
    assert scheduled.sending_day(datetime(2026, 11, 9, 5, 59, tzinfo=PARIS)) == date(2026, 11, 8)
    assert scheduled.sending_day(datetime(2026, 11, 9, 6, 0, tzinfo=PARIS)) == monday


def test_sent_once_per_period_with_the_owners_figures(supervisor: Any, account: Any) -> None:
    Conversation.objects.create(account=account, reference="S-000001", subject="Rdv",
                                channel="email", created_at=datetime(2026, 11, 5, 9, tzinfo=PARIS),
                                updated_at=CREATED, last_message_at=CREATED)
    export = _create(supervisor)
    # Monday 05:30: the week asked for has not ended for the export yet; the week before
    # it was created is never sent.
    assert _run(datetime(2026, 11, 9, 5, 30, tzinfo=PARIS)) == 0
    assert mail.outbox == []
    assert _run(datetime(2026, 11, 9, 6, 30, tzinfo=PARIS)) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [supervisor.email]
    assert "02/11/2026" in message.subject and "08/11/2026" in message.subject
    filename, content, mimetype = message.attachments[0]
    assert filename == "indicateurs-2026-11-02-2026-11-08.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    values = {row[0]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["conversations"] == 1
    export.refresh_from_db()
    assert export.sent_period == date(2026, 11, 2) and export.sent_at is not None
    # Later runs that week: nothing more.
    assert _run(datetime(2026, 11, 9, 7, 30, tzinfo=PARIS)) == 0
    assert _run(datetime(2026, 11, 12, 7, 30, tzinfo=PARIS)) == 0
    assert len(mail.outbox) == 1
    # The next Monday: the next week.
    assert _run(datetime(2026, 11, 16, 6, 5, tzinfo=PARIS)) == 1
    assert "09/11/2026" in mail.outbox[1].subject


def test_a_failed_sending_is_not_shown_as_sent_and_is_tried_again(
        supervisor: Any, account: Any, settings: Any, client: Any) -> None:
    export = _create(supervisor, frequency="mensuel", fmt="csv", what="dossiers")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    # Claimed, and its task failed (the worker logs it as failed).
    assert _run(datetime(2026, 12, 1, 6, 30, tzinfo=PARIS)) == 1
    export.refresh_from_db()
    assert export.sent_at is None and export.claimed_period == date(2026, 11, 1)
    client.force_login(supervisor)
    with clock.frozen(datetime(2026, 12, 1, 6, 40, tzinfo=PARIS)):
        page = client.get("/app/rapports/envois/").content.decode()
    assert "pas encore envoyé" in page and "envoi en cours" in page
    # Within the hour the claim stands (no second sender); after it, claimed again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _run(datetime(2026, 12, 1, 7, 0, tzinfo=PARIS)) == 0
    assert _run(datetime(2026, 12, 1, 7, 31, tzinfo=PARIS)) == 1
    assert mail.outbox[0].attachments[0][0] == "dossiers-2026-11-01-2026-11-30.csv"
    export.refresh_from_db()
    assert export.sent_period == date(2026, 11, 1)


def test_an_account_no_longer_visible_is_skipped(agent: Any, account: Any) -> None:
    export = _create(agent, account_id=account.pk)
    account.assigned_agents.remove(agent)  # moved to other accounts since
    assert _run(datetime(2026, 11, 9, 6, 30, tzinfo=PARIS)) == 1
    assert mail.outbox == []
    export.refresh_from_db()
    assert export.sent_at is None


def test_bad_input_gets_field_errors(supervisor: Any, agent: Any, other_account: Any,
                                     client: Any) -> None:
    with pytest.raises(DomainError) as error:
        _create(agent, account_id=other_account.pk)  # not one of hers
    assert "account" in error.value.fields
    with pytest.raises(DomainError):
        _create(agent, what="appels", which="nimporte")
    client.force_login(supervisor)
    for data in ({"contenu": "dossiers:", "compte": "99999999999999999999999",
                  "frequence": "mensuel", "format": "xlsx"},
                 {"contenu": "autre", "frequence": "mensuel", "format": "xlsx"},
                 {"contenu": "", "frequence": "chaque heure", "format": "pdf"}):
        response = client.post("/app/rapports/envois/", data)
        assert response.status_code == 422, data
        assert 'class="field-error"' in response.content.decode()
    assert not ScheduledExport.objects.exists()
    response = client.post("/app/rapports/envois/", {"contenu": "appels:abandons",
                                                     "frequence": "hebdomadaire",
                                                     "format": "csv"})
    assert response.status_code == 302
    export = ScheduledExport.objects.get()
    assert (export.what, export.which, export.owner) == ("appels", "abandons", supervisor)


def test_only_the_owner_stops_an_export(supervisor: Any, admin_user: Any, client: Any) -> None:
    export = _create(supervisor)
    client.force_login(admin_user)
    assert client.post(f"/app/rapports/envois/{export.pk}/arreter/").status_code == 404
    assert "export-" not in client.get("/app/rapports/envois/").content.decode()
    client.force_login(supervisor)
    assert client.post(f"/app/rapports/envois/{export.pk}/arreter/").status_code == 302
    assert not ScheduledExport.objects.exists()


def test_the_list_page_queries_do_not_grow(supervisor: Any, account: Any, client: Any,
                                           django_assert_max_num_queries: Any) -> None:
    client.force_login(supervisor)
    _create(supervisor, account_id=account.pk)
    with django_assert_max_num_queries(12) as first:
        client.get("/app/rapports/envois/")
    for _n in range(5):
        _create(supervisor, account_id=account.pk, fmt="csv")
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get("/app/rapports/envois/").status_code == 200

"""The per-client monthly activity report: announced on the 1st once per account to its
clients, downloadable as a PDF holding the same figures as the espace client's live page."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
from django.core import mail
from django.test import Client

from permanence.accounts.models import ClientAccount
from permanence.core import clock
from permanence.desk.models import Call
from permanence.reports import monthly
from permanence.reports.models import MonthlyReportSend

PARIS = ZoneInfo("Europe/Paris")
NOVEMBER = datetime(2026, 11, 12, 10, 0, tzinfo=PARIS)


def _calls(account: Any) -> None:
    for n, wait in enumerate((5, 12, 40)):
        Call.objects.create(call_id=f"m{account.pk}-{n}", account=account, offered_at=NOVEMBER,
                            created_at=NOVEMBER, from_number="+33612345678",
                            answered_at=NOVEMBER + timedelta(seconds=wait), wait_seconds=wait,
                            outcome="answered")


def _age(*accounts: Any) -> None:
    ClientAccount.objects.filter(pk__in=[a.pk for a in accounts]).update(
        created_at=datetime(2026, 1, 1, tzinfo=PARIS))


def _run(at: datetime, capture: Any) -> int:
    with clock.frozen(at), capture(execute=True):
        return monthly.monthly_reports_send()


def test_announced_on_the_first_once_per_account(account: Any, other_account: Any,
                                                 client_user: Any,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    _age(account, other_account)
    assert _run(datetime(2026, 12, 1, 5, 30, tzinfo=PARIS), django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []
    assert _run(datetime(2026, 12, 1, 6, 30, tzinfo=PARIS), django_capture_on_commit_callbacks) == 2
    to = sorted(m.to[0] for m in mail.outbox)
    assert client_user.email in to and len(to) == 2
    message = next(m for m in mail.outbox if m.to == [client_user.email])
    assert "novembre 2026" in message.subject
    assert "/espace/rapports/2026-11.pdf" in message.body
    # Later runs that month find nothing left to announce.
    assert _run(datetime(2026, 12, 1, 7, 30, tzinfo=PARIS), django_capture_on_commit_callbacks) == 0
    assert _run(datetime(2026, 12, 9, 7, 30, tzinfo=PARIS), django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 2
    assert MonthlyReportSend.objects.filter(month="2026-11-01").count() == 2


def test_a_new_account_gets_no_report_for_a_month_it_did_not_exist(
        account: Any, django_capture_on_commit_callbacks: Any) -> None:
    ClientAccount.objects.filter(pk=account.pk).update(
        created_at=datetime(2026, 12, 1, 1, 0, tzinfo=PARIS))
    assert _run(datetime(2026, 12, 1, 6, 30, tzinfo=PARIS), django_capture_on_commit_callbacks) == 0


def test_the_pdf_and_the_live_page_say_the_same(account: Any, client_user: Any) -> None:
    _age(account)
    _calls(account)
    browser = Client()
    browser.force_login(client_user)
    with clock.frozen(datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)):
        page = browser.get("/espace/rapports/")
        response = browser.get("/espace/rapports/2026-11.pdf")
    assert page.status_code == 200
    assert "/espace/rapports/2026-11.pdf" in page.content.decode()
    assert "mois dernier : 100,0 %" in page.content.decode()  # November's answer rate
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "Rapport mensuel d'activité" in text and account.name in text
    assert "Taux de décroché" in text and "100,0 %" in text
    assert "Niveau de service" in text and "66,7 %" in text  # 2 of 3 within 20 s


def test_reports_of_other_months_and_other_people(account: Any, client_user: Any,
                                                  outsider_client: Any, agent: Any) -> None:
    _age(account)
    browser = Client()
    browser.force_login(client_user)
    with clock.frozen(datetime(2026, 12, 3, 9, 0, tzinfo=PARIS)):
        assert browser.get("/espace/rapports/2026-12.pdf").status_code == 404  # not over yet
        assert browser.get("/espace/rapports/2025-11.pdf").status_code == 404  # before the account
        assert browser.get("/espace/rapports/2026-13.pdf").status_code == 404
    staff = Client()
    staff.force_login(agent)
    assert staff.get("/espace/rapports/").status_code in (302, 403)

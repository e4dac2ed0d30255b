"""Reports in a real Chromium at 1366 and 390 px: a supervisor opens the live board, filters
the indicators by account, drills down to the calls behind a figure and exports them as
XLSX; a client opens Espace client › Rapports and downloads last month's PDF report."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def _calls(account: Any, days_ago: int = 0, answered: int = 3, abandoned: int = 1) -> None:
    from permanence.core import clock
    from permanence.desk.models import Call

    at = clock.now() - timedelta(days=days_ago)
    for n in range(answered + abandoned):
        Call.objects.create(
            call_id=f"b{account.pk}-{days_ago}-{n}", account=account, offered_at=at,
            created_at=at, from_number="+33612345678",
            answered_at=at + timedelta(seconds=8) if n < answered else None,
            wait_seconds=8 if n < answered else None,
            outcome="answered" if n < answered else "abandoned",
            ended_at=at + timedelta(seconds=40 if n >= answered else 200))


@pytest.mark.parametrize("size", list(SIZES))
def test_a_supervisor_follows_a_figure_down_to_its_calls(
        size: str, new_page: Any, login: Any, supervisor: Any, account: Any,
        other_account: Any, page_checked: Any) -> None:
    _calls(account)
    _calls(other_account, answered=1, abandoned=0)
    page = new_page(**SIZES[size])
    login(page, supervisor.email)
    page.goto("/app/rapports/direct/")
    expect(page.get_by_role("heading", name="File d'attente par canal")).to_be_visible()
    expect(page.get_by_role("heading", name="L'équipe")).to_be_visible()
    page_checked(page)

    page.goto("/app/rapports/")
    page.get_by_label("Compte client").select_option(label=account.name)
    page.get_by_role("button", name="Afficher").click()
    tile = page.locator("#kpi-calls_offered")
    expect(tile.locator("strong")).to_have_text("4")  # the other account's call left out
    expect(page.locator("#kpi-answer_rate strong")).to_have_text("75,0 %")
    page.locator("#kpi-answer_rate summary").click()
    expect(page.locator("#kpi-answer_rate .formula p")).to_contain_text(
        "Appels décrochés ÷ appels présentés")
    page_checked(page)

    page.locator("#kpi-abandon_rate a.drill").click()
    expect(page.get_by_role("heading", name="Appels abandonnés")).to_be_visible()
    expect(page.get_by_text("1 ligne")).to_be_visible()
    page_checked(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter (XLSX)").click()
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Identifiant" and len(rows) == 2
    assert rows[1][2] == account.name and rows[1][4] == "Abandonné"


@pytest.mark.parametrize("size", list(SIZES))
def test_a_client_reads_this_months_figures_and_downloads_last_months_report(
        size: str, new_page: Any, login: Any, client_user: Any, account: Any,
        page_checked: Any) -> None:
    from permanence.accounts.models import ClientAccount
    from permanence.core import clock

    ClientAccount.objects.filter(pk=account.pk).update(
        created_at=clock.now() - timedelta(days=120))
    _calls(account, days_ago=0)
    page = new_page(**SIZES[size])
    login(page, client_user.email)
    page.goto("/espace/")
    page.get_by_role("link", name="Rapports", exact=True).click()
    expect(page.get_by_role("heading", name="Rapports d'activité")).to_be_visible()
    expect(page.locator("#kpi-calls_offered strong")).to_have_text("4")
    page_checked(page)
    link = page.get_by_role("link", name="(PDF)").first
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

"""The planning pages: a supervisor edits the week (field errors, never a 500), a secretary
reads her own week and can change nothing, the page's queries do not grow with the team,
and the staffing page shows the planned headcount against the need."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.core import clock
from permanence.planning.models import Shift

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
WEEK = f"{reverse('planning:week')}?semaine=2026-03-04"


@pytest.fixture(autouse=True)
def _now() -> Any:
    with clock.frozen(datetime(2026, 2, 25, 9, tzinfo=UTC)):
        yield


def shift(agent: Any, day: date = MONDAY, start: int = 8, end: int = 12, note: str = "") -> Shift:
    now = clock.now()
    return Shift.objects.create(agent=agent, day=day, starts_at=time(start), ends_at=time(end),
                                note=note, created_at=now, updated_at=now)


def post_shift(client: Any, who: Any, **data: str) -> Any:
    return client.post(reverse("planning:shift_new"), {
        "agent": str(who.pk), "day": "2026-03-03", "starts_at": "08:00", "ends_at": "12:00",
        "note": "", **data})


def test_a_supervisor_adds_edits_and_deletes_a_shift(client: Any, supervisor: Any,
                                                     agent: Any) -> None:
    client.force_login(supervisor)
    response = post_shift(client, agent, starts_at="22:00", ends_at="06:00", note="Nuit")
    assert response.status_code == 302 and response["Location"].endswith("semaine=2026-03-02")
    night = Shift.objects.get()
    page = client.get(WEEK).content.decode()
    assert "22:00–06:00" in page and "(nuit)" in page and "00:00, 02:10, 04:20" in page
    response = client.post(reverse("planning:shift_edit", args=[night.pk]), {
        "agent": str(agent.pk), "day": "2026-03-03", "starts_at": "21:00", "ends_at": "05:00"})
    assert response.status_code == 302
    night.refresh_from_db()
    assert night.starts_at == time(21)
    response = client.post(reverse("planning:shift_delete", args=[night.pk]))
    assert response.status_code == 302 and not Shift.objects.exists()


def test_an_overlap_is_a_field_error(client: Any, supervisor: Any, agent: Any) -> None:
    shift(agent, day=date(2026, 3, 3), start=10, end=14)
    client.force_login(supervisor)
    response = post_shift(client, agent)
    assert response.status_code == 422
    assert "chevauche" in response.context["form"].errors["starts_at"][0]
    assert Shift.objects.count() == 1


@pytest.mark.parametrize("data", [
    {"agent": "99999999999999999999999999"}, {"agent": "abc"}, {"agent": "-1"},
    {"day": "2026-13-45"}, {"day": "99999-01-01"}, {"day": "2099-01-01"},
    {"starts_at": "25:99"}, {"ends_at": "x"}, {"ends_at": "08:00"}, {"note": "n" * 201},
])
def test_bad_input_is_a_field_error_never_a_500(client: Any, supervisor: Any, agent: Any,
                                                data: dict[str, str]) -> None:
    client.force_login(supervisor)
    response = post_shift(client, agent, **data)
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not Shift.objects.exists()


def test_bad_query_strings_and_ids(client: Any, supervisor: Any) -> None:
    client.force_login(supervisor)
    for week in ("garbage", "99999999-01-01", "2026-02-30", "0001-01-01"):
        assert client.get(f"{reverse('planning:week')}?semaine={week}").status_code == 200
    huge = 10**30
    assert client.get(f"/app/planning/creneaux/{huge}/").status_code == 404
    assert client.post(f"/app/planning/creneaux/{huge}/supprimer/").status_code == 404
    assert client.get(f"{reverse('planning:shift_new')}?agent=9{'9' * 40}&jour=x").status_code == 200
    assert client.post(reverse("planning:week_copy"), {"semaine": "nope"}).status_code == 302


def test_a_secretary_reads_her_own_week_only(client: Any, agent: Any, other_agent: Any) -> None:
    mine = shift(agent, note="Ma note")
    theirs = shift(other_agent, start=13, end=17, note="Leur note")
    client.force_login(agent)
    page = client.get(WEEK).content.decode()
    assert "Mon planning" in page and "Ma note" in page and "Leur note" not in page
    assert reverse("planning:shift_edit", args=[mine.pk]) not in page
    assert "Copier la semaine précédente" not in page
    assert post_shift(client, agent).status_code == 403
    assert client.get(reverse("planning:shift_edit", args=[theirs.pk])).status_code == 403
    assert client.post(reverse("planning:shift_delete", args=[mine.pk])).status_code == 403
    assert client.post(reverse("planning:week_copy"), {"semaine": "2026-03-09"}).status_code == 403
    assert Shift.objects.count() == 2


def test_billing_has_no_planning(client: Any, billing: Any) -> None:
    client.force_login(billing)
    assert client.get(WEEK).status_code == 403
    assert client.get(reverse("planning:pulse")).status_code == 403


def test_copy_the_previous_week_from_the_page(client: Any, supervisor: Any, agent: Any) -> None:
    shift(agent, day=MONDAY - timedelta(days=7))
    client.force_login(supervisor)
    response = client.post(reverse("planning:week_copy"), {"semaine": "2026-03-04"}, follow=True)
    assert "1 créneau(x) copié(s)" in response.content.decode()
    assert Shift.objects.filter(day=MONDAY).count() == 1


def _week_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(WEEK).status_code == 200
    return len(queries)


def test_the_planning_page_queries_do_not_grow_with_the_team(
        client: Any, supervisor: Any, agent: Any, make_user: Any,
        django_assert_num_queries: Any) -> None:
    shift(agent)
    client.force_login(supervisor)
    small = _week_queries(client)
    for i in range(4):
        someone = make_user(f"renfort{i}@test.fr", "agent")
        for day in range(7):
            shift(someone, day=MONDAY + timedelta(days=day), start=8 + i, end=(20 + i) % 24)
    with django_assert_num_queries(small):
        page = client.get(WEEK)
    assert page.content.decode().count('class="shift') == 29


def test_the_staffing_page_shows_planned_against_needed(client: Any, supervisor: Any,
                                                        agent: Any) -> None:
    shift(agent, day=date(2026, 3, 3), start=8, end=12)
    client.force_login(supervisor)
    response = client.get(reverse("reports_staffing"), {"le": "2026-03-03"})
    assert response.status_code == 200
    coverage = response.context["coverage"]
    assert coverage["day"] == date(2026, 3, 3)
    rows = {r.label: r for r in coverage["rows"]}
    # No call in the history: nobody needed; 08:00–12:00 planned, the 10:00 break leaves 2/3.
    assert (rows["08:00–08:30"].planned, rows["08:00–08:30"].gap,
            rows["08:00–08:30"].tone) == (1.0, 1.0, "over")
    assert rows["10:00–10:30"].planned == 0.67 and rows["10:00–10:30"].tone == "ok"
    assert "Besoin et planning du" in response.content.decode()
    assert response.context["form"].cleaned_data["jour"] == 2  # the date's weekday (Tuesday)
    bad = client.get(reverse("reports_staffing"), {"le": "3026-03-03"})
    assert bad.status_code == 422 and "le" in bad.context["form"].errors

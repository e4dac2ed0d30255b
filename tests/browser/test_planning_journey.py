"""Staff planning and the staff pulse in a real Chromium at 1366 and 390 px: a supervisor
adds a shift on the week's planning and sees the gap between need and plan move on the
staffing page; a secretary answers this month's pulse from the reminder on her dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def _history(account: Any, day: Any) -> None:
    """Calls two weeks before `day` (within the forecast's history, which ends yesterday),
    09:30–10:00 local: the forecast needs someone then."""
    from datetime import datetime, time

    from permanence.desk.models import Call
    from permanence.planning.selectors import PARIS

    at = datetime.combine(day - timedelta(days=14), time(9, 35), PARIS)
    for n in range(6):
        Call.objects.create(call_id=f"plan-{n}", account=account, offered_at=at, created_at=at,
                            from_number="+33612345678", answered_at=at + timedelta(seconds=5),
                            wait_seconds=5, outcome="answered",
                            ended_at=at + timedelta(seconds=240))


def _gap(page: Any, slot: int) -> float:
    text = page.locator(f"tr[data-slot=\"{slot}\"] td.gap").inner_text()
    return float(re.sub(r"[^0-9,.\-−+]", "", text.split("(")[0]).replace(",", ".")
                 .replace("−", "-"))


@pytest.mark.parametrize("size", list(SIZES))
def test_a_supervisor_plans_a_shift_and_the_gap_closes(
        size: str, new_page: Any, login: Any, supervisor: Any, agent: Any, account: Any,
        page_checked: Any) -> None:
    from permanence.core import clock
    from permanence.planning.models import Shift
    from permanence.planning.selectors import PARIS, week_start

    day = clock.now().astimezone(PARIS).date() + timedelta(days=7)
    _history(account, day)
    page = new_page(**SIZES[size])
    login(page, supervisor.email)
    page.goto(f"/app/rapports/effectifs/?le={day.isoformat()}")
    expect(page.get_by_role("heading", name=re.compile("Besoin et planning du"))).to_be_visible()
    before = _gap(page, 19)  # 09:30–10:00
    assert before < 0
    expect(page.locator("tr[data-slot=\"19\"]")).to_have_class(re.compile("gap-under"))
    page_checked(page)

    page.goto(f"/app/planning/?semaine={day.isoformat()}")
    expect(page.get_by_role("heading", name="Planning de l'équipe")).to_be_visible()
    page_checked(page)
    column = (day - week_start(day)).days
    page.locator(f"tr[data-agent=\"{agent.pk}\"] td").nth(column).locator("a.add").click()
    expect(page.get_by_role("heading", name="Nouveau créneau")).to_be_visible()
    page_checked(page)
    page.get_by_label("Début").fill("08:00")
    page.get_by_label(re.compile("^Fin")).fill("12:00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Créneau enregistré.")).to_be_visible()
    cell = page.locator(f"tr[data-agent=\"{agent.pk}\"] td").nth(column)
    expect(cell).to_contain_text("08:00–12:00")
    expect(cell).to_contain_text("Pauses : 10:00")
    shift = Shift.objects.get()
    assert (shift.agent_id, shift.day) == (agent.pk, day)

    # The same slot, refused twice: an overlap is a field error on the form.
    page.goto(f"/app/planning/creneaux/nouveau/?agent={agent.pk}&jour={day.isoformat()}")
    page.get_by_label("Début").fill("11:00")
    page.get_by_label(re.compile("^Fin")).fill("13:00")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text(re.compile("Ce créneau chevauche"))).to_be_visible()
    assert Shift.objects.count() == 1

    page.goto(f"/app/rapports/effectifs/?le={day.isoformat()}")
    assert _gap(page, 19) == pytest.approx(before + 1)
    page_checked(page)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_secretary_answers_the_pulse_from_the_reminder(
        size: str, new_page: Any, login: Any, agent: Any, page_checked: Any) -> None:
    from permanence.planning.models import PulseParticipation, PulseResponse

    page = new_page(**SIZES[size])
    login(page, agent.email)
    page.goto("/app/")
    page.get_by_role("link", name="Répondre au baromètre").click()
    expect(page.get_by_role("heading", name="Baromètre de l'équipe")).to_be_visible()
    page_checked(page)
    for question, answer in (("Je me sens bien dans mon travail", "4 — Plutôt d'accord"),
                             ("Ma charge de travail est raisonnable", "2 — Plutôt pas d'accord"),
                             ("Je me sens soutenu(e) par l'équipe", "5 — Tout à fait d'accord")):
        group = page.get_by_role("group", name=re.compile("^" + re.escape(question)))
        group.get_by_label(answer).check()
    page.get_by_label(re.compile("Un commentaire")).fill("Plus de renfort le lundi matin.")
    page.get_by_role("button", name="Envoyer ma réponse anonyme").click()
    expect(page.get_by_text("Merci ! Votre réponse anonyme est enregistrée.")).to_be_visible()
    expect(page.get_by_text(re.compile("Vous avez déjà répondu ce mois-ci"))).to_be_visible()
    page_checked(page)
    response = PulseResponse.objects.get()
    assert (response.wellbeing, response.workload, response.support) == (4, 2, 5)
    assert PulseParticipation.objects.filter(user=agent).count() == 1
    page.goto("/app/")
    expect(page.get_by_role("link", name="Répondre au baromètre")).to_have_count(0)

"""A supervisor scores a call on the grid, in a real Chromium at 1366 and 390 px: from the
call's page (desk) « Évaluer » opens the scoring page, the recording (heard through
Permanence) beside the grid on a laptop and above it on a phone; she scores each criterion
(one « Sans objet »), comments, writes coaching notes, flags it « appel mystère » and saves:
the weighted total is the one worked out by hand. The agent then logs in, finds it under
« Qualité », reads it and acknowledges it with a reply; the supervisor's list shows it read.
Nothing scrolls sideways and axe finds no serious violation on each screen."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from permanence.core import clock
from permanence.desk.models import Call
from permanence.quality import services
from permanence.quality.models import Review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
CRITERIA = [("Accueil conforme aux consignes", 2), ("Message complet", 3), ("Empathie", 2),
            ("Respect des consignes", 3), ("Clôture", 1)]


@pytest.mark.parametrize("size", list(SIZES))
def test_a_supervisor_scores_a_call_and_the_agent_acknowledges_it(
        size: str, new_page: Any, login: Any, agent: Any, supervisor: Any, account: Any,
        page_checked: Any) -> None:
    grid = services.grid_create(actor=supervisor, name="Grille standard")
    for n, (label, weight) in enumerate(CRITERIA, start=1):
        services.criterion_save(actor=supervisor, grid=grid, label=label, weight=weight,
                                order=n, description="")
    now = clock.now()
    call = Call.objects.create(
        call_id="journey-1", account=account, agent=agent, from_number="+33612345678",
        state="ended", outcome="answered", offered_at=now, answered_at=now, ended_at=now,
        created_at=now, talk_seconds=95, message="Mme Petit demande un rappel demain.",
        recording_url="https://pbx.example.com/recordings/journey-1.wav")

    boss = new_page(**SIZES[size])
    login(boss, supervisor.email)
    boss.goto(f"/app/poste/appels/{call.pk}/")
    boss.get_by_role("link", name="Évaluer").click()
    boss.wait_for_url(re.compile(rf"/app/qualite/evaluer/appel/{call.pk}/$"))
    expect(boss.get_by_role("heading", name="Évaluer un appel")).to_be_visible()
    # The recording through Permanence, never the provider's URL.
    audio = boss.locator("audio[data-recording]")
    expect(audio).to_have_attribute("src", f"/app/poste/appels/{call.pk}/enregistrement/")
    assert "pbx.example.com" not in boss.content()
    subject = boss.locator(".quality-subject").bounding_box()
    grid_box = boss.locator(".quality-grid").bounding_box()
    assert subject is not None and grid_box is not None
    if size == "desktop":  # side by side
        assert grid_box["x"] >= subject["x"] + subject["width"] - 1
        assert abs(grid_box["y"] - subject["y"]) < 5
    else:  # stacked: the recording first, the grid below
        assert grid_box["y"] >= subject["y"] + subject["height"] - 1
    page_checked(boss)

    # Saving with a criterion left unscored is refused with the error beside it.
    boss.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(boss.locator("p.error").first).to_be_visible()
    assert not Review.objects.exists()

    for (label, _weight), value in zip(CRITERIA, ["4", "2", "na", "3", "4"], strict=True):
        boss.get_by_label(re.compile("^" + re.escape(label))).select_option(value)
    boss.locator('fieldset[data-criterion]', has_text="Message complet").get_by_label(
        "Commentaire").fill("Le numéro de rappel n'a pas été relu.")
    boss.get_by_label("Notes de coaching").fill("Relire le numéro à l'appelant.")
    boss.get_by_label(re.compile("^Appel mystère")).check()
    boss.get_by_role("button", name="Enregistrer l'évaluation").click()
    boss.wait_for_url(re.compile(r"/app/qualite/\d+/$"))
    # (2×4 + 3×2 + 3×3 + 1×4) ÷ (4 × (2 + 3 + 3 + 1)) = 27 ÷ 36 = 75 %.
    expect(boss.locator("[data-score]")).to_have_text("75,0 %")
    expect(boss.locator(".badge.mystery")).to_have_text("Appel mystère")
    review = Review.objects.get()
    assert (review.agent, review.score_pct, review.mystery) == (agent, Decimal("75.00"), True)
    page_checked(boss)

    mine = new_page(**SIZES[size])
    login(mine, agent.email)
    mine.goto("/app/qualite/")
    row = mine.locator(f'tr[data-review-id="{review.pk}"]')
    expect(row).to_contain_text("Appel mystère")
    expect(row).to_contain_text("Non lue")
    page_checked(mine)
    row.get_by_role("link").first.click()
    mine.wait_for_url(re.compile(rf"/app/qualite/{review.pk}/$"))
    expect(mine.get_by_text("Relire le numéro à l'appelant.")).to_be_visible()
    expect(mine.get_by_text("Le numéro de rappel n'a pas été relu.")).to_be_visible()
    page_checked(mine)
    mine.get_by_label("Votre réponse (facultatif)").fill("Compris, je relirai le numéro.")
    mine.get_by_role("button", name="J'ai pris connaissance").click()
    expect(mine.locator("[data-acknowledged]")).to_contain_text("Lue par la télésecrétaire")
    review.refresh_from_db()
    assert review.acknowledged_at is not None
    assert review.agent_reply == "Compris, je relirai le numéro."

    boss.goto("/app/qualite/")
    expect(boss.locator(f'tr[data-review-id="{review.pk}"]')).not_to_contain_text("Non lue")
    expect(boss.locator("[data-unacknowledged]")).to_have_count(0)

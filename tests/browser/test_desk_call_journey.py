"""The call screen journey in a real Chromium against the live server, at 1366 and 390 px:

a secretary starts a call for the medical practice (the account found by its dialled
number), the practice's greeting and consignes open, a triage answer shows the « Appelez le
15 » guidance and makes the message urgent, she records it with the motif's mandatory
questions and clicks « Transmettre »: the doctor's e-mail leaves (django's locmem outbox: the
live server runs in this process) and the SMS file is written (file backend). The doctor
then opens it in the espace client, which marks every forward « lu »; the secretary's proof
shows it. Nothing scrolls sideways.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
CHEST_PAIN = "Douleur thoracique (dans la poitrine) ?"



@pytest.mark.parametrize("size", list(SIZES))
def test_urgent_message_reaches_the_doctor_who_reads_it_in_the_espace_client(
        size: str, new_page: Any, login: Any, agent: Any, supervisor: Any, client_user: Any,
        account: Any, settings: Any, tmp_path: Path,
        page_checked: Any) -> None:
    from permanence.desk.models import Call, Forward
    from permanence.desk.tests.screen_helpers import medical_practice

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    medical_practice(account, supervisor)
    mail.outbox.clear()

    desk = new_page(**SIZES[size])
    login(desk, agent.email)
    desk.goto("/app/poste/")
    expect(desk.get_by_role("heading", name="Nouvel appel")).to_be_visible()
    page_checked(desk)
    desk.get_by_label("Compte appelé (nom ou numéro)").fill("01 45 00 00 01")
    expect(desk.get_by_role("radio", name="Cabinet Martin")).to_be_checked()
    desk.get_by_label("Numéro de l'appelant").fill("06 11 22 33 44")
    desk.get_by_label("Nom de l'appelant").fill("Jean Dupont")
    desk.get_by_role("button", name="Ouvrir la fiche d'appel").click()
    desk.wait_for_url(re.compile(r"/app/poste/appels/\d+/$"))
    call = Call.objects.get()

    # The practice's greeting and consignes.
    expect(desk.locator("[data-greeting]")).to_contain_text("Cabinet médical du Dr Martin")
    expect(desk.get_by_text("14 rue des Lilas", exact=False)).to_be_visible()
    page_checked(desk)

    # Triage first: an emergency answer shows the guidance at once.
    chest = desk.locator("[data-triage]", has_text=CHEST_PAIN)
    expect(chest.locator("[data-triage-alert]")).to_be_hidden()
    chest.get_by_label("Oui").check()
    expect(chest.locator("[data-triage-alert]")).to_be_visible()
    expect(chest.locator("[data-triage-alert]")).to_contain_text("15")

    # The motif, its mandatory questions (saving without them is refused), the message.
    desk.get_by_role("radio", name="Urgence médicale").check()
    questions = desk.locator('[data-motif-questions="urgence"]')
    expect(questions).to_be_visible()
    desk.get_by_label("Message", exact=True).fill(
        "Douleur thoracique depuis 20 minutes, rappeler immédiatement.")
    desk.get_by_role("button", name="Enregistrer").click()
    expect(desk.get_by_text("Réponse obligatoire pour ce motif.").first).to_be_visible()
    questions = desk.locator('[data-motif-questions="urgence"]')
    questions.get_by_label("Nom et prénom du patient").fill("Jean Dupont")
    questions.get_by_role("textbox", name="Téléphone", exact=True).fill("06 11 22 33 44")
    questions.get_by_label("Symptômes").fill("Douleur dans la poitrine, bras gauche")
    questions.get_by_label("Depuis quand ?").fill("20 minutes")
    desk.get_by_role("button", name="Enregistrer").click()
    expect(desk.get_by_text("Appel enregistré.")).to_be_visible()
    call.refresh_from_db()
    assert call.urgency == "urgent" and call.answers["emergency"] is True

    # « Transmettre »: the doctor's e-mail and SMS, with their proof on the screen.
    desk.get_by_role("button", name="Transmettre").click()
    expect(desk.get_by_text("Message transmis à Dr Claire Martin.")).to_be_visible()
    proof = desk.locator("#forwards")
    expect(proof.locator("[data-forward]")).to_have_count(2)
    expect(proof).to_contain_text("Dr Claire Martin")
    page_checked(desk)
    sent = [m for m in mail.outbox if m.to == ["dr.martin@cabinet-martin.test"]]
    assert len(sent) == 1, [(m.to, m.subject) for m in mail.outbox]
    assert sent[0].subject.startswith("[URGENT]")
    assert "rappeler immédiatement" in sent[0].body and "/poste/lu/" in sent[0].body
    sms_files = list((tmp_path / "sms").iterdir())
    assert len(sms_files) == 1 and "+33612345601" in sms_files[0].read_text()
    # The tracked link of the e-mail opens a public page (no login) asking for the click.
    link = re.search(r"/poste/lu/[\w-]+/", sent[0].body)
    assert link is not None
    public = new_page(**SIZES[size])
    public.goto(link.group(0))
    expect(public.get_by_role("button", name="J'ai pris connaissance")).to_be_visible()
    page_checked(public)

    # The doctor reads it in the espace client: every forward becomes « lu ».
    doctor = new_page(**SIZES[size])
    login(doctor, client_user.email)
    doctor.goto("/espace/appels/")
    page_checked(doctor)
    doctor.get_by_role("link", name=re.compile("Urgence médicale — Jean Dupont")).click()
    expect(doctor.locator("[data-message]")).to_contain_text("rappeler immédiatement")
    page_checked(doctor)
    assert set(Forward.objects.values_list("status", flat=True)) == {"read"}
    doctor.get_by_role("button", name="Marquer comme traité").click()
    expect(doctor.get_by_text("Message marqué comme traité.")).to_be_visible()

    # The secretary's proof follows (refreshed in place), then she ends the wrap-up.
    expect(desk.locator('#forwards [data-status="read"]')).to_have_count(2, timeout=15_000)
    desk.get_by_role("button", name="Terminer").click()
    expect(desk.get_by_text("Appel terminé.")).to_be_visible()
    call.refresh_from_db()
    assert call.state == "ended" and call.handled_at is not None

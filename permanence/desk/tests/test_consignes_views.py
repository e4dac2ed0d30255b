"""Consignes pages: staff (list, sheet, « J'ai lu », edit form, history) and the espace client
(read, edit, history); isolation (an agent not assigned gets a 404, a client only ever reaches
its own account's consignes); French UI."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from permanence.desk.consignes import consigne_current, consigne_save
from permanence.desk.demo import demo_consignes
from permanence.desk.forms_consignes import ConsigneEditor, initial_from_content
from permanence.desk.models import ConsigneRead, ConsigneVersion
from permanence.inbox.models import Notification


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def form_data(content: dict[str, Any] | None, base: int | None = None,
              **changes: Any) -> dict[str, Any]:
    """What the browser posts for the edit form filled with `content` (then `changes`),
    started from version `base` (the version in force, by default)."""
    editor = ConsigneEditor(content=content)
    if base is None:
        current = ConsigneVersion.objects.order_by("-number").first()
        base = current.number if current and content is not None else None
    data: dict[str, Any] = {"base": "" if base is None else str(base)}
    forms = [editor.main]
    for formset in editor.sets.values():
        mf = formset.management_form
        for name in mf.fields:
            data[mf[name].html_name] = mf[name].value()
        forms += formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value in (None, False):
                continue
            data[form[name].html_name] = value
    data.update(changes)
    return data


@pytest.fixture
def medical(account: Any, supervisor: Any) -> Any:
    consigne_save(actor=supervisor, account=account,
                  content=demo_consignes(2026)["cabinet-martin"])
    return account


def test_menu_has_poste_and_consignes(agent: Any, account: Any) -> None:
    page = login(agent).get(reverse("desk:consignes")).content.decode()
    assert ">Poste</a>" in page
    assert f'href="{reverse("desk:consignes")}"' in page


def test_list_shows_visible_accounts_and_unread_for_supervisors(
        medical: Any, other_account: Any, agent: Any, supervisor: Any) -> None:
    page = login(agent).get(reverse("desk:consignes")).content.decode()
    assert "Cabinet Martin" in page and "Durand Avocats" not in page
    assert "à lire" in page
    page = login(supervisor).get(reverse("desk:consignes")).content.decode()
    assert "Durand Avocats" in page and "Aucune consigne" in page
    assert "1 télésecrétaire" in page  # agent has not read the medical sheet


def test_sheet_is_readable_at_a_glance(medical: Any, agent: Any) -> None:
    response = login(agent).get(reverse("desk:consignes_detail", args=[medical.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    # The greeting with the secretary's first name and the account's hours.
    assert "Cabinet médical du Dr Martin, bonjour, agent à votre écoute." in page
    assert "Le cabinet est ouvert du lundi au vendredi de 8 h 30 à 12 h 30" in page
    assert "Tri des urgences" in page and "Douleur thoracique" in page
    assert "Appelez immédiatement le 15 (SAMU) ou le 112" in page
    assert "Renouvellement d&#x27;ordonnance" in page
    assert "06 12 34 56 01" in page  # phone numbers in the national format
    assert "ai lu ces consignes</button>" in page


def test_agent_confirms_reading_and_supervisor_sees_who_has_not(
        medical: Any, agent: Any, supervisor: Any) -> None:
    detail = reverse("desk:consignes_detail", args=[medical.pk])
    page = login(supervisor).get(detail).content.decode()
    assert "Pas encore lue par" in page and "agent" in page
    response = login(agent).post(reverse("desk:consignes_read", args=[medical.pk]),
                                 {"version": "1"})
    assert response.status_code == 302
    assert ConsigneRead.objects.filter(user=agent, version__number=1).exists()
    assert "Vous avez lu cette version." in login(agent).get(detail).content.decode()
    page = login(supervisor).get(detail).content.decode()
    assert "Lue par toutes les télésecrétaires affectées" in page


def test_reading_an_outdated_version_is_refused(medical: Any, agent: Any) -> None:
    response = login(agent).post(reverse("desk:consignes_read", args=[medical.pk]),
                                 {"version": "0"}, follow=True)
    assert "Une version plus récente" in response.content.decode()
    assert not ConsigneRead.objects.filter(user=agent).exists()


def test_agent_not_assigned_gets_404(medical: Any, other_agent: Any) -> None:
    client = login(other_agent)
    for name in ("desk:consignes_detail", "desk:consignes_edit", "desk:consignes_history"):
        assert client.get(reverse(name, args=[medical.pk])).status_code == 404
    assert client.get(reverse("desk:consignes_version", args=[medical.pk, 1])).status_code == 404
    assert client.post(reverse("desk:consignes_edit", args=[medical.pk]),
                       form_data(None, notes="x")).status_code == 404
    assert client.post(reverse("desk:consignes_read", args=[medical.pk])).status_code == 404
    assert ConsigneVersion.objects.count() == 1


def test_billing_reads_but_does_not_edit(medical: Any, billing: Any) -> None:
    client = login(billing)
    assert client.get(reverse("desk:consignes_detail", args=[medical.pk])).status_code == 200
    assert client.get(reverse("desk:consignes_edit", args=[medical.pk])).status_code == 403
    assert client.post(reverse("desk:consignes_edit", args=[medical.pk]),
                       form_data(None, notes="x")).status_code == 403
    assert ConsigneVersion.objects.count() == 1


def test_staff_edit_form_round_trip_creates_a_version(medical: Any, agent: Any) -> None:
    url = reverse("desk:consignes_edit", args=[medical.pk])
    page = login(agent).get(url).content.decode()
    assert "Motifs d&#x27;appel" in page and "Ajouter un motif" in page
    assert 'id="motifs-empty"' in page  # the blank row JavaScript clones
    current = consigne_current(medical)
    data = form_data(current.content, notes="Nouvelle consigne : vouvoyer.")
    response = login(agent).post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    new = consigne_current(medical)
    assert new.number == 2 and new.author == agent
    assert new.content["notes"] == "Nouvelle consigne : vouvoyer."
    # Everything else came back unchanged through the form.
    assert {k: v for k, v in new.content.items() if k != "notes"} == {
        k: v for k, v in current.content.items() if k != "notes"}


def test_unchanged_form_writes_no_version(medical: Any, agent: Any) -> None:
    url = reverse("desk:consignes_edit", args=[medical.pk])
    response = login(agent).post(url, form_data(consigne_current(medical).content),
                                 follow=True)
    assert "Aucune modification" in response.content.decode()
    assert ConsigneVersion.objects.count() == 1


def test_form_errors_are_shown_next_to_the_field(medical: Any, agent: Any) -> None:
    url = reverse("desk:consignes_edit", args=[medical.pk])
    data = form_data(consigne_current(medical).content, **{
        "recipients-0-email": "pas-un-email", "motifs-0-handling": "transfer",
        "motifs-0-transfer_to": ""})
    response = login(agent).post(url, data)
    page = response.content.decode()
    assert response.status_code == 422
    assert "Adresse e-mail invalide." in page
    assert "Indiquez le numéro vers lequel transférer." in page
    assert ConsigneVersion.objects.count() == 1


def test_add_and_remove_rows_without_javascript(medical: Any, agent: Any) -> None:
    url = reverse("desk:consignes_edit", args=[medical.pk])
    content = consigne_current(medical).content
    data = form_data(content, add="vip")
    total = int(data["vip-TOTAL_FORMS"])
    response = login(agent).post(url, data)
    assert response.status_code == 200
    assert f'name="vip-{total}-number"' in response.content.decode()
    assert ConsigneVersion.objects.count() == 1  # « Ajouter » does not save
    # Remove the first motif, add a VIP in the new row.
    data = form_data(content, **{"motifs-0-DELETE": "on", "vip-1-number": "06 11 22 33 44",
                                 "vip-1-name": "M. Girard"})
    assert login(agent).post(url, data).status_code == 302
    new = consigne_current(medical)
    assert [m["code"] for m in new.content["motifs"]][0] == "ordonnance"
    assert {"number": "+33611223344", "name": "M. Girard", "note": ""} in new.content["vip"]


def test_history_shows_who_when_and_the_diff(medical: Any, agent: Any) -> None:
    content = dict(consigne_current(medical).content, notes="Autre")
    consigne_save(actor=agent, account=medical, content=content)
    page = login(agent).get(reverse("desk:consignes_history", args=[medical.pk])
                            ).content.decode()
    assert "Version 2" in page and "Version 1" in page
    assert "agent" in page and "superviseur" in page
    assert "<del>" in page and "Autre" in page
    response = login(agent).get(reverse("desk:consignes_version", args=[medical.pk, 1]))
    assert "remplacée (version en vigueur : 2)" in response.content.decode()
    assert login(agent).get(reverse("desk:consignes_version",
                                    args=[medical.pk, 9])).status_code == 404


# --- Espace client ------------------------------------------------------------------------------


def test_client_reads_and_edits_its_consignes(medical: Any, client_user: Any,
                                              agent: Any) -> None:
    client = login(client_user)
    page = client.get(reverse("portal:consignes")).content.decode()
    assert "Vos consignes" in page and "Douleur thoracique" in page
    assert f'href="{reverse("portal:consignes")}"' in page  # the menu entry
    edit = client.get(reverse("portal:consignes_edit"))
    assert edit.status_code == 200
    data = form_data(consigne_current(medical).content,
                     **{"about_prices": "Consultation 30 € (secteur 1)"})
    response = client.post(reverse("portal:consignes_edit"), data)
    assert response.status_code == 302
    version = consigne_current(medical)
    assert version.number == 2 and version.by_client and version.author == client_user
    assert Notification.objects.filter(user=agent, kind="consignes").exists()
    history = client.get(reverse("portal:consignes_history")).content.decode()
    assert "Tarifs communicables" in history


def test_client_form_errors_are_422(medical: Any, client_user: Any) -> None:
    data = form_data(consigne_current(medical).content, **{"absences-0-end": "2020-01-01"})
    response = login(client_user).post(reverse("portal:consignes_edit"), data)
    assert response.status_code == 422
    assert "La fin précède le début." in response.content.decode()


def test_client_only_reaches_its_own_accounts_consignes(
        medical: Any, other_account: Any, client_user: Any, outsider_client: Any) -> None:
    outsider = login(outsider_client)
    page = outsider.get(reverse("portal:consignes")).content.decode()
    assert "Douleur thoracique" not in page  # its own (empty) consignes, not the practice's
    outsider.post(reverse("portal:consignes_edit"), form_data(None, notes="Chez moi"))
    assert consigne_current(other_account).content["notes"] == "Chez moi"
    assert consigne_current(medical).number == 1
    # Switching to an account that is not its own: 404; the staff pages: 403.
    assert outsider.post(reverse("portal:switch"), {"account": medical.pk}).status_code == 404
    assert outsider.get(reverse("desk:consignes_detail", args=[medical.pk])).status_code == 403
    assert outsider.post(reverse("desk:consignes_edit", args=[medical.pk]),
                         form_data(None, notes="x")).status_code == 403
    assert consigne_current(medical).number == 1


def test_staff_cannot_use_the_portal_pages(agent: Any, account: Any) -> None:
    assert login(agent).get(reverse("portal:consignes")).status_code == 403


@pytest.mark.parametrize("data", [
    {},
    {"motifs-TOTAL_FORMS": "abc", "motifs-INITIAL_FORMS": "x", "add": "motifs"},
    {"vip-TOTAL_FORMS": "99999", "vip-INITIAL_FORMS": "0", "add": "vip"},
    {"greeting": "x" * 5000},
])
def test_bad_posts_are_field_errors_never_500(account: Any, agent: Any,
                                              data: dict[str, str]) -> None:
    response = login(agent).post(reverse("desk:consignes_edit", args=[account.pk]), data)
    assert response.status_code in (200, 422)
    assert ConsigneVersion.objects.count() == 0


def test_first_version_from_a_blank_form(account: Any, agent: Any) -> None:
    url = reverse("desk:consignes_edit", args=[account.pk])
    page = login(agent).get(url).content.decode()
    assert "Première version des consignes de ce compte." in page
    data = form_data(None, greeting="{compte}, bonjour !", **{
        "recipients-0-name": "Dr Martin", "recipients-0-email": "dr@exemple.fr",
        "recipients-0-phone": "06 12 34 56 78",
        "motifs-0-label": "Urgence", "motifs-0-handling": "urgent",
        "motifs-0-questions": "Nom\nTéléphone",
        "triage-0-question": "Douleur thoracique ?",
        "triage-0-guidance": "Appelez le 15 (SAMU) ou le 112"})
    assert login(agent).post(url, data).status_code == 302
    version = consigne_current(account)
    assert version.number == 1
    assert version.content["recipients"][0]["phone"] == "+33612345678"
    assert version.content["motifs"][0]["questions"] == ["Nom", "Téléphone"]
    assert version.content["triage"][0]["emergency"] == "yes"  # stored as a key, not a word


def test_a_rule_can_name_a_recipient_added_on_the_same_page(account: Any, agent: Any) -> None:
    """Without JavaScript: « Ajouter une règle » comes back with the recipients just typed
    offered as choices, and saving keeps them."""
    url = reverse("desk:consignes_edit", args=[account.pk])
    data = form_data(None, add="notify", **{"recipients-0-name": "Dr Martin",
                                            "recipients-0-phone": "06 12 34 56 78"})
    page = login(agent).post(url, data).content.decode()
    assert 'name="notify-0-recipients" value="dr-martin"' in page
    data.pop("add")
    data.update({"notify-0-recipients": "dr-martin", "notify-0-channels": "sms",
                 "notify-0-urgency": "urgent", "notify-0-motif": "*", "notify-0-when": "always"})
    assert login(agent).post(url, data).status_code == 302
    rule = consigne_current(account).content["notify"][0]
    assert rule["recipients"] == ["dr-martin"] and rule["channels"] == ["sms"]


def test_an_edit_started_before_someone_elses_save_is_not_silently_lost(
        medical: Any, agent: Any, client_user: Any) -> None:
    url = reverse("desk:consignes_edit", args=[medical.pk])
    content = consigne_current(medical).content
    mine = form_data(content, base=1, notes="Ma version")
    # Meanwhile the client saves version 2.
    consigne_save(actor=client_user, account=medical, content=dict(content, notes="Client"))
    response = login(agent).post(url, mine)
    page = response.content.decode()
    assert response.status_code == 422
    assert "modifiées pendant votre saisie (version 2" in page
    assert 'name="base" value="2"' in page  # saving again confirms
    assert consigne_current(medical).number == 2
    mine["base"] = "2"
    assert login(agent).post(url, mine).status_code == 302
    assert consigne_current(medical).content["notes"] == "Ma version"


def test_editor_shows_the_stored_emergency_key_in_words() -> None:
    _main, rows = initial_from_content({"triage": [
        {"question": "A ?", "emergency": "oui", "guidance": "15"},  # as older versions stored it
        {"question": "B ?", "emergency": "no", "guidance": "15"},
        {"question": "C ?", "emergency": "plus de 40°", "guidance": "15"}]})
    # « oui » is the empty field (its help text says so); the others in words.
    assert [r["emergency"] for r in rows["triage"]] == ["", "non", "plus de 40°"]

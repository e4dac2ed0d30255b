"""Consignes: validation with field errors, versioning (never an update), the readable diff,
who may write, who is told, « J'ai lu ces consignes », the demo seeding (idempotent)."""

from __future__ import annotations

from typing import Any

import pytest

from permanence.audit.models import AuditEvent
from permanence.core.errors import DomainError
from permanence.desk.consignes import (
    consigne_clean,
    consigne_content,
    consigne_current,
    consigne_diff,
    consigne_mark_read,
    consigne_save,
    consigne_summaries,
    consigne_unread_by,
)
from permanence.desk.consignes_doc import diff_summary
from permanence.desk.demo import demo_consignes, seed_consignes
from permanence.desk.models import ConsigneRead, ConsigneVersion
from permanence.inbox.models import Notification


def _errors(content: Any) -> dict[str, list[str]]:
    with pytest.raises(DomainError) as exc:
        consigne_clean(content)
    assert exc.value.status == 422
    return exc.value.fields


# --- Validation -------------------------------------------------------------------------------


def test_clean_fills_every_key_and_normalises() -> None:
    doc = consigne_clean({
        "motifs": [{"label": "Prise de rendez-vous", "questions": "Nom\n\nDate de naissance\n"}],
        "recipients": [{"name": "Dr Martin", "email": "DR@Exemple.FR",
                        "phone": "06 12 34 56 78"}],
        "blocked": "01 45 00 00 09\n+33145000009\n",
        "absences": [{"start": "2026-12-21", "end": "2027-01-03", "who": "Dr Martin"}],
    })
    assert doc["motifs"][0]["code"] == "prise-de-rendez-vous"
    assert doc["motifs"][0]["handling"] == "message"
    assert doc["motifs"][0]["questions"] == ["Nom", "Date de naissance"]
    assert doc["recipients"][0] == {"key": "dr-martin", "name": "Dr Martin",
                                    "email": "dr@exemple.fr", "phone": "+33612345678",
                                    "role": ""}
    assert doc["blocked"] == ["+33145000009"]  # the same number once
    assert doc["absences"][0]["who"] == "dr-martin"  # a name becomes the recipient's key
    assert set(doc) == {"greeting", "about", "motifs", "recipients", "notify", "escalation",
                        "vip", "blocked", "triage", "absences", "notes", "confidential"}


def test_empty_rows_are_ignored() -> None:
    doc = consigne_clean({"motifs": [{}, {"label": "", "handling": "message"}],
                          "notify": [{"motif": "*", "urgency": "any", "when": "always"}],
                          "triage": [{"question": "", "emergency": "", "guidance": ""}]})
    assert doc["motifs"] == [] and doc["notify"] == [] and doc["triage"] == []


def test_errors_name_the_field_and_row() -> None:
    fields = _errors({
        "greeting": "Bonjour {client}",
        "motifs": [{"label": "Urgence", "handling": "transfer"},
                   {"label": "Autre", "handling": "voler", "callback_minutes": "demain"}],
        "recipients": [{"name": "Dr Martin", "email": "pas-un-email", "phone": "123"},
                       {"name": "Sans moyen"}],
        "notify": [{"motif": "inconnu", "recipients": ["personne"], "channels": ["fax"]}],
        "vip": [{"name": "Sans numéro"}],
        "triage": [{"question": "Douleur thoracique ?"}],
        "absences": [{"start": "2026-12-21", "end": "2026-12-01", "who": "Dr Martin"}],
        "escalation": {"recipients": ["dr-martin"], "channels": ["sms"]},
    })
    assert "{client}" in fields["greeting"][0]
    assert fields["motifs.0.transfer_to"] == ["Indiquez le numéro vers lequel transférer."]
    assert "motifs.1.handling" in fields and "motifs.1.callback_minutes" in fields
    assert fields["recipients.0.email"] == ["Adresse e-mail invalide."]
    assert "recipients.0.phone" in fields
    assert fields["recipients.1.email"] == ["Indiquez un e-mail ou un téléphone."]
    assert "notify.0.motif" in fields and "notify.0.recipients" in fields
    assert "notify.0.channels" in fields
    assert fields["vip.0.number"] == ["Ce champ est obligatoire."]
    assert fields["triage.0.guidance"] == ["Ce champ est obligatoire."]
    assert fields["absences.0.end"] == ["La fin précède le début."]
    assert fields["escalation.delay_minutes"] == ["Indiquez le délai avant l'escalade."]


def test_sms_needs_a_phone_number() -> None:
    fields = _errors({"recipients": [{"name": "Accueil", "email": "accueil@exemple.fr"}],
                      "notify": [{"recipients": ["accueil"], "channels": ["sms"]}]})
    assert fields["notify.0.channels"] == ["Accueil n'a pas de numéro pour les SMS."]


def test_emergency_numbers_are_accepted_as_transfer_targets() -> None:
    doc = consigne_clean({"motifs": [{"label": "SAMU", "handling": "transfer",
                                      "transfer_to": "15"}]})
    assert doc["motifs"][0]["transfer_to"] == "15"


def test_not_an_object_is_a_field_error() -> None:
    assert "__all__" in _errors(["pas", "un", "objet"])
    assert _errors({"motifs": "texte"})["motifs"] == ["Une liste est attendue."]


def test_demo_sheets_are_valid() -> None:
    for content in demo_consignes(2026).values():
        assert consigne_clean(content) == consigne_clean(consigne_clean(content))


# --- Versioning -------------------------------------------------------------------------------


def test_each_save_is_a_new_version_with_author_and_summary(
        account: Any, supervisor: Any, client_user: Any) -> None:
    v1 = consigne_save(actor=supervisor, account=account,
                       content={"greeting": "{compte}, bonjour."})
    v2 = consigne_save(actor=client_user, account=account,
                       content={"greeting": "{compte}, bonjour.", "notes": "Vouvoyer."})
    assert (v1.number, v2.number) == (1, 2)
    assert v1.author == supervisor and not v1.by_client
    assert v2.author == client_user and v2.by_client
    # The summary made from the diff is words: made when read, in the reader's language.
    assert v2.summary == ""
    assert consigne_summaries(account, [v2, v1]) == {2: "Notes : 1 ajout", 1: "Accueil : 1 ajout"}
    assert ConsigneVersion.objects.filter(account=account).count() == 2
    v1.refresh_from_db()
    assert v1.content["notes"] == ""  # never updated
    assert AuditEvent.objects.filter(target_type="desk.consigneversion",
                                     target_id=str(v2.pk), actor=client_user).exists()


def test_saving_the_same_content_writes_nothing(account: Any, supervisor: Any) -> None:
    v1 = consigne_save(actor=supervisor, account=account, content={"notes": "A"})
    again = consigne_save(actor=supervisor, account=account, content={"notes": " A "})
    assert again.pk == v1.pk
    assert ConsigneVersion.objects.filter(account=account).count() == 1


def test_invalid_content_writes_nothing(account: Any, supervisor: Any) -> None:
    with pytest.raises(DomainError):
        consigne_save(actor=supervisor, account=account,
                      content={"recipients": [{"name": "X", "email": "faux"}]})
    assert consigne_current(account) is None


def test_given_summary_is_kept(account: Any, supervisor: Any) -> None:
    v = consigne_save(actor=supervisor, account=account, content={"notes": "A"},
                      summary="Réunion de lancement")
    assert v.summary == "Réunion de lancement"


# --- Diff -------------------------------------------------------------------------------------


def test_diff_reads_section_by_section() -> None:
    old = consigne_clean({
        "greeting": "Bonjour",
        "motifs": [{"label": "Rendez-vous", "handling": "appointment"},
                   {"label": "Ordonnance"}],
        "recipients": [{"name": "Dr Martin", "email": "dr@exemple.fr"}],
        "about": {"prices": "25 €"},
    })
    new = consigne_clean({
        "greeting": "Bonjour, cabinet du Dr Martin",
        "motifs": [{"label": "Rendez-vous", "handling": "appointment",
                    "questions": ["Date de naissance"]},
                   {"label": "Urgence", "handling": "urgent"}],
        "recipients": [{"name": "Dr Martin", "email": "dr@exemple.fr"}],
        "about": {"prices": "30 €"},
        "triage": [{"question": "Douleur thoracique ?", "guidance": "Appelez le 15"}],
    })
    changes = consigne_diff(old, new)
    lines = {(c.section, c.kind, c.label) for c in changes}
    assert ("Accueil", "changed", "Accueil") in lines
    assert ("Informations", "changed", "Tarifs communicables") in lines
    assert ("Tri des urgences", "added",
            "Douleur thoracique ? (oui) → Appelez le 15") in lines
    assert ("Motifs d'appel", "changed", "Rendez-vous") in lines
    assert ("Motifs d'appel", "removed",
            "Ordonnance — Prendre un message") in lines
    assert ("Motifs d'appel", "added", "Urgence — Urgence : escalade immédiate") in lines
    prices = next(c for c in changes if c.label == "Tarifs communicables")
    assert (prices.before, prices.after) == ("25 €", "30 €")
    assert not any(c.section == "Destinataires" for c in changes)
    assert diff_summary(changes) == (
        "Accueil : 1 modification ; Informations : 1 modification ; "
        "Motifs d'appel : 1 ajout, 1 modification, 1 suppression ; Tri des urgences : 1 ajout")


def test_diff_against_nothing_lists_everything_added() -> None:
    changes = consigne_diff(None, consigne_clean({"notes": "Vouvoyer"}))
    assert [(c.section, c.kind) for c in changes] == [("Notes", "added")]
    assert consigne_diff(consigne_clean({}), consigne_clean({})) == []


# --- Who may write, who is told ------------------------------------------------------------------


def test_a_client_cannot_write_another_accounts_consignes(
        account: Any, other_account: Any, client_user: Any) -> None:
    with pytest.raises(DomainError) as exc:
        consigne_save(actor=client_user, account=other_account, content={"notes": "x"})
    assert exc.value.status == 404
    assert consigne_current(other_account) is None


def test_an_agent_not_assigned_cannot_write(account: Any, other_agent: Any) -> None:
    with pytest.raises(DomainError) as exc:
        consigne_save(actor=other_agent, account=account, content={"notes": "x"})
    assert exc.value.status == 404


def test_billing_cannot_write(account: Any, billing: Any) -> None:
    with pytest.raises(DomainError) as exc:
        consigne_save(actor=billing, account=account, content={"notes": "x"})
    assert exc.value.status == 403


def test_a_clients_change_notifies_the_assigned_agents_and_supervisors(
        account: Any, client_user: Any, agent: Any, supervisor: Any,
        other_agent: Any) -> None:
    consigne_save(actor=client_user, account=account, content={"notes": "Vouvoyer."})
    texts = dict(Notification.objects.values_list("user__email", "text"))
    assert set(texts) == {agent.email, supervisor.email}
    assert texts[agent.email] == "Cabinet Martin a modifié ses consignes (version 1) : à lire."
    link = Notification.objects.get(user=agent).link
    assert link == f"/app/poste/consignes/{account.pk}/"


def test_a_staff_change_notifies_the_other_assigned_agents(
        account: Any, agent: Any, other_agent: Any) -> None:
    account.assigned_agents.add(other_agent)
    consigne_save(actor=agent, account=account, content={"notes": "Vouvoyer."})
    assert list(Notification.objects.values_list("user__email", flat=True)) == [
        other_agent.email]


# --- Reading --------------------------------------------------------------------------------------


def test_mark_read_is_idempotent_and_only_for_the_version_in_force(
        account: Any, supervisor: Any, agent: Any) -> None:
    v1 = consigne_save(actor=supervisor, account=account, content={"notes": "A"})
    assert consigne_unread_by(account) == [agent]
    consigne_mark_read(user=agent, version=v1)
    consigne_mark_read(user=agent, version=v1)
    assert ConsigneRead.objects.filter(user=agent).count() == 1
    assert consigne_unread_by(account) == []
    v2 = consigne_save(actor=supervisor, account=account, content={"notes": "B"})
    assert consigne_unread_by(account) == [agent]  # a new version is to read again
    with pytest.raises(DomainError) as exc:
        consigne_mark_read(user=agent, version=v1)
    assert exc.value.status == 409
    consigne_mark_read(user=agent, version=v2)
    assert consigne_unread_by(account) == []


def test_the_staff_author_has_read_their_version(account: Any, agent: Any) -> None:
    v = consigne_save(actor=agent, account=account, content={"notes": "A"})
    assert ConsigneRead.objects.filter(version=v, user=agent).exists()


def test_mark_read_refused_to_outsiders(account: Any, supervisor: Any, other_agent: Any,
                                        client_user: Any, billing: Any) -> None:
    v = consigne_save(actor=supervisor, account=account, content={"notes": "A"})
    for user, status in ((other_agent, 404), (client_user, 403), (billing, 403)):
        with pytest.raises(DomainError) as exc:
            consigne_mark_read(user=user, version=v)
        assert exc.value.status == status
    assert ConsigneRead.objects.filter(version=v).exclude(user=supervisor).count() == 0


# --- Demo -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_is_idempotent(capsys: Any) -> None:
    from django.core.management import call_command

    call_command("seed_demo")
    counts = dict(ConsigneVersion.objects.values_list("account__slug", "number").order_by(
        "account__slug", "number"))
    assert counts == {"bati-renov": 1, "cabinet-martin": 2, "durand-avocats": 1,
                      "jolies-bougies": 1}
    medical = consigne_current(ConsigneVersion.objects.get(
        account__slug="cabinet-martin", number=2).account)
    assert medical is not None and medical.by_client
    assert any("15 (SAMU) ou le 112" in t["guidance"] for t in medical.content["triage"])
    total = ConsigneVersion.objects.count()
    call_command("seed_demo")
    assert ConsigneVersion.objects.count() == total
    assert seed_consignes() == 0


def test_a_version_reads_as_its_account_and_number(account: Any, supervisor: Any) -> None:
    version = consigne_save(actor=supervisor, account=account, content={"notes": "Note"})
    assert str(version) == "Cabinet Martin — version 1"


def test_triage_emergency_is_stored_as_a_key_and_older_words_still_read() -> None:
    cleaned = consigne_clean({"triage": [
        {"question": "Douleur ?", "guidance": "Appelez le 15"},
        {"question": "Respire ?", "emergency": "Non", "guidance": "Appelez le 15"},
        {"question": "Fièvre ?", "emergency": "plus de 40°", "guidance": "Appelez le 15"}]})
    assert [t["emergency"] for t in cleaned["triage"]] == ["yes", "no", "plus de 40°"]
    # A version saved before stored the French word: read as the key, no change in the diff.
    old = {"triage": [{"question": "Douleur ?", "emergency": "oui", "guidance": "Appelez le 15"}]}
    assert consigne_content(old)["triage"][0]["emergency"] == "yes"
    assert old["triage"][0]["emergency"] == "oui"  # the stored document is left as it is
    new = {"triage": [{"question": "Douleur ?", "emergency": "yes", "guidance": "Appelez le 15"}]}
    assert consigne_diff(old, new) == []
    lines = [f"{c.label}" for c in consigne_diff(None, new)]
    assert "Douleur ? (oui) → Appelez le 15" in lines

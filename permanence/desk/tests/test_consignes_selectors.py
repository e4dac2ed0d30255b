"""The reads the call screen and the forwarding rely on: version in force, motif, triage,
who is told what and how (motif, urgency, business hours, absences), the greeting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from permanence.calendars.models import BusinessCalendar, Closure
from permanence.core import clock
from permanence.desk.consignes import (
    consigne_caller,
    consigne_current,
    consigne_escalation,
    consigne_greeting,
    consigne_motif,
    consigne_recipients_for,
    consigne_save,
    consigne_triage,
    consigne_unread_by,
    consigne_versions,
    hours_text,
)
from permanence.desk.demo import demo_consignes

# Europe/Paris is UTC+1 in December: Thursday 10 December 2026.
THU_10H = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)  # 10:00 local, open
THU_22H = datetime(2026, 12, 10, 21, 0, tzinfo=UTC)  # 22:00 local, closed
HOLIDAY_10H = datetime(2026, 12, 23, 9, 0, tzinfo=UTC)  # Dr Martin away, Dr Lefèvre replaces


@pytest.fixture
def medical(account: Any) -> Any:
    calendar = BusinessCalendar.objects.create(name="Cabinet", weekly={
        **{d: [["08:00", "12:30"], ["13:30", "19:00"]] for d in ("mon", "tue", "wed", "thu",
                                                                 "fri")},
        "sat": [["08:00", "12:00"]], "sun": []})
    account.calendar = calendar
    account.save()
    return account


@pytest.fixture
def version(medical: Any, supervisor: Any) -> Any:
    return consigne_save(actor=supervisor, account=medical,
                         content=demo_consignes(2026)["cabinet-martin"])


def _by_key(recipients: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in recipients}


def test_no_consignes_yet(account: Any) -> None:
    assert consigne_current(account) is None
    assert list(consigne_versions(account)) == []
    assert consigne_unread_by(account) == []
    assert consigne_triage(None) == []
    assert consigne_motif(None, "rdv") is None
    assert consigne_recipients_for(None, "rdv", False, THU_10H) == []


def test_current_is_the_latest_version(version: Any, supervisor: Any, medical: Any) -> None:
    content = dict(version.content, notes="Nouvelle note")
    v2 = consigne_save(actor=supervisor, account=medical, content=content)
    assert v2.number == 2
    assert consigne_current(medical) == v2
    assert [v.number for v in consigne_versions(medical)] == [2, 1]
    # The first version still says what it said (a call that applied it keeps showing it).
    version.refresh_from_db()
    assert version.content["notes"] != "Nouvelle note"


def test_motif_and_triage(version: Any) -> None:
    motif = consigne_motif(version, "urgence")
    assert motif is not None
    assert motif["handling"] == "urgent"
    assert "Symptômes" in motif["questions"]
    assert consigne_motif(version, "inconnu") is None
    triage = consigne_triage(version)
    chest = triage[0]
    assert chest["question"].startswith("Douleur thoracique")
    assert chest["emergency"] == "yes"  # a key, whatever the language of the consignes
    assert "15 (SAMU) ou le 112" in chest["guidance"]
    assert any(t["question"] == "Difficulté à respirer ?" for t in triage)


def test_routine_message_in_business_hours_goes_to_the_practice_by_email(version: Any) -> None:
    got = _by_key(consigne_recipients_for(version, "rdv", False, THU_10H))
    assert set(got) == {"secretariat"}
    assert got["secretariat"]["channels"] == ["email"]
    assert got["secretariat"]["email"] == "accueil@cabinet-martin.test"


def test_routine_message_out_of_hours_goes_to_the_doctor(version: Any) -> None:
    got = _by_key(consigne_recipients_for(version, "rdv", False, THU_22H))
    assert set(got) == {"dr-martin"}
    assert got["dr-martin"]["channels"] == ["email"]


def test_urgent_message_reaches_the_doctor_by_email_and_sms(version: Any) -> None:
    got = _by_key(consigne_recipients_for(version, "rdv", True, THU_10H))
    assert got["dr-martin"]["channels"] == ["email", "sms"]
    assert got["dr-martin"]["phone"] == "+33612345601"
    # Non-urgent rules do not apply to an urgent message.
    assert "secretariat" not in got


def test_a_motif_handled_as_urgent_counts_as_urgent(version: Any) -> None:
    got = _by_key(consigne_recipients_for(version, "urgence", False, THU_10H))
    assert got["dr-martin"]["channels"] == ["email", "sms"]


def test_motif_specific_rules_add_up(version: Any) -> None:
    got = _by_key(consigne_recipients_for(version, "ordonnance", False, THU_10H))
    assert set(got) == {"secretariat", "dr-martin"}


def test_absent_recipient_is_replaced(version: Any) -> None:
    got = consigne_recipients_for(version, "rdv", True, HOLIDAY_10H)
    keys = _by_key(got)
    assert "dr-martin" not in keys
    assert keys["dr-lefevre"]["channels"] == ["email", "sms"]
    assert keys["dr-lefevre"]["replaces"] == "Dr Claire Martin"


def test_without_matching_rule_everyone_gets_an_email(medical: Any, supervisor: Any) -> None:
    version = consigne_save(actor=supervisor, account=medical, content={
        "recipients": [{"name": "Dr A", "email": "a@test.fr"},
                       {"name": "Dr B", "phone": "06 12 34 56 78"}]})
    got = _by_key(consigne_recipients_for(version, "", False, THU_10H))
    # Dr B has no e-mail address: an e-mail cannot reach her, she is left out.
    assert set(got) == {"dr-a"}
    assert got["dr-a"]["channels"] == ["email"]


def test_escalation(version: Any) -> None:
    delay, recipients = consigne_escalation(version, THU_10H)
    assert delay == 15
    assert recipients[0]["key"] == "dr-lefevre"
    assert recipients[0]["channels"] == ["email", "sms"]


def test_caller_vip_and_blocked(version: Any) -> None:
    assert consigne_caller(version, "+33143000099")["vip"]["name"].startswith("Laboratoire")
    assert consigne_caller(version, "+33899000000")["blocked"] is True
    assert consigne_caller(version, "+33600000000") == {"vip": None, "blocked": False}


def test_greeting_renders_account_hours_and_secretary(version: Any, medical: Any) -> None:
    with clock.frozen(THU_10H):
        text = consigne_greeting(medical, version, secretaire="Amandine")
        assert hours_text(medical) in text
    assert text.startswith("Cabinet médical du Dr Martin, bonjour, Amandine à votre écoute.")
    assert ("du lundi au vendredi de 8 h à 12 h 30 et de 13 h 30 à 19 h, "
            "le samedi de 8 h à 12 h") in text
    assert "fermé" not in text


USUAL_HOURS = ("du lundi au vendredi de 8 h à 12 h 30 et de 13 h 30 à 19 h, "
               "le samedi de 8 h à 12 h")


def test_hours_say_closed_on_a_public_holiday(version: Any, medical: Any) -> None:
    christmas = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)  # a Friday: open any other week
    assert hours_text(medical, christmas) == (
        f"fermé aujourd'hui (jour férié) ; horaires habituels : {USUAL_HOURS}")
    with clock.frozen(christmas):
        assert "fermé aujourd'hui (jour férié)" in consigne_greeting(medical, version)


def test_hours_give_the_reason_of_a_closure_covering_today(medical: Any) -> None:
    Closure.objects.create(calendar=medical.calendar, start=datetime(2026, 12, 9, 23, 0, tzinfo=UTC),
                           end=datetime(2026, 12, 12, 23, 0, tzinfo=UTC),
                           message="Inventaire annuel")
    assert hours_text(medical, THU_10H).startswith("fermé aujourd'hui (Inventaire annuel) ;")
    # The day after the closure the usual hours again (Sunday 13 is closed every week).
    assert hours_text(medical, datetime(2026, 12, 14, 9, 0, tzinfo=UTC)) == USUAL_HOURS


def test_hours_on_a_closure_without_message(medical: Any) -> None:
    Closure.objects.create(calendar=medical.calendar, start=datetime(2026, 12, 9, 23, 0, tzinfo=UTC),
                           end=datetime(2026, 12, 10, 23, 0, tzinfo=UTC))
    assert hours_text(medical, THU_10H).startswith(
        "fermé aujourd'hui (fermeture exceptionnelle) ;")


def test_hours_ignore_a_closure_of_part_of_the_day(medical: Any) -> None:
    # Closed this afternoon only: the day still opens, the usual hours are said.
    Closure.objects.create(calendar=medical.calendar, start=datetime(2026, 12, 10, 13, 0, tzinfo=UTC),
                           end=datetime(2026, 12, 10, 18, 0, tzinfo=UTC), message="Formation")
    assert hours_text(medical, THU_10H) == USUAL_HOURS


def test_greeting_uses_the_account_name(account: Any, supervisor: Any) -> None:
    version = consigne_save(actor=supervisor, account=account,
                            content={"greeting": "{compte}, bonjour !"})
    assert consigne_greeting(account, version) == "Cabinet Martin, bonjour !"


def test_unread_by_lists_assigned_agents_who_did_not_confirm(
        version: Any, medical: Any, agent: Any, other_agent: Any) -> None:
    from permanence.desk.consignes import consigne_mark_read

    medical.assigned_agents.add(other_agent)
    assert set(consigne_unread_by(medical)) == {agent, other_agent}
    consigne_mark_read(user=agent, version=version)
    assert consigne_unread_by(medical) == [other_agent]

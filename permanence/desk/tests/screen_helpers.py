"""Helpers of the call-screen, record and forwarding tests: the medical practice with its
calendar and the demo consignes, a manual call, the recorded urgent message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.test import Client

from permanence.accounts.models import ClientAccount, ContactChannel, User
from permanence.calendars.models import BusinessCalendar
from permanence.core import clock
from permanence.desk.consignes import consigne_save
from permanence.desk.demo import demo_consignes
from permanence.desk.models import Call, ConsigneVersion
from permanence.desk.record import call_record_save, call_start_manual

# Thursday 10 December 2026, 10:00 in Paris: the practice is open, Dr Martin is not away.
THU_10H = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
NUMBER = "+33145000001"
CALLER = "+33611223344"
CHEST_PAIN = "Douleur thoracique (dans la poitrine) ?"
URGENT_QUESTIONS = ["Nom et prénom du patient", "Téléphone", "Symptômes", "Depuis quand ?"]


def medical_practice(account: ClientAccount, author: User) -> ConsigneVersion:
    """`account` becomes the medical practice: opening hours, a number, the demo consignes."""
    account.calendar = BusinessCalendar.objects.create(name="Cabinet", weekly={
        **{d: [["08:00", "12:30"], ["13:30", "19:00"]]
           for d in ("mon", "tue", "wed", "thu", "fri")},
        "sat": [["08:00", "12:00"]], "sun": []})
    account.save()
    ContactChannel.objects.create(account=account, kind="phone", value=NUMBER)
    with clock.frozen(THU_10H):
        return consigne_save(actor=author, account=account,
                             content=demo_consignes(2026)["cabinet-martin"])


def manual_call(agent: User, account: ClientAccount, at: datetime = THU_10H) -> Call:
    with clock.frozen(at):
        return call_start_manual(actor=agent, account=account, from_number="06 11 22 33 44",
                                 caller_name="Jean Dupont")


def urgent_answers(chest_pain: str = "oui") -> dict[str, Any]:
    return {"questions": dict(zip(URGENT_QUESTIONS,
                                  ["Jean Dupont", "06 11 22 33 44", "Douleur au bras gauche",
                                   "20 minutes"], strict=True)),
            "triage": {CHEST_PAIN: chest_pain}}


def record_urgent(agent: User, call: Call, at: datetime = THU_10H) -> Call:
    with clock.frozen(at):
        return call_record_save(actor=agent, call=call, motif="urgence",
                                answers=urgent_answers(), urgency="normal",
                                message="Douleur thoracique, rappeler immédiatement.",
                                caller_name="Jean Dupont")


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client

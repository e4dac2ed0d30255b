"""The espace client's optional daily digest (issue 10): turned on and off by the client for
the account they see; each morning from 7:30 in the account's time zone, the previous local
day's calls and messages, once; nothing on a day without calls; only the account's calls;
not after the client left the account."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from permanence.accounts.models import Membership
from permanence.core import clock
from permanence.desk import digest
from permanence.desk.models import Call, CallOutcome, DigestSubscription, Forward

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Thursday 3 December 2026, Paris time; the digest of that day goes out on Friday from 7:30.
THURSDAY = datetime(2026, 12, 3, tzinfo=PARIS)
FRIDAY_0729 = datetime(2026, 12, 4, 7, 29, tzinfo=PARIS)
FRIDAY_0731 = datetime(2026, 12, 4, 7, 31, tzinfo=PARIS)


def _call(account: Any, at: datetime, n: int, **extra: Any) -> Call:
    return Call.objects.create(call_id=f"d{n}", account=account, offered_at=at, created_at=at,
                               from_number="+33612345678", state="termine", **extra)


def _run(django_capture_on_commit_callbacks: Any, at: datetime) -> int:
    with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
        return digest.digests_send()


def test_the_client_turns_it_on_and_off(client_user: Any, account: Any) -> None:
    browser = Client()
    browser.force_login(client_user)
    page = browser.get("/espace/appels/").content.decode()
    assert "Recevoir chaque matin le récapitulatif de la veille" in page
    response = browser.post("/espace/appels/recapitulatif/", {"on": "1"})
    assert response.status_code == 302
    assert DigestSubscription.objects.filter(user=client_user, account=account).exists()
    page = browser.get("/espace/appels/").content.decode()
    assert "client@test.fr" in page and "Ne plus le recevoir" in page
    browser.post("/espace/appels/recapitulatif/", {"on": "0"})
    assert not DigestSubscription.objects.exists()


def test_yesterdays_calls_once_from_half_past_seven(
        client_user: Any, account: Any, other_account: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    digest.digest_set(user=client_user, account=account, on=True)
    urgent = _call(account, THURSDAY.replace(hour=9, minute=5), 1, outcome=CallOutcome.ANSWERED,
                   caller_name="Mme Petit", message="Douleur au genou, rappeler avant midi",
                   urgency="urgent")
    _call(account, THURSDAY.replace(hour=23, minute=30), 2, outcome=CallOutcome.ABANDONED)
    _call(account, THURSDAY.replace(hour=14), 3, outcome=CallOutcome.VOICEMAIL,
          message="Annule son rendez-vous de lundi")
    # Not Thursday in Paris (the night before, the morning after), another account's.
    _call(account, THURSDAY - timedelta(minutes=1), 4, outcome=CallOutcome.ANSWERED,
          message="Mercredi soir")
    _call(account, FRIDAY_0729 - timedelta(hours=7), 5, outcome=CallOutcome.ANSWERED,
          message="Vendredi nuit")
    _call(other_account, THURSDAY.replace(hour=10), 6, outcome=CallOutcome.ANSWERED,
          message="Pour Durand Avocats")
    Forward.objects.create(account=account, call=urgent, channel="email",
                           recipient_name="Dr Martin", address="dr@test.fr",
                           read_at=THURSDAY.replace(hour=9, minute=20),
                           created_at=THURSDAY.replace(hour=9, minute=6))

    assert _run(django_capture_on_commit_callbacks, FRIDAY_0729) == 0
    assert mail.outbox == []
    assert _run(django_capture_on_commit_callbacks, FRIDAY_0731) == 1
    [sent] = mail.outbox
    assert sent.to == ["client@test.fr"]
    assert sent.subject == "Vos appels du jeudi 3 décembre 2026 — Cabinet Martin"
    body = sent.body
    assert "ont reçu 3 appels pour Cabinet Martin" in body
    assert "- décrochés : 1" in body and "- manqués ou abandonnés : 1" in body
    assert "- messages vocaux : 1" in body
    assert "09:05 — Mme Petit — URGENT" in body and "Douleur au genou" in body
    assert "lu le 03/12 à 09:20" in body and "non lu" in body
    assert "Annule son rendez-vous" in body
    for other in ("Mercredi soir", "Vendredi nuit", "Durand Avocats"):
        assert other not in body
    assert "/espace/appels/" in body
    # Once: a later run the same morning sends nothing more.
    assert _run(django_capture_on_commit_callbacks, FRIDAY_0731 + timedelta(hours=3)) == 0
    assert len(mail.outbox) == 1


def test_nothing_on_a_day_without_calls_nor_after_leaving_the_account(
        client_user: Any, account: Any, django_capture_on_commit_callbacks: Any) -> None:
    digest.digest_set(user=client_user, account=account, on=True)
    assert _run(django_capture_on_commit_callbacks, FRIDAY_0731) == 0
    assert mail.outbox == []
    assert DigestSubscription.objects.get().last_sent_for == THURSDAY.date()
    # Friday had a call, but the client no longer belongs to the account on Saturday.
    _call(account, FRIDAY_0731 + timedelta(hours=2), 7, outcome=CallOutcome.ANSWERED)
    Membership.objects.filter(user=client_user, account=account).delete()
    assert _run(django_capture_on_commit_callbacks, FRIDAY_0731 + timedelta(days=1)) == 0
    assert mail.outbox == []

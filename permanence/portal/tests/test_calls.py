"""Espace client « Appels et messages »: every call taken for the client with filters,
search, CSV export, mark as handled, the forwarding proof; opening a message marks it read;
a client sees only its own account's calls; constant queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.core import clock
from permanence.desk import forwarding
from permanence.desk.models import Call, Forward, ForwardStatus
from permanence.desk.record import call_record_save
from permanence.desk.tests.screen_helpers import (
    THU_10H,
    manual_call,
    medical_practice,
    record_urgent,
)


@pytest.fixture
def practice(account: Any, supervisor: Any, settings: Any, tmp_path: Any) -> Any:
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return medical_practice(account, supervisor)


@pytest.fixture
def client_login(client: Client, client_user: Any, account: Any) -> Client:
    client.force_login(client_user)
    return client


@pytest.fixture
def urgent(practice: Any, agent: Any, account: Any,
           django_capture_on_commit_callbacks: Any) -> Call:
    call = record_urgent(agent, manual_call(agent, account))
    with clock.frozen(THU_10H), django_capture_on_commit_callbacks(execute=True):
        forwarding.forward_send(actor=agent, call=call)
    return call


def _prescription(agent: Any, account: Any, at: Any, name: str = "Léa Petit") -> Call:
    call = manual_call(agent, account, at=at)
    with clock.frozen(at):
        return call_record_save(actor=agent, call=call, motif="ordonnance", answers={
            "questions": {"Nom et prénom du patient": name, "Date de naissance": "1/2/1990",
                          "Médicament(s) concerné(s)": "Doliprane",
                          "Pharmacie habituelle": "Voltaire"}},
            message="Renouvellement demandé", urgency="normal", caller_name=name)


def test_calls_page_lists_the_calls_with_their_proof(urgent: Call,
                                                     client_login: Client) -> None:
    html = client_login.get(reverse("portal:calls")).content.decode()
    assert "Appels et messages" in html
    assert "Urgence médicale — Jean Dupont" in html
    assert "Dr Claire Martin" in html and "Envoyé" in html and "Délivré" in html
    assert reverse("portal:call_detail", args=[urgent.pk]) in html


def test_a_client_sees_only_its_accounts_calls(urgent: Call, other_account: Any,
                                               outsider_client: Any) -> None:
    outsider = Client()
    outsider.force_login(outsider_client)
    html = outsider.get(reverse("portal:calls")).content.decode()
    assert "Jean Dupont" not in html
    assert outsider.get(reverse("portal:call_detail", args=[urgent.pk])).status_code == 404
    response = outsider.post(reverse("portal:call_handled", args=[urgent.pk]))
    assert response.status_code == 404
    csv = b"".join(outsider.get(reverse("portal:calls_csv")).streaming_content).decode()
    assert "Jean Dupont" not in csv
    urgent.refresh_from_db()
    assert urgent.handled_at is None
    assert not Forward.objects.filter(read_at__isnull=False).exists()


def test_opening_a_message_marks_its_forwards_read(urgent: Call, client_login: Client,
                                                   agent: Any) -> None:
    with clock.frozen(THU_10H + timedelta(minutes=3)):
        html = client_login.get(reverse("portal:call_detail", args=[urgent.pk])).content.decode()
    assert "Douleur thoracique, rappeler immédiatement." in html
    assert "Urgence vitale" in html
    forwards = list(Forward.objects.filter(call=urgent))
    assert forwards and all(f.status == ForwardStatus.READ for f in forwards)
    assert all(f.read_at == THU_10H + timedelta(minutes=3) and f.escalate_at is None
               for f in forwards)
    assert "lu le" in html
    events = urgent.conversation.messages.filter(event="desk_forward_read")
    assert events.count() == 1 and "espace client" in events.get().data["text"]


def test_mark_handled_and_filter_on_it(urgent: Call, client_login: Client, agent: Any,
                                       account: Any) -> None:
    other = _prescription(agent, account, THU_10H + timedelta(hours=1))
    response = client_login.post(reverse("portal:call_handled", args=[urgent.pk]),
                                 {"from": "list"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:calls")
    urgent.refresh_from_db()
    assert urgent.handled_at is not None
    todo = client_login.get(reverse("portal:calls"), {"traite": "non"}).content.decode()
    done = client_login.get(reverse("portal:calls"), {"traite": "oui"}).content.decode()
    assert reverse("portal:call_detail", args=[other.pk]) in todo
    assert reverse("portal:call_detail", args=[urgent.pk]) not in todo
    assert reverse("portal:call_detail", args=[urgent.pk]) in done
    client_login.post(reverse("portal:call_handled", args=[urgent.pk]), {"handled": "0"})
    urgent.refresh_from_db()
    assert urgent.handled_at is None


def test_filters_search_and_bad_input(urgent: Call, client_login: Client, agent: Any,
                                      account: Any) -> None:
    other = _prescription(agent, account, THU_10H + timedelta(days=2), name="Léa Petit")
    url = reverse("portal:calls")

    def shown(**params: Any) -> set[int]:
        html = client_login.get(url, params).content.decode()
        return {c for c in (urgent.pk, other.pk)
                if reverse("portal:call_detail", args=[c]) in html}

    assert shown() == {urgent.pk, other.pk}
    assert shown(motif="ordonnance") == {other.pk}
    assert shown(urgence="urgent") == {urgent.pk}
    assert shown(q="Petit") == {other.pk}
    assert shown(q="06 11 22 33 44") == {urgent.pk, other.pk}
    assert shown(du="2026-12-11") == {other.pk}
    assert shown(au="2026-12-10") == {urgent.pk}
    response = client_login.get(url, {"du": "2026-12-12", "au": "2026-12-01"})
    assert response.status_code == 422 and "précède" in response.content.decode()
    assert client_login.get(url, {"du": "pas une date"}).status_code == 422
    assert client_login.get(url, {"motif": "inconnu"}).status_code == 422


def test_csv_export_follows_the_filters(urgent: Call, client_login: Client, agent: Any,
                                        account: Any) -> None:
    _prescription(agent, account, THU_10H + timedelta(days=2))
    response = client_login.get(reverse("portal:calls_csv"), {"urgence": "urgent"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Date;Appelant;Numéro;Motif")
    assert len(lines) == 2
    assert "Jean Dupont" in lines[1] and "Urgence médicale" in lines[1]
    assert ";2;" in lines[1]  # two forwards


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("portal:calls")).status_code == 200
    return len(ctx.captured_queries)


def test_calls_page_queries_do_not_grow_with_calls(urgent: Call, client_login: Client,
                                                   agent: Any, account: Any,
                                                   django_capture_on_commit_callbacks: Any
                                                   ) -> None:
    few = _queries(client_login)
    for n in range(5):
        call = record_urgent(agent, manual_call(agent, account,
                                                at=THU_10H + timedelta(minutes=n + 1)))
        with clock.frozen(THU_10H), django_capture_on_commit_callbacks(execute=True):
            forwarding.forward_send(actor=agent, call=call)
    assert _queries(client_login) == few


def test_triage_answers_read_in_words_old_and_new(urgent: Call, client_login: Client) -> None:
    # Calls store the key ("yes"); calls saved before stored the French word ("non").
    question = next(iter(urgent.answers["triage"]))
    assert urgent.answers["triage"][question] == "yes"
    urgent.answers["triage"]["Difficulté à respirer ?"] = "non"
    urgent.save(update_fields=["answers"])
    html = client_login.get(reverse("portal:call_detail", args=[urgent.pk])).content.decode()
    assert f"<dt>{question}</dt><dd>oui</dd>" in html
    assert "<dt>Difficulté à respirer ?</dt><dd>non</dd>" in html
    assert "<dd>yes</dd>" not in html

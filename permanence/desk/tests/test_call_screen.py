"""The call pages through the test client: the desk home and « Nouvel appel » (account by
name or number), the call screen (greeting, consignes, triage, motif questions, caller
history), saving with field errors, « Transmettre » and its proof, « Terminer », isolation,
constant queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.desk.models import Call, CallState, Forward
from permanence.inbox import services as inbox_services
from permanence.inbox.models import Channel
from permanence.inbox.services import Incoming

from .screen_helpers import (
    CHEST_PAIN,
    THU_10H,
    login,
    manual_call,
    medical_practice,
    record_urgent,
)


@pytest.fixture
def version(account: Any, supervisor: Any, settings: Any, tmp_path: Any) -> Any:
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return medical_practice(account, supervisor)


def test_home_lists_my_calls_and_offers_a_new_call(version: Any, agent: Any,
                                                   account: Any) -> None:
    call = manual_call(agent, account)
    page = login(agent).get(reverse("desk:home"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Nouvel appel" in html and reverse("desk:call", args=[call.pk]) in html
    assert 'name="account_q"' in html and "<select" not in html.split("Nouvel appel")[1][:600]


def test_billing_staff_do_not_take_calls(billing: Any) -> None:
    assert login(billing).get(reverse("desk:home")).status_code == 403


def test_account_search_by_name_or_dialled_number(version: Any, agent: Any,
                                                  other_account: Any) -> None:
    client = login(agent)
    for q in ("martin", "01 45 00 00 01", "0145000001"):
        html = client.get(reverse("desk:account_search"), {"account_q": q}).content.decode()
        assert "Cabinet Martin" in html, q
    html = client.get(reverse("desk:account_search"), {"account_q": "durand"}).content.decode()
    assert "Durand" not in html and "Aucun compte" in html


def test_new_call_by_number_opens_the_call_screen(version: Any, agent: Any,
                                                  account: Any) -> None:
    with clock.frozen(THU_10H):
        response = login(agent).post(reverse("desk:call_start"), {
            "account_q": "01 45 00 00 01", "from_number": "06 11 22 33 44",
            "caller_name": "Jean Dupont"})
    call = Call.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:call", args=[call.pk])
    assert (call.account, call.agent, call.manual) == (account, agent, True)


def test_new_call_needs_an_account_the_agent_works_for(version: Any, other_agent: Any,
                                                       agent: Any) -> None:
    response = login(other_agent).post(reverse("desk:call_start"), {
        "account_q": "Cabinet Martin", "from_number": ""})
    assert response.status_code == 422 and not Call.objects.exists()
    response = login(other_agent).post(reverse("desk:call_start"), {
        "account": version.account_id, "from_number": ""})
    assert response.status_code == 404 and not Call.objects.exists()


def test_call_screen_shows_greeting_consignes_triage_and_the_caller(
        version: Any, agent: Any, account: Any) -> None:
    with clock.frozen(THU_10H - timedelta(days=3)):
        inbox_services.conversation_open(Incoming(
            account=account, channel=Channel.EMAIL, subject="Question vaccin",
            body_text="Bonjour", contact_phone="+33611223344", contact_name="Jean Dupont",
            acknowledge=False))
    previous = manual_call(agent, account, at=THU_10H - timedelta(days=1))
    call = manual_call(agent, account)
    with clock.frozen(THU_10H):
        html = login(agent).get(reverse("desk:call", args=[call.pk])).content.decode()
    assert "Cabinet médical du Dr Martin, bonjour, agent à votre écoute." in html
    assert 'data-consigne-version="1"' in html
    assert CHEST_PAIN in html and "Appelez le 15" in html
    assert "Prise de rendez-vous" in html and "Nom et prénom du patient" in html
    assert "14 rue des Lilas" in html
    assert "data-known-contact" in html and "Question vaccin" in html
    assert reverse("desk:call", args=[previous.pk]) in html
    # Choosing a motif asks the knowledge base for the articles of that motif.
    assert (f'{reverse("knowledge:suggestions")}?account={account.pk}&amp;'
            f'q=Prise%20de%20rendez-vous') in html and 'id="call-knowledge"' in html


def test_save_with_missing_answers_shows_field_errors(version: Any, agent: Any,
                                                     account: Any) -> None:
    call = manual_call(agent, account)
    response = login(agent).post(reverse("desk:call_save", args=[call.pk]), {
        "motif": "urgence", "q-urgence-0": "Jean Dupont", "message": "",
        "urgency": "normal", "t-0": "oui"})
    html = response.content.decode()
    assert response.status_code == 422
    assert html.count("Réponse obligatoire pour ce motif.") == 3
    assert "Notez le message de l&#x27;appelant." in html
    # The emergency answer given stays selected and its guidance is shown; the word posted
    # ("oui", as older screens sent it) is read as the key, shown in words.
    assert 'value="yes" checked> Oui</label>' in html
    assert 'value="no"> Non</label>' in html
    call.refresh_from_db()
    assert call.message == "" and call.conversation_id is None


def test_save_forward_and_close_from_the_screen(version: Any, agent: Any, account: Any,
                                                django_capture_on_commit_callbacks: Any) -> None:
    call = manual_call(agent, account)
    client = login(agent)
    with clock.frozen(THU_10H):
        response = client.post(reverse("desk:call_save", args=[call.pk]), {
            "motif": "urgence", "q-urgence-0": "Jean Dupont", "q-urgence-1": "0611223344",
            "q-urgence-2": "Douleur", "q-urgence-3": "20 min", "t-0": "oui",
            "message": "Rappeler immédiatement", "urgency": "normal",
            "caller_name": "Jean Dupont"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.urgency == "urgent" and call.conversation_id is not None
    with clock.frozen(THU_10H), django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("desk:call_forward", args=[call.pk]))
    assert response.status_code == 302 and Forward.objects.filter(call=call).count() == 2
    proof = client.get(reverse("desk:call_forwards", args=[call.pk])).content.decode()
    assert "Dr Claire Martin" in proof and "Envoyé" in proof and "Délivré" in proof
    page = client.get(reverse("desk:call", args=[call.pk]))
    assert "Transmettre" in page.content.decode()
    # A second « Transmettre »: a message, not a second sending.
    response = client.post(reverse("desk:call_forward", args=[call.pk]), follow=True)
    assert "déjà été transmis" in response.content.decode()
    assert Forward.objects.filter(call=call).count() == 2
    with clock.frozen(THU_10H + timedelta(minutes=2)):
        response = client.post(reverse("desk:call_close", args=[call.pk]))
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.state == CallState.ENDED


def test_an_agent_of_another_account_gets_404_on_its_calls(version: Any, agent: Any,
                                                           other_agent: Any,
                                                           account: Any) -> None:
    call = record_urgent(agent, manual_call(agent, account))
    client = login(other_agent)
    for name in ("desk:call", "desk:call_forwards"):
        assert client.get(reverse(name, args=[call.pk])).status_code == 404
    for name in ("desk:call_save", "desk:call_forward", "desk:call_close"):
        assert client.post(reverse(name, args=[call.pk]), {"message": "x"}).status_code == 404
    call.refresh_from_db()
    assert call.state == CallState.ANSWERED and not Forward.objects.exists()
    assert call.message == "Douleur thoracique, rappeler immédiatement."


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_home_and_call_screen_queries_do_not_grow_with_calls(version: Any, agent: Any,
                                                             account: Any) -> None:
    client = login(agent)
    first = record_urgent(agent, manual_call(agent, account))
    few = _queries(client, reverse("desk:home"))
    # The first view of a call is audited (one INSERT), the next ones within the audit's
    # window are not: measure a later view against a later view.
    audited = AuditEvent.objects.filter(action="view", target_type="desk.call").count()
    _queries(client, reverse("desk:call", args=[first.pk]))
    assert AuditEvent.objects.filter(action="view", target_type="desk.call").count() == \
        audited + 1
    screen = _queries(client, reverse("desk:call", args=[first.pk]))
    for n in range(6):
        record_urgent(agent, manual_call(agent, account, at=THU_10H + timedelta(minutes=n)))
    assert _queries(client, reverse("desk:home")) == few
    assert _queries(client, reverse("desk:call", args=[first.pk])) == screen


def test_a_supervisor_opens_a_call_to_an_unknown_number(supervisor: Any, agent: Any,
                                                        client: Any) -> None:
    """The notification about an unknown dialled number leads to the call: supervisors open
    it (it belongs to no account yet); agents do not see it."""
    now = clock.now()
    call = Call.objects.create(call_id="unknown-1", account=None, unknown_number=True,
                               to_number="+33100000000", offered_at=now, created_at=now)
    client.force_login(supervisor)
    assert client.get(reverse("desk:call", args=[call.pk])).status_code == 200
    client.force_login(agent)
    assert client.get(reverse("desk:call", args=[call.pk])).status_code == 404

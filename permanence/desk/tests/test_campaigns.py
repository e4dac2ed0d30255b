"""Issue 10, outbound campaigns: the list imported all or nothing with errors per line and
duplicates skipped, the next person claimed by one agent only, attempt rules, business hours,
results per agent, click-to-call through Twilio's Calls API (its HTTP boundary only)."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.parse
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.accounts.models import ClientAccount, ContactChannel
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.desk import campaigns, dialer
from permanence.desk.models_campaigns import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    Disposition,
    TargetStatus,
)
from testkit import files

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
# A Tuesday at 10:00 in Paris: the default calendar is open.
OPEN = datetime(2026, 12, 8, 10, 0, tzinfo=PARIS)
CSV_OK = ("Nom;Téléphone;Société;E-mail\n"
          "Jeanne Petit;06 12 34 56 78;Boulangerie Petit;jeanne@example.fr\n"
          "Paul Martin;+33 6 98 76 54 32;;\n"
          "Paul bis;0698765432;;\n")  # the same number as the line above: a duplicate


def upload(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


@pytest.fixture
def campaign(account: ClientAccount, supervisor: Any) -> Campaign:
    with clock.frozen(OPEN):
        made = campaigns.campaign_create(actor=supervisor, account=account, name="Relance devis",
                                         kind=CampaignKind.FOLLOW_UP, script="Bonjour…",
                                         max_attempts=2, retry_minutes=60)
        campaigns.campaign_import_contacts(actor=supervisor, campaign=made,
                                           filename="liste.csv", upload=upload(CSV_OK))
        return campaigns.campaign_transition(actor=supervisor, campaign=made,
                                             to=CampaignStatus.ACTIVE)


def test_a_file_with_errors_imports_nothing(account: ClientAccount, supervisor: Any) -> None:
    made = campaigns.campaign_create(actor=supervisor, account=account, name="Prospects",
                                     kind=CampaignKind.QUALIFICATION)
    bad = CSV_OK + "Sans numéro;;;\nMauvais mail;0611223344;;pas-un-mail\n"
    report = campaigns.campaign_import_contacts(actor=supervisor, campaign=made,
                                                filename="liste.csv", upload=upload(bad))
    assert not report.ok and report.imported == 0
    assert [line for line, _msg in report.errors] == [5, 6]
    assert "téléphone" in report.errors[0][1] and "e-mail" in report.errors[1][1]
    assert not CampaignTarget.objects.filter(campaign=made).exists()
    report = campaigns.campaign_import_contacts(actor=supervisor, campaign=made,
                                                filename="liste.csv", upload=upload(CSV_OK))
    assert report.ok and report.imported == 2 and report.duplicates == [(4, "+33698765432")]
    assert set(made.targets.values_list("phone", flat=True)) == {"+33612345678",
                                                                 "+33698765432"}
    # Importing again: everyone is already there.
    again = campaigns.campaign_import_contacts(actor=supervisor, campaign=made,
                                               filename="liste.csv", upload=upload(CSV_OK))
    assert again.imported == 0 and len(again.duplicates) == 3


def test_xlsx_and_missing_columns(account: ClientAccount, supervisor: Any) -> None:
    from openpyxl import Workbook

    made = campaigns.campaign_create(actor=supervisor, account=account, name="Prospects",
                                     kind=CampaignKind.APPOINTMENTS)
    book = Workbook()
    sheet = book.active
    sheet.append(["Nom", "Mobile", "Notes"])
    sheet.append(["Zoé Durand", 612345678, "rappeler le matin"])  # a number typed as a number
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    report = campaigns.campaign_import_contacts(actor=supervisor, campaign=made,
                                                filename="liste.xlsx", upload=data)
    assert report.imported == 1
    assert made.targets.get().notes == "rappeler le matin"
    with pytest.raises(DomainError) as err:
        campaigns.campaign_import_contacts(actor=supervisor, campaign=made, filename="l.csv",
                                           upload=upload("Prénom;E-mail\nA;a@b.fr\n"))
    assert "Téléphone" in err.value.fields["file"][0]


def test_an_xlsx_zip_bomb_is_refused_on_the_page_before_openpyxl_reads_it(
        account: ClientAccount, supervisor: Any) -> None:
    made = campaigns.campaign_create(actor=supervisor, account=account, name="Prospects",
                                     kind=CampaignKind.QUALIFICATION)
    bomb = files.xlsx({"xl/worksheets/sheet1.xml": b"\x00" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    client = Client()
    client.force_login(supervisor)
    url = reverse("desk:campaign_import", args=[made.pk])
    response = client.post(url, {"file": SimpleUploadedFile("liste.xlsx", bomb)})
    assert response.status_code == 422
    assert "une fois décompressée, elle serait excessive" in response.content.decode()
    # A page named .xlsx, and a program: refused on their content too.
    for name, data in (("liste.xlsx", CSV_OK.encode()), ("liste.csv", files.windows_program())):
        refused = client.post(url, {"file": SimpleUploadedFile(name, data)})
        assert refused.status_code == 422
    assert not CampaignTarget.objects.filter(campaign=made).exists()


def test_two_agents_never_get_the_same_person(campaign: Campaign, agent: Any,
                                              supervisor: Any) -> None:
    with clock.frozen(OPEN):
        first = campaigns.campaign_next_target(agent=agent, campaign=campaign)
        second = campaigns.campaign_next_target(agent=supervisor, campaign=campaign)
        assert first is not None and second is not None and first.pk != second.pk
        # Asking again gives back the person one already holds.
        again = campaigns.campaign_next_target(agent=agent, campaign=campaign)
        assert again is not None and again.pk == first.pk
        with pytest.raises(DomainError) as err:
            campaigns.campaign_attempt_record(agent=supervisor, target=first,
                                              disposition=Disposition.SALE)
        assert err.value.code == "claimed"


def test_attempt_rules(campaign: Campaign, agent: Any) -> None:
    with clock.frozen(OPEN):
        target = campaigns.campaign_next_target(agent=agent, campaign=campaign)
        assert target is not None
        campaigns.campaign_attempt_record(agent=agent, target=target,
                                          disposition=Disposition.ABSENT)
        target.refresh_from_db()
        assert target.status == TargetStatus.CALL_BACK
        assert target.next_attempt_at == OPEN + timedelta(minutes=60)
        assert target.claimed_by is None
        other = campaigns.campaign_next_target(agent=agent, campaign=campaign)
        assert other is not None and other.pk != target.pk  # not due yet
        with pytest.raises(DomainError) as err:
            campaigns.campaign_attempt_record(agent=agent, target=other,
                                              disposition=Disposition.CALL_BACK)
        assert "call_back_at" in err.value.fields
        campaigns.campaign_attempt_record(agent=agent, target=other,
                                          disposition=Disposition.APPOINTMENT)
        assert campaigns.campaign_next_target(agent=agent, campaign=campaign) is None
    with clock.frozen(OPEN + timedelta(minutes=61)):
        due = campaigns.campaign_next_target(agent=agent, campaign=campaign)
        assert due is not None and due.pk == target.pk
        campaigns.campaign_attempt_record(agent=agent, target=due,
                                          disposition=Disposition.ABSENT)
        due.refresh_from_db()
        assert due.status == TargetStatus.DONE and due.attempts == 2  # max attempts used
    results = campaigns.campaign_results(campaign)
    assert results.done == 2 and results.percent == 100
    assert results.by_disposition == {Disposition.ABSENT: 2, Disposition.APPOINTMENT: 1}
    [row] = results.agents
    assert (row.attempts, row.reached, row.appointments, row.sales) == (3, 1, 1, 0)


def test_calls_only_while_the_client_is_open_and_the_campaign_runs(
        campaign: Campaign, agent: Any, supervisor: Any) -> None:
    sunday_night = datetime(2026, 12, 6, 3, 0, tzinfo=PARIS)
    with clock.frozen(sunday_night):
        with pytest.raises(DomainError) as err:
            campaigns.campaign_next_target(agent=agent, campaign=campaign)
        assert err.value.code == "closed" and "reprennent" in str(err.value.message)
    with clock.frozen(OPEN):
        campaigns.campaign_transition(actor=supervisor, campaign=campaign,
                                      to=CampaignStatus.PAUSED)
        campaign.refresh_from_db()
        with pytest.raises(DomainError) as err:
            campaigns.campaign_next_target(agent=agent, campaign=campaign)
        assert err.value.code == "not_active"
    assert list(campaign.history.values_list("to_status", flat=True)) == [
        CampaignStatus.ACTIVE, CampaignStatus.PAUSED]


def test_only_supervisors_create_and_agents_see_their_accounts_only(
        campaign: Campaign, account: ClientAccount, agent: Any, other_agent: Any,
        billing: Any, client: Any) -> None:
    with pytest.raises(Forbidden):
        campaigns.campaign_create(actor=agent, account=account, name="x",
                                  kind=CampaignKind.FOLLOW_UP)
    client.force_login(agent)
    assert campaign.name in client.get(reverse("desk:campaigns")).content.decode()
    assert client.get(reverse("desk:campaign", args=[campaign.pk])).status_code == 200
    client.force_login(other_agent)
    assert campaign.name not in client.get(reverse("desk:campaigns")).content.decode()
    assert client.get(reverse("desk:campaign", args=[campaign.pk])).status_code == 404
    client.force_login(billing)
    assert client.get(reverse("desk:campaigns")).status_code == 403


def test_calling_screen_journey(campaign: Campaign, agent: Any, client: Any) -> None:
    client.force_login(agent)
    with clock.frozen(OPEN):
        response = client.post(reverse("desk:campaign_next", args=[campaign.pk]))
        assert response.status_code == 302
        target = CampaignTarget.objects.get(claimed_by=agent)
        page = client.get(response["Location"]).content.decode()
        assert target.name in page and "tel:+33" in page and "Bonjour…" in page
        response = client.post(reverse("desk:campaign_attempt", args=[target.pk]),
                               {"disposition": "rappeler", "call_back_at": "bientôt"})
        assert response.status_code == 422
        response = client.post(reverse("desk:campaign_attempt", args=[target.pk]),
                               {"disposition": "vente", "note": "Forfait Confort",
                                "then": "next"})
        assert response.status_code == 302
        nxt = CampaignTarget.objects.get(claimed_by=agent)
        assert response["Location"] == reverse("desk:campaign_target", args=[nxt.pk])


def test_campaign_page_queries_do_not_grow(campaign: Campaign, agent: Any, supervisor: Any,
                                           client: Any) -> None:
    client.force_login(supervisor)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("desk:campaign", args=[campaign.pk]))
    rows = "".join(f"Personne {i};06 11 22 33 {i:02d}\n" for i in range(40))
    campaigns.campaign_import_contacts(actor=supervisor, campaign=campaign, filename="b.csv",
                                       upload=upload("Nom;Téléphone\n" + rows))
    with clock.frozen(OPEN):
        for _ in range(5):
            target = campaigns.campaign_next_target(agent=agent, campaign=campaign)
            assert target is not None
            campaigns.campaign_attempt_record(agent=agent, target=target,
                                              disposition=Disposition.NOT_INTERESTED)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("desk:campaign", args=[campaign.pk])).content.decode()
    assert "Personne 3" in page
    assert len(many) == len(few)


class _Twilio(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    answer: tuple[int, dict[str, Any]] = (201, {"sid": "CA123"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        type(self).requests.append({"path": self.path, "auth": self.headers["Authorization"],
                                    "form": dict(urllib.parse.parse_qsl(body))})
        status, data = type(self).answer
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def twilio(settings: Any) -> Any:
    _Twilio.requests = []
    _Twilio.answer = (201, {"sid": "CA123"})
    server = HTTPServer(("127.0.0.1", 0), _Twilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.CALL_DIALER = "twilio"
    settings.TWILIO_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.TWILIO_ACCOUNT_SID = "AC0001"
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    yield _Twilio
    server.shutdown()


# Committed data (no test transaction around): click_to_call refuses to run inside one.
@pytest.mark.django_db(transaction=True)
def test_click_to_call_rings_the_agent_then_the_person(campaign: Campaign, agent: Any,
                                                       twilio: Any) -> None:
    ContactChannel.objects.create(account=campaign.account, kind="phone", value="+33388001122")
    agent.phone = "+33611000000"
    agent.save(update_fields=["phone"])
    target = campaign.targets.order_by("id").first()
    assert target is not None
    assert dialer.click_to_call(agent=agent, target=target) == "CA123"
    [sent] = twilio.requests
    assert sent["path"] == "/2010-04-01/Accounts/AC0001/Calls.json"
    assert sent["auth"] == "Basic " + base64.b64encode(b"AC0001:secret-token").decode()
    assert sent["form"]["To"] == "+33611000000" and sent["form"]["From"] == "+33388001122"
    assert f"<Number>{target.phone}</Number>" in sent["form"]["Twiml"]
    twilio.answer = (400, {"code": 21211, "message": "Invalid 'To' Phone Number"})
    with pytest.raises(DomainError) as err:
        dialer.click_to_call(agent=agent, target=target)
    assert "Invalid 'To'" in str(err.value.message)
    with transaction.atomic(), pytest.raises(RuntimeError):
        dialer.click_to_call(agent=agent, target=target)  # never inside a transaction


@pytest.mark.django_db(transaction=True)
def test_click_to_call_needs_the_agents_phone(campaign: Campaign, agent: Any,
                                              twilio: Any) -> None:
    target = campaign.targets.order_by("id").first()
    assert target is not None
    with pytest.raises(DomainError) as err:
        dialer.click_to_call(agent=agent, target=target)
    assert err.value.code == "no_agent_phone" and twilio.requests == []

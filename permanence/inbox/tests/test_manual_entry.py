"""Manual mode (« Saisie manuelle », /app/boite/saisie-manuelle/, and `received_at` on
POST /api/v1/conversations): a request received during an outage, registered later by hand
at its original time — its deadlines count from that time in business time, the reports
place it on that day, the timeline and the audit log say who typed it and when."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.inbox import figures, services
from permanence.inbox.models import Conversation, Direction, Message, StatusChange
from testkit import files

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
URL = "/app/boite/saisie-manuelle/"
API = "/api/v1/conversations"
# Friday 4 December 2026, 12:00 in Paris: the secretary types in a request received at
# 10:00, while the e-mail gateway was down.
TYPED = datetime(2026, 12, 4, 12, 0, tzinfo=PARIS)
RECEIVED = TYPED - timedelta(hours=2)


def _form(account: Any, **extra: Any) -> dict[str, Any]:
    data = {"account": account.pk, "channel": "telephone",
            "received_at": RECEIVED.strftime("%Y-%m-%dT%H:%M"),
            "contact_name": "Jeanne Roux", "contact_email": "jeanne@exemple.fr",
            "contact_phone": "06 12 34 56 78", "subject": "Renouvellement d'ordonnance",
            "message": "Mme Roux demande un renouvellement avant lundi.",
            "source": "reçu sur le portable d'astreinte pendant la panne"}
    data.update(extra)
    return data


def _logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client: Client, data: dict[str, Any], at: datetime = TYPED,
          capture: Any = None) -> Any:
    with clock.frozen(at):
        if capture is None:
            return client.post(URL, data)
        with capture(execute=True):
            return client.post(URL, data)


# --- Deadlines -------------------------------------------------------------------------------


def test_first_response_due_counts_from_the_original_time_in_business_time(
        agent: Any, account: Any) -> None:
    response = _post(_logged(agent), _form(account))
    assert response.status_code == 302, response.content
    c = Conversation.objects.get()
    assert response["Location"] == f"/app/boite/{c.pk}/"
    assert c.created_at == RECEIVED and c.last_inbound_at == RECEIVED
    assert c.channel == "telephone"
    # The default policy: a normal request is answered within 24 business hours counted in
    # working days (24 h per working day). From Friday 10:00, the weekend does not count:
    # due Monday 7 December 10:00 — not Monday 12:00, as it would be from the typing time.
    assert c.first_response_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
    # Resolution within 72 business hours: Friday 10:00 + 3 working days = Wednesday 10:00.
    assert c.resolution_due_at == datetime(2026, 12, 9, 10, 0, tzinfo=PARIS)
    assert c.next_due_at == c.first_response_due_at
    # The same request opened live at the typing time, for comparison.
    with clock.frozen(TYPED):
        live = services.conversation_open(services.Incoming(
            account=account, channel="telephone", subject="x", body_text="y",
            contact_name="Paul", acknowledge=False))
    assert live.first_response_due_at == datetime(2026, 12, 7, 12, 0, tzinfo=PARIS)


def test_the_message_and_the_status_history_are_at_the_original_time(agent: Any,
                                                                    account: Any) -> None:
    _post(_logged(agent), _form(account))
    message = Message.objects.get(direction=Direction.IN)
    assert message.created_at == RECEIVED
    assert message.data["manual"] == {
        "by": agent.pk, "by_name": agent.full_name, "at": TYPED.isoformat(),
        "received_at": RECEIVED.isoformat(), "via": "telephone",
        "source": "reçu sur le portable d'astreinte pendant la panne", "acknowledged": False}
    assert StatusChange.objects.get().at == RECEIVED


# --- Reports -----------------------------------------------------------------------------------


def test_the_reports_count_it_on_the_day_it_was_received(agent: Any, account: Any) -> None:
    received = datetime(2026, 12, 3, 23, 50, tzinfo=PARIS)  # Thursday, late
    typed = datetime(2026, 12, 4, 0, 10, tzinfo=PARIS)  # typed on Friday, just after midnight
    _post(_logged(agent), _form(account, received_at=received.strftime("%Y-%m-%dT%H:%M")),
          at=typed)
    scope = figures.Scope([account.pk])
    thursday = datetime(2026, 12, 3, tzinfo=PARIS)
    friday = datetime(2026, 12, 4, tzinfo=PARIS)
    assert figures.conversation_figures(scope, thursday, friday)["total"] == 1
    assert figures.conversation_figures(scope, friday, friday + timedelta(days=1))[
        "total"] == 0
    assert figures.daily_counts(scope, thursday, friday + timedelta(days=1), PARIS) == {
        date(2026, 12, 3): 1}


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("received", "message"), [
    (TYPED + timedelta(minutes=5), "dans le futur"),
    (TYPED - timedelta(days=30, minutes=1), "plus de 30 jours"),
    (None, "obligatoire"),
])
def test_a_future_or_too_old_or_missing_time_is_a_field_error(agent: Any, account: Any,
                                                               received: Any,
                                                               message: str) -> None:
    value = received.strftime("%Y-%m-%dT%H:%M") if received else ""
    response = _post(_logged(agent), _form(account, received_at=value))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == ["received_at"]
    assert message in errors["received_at"][0]
    assert not Conversation.objects.exists()


def test_thirty_days_ago_exactly_is_accepted(agent: Any, account: Any) -> None:
    received = TYPED - timedelta(days=30)
    response = _post(_logged(agent), _form(account,
                                           received_at=received.strftime("%Y-%m-%dT%H:%M")))
    assert response.status_code == 302
    assert Conversation.objects.get().created_at == received


def test_a_contact_is_needed_and_checked(agent: Any, account: Any) -> None:
    response = _post(_logged(agent), _form(account, contact_name="", contact_email="",
                                           contact_phone=""))
    assert response.status_code == 422
    assert "contact_name" in response.context["form"].errors
    response = _post(_logged(agent), _form(account, contact_phone="12"))
    assert response.status_code == 422
    assert "contact_phone" in response.context["form"].errors
    assert not Conversation.objects.exists()


# --- Timeline, audit, acknowledgement, attachments -----------------------------------------------


def test_the_timeline_says_it_was_typed_by_hand(agent: Any, account: Any) -> None:
    client = _logged(agent)
    _post(client, _form(account))
    c = Conversation.objects.get()
    with clock.frozen(TYPED):
        page = client.get(f"/app/boite/{c.pk}/").content.decode()
    assert ("saisi manuellement par agent le 04/12/2026 12:00 (reçu le 04/12/2026 10:00)"
            in page)
    assert "reçu sur le portable d&#x27;astreinte pendant la panne" in page


def test_it_is_audited_with_its_reception_time(agent: Any, account: Any) -> None:
    _post(_logged(agent), _form(account))
    c = Conversation.objects.get()
    event = AuditEvent.objects.get(target_type="inbox.conversation", target_id=str(c.pk))
    assert event.actor == agent and event.action == "create"
    assert event.created_at == TYPED
    assert event.changes["channel"] == "telephone"
    assert datetime.fromisoformat(event.changes["received_at"]) == RECEIVED
    assert event.path == URL


def test_no_acknowledgement_unless_asked(agent: Any, account: Any,
                                         django_capture_on_commit_callbacks: Any) -> None:
    _post(_logged(agent), _form(account), capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_the_acknowledgement_asked_for_states_the_original_time(
        agent: Any, account: Any, django_capture_on_commit_callbacks: Any) -> None:
    _post(_logged(agent), _form(account, acknowledge="on"),
          capture=django_capture_on_commit_callbacks)
    [sent] = mail.outbox
    assert "jeanne@exemple.fr" in sent.to[0]
    assert ("Nous avons bien reçu le vendredi 4 décembre 2026 à 10:00 votre demande"
            in sent.body)
    # The promise counts from the original time too.
    assert "au plus tard le lundi 7 décembre 2026 à 10:00" in sent.body


def test_attachments_are_kept(agent: Any, account: Any) -> None:
    scan = SimpleUploadedFile("ordonnance.pdf", b"%PDF-1.4 scan", content_type="application/pdf")
    response = _post(_logged(agent), _form(account, attachments=[scan]))
    assert response.status_code == 302
    [attachment] = Message.objects.get(direction=Direction.IN).attachments.all()
    assert (attachment.filename, attachment.content_type) == ("ordonnance.pdf",
                                                              "application/pdf")


def test_a_refused_attachment_is_a_field_error_and_nothing_is_entered(
        agent: Any, account: Any) -> None:
    scan = SimpleUploadedFile("ordonnance.pdf", files.windows_program())
    response = _post(_logged(agent), _form(account, attachments=[scan]))
    assert response.status_code == 422
    [error] = response.context["form"].errors["attachments"]
    assert error == ("Le fichier « ordonnance.pdf » est refusé : les programmes et les "
                     "scripts ne sont pas acceptés.")
    assert not Conversation.objects.exists()


# --- Isolation ------------------------------------------------------------------------------------


def test_an_agent_cannot_enter_a_request_for_an_account_not_hers(agent: Any, account: Any,
                                                                 other_account: Any) -> None:
    client = _logged(agent)
    with clock.frozen(TYPED):
        page = client.get(URL).content.decode()
    assert account.name in page and other_account.name not in page
    response = _post(client, _form(other_account))
    assert response.status_code == 422
    assert "account" in response.context["form"].errors
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("role", ["client_user", "billing"])
def test_clients_and_billing_are_refused(request: Any, account: Any, role: str) -> None:
    client = _logged(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    assert _post(client, _form(account)).status_code == 403
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin_user"])
def test_the_inbox_links_to_it_for_those_who_may_use_it(request: Any, account: Any,
                                                        role: str) -> None:
    page = _logged(request.getfixturevalue(role)).get("/app/boite/").content.decode()
    assert "Un canal en panne ?" in page and URL in page


def test_the_inbox_does_not_link_to_it_for_billing(billing: Any) -> None:
    page = _logged(billing).get("/app/boite/").content.decode()
    assert URL not in page


# --- API ---------------------------------------------------------------------------------------------


def _api(client: Client, body: Any, at: datetime = TYPED, capture: Any = None) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    with clock.frozen(at):
        if capture is None:
            return client.post(API, raw, content_type="application/json")
        with capture(execute=True):
            return client.post(API, raw, content_type="application/json")


def _api_body(account: Any, **extra: Any) -> dict[str, Any]:
    return {"account": account.pk, "subject": "Demande de rappel", "body": "Rappelez-moi.",
            "channel": "email", "contact": {"name": "Léa", "email": "lea@exemple.fr"},
            **extra}


def test_api_received_at_opens_the_conversation_at_that_time(
        api_client_for: Any, agent: Any, account: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    response = _api(api_client_for(agent),
                    _api_body(account, received_at=RECEIVED.isoformat()),
                    capture=django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    body = response.json()
    assert datetime.fromisoformat(body["created_at"]) == RECEIVED
    assert datetime.fromisoformat(body["first_response_due_at"]) == datetime(
        2026, 12, 7, 10, 0, tzinfo=PARIS)
    assert datetime.fromisoformat(body["messages"][0]["created_at"]) == RECEIVED
    message = Message.objects.get(direction=Direction.IN)
    assert message.data["manual"]["by"] == agent.pk
    # Registered late: no acknowledgement unless asked for explicitly.
    assert mail.outbox == []


def test_api_received_at_with_an_explicit_acknowledgement(
        api_client_for: Any, agent: Any, account: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    response = _api(api_client_for(agent),
                    _api_body(account, received_at="2026-12-04T09:00:00Z", acknowledge=True),
                    capture=django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    [sent] = mail.outbox
    assert "Nous avons bien reçu le vendredi 4 décembre 2026 à 10:00 votre demande" in sent.body


def test_api_without_received_at_is_unchanged(api_client_for: Any, agent: Any,
                                              account: Any) -> None:
    response = _api(api_client_for(agent), _api_body(account))
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["created_at"]) == TYPED
    assert "manual" not in Message.objects.get(direction=Direction.IN).data


@pytest.mark.parametrize("value", [
    (TYPED + timedelta(hours=1)).isoformat(),  # future
    (TYPED - timedelta(days=31)).isoformat(),  # too old
    "2026-12-04T10:00:00",  # no time zone
    "hier",
    "",
    "99999-01-01T00:00:00Z",  # a year beyond what dates hold
    "9999-12-31T23:59:59-05:00",  # the last day, past UTC's end
    "0001-01-01T00:00:00+05:00",  # before UTC's beginning
    10**30,
    -1,
    True,
    ["2026-12-04T10:00:00Z"],
    {"at": "2026-12-04T10:00:00Z"},
])
def test_api_bad_received_at_is_422_with_the_field(api_client_for: Any, agent: Any,
                                                   account: Any, value: Any) -> None:
    response = _api(api_client_for(agent), _api_body(account, received_at=value))
    assert response.status_code == 422, response.content
    body = response.json()
    assert "received_at" in body["errors"], body
    assert not Conversation.objects.exists()


def test_api_received_at_is_documented(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    props = schema["components"]["schemas"]["ConversationIn"]["properties"]
    assert "received_at" in props
    assert "30 jours" in props["received_at"]["description"]


def test_api_received_at_for_an_invisible_account_is_404(api_client_for: Any, agent: Any,
                                                         other_account: Any) -> None:
    response = _api(api_client_for(agent),
                    _api_body(other_account, received_at=RECEIVED.isoformat()))
    assert response.status_code == 404
    assert not Conversation.objects.exists()

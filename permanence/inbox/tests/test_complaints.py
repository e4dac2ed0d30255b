"""Complaints (réception → analyse → traitement → clôture), their register and CSV export, and
the satisfaction survey sent on resolution."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox import services
from permanence.inbox.complaints import selectors as complaint_selectors
from permanence.inbox.complaints import services as complaints
from permanence.inbox.models import (
    Channel,
    Conversation,
    Direction,
    Kind,
    Message,
    Motif,
    Priority,
    Status,
)
from permanence.inbox.models_complaints import Complaint, ComplaintStep, SurveyResponse
from permanence.inbox.services import Incoming
from permanence.inbox.surveys import services as surveys

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday


def open_conv(account: Any, at: datetime = T0, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Colis abîmé", "body_text": "Le colis est arrivé cassé.",
                              "contact_email": "jean.dupont@exemple.fr",
                              "contact_name": "Jean Dupont", "kind": Kind.COMPLAINT}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


def complaint_of(c: Conversation) -> Complaint:
    return Complaint.objects.get(conversation=c)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def analyse(actor: Any, complaint: Complaint, at: datetime, **kw: Any) -> Complaint:
    data = {"facts": "Colis photographié : carton écrasé.", "urgency": Priority.HIGH,
            "impact": "moyen", "order_reference": "CMD-42"}
    data.update(kw)
    with clock.frozen(at):
        return complaints.complaint_analyse(actor=actor, complaint=complaint, **data)


def treat(actor: Any, complaint: Complaint, at: datetime, **kw: Any) -> Complaint:
    data = {"resolution": "geste_commercial", "details": "Avoir de 20 € sur la commande.",
            "promised_date": date(2026, 11, 16)}
    data.update(kw)
    with clock.frozen(at):
        return complaints.complaint_treat(actor=actor, complaint=complaint, **data)


# --- The procedure ------------------------------------------------------------------------------


def test_complaint_created_at_reception(account: Any,
                                        django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account)
    complaint = complaint_of(c)
    assert complaint.step == ComplaintStep.RECEPTION
    assert complaint.received_at == T0 == c.created_at
    assert complaint.acknowledged_at is None  # the e-mail acknowledgement is not sent yet
    # Sending the acknowledgement (after commit) stamps it.
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        c2 = services.conversation_open(Incoming(
            account=account, channel=Channel.EMAIL, subject="Erreur de facture",
            body_text="Montant faux", contact_email="paul@exemple.fr", kind=Kind.COMPLAINT))
    assert complaint_of(c2).acknowledged_at == T0
    assert len(mail.outbox) == 1
    # The web form acknowledges on screen, at once.
    web = open_conv(account, channel=Channel.WEBFORM)
    assert complaint_of(web).acknowledged_at == T0
    # Other kinds have no complaint…
    question = open_conv(account, kind=Kind.QUESTION)
    assert not Complaint.objects.filter(conversation=question).exists()


def test_requalified_as_complaint(account: Any, agent: Any) -> None:
    c = open_conv(account, kind=Kind.QUESTION)
    with clock.frozen(T0 + timedelta(hours=1)):
        services.conversation_update(actor=agent, conversation=c,
                                     data={"kind": Kind.COMPLAINT})
    assert complaint_of(c).received_at == T0


def test_four_steps_in_order_stamped(account: Any, agent: Any, supervisor: Any,
                                     django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account)
    complaint = complaint_of(c)
    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    complaint = analyse(agent, complaint, t1)
    assert (complaint.step, complaint.analysed_at, complaint.analysed_by) == (
        ComplaintStep.TREATMENT, t1, agent)
    assert (complaint.impact, complaint.urgency, complaint.order_reference) == (
        "moyen", "haute", "CMD-42")
    assert Conversation.objects.get(pk=c.pk).priority == Priority.HIGH  # urgency → priority
    with clock.frozen(t2), django_capture_on_commit_callbacks(execute=True):  # sent at t2
        complaint = treat(supervisor, complaint, t2)
    assert (complaint.step, complaint.treated_at, complaint.treated_by) == (
        ComplaintStep.CLOSURE, t2, supervisor)
    assert complaint.promised_date == date(2026, 11, 16)
    # The customer is told the solution and the promised date.
    [reply] = c.messages.filter(direction=Direction.OUT)
    assert reply.author == supervisor
    assert c.reference in reply.body_text
    assert "Geste commercial" in reply.body_text
    assert "Avoir de 20 €" in reply.body_text
    assert "lundi 16 novembre 2026" in reply.body_text
    assert Conversation.objects.get(pk=c.pk).first_response_at == t2
    with clock.frozen(t3):
        complaint = complaints.complaint_close(actor=agent, complaint=complaint,
                                               customer_satisfied=True, comment="Client ravi")
    complaint = complaint_of(c)
    assert (complaint.closed_at, complaint.closed_by, complaint.customer_satisfied) == (
        t3, agent, True)
    assert complaint.closing_comment == "Client ravi"
    assert Conversation.objects.get(pk=c.pk).status == Status.CLOSED
    audits = AuditEvent.objects.filter(target_type__icontains="complaint")
    assert [a.changes["step"] for a in audits.order_by("pk")] == [
        "analyse", "traitement", "cloture"]


def test_steps_out_of_order_are_refused(account: Any, agent: Any) -> None:
    complaint = complaint_of(open_conv(account))
    with pytest.raises(DomainError) as early_treat:
        treat(agent, complaint, T0)
    assert early_treat.value.status == 409
    assert "Réception" in str(early_treat.value.message)
    with pytest.raises(DomainError) as early_close:
        complaints.complaint_close(actor=agent, complaint=complaint, customer_satisfied=None)
    assert early_close.value.status == 409
    complaint = treat_ready = analyse(agent, complaint, T0)
    with pytest.raises(DomainError) as close_before_treat:
        complaints.complaint_close(actor=agent, complaint=treat_ready, customer_satisfied=None)
    assert close_before_treat.value.status == 409
    complaint = treat(agent, complaint, T0)
    with pytest.raises(DomainError) as analyse_again:
        analyse(agent, complaint, T0)
    assert analyse_again.value.status == 409
    with pytest.raises(DomainError) as treat_again:
        treat(agent, complaint, T0)
    assert treat_again.value.status == 409
    with clock.frozen(T0 + timedelta(hours=1)):
        complaints.complaint_close(actor=agent, complaint=complaint, customer_satisfied=False)
    with pytest.raises(DomainError) as close_again, clock.frozen(T0 + timedelta(days=1)):
        complaints.complaint_close(actor=agent, complaint=complaint, customer_satisfied=True)
    assert close_again.value.status == 409
    closed = complaint_of(complaint.conversation)
    assert (closed.customer_satisfied, closed.closed_at) == (False, T0 + timedelta(hours=1))


def test_step_validation(account: Any, agent: Any, billing: Any) -> None:
    complaint = complaint_of(open_conv(account))
    for bad in ({"facts": "  "}, {"impact": "enorme"}, {"urgency": "demain"}):
        with pytest.raises(DomainError) as exc:
            analyse(agent, complaint, T0, **bad)
        assert exc.value.status == 422
        assert set(exc.value.fields) == {next(iter(bad))}
    with pytest.raises(DomainError) as forbidden:
        analyse(billing, complaint, T0)
    assert forbidden.value.status == 403
    complaint = analyse(agent, complaint, T0)
    with pytest.raises(DomainError) as resolution:
        treat(agent, complaint, T0, resolution="excuses")
    assert "resolution" in resolution.value.fields
    with pytest.raises(DomainError) as past:
        treat(agent, complaint, T0, promised_date=date(2026, 11, 1))
    assert "promised_date" in past.value.fields
    assert complaint_of(complaint.conversation).step == ComplaintStep.TREATMENT


def test_promised_date_checked_against_the_french_date(account: Any, agent: Any) -> None:
    complaint = analyse(agent, complaint_of(open_conv(account)), T0)
    # 00:30 on Monday 16 November in Paris is still Sunday 15 November in UTC.
    just_after_midnight = datetime(2026, 11, 16, 0, 30, tzinfo=PARIS)
    with pytest.raises(DomainError) as yesterday:
        treat(agent, complaint, just_after_midnight, promised_date=date(2026, 11, 15))
    assert "promised_date" in yesterday.value.fields
    treat(agent, complaint, just_after_midnight, promised_date=date(2026, 11, 16),
          notify_customer=False)
    assert not complaint.conversation.messages.filter(direction=Direction.OUT).exists()


# --- Register and CSV export ----------------------------------------------------------------------


@pytest.fixture
def register(account: Any, other_account: Any, agent: Any, supervisor: Any) -> dict[str, Any]:
    """Four complaints at different steps, one in another account."""
    received = open_conv(account, subject="Reçue", motif=Motif.DELIVERY)
    analysed = open_conv(account, T0 + timedelta(days=1), subject="Analysée",
                         motif=Motif.INVOICING)
    analyse(agent, complaint_of(analysed), T0 + timedelta(days=1, hours=1))
    archived = open_conv(account, T0 + timedelta(days=2), subject="Archivée",
                         motif=Motif.DELIVERY)
    done = analyse(agent, complaint_of(archived), T0 + timedelta(days=2, hours=1))
    done = treat(agent, done, T0 + timedelta(days=2, hours=2),
                 resolution="ajustement_remboursement")
    with clock.frozen(T0 + timedelta(days=2, hours=3)):
        complaints.complaint_close(actor=agent, complaint=done, customer_satisfied=True)
    foreign = open_conv(other_account, T0 + timedelta(days=3), subject="Ailleurs",
                        contact_email="x@exemple.fr")
    return {"received": received, "analysed": analysed, "archived": archived,
            "foreign": foreign}


def subjects(qs: Any) -> set[str]:
    return {c.conversation.subject for c in qs}


def test_register_filters(register: dict[str, Any], account: Any, other_account: Any,
                          agent: Any, supervisor: Any) -> None:
    def reg(user: Any = supervisor, **kw: Any) -> set[str]:
        return subjects(complaint_selectors.complaints_register(user, **kw))

    assert reg() == {"Reçue", "Analysée", "Archivée", "Ailleurs"}
    assert reg(agent) == {"Reçue", "Analysée", "Archivée"}  # only the agent's accounts
    assert reg(step="open") == {"Reçue", "Analysée", "Ailleurs"}
    assert reg(step="reception") == {"Reçue", "Ailleurs"}
    assert reg(step="traitement") == {"Analysée"}
    assert reg(step="archive") == {"Archivée"}
    assert reg(account=str(other_account.pk)) == {"Ailleurs"}
    assert reg(motif=Motif.DELIVERY) == {"Reçue", "Archivée"}
    assert reg(resolution="ajustement_remboursement") == {"Archivée"}
    assert reg(date_from=date(2026, 11, 3), date_to=date(2026, 11, 4)) == {"Analysée",
                                                                          "Archivée"}
    ordered = [c.conversation.subject
               for c in complaint_selectors.complaints_register(supervisor)]
    assert ordered == ["Ailleurs", "Archivée", "Analysée", "Reçue"]  # newest first


def test_register_page(register: dict[str, Any], agent: Any) -> None:
    response = login(agent).get("/app/boite/reclamations/", {"step": "archive"})
    assert response.status_code == 200
    html = response.content.decode()
    assert register["archived"].reference in html
    assert register["received"].reference not in html
    assert register["foreign"].reference not in html


def test_register_csv_export(register: dict[str, Any], agent: Any, account: Any) -> None:
    response = login(agent).get("/app/boite/reclamations/export.csv", {"motif": "livraison"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response[
        "Content-Disposition"] == 'attachment; filename="registre-reclamations.csv"'
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(raw[1:]), delimiter=";"))
    assert rows[0][:4] == ["Référence", "Compte", "Contact", "Reçue le"]
    assert len(rows[0]) == len(complaint_selectors.CSV_HEADER)
    by_ref = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_ref) == {register["received"].reference, register["archived"].reference}
    archived = by_ref[register["archived"].reference]
    assert archived["Compte"] == "Cabinet Martin"
    assert archived["Motif"] == "Livraison"
    assert archived["Étape"] == "Archivée"
    assert archived["Solution"] == "Ajustement ou remboursement"
    assert archived["Client satisfait"] == "oui"
    assert archived["Analysée par"] == "agent"
    # Times in French local time (the server runs in UTC).
    assert archived["Reçue le"] == "2026-11-04 09:00"
    assert archived["Clôturée le"] == "2026-11-04 12:00"
    assert by_ref[register["received"].reference]["Étape"] == "Réception"
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
    assert event.actor == agent
    assert event.changes == {"export": "complaints", "filters": {"motif": "livraison"}}


def test_register_is_staff_only(register: dict[str, Any], client_user: Any) -> None:
    assert login(client_user).get("/app/boite/reclamations/export.csv").status_code == 403
    assert Client().get("/app/boite/reclamations/").status_code == 302  # to the login page
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


# --- Satisfaction surveys ------------------------------------------------------------------------


def resolve(c: Conversation, actor: Any, at: datetime, capture: Any) -> None:
    with clock.frozen(at), capture(execute=True):
        services.conversation_set_status(actor=actor, conversation=c, status=Status.RESOLVED)


def survey_url(message: Any) -> str:
    match = re.search(r"https?://[^/\s]+(/satisfaction/[\w-]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_survey_sent_on_resolution(account: Any, agent: Any,
                                   django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account, kind=Kind.QUESTION)
    resolve(c, agent, T0 + timedelta(hours=1), django_capture_on_commit_callbacks)
    [survey] = SurveyResponse.objects.filter(conversation=c)
    assert survey.ask_nps is True
    assert survey.contact == c.contact
    assert survey.sent_at == T0 + timedelta(hours=1)
    [message] = [m for m in mail.outbox if "Votre avis" in m.subject]
    assert message.to == ["jean.dupont@exemple.fr"]
    assert survey_url(message) == f"/satisfaction/{survey.token}/"
    assert c.reference in message.subject


def test_no_survey_without_an_email_address(account: Any, agent: Any,
                                            django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account, kind=Kind.QUESTION, channel=Channel.PHONE, contact_email="",
                  contact_phone="+33612345678")
    resolve(c, agent, T0, django_capture_on_commit_callbacks)
    assert not SurveyResponse.objects.exists()
    assert mail.outbox == []


def test_nps_asked_at_most_once_per_90_days(account: Any, agent: Any,
                                            django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    first = open_conv(account, kind=Kind.QUESTION)
    resolve(first, agent, T0, capture)
    assert SurveyResponse.objects.get(conversation=first).ask_nps is True
    # Not answered; 30 days later the same contact is not asked again.
    second = open_conv(account, T0 + timedelta(days=30), kind=Kind.QUESTION)
    resolve(second, agent, T0 + timedelta(days=30), capture)
    assert SurveyResponse.objects.get(conversation=second).ask_nps is False
    # Answered NPS on day 89 (from the day-0 survey): not asked before day 179.
    token = SurveyResponse.objects.get(conversation=first).token
    with clock.frozen(T0 + timedelta(days=89)):
        surveys.survey_answer(token=token, csat=5, nps=10)
    third = open_conv(account, T0 + timedelta(days=91), kind=Kind.QUESTION)
    resolve(third, agent, T0 + timedelta(days=91), capture)
    assert SurveyResponse.objects.get(conversation=third).ask_nps is False
    fourth = open_conv(account, T0 + timedelta(days=180), kind=Kind.QUESTION)
    resolve(fourth, agent, T0 + timedelta(days=180), capture)
    assert SurveyResponse.objects.get(conversation=fourth).ask_nps is True
    # Another contact has its own 90 days.
    other = open_conv(account, T0 + timedelta(days=31), kind=Kind.QUESTION,
                      contact_email="marie@exemple.fr")
    resolve(other, agent, T0 + timedelta(days=31), capture)
    assert SurveyResponse.objects.get(conversation=other).ask_nps is True


def test_answer_without_login_and_shown_to_the_agent(account: Any, agent: Any,
                                                     django_capture_on_commit_callbacks: Any
                                                     ) -> None:
    c = open_conv(account, kind=Kind.QUESTION)
    resolve(c, agent, T0, django_capture_on_commit_callbacks)
    survey = SurveyResponse.objects.get(conversation=c)
    url = f"/satisfaction/{survey.token}/"
    anonymous = Client()
    page = anonymous.get(url)
    assert page.status_code == 200
    assert c.reference in page.content.decode()
    assert 'name="nps"' in page.content.decode()
    at = T0 + timedelta(days=1)
    with clock.frozen(at):
        response = anonymous.post(url, {"csat": "4", "nps": "9",
                                        "comment": "Réponse rapide et claire"})
    assert response.status_code == 302 and response["Location"] == url
    survey.refresh_from_db()
    assert (survey.csat, survey.nps, survey.comment, survey.answered_at) == (
        4, 9, "Réponse rapide et claire", at)
    assert survey.contact.last_nps_at == at
    assert c.messages.filter(direction=Direction.SYSTEM, event="survey",
                             data__csat=4).exists()
    assert "Merci pour votre avis" in anonymous.get(url).content.decode()
    # A second answer changes nothing.
    second = anonymous.post(url, {"csat": "1", "nps": "0", "comment": "Finalement non"})
    assert second.status_code == 200
    assert "Merci pour votre avis" in second.content.decode()
    survey.refresh_from_db()
    assert (survey.csat, survey.nps) == (4, 9)
    with pytest.raises(DomainError) as again:
        surveys.survey_answer(token=survey.token, csat=1)
    assert again.value.status == 409
    # The agent sees the answer on the conversation page.
    html = login(agent).get(f"/app/boite/{c.pk}/").content.decode()
    assert "4/5" in html and "NPS 9/10" in html and "Réponse rapide et claire" in html
    # Reopened, it keeps showing it (the page looks for surveys once a resolution is on
    # the timeline, whatever the status now).
    with clock.frozen(T0 + timedelta(days=2)):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.OPEN)
    html = login(agent).get(f"/app/boite/{c.pk}/").content.decode()
    assert "4/5" in html and "Réponse rapide et claire" in html


def test_invalid_survey_answers(account: Any, agent: Any,
                                django_capture_on_commit_callbacks: Any) -> None:
    c = open_conv(account, kind=Kind.QUESTION)
    resolve(c, agent, T0, django_capture_on_commit_callbacks)
    survey = SurveyResponse.objects.get(conversation=c)
    url = f"/satisfaction/{survey.token}/"
    for data in ({"csat": "6"}, {"csat": "0"}, {"csat": "4", "nps": "11"}, {"comment": "?"}):
        response = Client().post(url, data)
        assert response.status_code == 422, data
        assert '<p class="error" role="alert">' in response.content.decode()
    for kwargs in ({"csat": 0}, {"csat": 6}, {"csat": 3, "nps": 11}, {"csat": 3, "nps": -1}):
        with pytest.raises(DomainError) as exc:
            surveys.survey_answer(token=survey.token, **kwargs)
        assert exc.value.status == 422
    with pytest.raises(DomainError) as unknown:
        surveys.survey_answer(token="nope", csat=3)
    assert unknown.value.status == 404
    assert Client().get("/satisfaction/nope/").status_code == 404
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.csat is None
    assert not Message.objects.filter(event="survey").exists()


def test_nps_not_accepted_when_not_asked(account: Any, agent: Any,
                                         django_capture_on_commit_callbacks: Any) -> None:
    first = open_conv(account, kind=Kind.QUESTION)
    resolve(first, agent, T0, django_capture_on_commit_callbacks)
    second = open_conv(account, T0 + timedelta(days=1), kind=Kind.QUESTION)
    resolve(second, agent, T0 + timedelta(days=1, hours=1), django_capture_on_commit_callbacks)
    survey = SurveyResponse.objects.get(conversation=second)
    assert survey.ask_nps is False
    url = f"/satisfaction/{survey.token}/"
    assert 'name="nps"' not in Client().get(url).content.decode()
    with pytest.raises(DomainError) as exc:
        surveys.survey_answer(token=survey.token, csat=3, nps=8)
    assert exc.value.fields.keys() == {"nps"}
    # Through the page, an NPS value is ignored.
    assert Client().post(url, {"csat": "3", "nps": "8"}).status_code == 302
    survey.refresh_from_db()
    assert (survey.csat, survey.nps) == (3, None)
    assert survey.contact.last_nps_at is None
    assert SurveyResponse.objects.get(conversation=first).sent_at == T0
    assert datetime(2026, 1, 1, tzinfo=UTC) < survey.sent_at

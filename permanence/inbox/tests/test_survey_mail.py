"""The satisfaction survey e-mail: sent under the client's name like every mail to its
contacts, only for the requests where a survey makes sense (exclusion rules, by default not
for complaints, cancellations nor spam; never for the client's own requests), and its link
works when followed from the e-mail actually sent."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.test import Client

from permanence.accounts.models import ContactChannel
from permanence.core import clock
from permanence.inbox import services
from permanence.inbox.models import Channel, Kind, Origin, Status, SurveyExclusion
from permanence.inbox.models_complaints import SurveyResponse
from permanence.inbox.services import Incoming

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday
SITE = "https://permanence.example.fr"


@pytest.fixture(autouse=True)
def _defaults(settings: Any, account: Any) -> None:
    """The shipped exclusion rules (the migration's), the account's own address."""
    settings.SITE_URL = SITE
    migration = importlib.import_module(
        "permanence.inbox.migrations.0008_origin_instruction_survey_exclusions")
    migration.default_survey_exclusions(django_apps, None)
    ContactChannel.objects.create(account=account, kind="email",
                                  value="accueil@cabinet-martin.test")


def resolved(account: Any, agent: Any, capture: Any, *, tags: list[str] | None = None,
             **extra: Any) -> Any:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Renouvellement d'ordonnance",
                              "body_text": "Mon traitement se termine vendredi.",
                              "contact_email": "marie.lefebre@exemple.fr",
                              "contact_name": "Marie Lefèbre", "acknowledge": False}
    fields.update(extra)
    with clock.frozen(T0):
        conversation = services.conversation_open(Incoming(**fields))
        if tags:
            services.conversation_update(actor=agent, conversation=conversation, data={},
                                         tags=tags)
    mail.outbox.clear()
    with clock.frozen(T0 + timedelta(hours=2)), capture(execute=True):
        services.conversation_set_status(actor=agent, conversation=conversation,
                                         status=Status.RESOLVED)
    return conversation


def survey_mails() -> list[Any]:
    return [m for m in mail.outbox if "Votre avis" in m.subject]


def test_survey_goes_out_under_the_clients_name(account: Any, agent: Any,
                                                django_capture_on_commit_callbacks: Any) -> None:
    conversation = resolved(account, agent, django_capture_on_commit_callbacks)
    [message] = survey_mails()
    assert message.to == ["marie.lefebre@exemple.fr"]
    assert message.from_email == "Cabinet Martin <accueil@cabinet-martin.test>"
    assert "no-reply" not in message.from_email
    # An answer to it threads back to the conversation, like the replies.
    assert message.reply_to == [f"accueil+{conversation.reply_token}@cabinet-martin.test"]
    assert "Cabinet Martin" in message.body


def test_survey_link_from_the_sent_mail_opens_and_records_the_answer(
        account: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    conversation = resolved(account, agent, django_capture_on_commit_callbacks)
    [message] = survey_mails()
    match = re.search(r"(https?://\S+/satisfaction/\S+/)", message.body)
    assert match, message.body
    url = match.group(1)
    assert url.startswith(f"{SITE}/satisfaction/")  # absolute, from SITE_URL
    path = url.removeprefix(SITE)
    visitor = Client(enforce_csrf_checks=True)  # a contact's browser: no session, CSRF on
    page = visitor.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert conversation.reference in html and "Cabinet Martin" in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token
    response = visitor.post(path, {"csrfmiddlewaretoken": token.group(1), "csat": "5",
                                   "comment": "Très rapide"})
    assert response.status_code == 302 and response["Location"] == path
    survey = SurveyResponse.objects.get(conversation=conversation)
    assert (survey.csat, survey.comment) == (5, "Très rapide")
    assert survey.answered_at is not None
    assert "Merci pour votre avis" in visitor.get(path).content.decode()


@pytest.mark.parametrize(("extra", "tags"), [
    ({"kind": Kind.COMPLAINT}, None),  # the complaint's closure asks for satisfaction itself
    ({"motif": "resiliation"}, None),  # a cancellation
    ({}, ["annulation"]),  # a cancelled appointment
    ({}, ["spam"]),
])
def test_no_survey_where_it_makes_no_sense(account: Any, agent: Any, extra: dict[str, Any],
                                           tags: list[str] | None,
                                           django_capture_on_commit_callbacks: Any) -> None:
    resolved(account, agent, django_capture_on_commit_callbacks, tags=tags, **extra)
    assert survey_mails() == []
    assert not SurveyResponse.objects.exists()


def test_no_survey_for_the_clients_own_request(account: Any, agent: Any, client_user: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    resolved(account, agent, django_capture_on_commit_callbacks, channel=Channel.PORTAL,
             contact_email=client_user.email, origin=Origin.CLIENT)
    assert survey_mails() == []


def test_exclusions_are_configurable(account: Any, agent: Any, supervisor: Any,
                                     django_capture_on_commit_callbacks: Any) -> None:
    # A supervisor adds a rule for this account's quote requests, through the settings page.
    staff = Client()
    staff.force_login(supervisor)
    response = staff.post("/app/boite/parametres/satisfaction/", {
        "name": "Devis du cabinet", "account": account.pk, "kind": Kind.QUOTE_REQUEST,
        "motif": "", "tag": ""})
    assert response.status_code == 302
    assert SurveyExclusion.objects.filter(name="Devis du cabinet", account=account).exists()
    resolved(account, agent, django_capture_on_commit_callbacks, kind=Kind.QUOTE_REQUEST)
    assert survey_mails() == []
    # Removing the rule on cancellations brings the survey back for them.
    SurveyExclusion.objects.filter(motif="resiliation").delete()
    resolved(account, agent, django_capture_on_commit_callbacks, motif="resiliation",
             contact_email="autre@exemple.fr")
    assert len(survey_mails()) == 1

"""An executed objection (GDPR art. 21) reaches the calling campaigns: the person's open
targets close as « Opposition », a later import leaves the number out, and nobody records a
call to them."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.desk import campaigns
from permanence.desk.models_campaigns import (
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    Disposition,
    TargetStatus,
)
from permanence.inbox.models import Contact
from permanence.privacy import requests

pytestmark = pytest.mark.django_db
OPEN = datetime(2026, 12, 8, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
JEANNE = "+33612345678"
CSV = ("Nom;Téléphone\n"
       "Jeanne Petit;06 12 34 56 78\n"
       "Paul Martin;06 98 76 54 32\n")


def _campaign(account: Any, supervisor: Any, name: str) -> Any:
    made = campaigns.campaign_create(actor=supervisor, account=account, name=name,
                                     kind=CampaignKind.QUALIFICATION)
    report = campaigns.campaign_import_contacts(actor=supervisor, campaign=made,
                                                filename="liste.csv",
                                                upload=io.BytesIO(CSV.encode()))
    return made, report


def _object(admin_user: Any, account: Any) -> Any:
    contact = Contact.objects.create(account=account, name="Jeanne Petit", phone=JEANNE)
    request = requests.request_create(actor=admin_user, kind="opposition", target="contact",
                                      contact=contact)
    return requests.request_object(request=request, actor=admin_user)


def test_an_objection_closes_the_persons_open_targets(account: Any, other_account: Any,
                                                      supervisor: Any, admin_user: Any,
                                                      agent: Any) -> None:
    with clock.frozen(OPEN):
        campaign, _report = _campaign(account, supervisor, "Relance")
        campaign = campaigns.campaign_transition(actor=supervisor, campaign=campaign,
                                                 to=CampaignStatus.ACTIVE)
        elsewhere, _ = _campaign(other_account, supervisor, "Autre client")
        done = _object(admin_user, account)
    assert done.result["campaign_targets"] == 1
    jeanne = CampaignTarget.objects.get(campaign=campaign, phone=JEANNE)
    assert jeanne.status == TargetStatus.OBJECTED
    # Another client's campaign is not concerned: the objection was made to this account.
    assert CampaignTarget.objects.get(campaign=elsewhere, phone=JEANNE).status == (
        TargetStatus.TO_CALL)
    # She counts as closed in the progress, and nobody records a call to her.
    assert campaigns.campaign_results(campaign).done == 1
    with clock.frozen(OPEN), pytest.raises(DomainError) as exc:
        campaigns.campaign_attempt_record(agent=agent, target=jeanne,
                                          disposition=Disposition.REACHED)
    assert exc.value.code == "objected"
    with clock.frozen(OPEN):
        called = campaigns.campaign_next_target(agent=agent, campaign=campaign)
    assert called is not None and called.phone != JEANNE


def test_a_later_import_leaves_the_number_out_and_says_so(account: Any, supervisor: Any,
                                                          admin_user: Any) -> None:
    with clock.frozen(OPEN):
        _object(admin_user, account)
        made, report = _campaign(account, supervisor, "Nouvelle liste")
    assert report.ok and report.imported == 1
    assert report.objected == [(2, JEANNE)]
    assert list(made.targets.values_list("phone", flat=True)) == ["+33698765432"]

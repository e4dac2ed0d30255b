"""Inbox settings pages, per-account SLA policies, recompute after calendar changes,
presence/capacity and the e-mail notification preference."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from permanence.core import clock
from permanence.inbox.models import AgentPresence, SlaPolicy, SlaTarget
from permanence.inbox.services import Incoming, conversation_open

PARIS = ZoneInfo("Europe/Paris")


def _open(account: Any) -> Any:
    return conversation_open(Incoming(account=account, channel="formulaire", subject="Question",
                                      body_text="Bonjour", contact_email="c@exemple.fr",
                                      acknowledge=False))


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_calendar_change_recomputes_open_conversations(
        account: Any, supervisor: Any, django_capture_on_commit_callbacks: Any) -> None:
    from permanence.calendars.services import calendar_set
    from permanence.core.business_time import OPENING_HOURS
    from permanence.inbox import sla
    from permanence.inbox.models import SlaPolicy

    # Counted in opening hours, so that shorter hours move the deadline.
    SlaPolicy.objects.filter(pk=sla.ensure_default_policy().pk).update(clock=OPENING_HOURS)
    with clock.frozen(datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)):  # a Monday
        conversation = _open(account)
        before = conversation.first_response_due_at
        weekly = {d: [["09:00", "10:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        weekly |= {"sat": [], "sun": []}
        with django_capture_on_commit_callbacks(execute=True):
            calendar_set(actor=supervisor, account=account, data={
                "timezone": "Europe/Paris", "weekly": weekly, "holidays": "FR",
                "closures": []})
    conversation.refresh_from_db()
    # One business hour a day: 24 business hours end weeks later than with office hours.
    assert conversation.first_response_due_at > before
    assert conversation.first_response_due_at.astimezone(PARIS).hour == 10


@pytest.mark.django_db
def test_account_policy_is_created_as_a_copy_and_edits_recompute(
        account: Any, supervisor: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = _client(supervisor)
    url = f"/app/boite/parametres/delais/?account={account.pk}"
    assert b"suit les d" in client.get(url).content  # follows the default policy
    assert client.post(url, {"create_policy": "1"}).status_code == 302
    policy = SlaPolicy.objects.get(account=account)
    default = SlaPolicy.objects.get(account=None)
    assert policy.targets.count() == default.targets.count()
    target = policy.targets.get(priority="normale", kind="")
    conversation = _open(account)
    form = {}
    for t in policy.targets.all():
        prefix = f"t{t.pk}"
        form[f"{prefix}-first_response_hours"] = "2" if t.pk == target.pk else str(
            t.first_response_hours)
        form[f"{prefix}-next_response_hours"] = str(t.next_response_hours)
        form[f"{prefix}-resolution_hours"] = str(t.resolution_hours)
        if t.first_response_same_day:
            form[f"{prefix}-first_response_same_day"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, form).status_code == 302
    assert SlaTarget.objects.get(pk=target.pk).first_response_hours == Decimal("2")
    before = conversation.first_response_due_at
    conversation.refresh_from_db()
    assert conversation.first_response_due_at < before
    # The default policy is untouched.
    assert default.targets.get(priority="normale", kind="").first_response_hours == 24


@pytest.mark.django_db
def test_sla_target_over_72_hours_is_refused(supervisor: Any) -> None:
    from permanence.inbox import sla

    policy = sla.ensure_default_policy()
    client = _client(supervisor)
    form = {}
    for t in policy.targets.all():
        prefix = f"t{t.pk}"
        form[f"{prefix}-first_response_hours"] = str(t.first_response_hours)
        form[f"{prefix}-next_response_hours"] = str(t.next_response_hours)
        form[f"{prefix}-resolution_hours"] = "80"
    response = client.post("/app/boite/parametres/delais/", form)
    assert response.status_code == 422
    assert "72" in response.content.decode()
    assert not SlaTarget.objects.filter(resolution_hours=80).exists()


@pytest.mark.django_db
def test_agent_sets_presence_and_capacity(agent: Any) -> None:
    client = _client(agent)
    response = client.post("/app/boite/presence/", {"available": "0", "capacity": "7"})
    assert response.status_code == 302
    presence = AgentPresence.objects.get(user=agent)
    assert (presence.available, presence.capacity) == (False, 7)
    page = client.get("/app/boite/").content.decode()
    assert "Passer disponible" in page
    client.post("/app/boite/presence/", {"available": "1", "capacity": "0"})
    presence.refresh_from_db()
    assert presence.capacity == 7  # refused: out of range, error shown, nothing changed


@pytest.mark.django_db
def test_staff_chooses_email_notifications(agent: Any, client_user: Any) -> None:
    client = _client(agent)
    response = client.post("/app/profil/", {"full_name": "Alice", "phone": "",
                                            "language": "fr", "save_profile": "1"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.notify_by_email is False  # unchecked box
    # Clients have no such preference on their profile.
    page = _client(client_user).get("/espace/profil/").content.decode()
    assert "notify_by_email" not in page


@pytest.mark.django_db
def test_notification_email_follows_the_preference(agent: Any, account: Any, mailoutbox: Any,
                                                    django_capture_on_commit_callbacks: Any
                                                    ) -> None:
    from permanence.inbox.tasks import notify

    conversation = _open(account)
    agent.notify_by_email = False
    agent.save(update_fields=["notify_by_email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify.call(agent.pk, conversation.pk, "assigned", None)
    assert mailoutbox == []
    agent.notify_by_email = True
    agent.save(update_fields=["notify_by_email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify.call(agent.pk, conversation.pk, "assigned", None)
    assert len(mailoutbox) == 1 and conversation.reference in mailoutbox[0].subject

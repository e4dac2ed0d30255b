"""Call backs: created for missed/abandoned/voicemail calls with a due time in business
time (or the consignes' delay), assigned to an available agent; the « Rappels » page (what
the user may see, filters, overdue highlighted, « Rappelé » / « Annuler » with audit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.desk import agents, callbacks
from permanence.desk.models import AgentStatus, Callback, CallbackStatus, ConsigneVersion

from .calls_helpers import CALLER, event, number_account, post

pytestmark = pytest.mark.django_db

MONDAY_10H = datetime.fromisoformat("2026-11-23T10:00:00+01:00")
FRIDAY_18H = datetime.fromisoformat("2026-11-27T18:00:00+01:00")


def missed(client: Any, call_id: str = "c1", cause: str = "no_answer",
           to: str | None = None) -> Callback:
    extra = {"to": to} if to else {}
    for data in (event("ringing", call_id, **extra),
                 event("hangup", call_id, at=20, cause=cause, **extra)):
        assert post(client, data).status_code == 200
    return Callback.objects.get(call__call_id=call_id)


def test_due_in_business_time(client: Any, account: Any) -> None:
    number_account(account)
    with clock.frozen(MONDAY_10H):
        callback = missed(client)
    assert callback.due_at == MONDAY_10H + timedelta(minutes=60)
    assert callback.status == CallbackStatus.TODO and callback.name == ""
    with clock.frozen(FRIDAY_18H):  # closed until Monday 08:30
        late = missed(client, "c2")
    assert late.due_at == datetime.fromisoformat("2026-11-30T09:30:00+01:00")


def test_the_consignes_delay_wins(client: Any, account: Any) -> None:
    number_account(account)
    ConsigneVersion.objects.create(account=account, number=1, created_at=clock.now(),
                                   content={"callback_minutes": 15})
    with clock.frozen(MONDAY_10H):
        callback = missed(client)
    assert callback.due_at == MONDAY_10H + timedelta(minutes=15)


def test_assigned_to_an_available_agent_with_the_fewest(client: Any, account: Any, agent: Any,
                                                        other_agent: Any) -> None:
    number_account(account)
    account.assigned_agents.add(other_agent)
    first = missed(client, "c1")
    second = missed(client, "c2")
    assert {first.assignee, second.assignee} == {agent, other_agent}
    agents.agent_state_set(user=agent, status=AgentStatus.BREAK)
    third = missed(client, "c3")
    assert third.assignee == other_agent  # the one on a break is skipped


def test_the_page_shows_only_visible_callbacks_overdue_highlighted(
        client: Any, account: Any, other_account: Any, agent: Any) -> None:
    number_account(account)
    number_account(other_account, "+33145000005")
    mine = missed(client, "c1")
    missed(client, "c2", to="+33145000005")
    Callback.objects.filter(pk=mine.pk).update(due_at=clock.now() - timedelta(minutes=5))
    client.force_login(agent)
    page = client.get(reverse("desk:callbacks"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "06 12 34 56 78" in html or CALLER in html
    assert html.count('class="overdue"') == 1 and "en retard" in html
    assert "Durand" not in html  # not in the list, nor among the account filter's choices
    assert len(page.context["page"].object_list) == 1
    overdue = client.get(reverse("desk:callbacks"), {"overdue": "on"})
    assert len(overdue.context["page"].object_list) == 1
    done = client.get(reverse("desk:callbacks"), {"status": "fait"})
    assert len(done.context["page"].object_list) == 0


def test_called_back_and_cancel_with_audit(client: Any, account: Any, agent: Any) -> None:
    number_account(account)
    first, second = missed(client, "c1"), missed(client, "c2")
    client.force_login(agent)
    response = client.post(reverse("desk:callback_done", args=[first.pk]),
                           {"note": "Rappelée, RDV pris"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == CallbackStatus.DONE and first.done_by == agent
    assert first.note == "Rappelée, RDV pris" and first.attempts == 1
    client.post(reverse("desk:callback_cancel", args=[second.pk]))
    second.refresh_from_db()
    assert second.status == CallbackStatus.CANCELLED
    audits = AuditEvent.objects.filter(target_type="desk.callback")
    assert audits.count() == 2 and all(a.account_id == account.pk for a in audits)
    again = client.post(reverse("desk:callback_done", args=[second.pk]), follow=True)
    assert "déjà clos" in again.content.decode()
    second.refresh_from_db()
    assert second.status == CallbackStatus.CANCELLED


def test_another_agent_cannot_close_it(client: Any, account: Any, other_agent: Any,
                                       billing: Any) -> None:
    number_account(account)
    callback = missed(client)
    client.force_login(other_agent)
    assert client.post(reverse("desk:callback_done", args=[callback.pk])).status_code == 404
    client.force_login(billing)
    assert client.post(reverse("desk:callback_done", args=[callback.pk])).status_code == 403
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.TODO


def test_service_refuses_staff_who_take_no_calls(client: Any, account: Any,
                                                 billing: Any) -> None:
    number_account(account)
    callback = missed(client)
    with pytest.raises(Exception, match="Accès refusé"):
        callbacks.callback_done(actor=billing, callback=callback)

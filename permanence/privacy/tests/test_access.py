"""Espace client › Confidentialité: the client sees who at the operator opened its data (role
and time), never another account's views nor its own clients' views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.desk.models import Call
from permanence.inbox.models import Conversation
from permanence.inbox.services import conversation_views_audit


def _conversation(account: Any, ref: str) -> Conversation:
    now = clock.now()
    return Conversation.objects.create(account=account, reference=ref, subject="Ordonnance",
                                       channel="email", created_at=now, updated_at=now,
                                       last_message_at=now)


def test_the_client_sees_the_staffs_views_of_its_own_data(
        client: Client, client_user: Any, agent: Any, supervisor: Any, other_agent: Any,
        account: Any, other_account: Any) -> None:
    mine = _conversation(account, "D-2026-000001")
    theirs = _conversation(other_account, "D-2026-000002")
    staff = Client()
    staff.force_login(agent)
    assert staff.get(f"/app/boite/{mine.pk}/").status_code == 200
    other = Client()
    other.force_login(other_agent)
    assert other.get(f"/app/boite/{theirs.pk}/").status_code == 200
    call = Call.objects.create(call_id="c1", account=account, offered_at=clock.now(),
                               created_at=clock.now(), from_number="+33612345678")
    staff.force_login(supervisor)
    assert staff.get(f"/app/poste/appels/{call.pk}/").status_code == 200
    # Views are copied to the audit log by a job when first kept in the read marker.
    conversation_views_audit()
    client.force_login(client_user)
    client.get(f"/espace/demandes/{mine.pk}/")  # the client's own view: not listed
    page = client.get("/espace/confidentialite/").content.decode()
    assert "D-2026-000001" in page and "Télésecrétaire" in page
    assert "Appel" in page and "Superviseur" in page
    assert "D-2026-000002" not in page  # another account's
    assert agent.email not in page and "Client</td>" not in page  # roles, not names


def test_the_page_queries_do_not_grow_with_the_views(
        client: Client, client_user: Any, agent: Any, account: Any,
        django_assert_max_num_queries: Any) -> None:
    conversation = _conversation(account, "D-2026-000003")
    client.force_login(client_user)

    def add(n: int) -> None:
        AuditEvent.objects.bulk_create([AuditEvent(
            created_at=clock.now() - timedelta(minutes=i), actor=agent, actor_label=agent.email,
            action="view", target_type="inbox.conversation", target_id=str(conversation.pk),
            target_label=conversation.reference, account=account) for i in range(n)])

    add(2)
    with django_assert_max_num_queries(20) as first:
        assert client.get("/espace/confidentialite/").status_code == 200
    add(40)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get("/espace/confidentialite/").status_code == 200

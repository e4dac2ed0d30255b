"""A conversation is linked to an order of its account (issue 3: links to orders)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from permanence.core.errors import DomainError
from permanence.inbox import services
from permanence.inbox.models import Message
from testkit.shop import make_order


def _conversation(account: Any) -> Any:
    return services.conversation_open(services.Incoming(
        account=account, channel="email", subject="Ma commande", body_text="Bonjour",
        contact_email=f"client@{account.slug}.fr", acknowledge=False))


def test_agent_links_and_unlinks_an_order_of_the_account(agent: Any, account: Any) -> None:
    conversation, order = _conversation(account), make_order(account)
    client = Client()
    client.force_login(agent)
    response = client.post(f"/app/boite/{conversation.pk}/commande/",
                           {"order": order.reference.lower()})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.order == order
    page = client.get(f"/app/boite/{conversation.pk}/").content.decode()
    assert f"lié à la commande {order.reference}" in page
    assert f'href="/app/boutique/commandes/{order.pk}/"' in page
    client.post(f"/app/boite/{conversation.pk}/commande/", {"order": ""})
    conversation.refresh_from_db()
    assert conversation.order is None
    assert Message.objects.filter(conversation=conversation, event="order_linked").count() == 2


def test_an_order_of_another_account_is_refused_with_a_field_error(
        agent: Any, account: Any, other_account: Any) -> None:
    conversation, foreign = _conversation(account), make_order(other_account)
    client = Client()
    client.force_login(agent)
    response = client.post(f"/app/boite/{conversation.pk}/commande/",
                           {"order": foreign.reference})
    assert response.status_code == 422
    assert f"Aucune commande {foreign.reference} pour ce compte." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.order is None


def test_unknown_reference_and_billing_staff_are_refused(billing: Any, agent: Any,
                                                         account: Any) -> None:
    conversation = _conversation(account)
    with pytest.raises(DomainError) as err:
        services.conversation_link_order(actor=agent, conversation=conversation,
                                         reference="CM-2026-999999")
    assert "order" in err.value.fields
    with pytest.raises(DomainError):
        services.conversation_link_order(actor=billing, conversation=conversation,
                                         reference=make_order(account).reference)

"""`next` parameters never send anyone to another site."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "expected"), [
    ("https://evil.example/x", "/app/boite/"),
    ("//evil.example/x", "/app/boite/"),
    ("/app/boite/?view=mine", "/app/boite/?view=mine"),
])
def test_presence_next_stays_on_site(agent: Any, target: str, expected: str) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post("/app/boite/presence/", {"available": "0", "next": target})
    assert response.status_code == 302
    assert response["Location"] == expected


@pytest.mark.django_db
def test_bulk_next_stays_on_site(agent: Any, account: Any) -> None:
    from permanence.inbox.services import Incoming, conversation_open

    conversation = conversation_open(Incoming(account=account, channel="formulaire",
                                              subject="Question", body_text="Bonjour",
                                              contact_email="a@exemple.fr", acknowledge=False))
    client = Client()
    client.force_login(agent)
    response = client.post("/app/boite/groupe/", {"action": "tag", "tag": "vu",
                                                  "ids": str(conversation.pk),
                                                  "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/app/boite/"
    assert list(conversation.tags.values_list("name", flat=True)) == ["vu"]


@pytest.mark.django_db
def test_merged_conversation_link_redirects_to_target(agent: Any, account: Any) -> None:
    from permanence.inbox.services import Incoming, conversation_merge, conversation_open

    def open_one(subject: str) -> Any:
        return conversation_open(Incoming(account=account, channel="formulaire",
                                          subject=subject, body_text="Bonjour",
                                          contact_email="a@exemple.fr", acknowledge=False))

    source, target = open_one("Première"), open_one("Seconde")
    conversation_merge(actor=agent, source=source, target=target, inform_customer=False)
    client = Client()
    client.force_login(agent)
    response = client.get(f"/app/boite/{source.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/app/boite/{target.pk}/"


@pytest.mark.django_db
def test_merged_conversation_of_foreign_account_is_404(other_agent: Any, agent: Any,
                                                        account: Any) -> None:
    from permanence.inbox.services import Incoming, conversation_merge, conversation_open

    a = conversation_open(Incoming(account=account, channel="formulaire", subject="A",
                                   body_text="x", acknowledge=False))
    b = conversation_open(Incoming(account=account, channel="formulaire", subject="B",
                                   body_text="y", acknowledge=False))
    conversation_merge(actor=agent, source=a, target=b, inform_customer=False)
    client = Client()
    client.force_login(other_agent)
    assert client.get(f"/app/boite/{a.pk}/").status_code == 404

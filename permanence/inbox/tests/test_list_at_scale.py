"""The inbox list stays cheap on large inboxes: capped counts, short account filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from permanence.inbox import views
from permanence.inbox.services import Incoming, conversation_open


def _open(account: Any, n: int) -> None:
    for i in range(n):
        conversation_open(Incoming(account=account, channel="formulaire", subject=f"Q{i}",
                                   body_text="Bonjour", acknowledge=False))


@pytest.mark.django_db
def test_count_is_capped(monkeypatch: Any, account: Any, supervisor: Any) -> None:
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _open(account, 5)
    client = Client()
    client.force_login(supervisor)
    page = client.get("/app/boite/?view=open").context["page"]
    assert page.paginator.count == 4  # cap + 1: "more than the cap"
    assert page.paginator.capped is True
    assert "plus de 1 000 dossiers" in client.get("/app/boite/?view=open").content.decode()


@pytest.mark.django_db
def test_exact_count_below_the_cap(account: Any, supervisor: Any) -> None:
    _open(account, 2)
    client = Client()
    client.force_login(supervisor)
    page = client.get("/app/boite/?view=open").context["page"]
    assert (page.paginator.count, page.paginator.capped) == (2, False)


@pytest.mark.django_db
def test_account_filter_lists_accounts_with_conversations(account: Any, other_account: Any,
                                                          supervisor: Any) -> None:
    from permanence.accounts.models import ClientAccount

    idle = ClientAccount.objects.create(name="Sans dossier", slug="sans-dossier")
    _open(account, 1)
    client = Client()
    client.force_login(supervisor)
    names = [a.name for a in client.get("/app/boite/").context["accounts"]]
    assert names == [account.name]
    # The selected account stays in the list even without conversations.
    names = [a.name for a in client.get(f"/app/boite/?account={idle.pk}").context["accounts"]]
    assert set(names) == {account.name, idle.name}

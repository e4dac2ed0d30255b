"""Client-account search (issue 9): substrings of e-mails and phone numbers typed as people
type them, and typos in names on PostgreSQL (pg_trgm, indexes of migration 0005)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from permanence.accounts.models import ClientAccount, ContactChannel
from permanence.accounts.selectors import account_list

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def pharmacy(db: Any) -> ClientAccount:
    account = ClientAccount.objects.create(name="Pharmacie de l'Ordonnance",
                                           slug="pharmacie-ordonnance",
                                           billing_email="compta@pharma-exemple.fr")
    ContactChannel.objects.create(account=account, kind="email",
                                  value="accueil@officine-lyon.fr")
    ContactChannel.objects.create(account=account, kind="phone", value="+33145000004")
    ClientAccount.objects.create(name="Plomberie Zola", slug="plomberie-zola")
    return account


@pytest.mark.parametrize("q", ["officine-lyon", "OFFICINE", "pharma-exemple", "01 45 00 00 04",
                               "0145000004", "45 00 00", "+33145"])
def test_substrings_of_emails_and_phones_find_the_account(pharmacy: ClientAccount,
                                                          supervisor: Any, q: str) -> None:
    assert [a.pk for a in account_list(supervisor, q=q)] == [pharmacy.pk]


@pytest.mark.skipif(not POSTGRES, reason="typo tolerance uses pg_trgm (PostgreSQL)")
@pytest.mark.parametrize("q", ["ordonance", "ordonnace", "pharmacei", "Ordonnanse"])
def test_typos_in_the_name_find_the_account(pharmacy: ClientAccount, supervisor: Any,
                                            q: str) -> None:
    assert [a.pk for a in account_list(supervisor, q=q)] == [pharmacy.pk]
    client = Client()
    client.force_login(supervisor)
    assert "Pharmacie de l&#x27;Ordonnance" in client.get(
        "/app/comptes/", {"q": q}).content.decode()


@pytest.mark.skipif(not POSTGRES, reason="trigram indexes exist on PostgreSQL only")
def test_account_search_reads_the_trigram_indexes(pharmacy: ClientAccount) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'accounts_%trgm'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"accounts_clientaccount_name_trgm",
            "accounts_contactchannel_upper_value_trgm"} <= names
    plan = ClientAccount.objects.filter(name__icontains="ordonn").explain()
    assert "trgm" in plan, plan

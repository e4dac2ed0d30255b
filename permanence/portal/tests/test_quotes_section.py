"""Espace client → Devis: the current account's quotes, openable once sent."""

from __future__ import annotations

from typing import Any

from django.test import Client

from permanence.shop.models import Quote, QuoteStatus


def _quote(account: Any, status: str, reference: str) -> Quote:
    return Quote.objects.create(reference=reference, account=account, status=status,
                                requester_name="Dr Martin", requester_email="m@exemple.fr",
                                token=f"tok-{reference}", total_ttc_cents=17880)


def test_client_sees_own_quotes_with_links_only_when_sent(client_user: Any, account: Any,
                                                          other_account: Any) -> None:
    _quote(account, QuoteStatus.SENT, "DV-2026-000001")
    _quote(account, QuoteStatus.REQUESTED, "DV-2026-000002")
    _quote(other_account, QuoteStatus.SENT, "DV-2026-000003")
    client = Client()
    client.force_login(client_user)
    html = client.get("/espace/devis/").content.decode()
    assert 'href="/devis/tok-DV-2026-000001/"' in html
    assert "DV-2026-000002" in html and 'href="/devis/tok-DV-2026-000002/"' not in html
    assert "en préparation par notre équipe" in html
    assert "DV-2026-000003" not in html  # another account's quote


def test_empty_state_offers_to_request_a_quote(client_user: Any, account: Any) -> None:
    client = Client()
    client.force_login(client_user)
    html = client.get("/espace/devis/").content.decode()
    assert "Aucun devis pour le moment." in html and 'href="/devis/demande/"' in html


def test_query_count_is_constant(client_user: Any, account: Any,
                                 django_assert_max_num_queries: Any) -> None:
    client = Client()
    client.force_login(client_user)
    for i in range(1, 12):
        _quote(account, QuoteStatus.SENT, f"DV-2026-{i:06d}")
    with django_assert_max_num_queries(12):
        assert client.get("/espace/devis/").status_code == 200



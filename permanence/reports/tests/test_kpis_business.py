"""The chat, assistant and business indicators on hand-built data whose values are worked out
here; the business figures are for the roles that see billing only."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from permanence.accounts.models import ClientAccount
from permanence.billing.models import Subscription
from permanence.billing.models_invoices import Invoice
from permanence.inbox.models import Conversation
from permanence.livechat.models import ChatSession, ChatStatusChange
from permanence.reports import kpis
from permanence.shop.models import Cart, CartLine, Quote
from testkit.shop import make_offer, make_order

PARIS = ZoneInfo("Europe/Paris")
START, END = date(2026, 3, 1), date(2026, 3, 31)
MID = datetime(2026, 3, 15, 10, 0, tzinfo=PARIS)
_n = itertools.count(1)


def _figures(user: Any, **filters: Any) -> dict[str, Any]:
    chosen = kpis.filters_for(user, start_day=START, end_day=END, **filters)
    return kpis.compute(user, chosen)["values"]


def _chat(account: Any, *, asked: bool = True, moves: tuple[str, ...] = (),
          waited: int | None = None, status: str = "terminee", agent: Any = None) -> ChatSession:
    n = next(_n)
    conversation = Conversation.objects.create(
        account=account, reference=f"C-{n:06d}", subject="Chat", channel="chat",
        created_at=MID, updated_at=MID, last_message_at=MID) if asked else None
    session = ChatSession.objects.create(
        account=account, token_hash=f"{n:064d}", conversation=conversation, status=status,
        agent=agent, visitor_name="Léa Martin", visitor_email="lea@example.fr",
        consent_text="ok", consent_at=MID, origin="https://example.fr", created_at=MID,
        updated_at=MID, waiting_since=MID if waited is not None else None,
        accepted_at=MID + timedelta(seconds=waited) if waited is not None else None)
    previous = "bot"
    for to in moves:
        ChatStatusChange.objects.create(session=session, from_status=previous, to_status=to,
                                        at=MID)
        previous = to
    return session


def test_chat_and_assistant_figures(supervisor: Any, account: Any, agent: Any) -> None:
    _chat(account)                                               # the assistant alone
    _chat(account, moves=("attente", "en_cours"), waited=30, agent=agent)
    _chat(account, moves=("attente", "en_cours"), waited=90, agent=agent)
    _chat(account, asked=False)                                  # opened, nothing written
    _chat(account, moves=("hors_ligne",), status="hors_ligne")   # handed over, offline
    values = _figures(supervisor)
    assert values["chats"] == 5
    # 4 chats where the visitor wrote: 1 by the assistant alone, 3 passed to a person.
    assert values["bot_deflection_rate"] == 0.25
    assert values["bot_handover_rate"] == 0.75
    # Waits 30 and 90 s: median 60, 90th centile 30 + 0.9 × 60 = 84.
    assert values["chat_wait_median_seconds"] == 60.0
    assert values["chat_wait_p90_seconds"] == 84.0
    # One secretary's figures: her chats, and no assistant rates (they are not hers).
    mine = _figures(supervisor, agent_id=agent.pk)
    assert mine["chats"] == 2 and mine["bot_deflection_rate"] is None
    # Another channel chosen: no chat figures.
    assert _figures(supervisor, channel="email")["chats"] is None


def _invoice(account: Any, kind: str, cents: int, day: date) -> Invoice:
    n = next(_n)
    return Invoice.objects.create(
        kind=kind, number=f"F2026-{n:05d}", account=account, issued_on=day, due_on=day,
        total_ht_cents=cents, total_vat_cents=cents // 5, total_ttc_cents=cents * 6 // 5,
        content_hash="0" * 64, created_at=timezone.now())


def _subscription(account: Any, started: datetime, ends_on: date | None = None,
                  monthly: int = 10000, options: list[dict[str, Any]] | None = None) -> None:
    Subscription.objects.create(account=account, offer=make_offer(),
                                order=make_order(account), label="Forfait", started_at=started,
                                ends_on=ends_on, monthly_price_cents=monthly,
                                options=options or [])


def test_business_figures(supervisor: Any, account: Any, other_account: Any) -> None:
    third = ClientAccount.objects.create(name="Bati Rénov", slug="bati-renov")
    before = datetime(2026, 1, 5, 9, 0, tzinfo=PARIS)
    # Kept all month, with a 20 € option: 100 + 20 € of MRR.
    _subscription(account, before, options=[{"offer": 1, "label": "SMS",
                                             "monthly_price_cents": 2000}])
    # Ends on 20 March: running at the start, not at the end — churned.
    _subscription(other_account, before, ends_on=date(2026, 3, 20), monthly=5000)
    # New in March: MRR, not in the churn base.
    _subscription(third, MID, monthly=7000)
    _invoice(account, "facture", 12000, date(2026, 3, 2))
    _invoice(other_account, "facture", 5000, date(2026, 3, 31))
    _invoice(account, "avoir", 2500, date(2026, 3, 10))
    _invoice(account, "facture", 99999, date(2026, 4, 1))  # next period
    values = _figures(supervisor)
    assert values["revenue_ht_cents"] == 12000 + 5000 - 2500
    assert values["mrr_cents"] == 10000 + 2000 + 7000
    # Base: 2 accounts subscribed on 1 March; 1 lost by 1 April.
    assert values["churn_rate"] == 0.5 and values["retention_rate"] == 0.5
    one = _figures(supervisor, account_id=account.pk)
    assert one["revenue_ht_cents"] == 9500 and one["mrr_cents"] == 12000
    assert one["churn_rate"] == 0.0 and one["retention_rate"] == 1.0
    assert one["storefront_conversion"] is None  # the shop's visitors belong to no account


def test_quotes_and_storefront_conversion(supervisor: Any, account: Any) -> None:
    offer = make_offer()
    paid = make_order(account)
    paid.paid_at = MID
    paid.save(update_fields=["paid_at"])
    for n, order in enumerate((paid, None, None)):
        cart = Cart.objects.create(token=f"t{n}", order=order)
        CartLine.objects.create(cart=cart, offer=offer)
    Cart.objects.create(token="empty")  # never filled: not a visit that could convert
    Cart.objects.filter(token__in=["t0", "t1", "t2", "empty"]).update(created_at=MID)
    for n, status in enumerate(("accepte", "envoye", "refuse")):
        Quote.objects.create(reference=f"DV-{n}", status=status, requester_name="Paul",
                             requester_email="paul@example.fr", token=f"q{n}", sent_at=MID)
    Quote.objects.create(reference="DV-9", status="demande", requester_name="Paul",
                         requester_email="paul@example.fr", token="q9")  # never sent
    values = _figures(supervisor)
    assert values["storefront_conversion"] == 0.3333
    assert values["quotes_sent"] == 3 and values["quote_acceptance_rate"] == 0.3333


def test_agents_and_clients_never_get_the_business_figures(agent: Any, account: Any,
                                                           billing: Any) -> None:
    assert "revenue_ht_cents" not in _figures(agent)
    assert "mrr_cents" in _figures(billing)


def test_the_page_shows_the_business_tiles_to_billing_roles_only(client: Any, supervisor: Any,
                                                                 agent: Any,
                                                                 account: Any) -> None:
    url = "/app/rapports/?du=2026-03-01&au=2026-03-31"
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert 'id="kpi-mrr_cents"' in page and 'id="kpi-bot_deflection_rate"' in page
    assert "Causes des réclamations" in page
    client.force_login(agent)
    page = client.get(url).content.decode()
    assert 'id="kpi-mrr_cents"' not in page and 'id="kpi-chats"' in page
    response = client.get("/api/v1/reports/kpis?from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200, response.content
    assert "chats" in response.json()["indicators"]
    assert "revenue_ht_cents" not in response.json()["indicators"]
    assert "revenue_ht_cents" not in response.json()["definitions"]

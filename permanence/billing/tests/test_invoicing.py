"""Invoices: gapless numbers, frozen content (the database refuses changes), totals per VAT
rate, the paid order's invoice, the monthly run for each plan type, credit notes."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from permanence.billing import credit_notes, invoicing, invoicing_run, issuing
from permanence.billing.models_invoices import Invoice, InvoiceLine, InvoiceStatus
from permanence.billing.models_usage import UsageMark, UsageRecord
from permanence.core.errors import DomainError
from permanence.core.money import vat_cents
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_order

from .conftest import subscription_for, usage


def line(cents: int, rate: str = "20", qty: str = "1", label: str = "Forfait") -> issuing.Line:
    return issuing.Line(label=label, unit_price_cents=cents, vat_rate=Decimal(rate),
                        quantity=Decimal(qty))


@pytest.mark.django_db
def test_numbers_follow_each_other_per_series(business: Any) -> None:
    first = issuing.issue(issuing.Draft(account=business, lines=[line(1000)]))
    second = issuing.issue(issuing.Draft(account=business, lines=[line(2000)]))
    note = credit_notes_full(second)
    year = first.issued_on.year
    assert (first.number, second.number) == (f"F{year}-000001", f"F{year}-000002")
    assert note.number == f"AV{year}-000001"


def credit_notes_full(invoice: Invoice) -> Invoice:
    from permanence.accounts.models import User

    staff = User.objects.create_user("compta@test.fr", None, role="billing")
    return credit_notes.credit_note_issue(actor=staff, invoice=invoice, reason="Erreur")


@pytest.mark.django_db
def test_an_issued_invoice_cannot_change_even_bypassing_the_code(business: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(1000)]))
    for change in ({"total_ht_cents": 1}, {"number": "F-FAUX"}, {"buyer": {"name": "X"}}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(**change)
    with pytest.raises(DatabaseError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(total_ht_cents=1)
    # What may move: its payment status.
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID, paid_cents=1200)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.total_ht_cents == 1000
    assert len(invoice.content_hash) == 64


@pytest.mark.django_db
def test_deleting_an_issued_invoice_is_refused_on_postgresql(business: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's trigger refuses DELETE; SQLite relies on PROTECT")
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(1000)]))
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).delete()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**7), st.sampled_from(["20", "10", "5.5", "0"]),
                          st.decimals(min_value=Decimal("0.001"), max_value=Decimal(500),
                                      places=3)), min_size=1, max_size=12))
def test_totals_are_the_sum_of_lines_per_vat_rate(rows: list[tuple[int, str, Decimal]]) -> None:
    from permanence.accounts.models import ClientAccount

    draft = issuing.Draft(account=ClientAccount(name="X"), buyer={"name": "X"},
                          lines=[line(c, r, str(q)) for c, r, q in rows])
    totals = draft.totals()
    by_rate: dict[Decimal, int] = {}
    for ln in draft.lines:
        by_rate[ln.vat_rate.normalize()] = by_rate.get(ln.vat_rate.normalize(), 0) \
            + ln.total_ht_cents
    assert totals.ht == sum(ln.total_ht_cents for ln in draft.lines)
    assert totals.vat == sum(vat_cents(base, rate) for rate, base in by_rate.items())
    assert totals.ttc == totals.ht + totals.vat


@pytest.mark.django_db(transaction=True)
def test_numbering_is_gapless_under_concurrent_issuing(business: Any) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait(10)
            issuing.issue(issuing.Draft(account=business, lines=[line(1000)]))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    numbers = sorted(int(n.split("-")[1]) for n in Invoice.objects.values_list("number",
                                                                              flat=True))
    assert numbers == list(range(1, 9))


@pytest.mark.django_db
def test_the_paid_order_gets_its_invoice_at_once_and_once(business: Any,
                                                          client_user: Any) -> None:
    order = make_order(business, client_user)
    order_transition(order=order, to=OrderStatus.PAID)
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_cents == order.total_ttc_cents
    assert invoice.total_ttc_cents == order.total_ttc_cents
    assert invoice.due_on == invoice.issued_on
    assert invoice.buyer["address"]["postcode"] == "75002"
    assert "Prestation de services" in invoice.mentions["operation"]
    assert invoice_for_again(order) is None


def invoice_for_again(order: Any) -> Any:
    from permanence.core import clock

    return invoicing.invoice_for_paid_order(order=order, at=clock.now())


@pytest.mark.django_db
def test_forfait_bills_the_month_ahead_and_last_months_overage(business: Any) -> None:
    sub = subscription_for(business, included={"calls": 100}, unit_prices={"calls": 120})
    for n in range(130):
        usage(business, "calls", 1, date(2027, 1, 1 + n % 28), f"call:{n}")
    usage(business, "calls", 1, date(2027, 2, 3), "call:next-month")  # not yet
    invoice = invoicing_run.subscription_invoice(sub.pk, date(2027, 2, 1))
    assert invoice is not None
    lines = list(invoice.lines.values_list("kind", "quantity", "unit_price_cents",
                                           "total_ht_cents"))
    assert lines == [("base", Decimal(1), 14900, 14900),
                     ("depassement", Decimal(30), 120, 3600)]
    assert invoice.total_ht_cents == 18500 and invoice.total_ttc_cents == 22200
    sub.refresh_from_db()
    assert (sub.current_period_start, sub.next_invoice_on) == (date(2027, 2, 1),
                                                               date(2027, 3, 1))
    # Run again: nothing more is billed, and the account's mark stands where it was.
    assert invoicing_run.subscription_invoice(sub.pk, date(2027, 2, 1)) is None
    mark = UsageMark.objects.get(account=business)
    assert mark.invoice_id == invoice.pk
    assert mark.billed_upto_id == UsageRecord.objects.order_by("-pk").first().pk


@pytest.mark.django_db
def test_per_act_time_and_hybrid_plans(business: Any) -> None:
    acte = subscription_for(business, monthly_price_cents=0, plan_kind="acte",
                            unit_prices={"calls": 250, "appointments": 180})
    for n in range(12):
        usage(business, "calls", 1, date(2027, 1, 10), f"a-call:{n}")
    for n in range(5):
        usage(business, "appointments", 1, date(2027, 1, 11), f"a-rdv:{n}")
    invoice = invoicing_run.subscription_invoice(acte.pk, date(2027, 2, 1))
    assert invoice is not None
    assert list(invoice.lines.values_list("kind", "quantity", "total_ht_cents")) == [
        ("usage", Decimal(5), 900), ("usage", Decimal(12), 3000)]

    other = make_account(business)
    temps = subscription_for(other, monthly_price_cents=0, plan_kind="temps",
                             hourly_rate_cents=3600, increment_minutes=15)
    usage(other, "call_minutes", "37.5", date(2027, 1, 12), "t:1")
    invoice = invoicing_run.subscription_invoice(temps.pk, date(2027, 2, 1))
    assert invoice is not None
    # 37.5 minutes, by 15-minute steps: 45 minutes at 60 cents a minute.
    assert list(invoice.lines.values_list("unit", "quantity", "total_ht_cents")) == [
        ("MIN", Decimal(45), 2700)]

    third = make_account(business, "hybride")
    hybrid = subscription_for(third, monthly_price_cents=9900, plan_kind="hybride",
                              included={"calls": 50}, unit_prices={"calls": 150,
                                                                   "sms": 10})
    for n in range(40):
        usage(third, "calls", 1, date(2027, 1, 5), f"h-call:{n}")
    usage(third, "sms", 20, date(2027, 1, 6), "h-sms")
    invoice = invoicing_run.subscription_invoice(hybrid.pk, date(2027, 2, 1))
    assert invoice is not None
    # Calls within the 50 included: nothing; SMS not included: all of them.
    assert list(invoice.lines.values_list("kind", "total_ht_cents")) == [
        ("base", 9900), ("usage", 200)]


def make_account(like: Any, slug: str = "temps") -> Any:
    from permanence.accounts.models import ClientAccount

    return ClientAccount.objects.create(name=f"Client {slug}", slug=f"client-{slug}",
                                        legal_name=f"Client {slug} SARL",
                                        siret=like.siret, billing_address=like.billing_address,
                                        billing_email=like.billing_email)


@pytest.mark.django_db
def test_credit_notes_full_and_partial(business: Any, billing: Any, agent: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    with pytest.raises(DomainError) as refused:
        credit_notes.credit_note_issue(actor=agent, invoice=invoice, reason="Geste")
    assert refused.value.status == 403
    with pytest.raises(DomainError) as too_much:
        credit_notes.credit_note_issue(actor=billing, invoice=invoice, reason="Geste",
                                       amount_ht_cents=20000)
    assert too_much.value.status == 422
    gesture = credit_notes.credit_note_issue(actor=billing, invoice=invoice,
                                             reason="Geste commercial", amount_ht_cents=1500,
                                             complaint_conversation_id=42)
    invoice.refresh_from_db()
    assert gesture.kind == "avoir" and gesture.credit_of == invoice
    assert gesture.total_ht_cents == 1500 and gesture.approved_by == billing
    # Imputed on what was due: 120 € less the credit note's 18 €.
    assert (invoice.status, invoice.balance_cents) == (InvoiceStatus.PARTLY_PAID, 10200)
    assert "corrects" in gesture.mentions
    rest = credit_notes.credit_note_issue(actor=billing, invoice=invoice, reason="Annulation")
    invoice.refresh_from_db()
    assert rest.total_ht_cents == 8500 and invoice.status == InvoiceStatus.CREDITED

"""The invoicing run by batches: late usage billed once on the next invoice, an account's
usage billed by one of its subscriptions, gapless numbers across batches, the preview equal
to what the run issues, and a constant number of queries per batch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permanence.billing import invoicing_run
from permanence.billing.models_invoices import Invoice

from .conftest import subscription_for, usage
from .test_invoicing import make_account


def _overage(invoice: Invoice) -> list[tuple[str, Decimal]]:
    return list(invoice.lines.exclude(kind="base").values_list("kind", "quantity"))


@pytest.mark.django_db
def test_usage_recorded_late_is_billed_once_on_the_next_invoice(business: Any) -> None:
    sub = subscription_for(business, included={}, unit_prices={"calls": 100},
                           plan_kind="hybride")
    for n in range(3):
        usage(business, "calls", 1, date(2027, 1, 10), f"jan:{n}")
    usage(business, "calls", 1, date(2027, 2, 2), "feb:early")  # the new period already
    first = invoicing_run.subscription_invoice(sub.pk, date(2027, 2, 1))
    assert first is not None and _overage(first) == [("usage", Decimal(3))]
    # A January call metered after the run (a late event): not lost, not billed twice.
    usage(business, "calls", 1, date(2027, 1, 31), "jan:late")
    for n in range(2):
        usage(business, "calls", 1, date(2027, 2, 20), f"feb:{n}")
    assert invoicing_run.subscription_invoice(sub.pk, date(2027, 2, 1)) is None
    second = invoicing_run.subscription_invoice(sub.pk, date(2027, 3, 1))
    assert second is not None
    assert _overage(second) == [("usage", Decimal(4))]  # jan:late, feb:early, feb:0, feb:1
    third = invoicing_run.subscription_invoice(sub.pk, date(2027, 4, 1))
    assert third is not None and _overage(third) == []


@pytest.mark.django_db
def test_an_accounts_usage_is_billed_by_one_of_its_subscriptions(business: Any) -> None:
    subscription_for(business, label="Option standard", unit_prices={})
    priced = subscription_for(business, unit_prices={"calls": 100}, plan_kind="acte",
                              monthly_price_cents=0)
    for n in range(5):
        usage(business, "calls", 1, date(2027, 1, 5), f"c:{n}")
    result = invoicing_run.run(date(2027, 2, 1))
    assert result == {"issued": 2, "skipped": 0}
    usage_lines = [(inv.subscription_id, _overage(inv)) for inv in
                   Invoice.objects.filter(account=business).order_by("pk")]
    assert [line for line in usage_lines if line[1]] == [(priced.pk,
                                                           [("usage", Decimal(5))])]


@pytest.mark.django_db
def test_batches_number_without_gaps_and_the_preview_is_what_the_run_issues(
        business: Any) -> None:
    accounts = [make_account(business, f"lot{n}") for n in range(7)]
    for n, account in enumerate(accounts):
        subscription_for(account, included={"calls": 2}, unit_prices={"calls": 150})
        for k in range(n):
            usage(account, "calls", 1, date(2027, 1, 3), f"lot{n}:{k}")
    preview = {sub.pk: draft.totals().ttc for sub, draft in
               invoicing_run.previews(date(2027, 2, 1))}
    result = invoicing_run.run(date(2027, 2, 1), batch=3)
    assert result == {"issued": 7, "skipped": 0}
    issued = list(Invoice.objects.order_by("number"))
    assert {inv.subscription_id: inv.total_ttc_cents for inv in issued} == preview
    numbers = [int(inv.number.split("-")[1]) for inv in issued]
    assert numbers == list(range(numbers[0], numbers[0] + 7))
    assert invoicing_run.run(date(2027, 2, 1), batch=3) == {"issued": 0, "skipped": 0}


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_for_3_or_30_subscriptions(business: Any) -> None:
    def queries(count: int, tag: str) -> int:
        for n in range(count):
            account = make_account(business, f"{tag}{n}")
            subscription_for(account, included={"calls": 1}, unit_prices={"calls": 100})
            usage(account, "calls", 3, date(2027, 1, 4), f"{tag}:{n}")
        with CaptureQueriesContext(connection) as ctx:
            invoicing_run.run(date(2027, 2, 1), batch=100)
        assert Invoice.objects.filter(account__slug__startswith=f"client-{tag}").count() \
            == count
        return len(ctx.captured_queries)

    queries(1, "warm")  # the year's counter row and the cached identity, once
    assert queries(3, "small") == queries(30, "large")


@pytest.mark.django_db
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(st.integers(0, 89), min_size=1, max_size=25),
       late=st.lists(st.integers(0, 89), max_size=6))
def test_every_record_is_billed_exactly_once_over_three_runs(business: Any, days: list[int],
                                                             late: list[int]) -> None:
    """Records of three months, some recorded after the run of their month: over the runs,
    the quantities billed add up to the records, never more."""
    from datetime import timedelta

    account = make_account(business, f"prop{next(EXAMPLES)}")
    sub = subscription_for(account, monthly_price_cents=0, plan_kind="acte",
                           unit_prices={"calls": 100})
    start = date(2027, 1, 1)
    tag = account.slug
    for n, d in enumerate(days):
        usage(account, "calls", 1, start + timedelta(days=d), f"{tag}:{n}")
    billed = Decimal(0)
    for n, run_day in enumerate((date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1))):
        if n == 1:  # recorded after the first run, whatever month they happened in
            for k, d in enumerate(late):
                usage(account, "calls", 1, start + timedelta(days=d), f"{tag}:late{k}")
        invoice = invoicing_run.subscription_invoice(sub.pk, run_day)
        if invoice is not None:
            billed += sum(q for _k, q in _overage(invoice))
    assert billed == len(days) + len(late)  # all of them happened before April


EXAMPLES = iter(range(10**6))

"""Usage records (issue 12): idempotent by source_id (service, API, concurrent posts), totals
that do not depend on the order of replays, the API's refusals (422 JSON, never a 500) and
who may record and read."""

from __future__ import annotations

import json
import random
import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from permanence.billing.models_usage import Metric, UsageRecord
from permanence.billing.selectors_usage import usage_totals
from permanence.billing.usage import usage_record
from permanence.core.errors import DomainError

URL = "/api/v1/usage"
T = datetime.fromisoformat("2026-11-23T09:00:00+01:00")


def body(acc: Any, source_id: str = "ext:1", **over: Any) -> dict[str, Any]:
    data = {"account": acc.pk, "source_id": source_id, "metric": "calls", "quantity": 2,
            "occurred_at": T.isoformat()}
    data.update(over)
    return data


def post(client: Client, data: Any) -> Any:
    return client.post(URL, json.dumps(data), content_type="application/json")


# --- Service ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_source_id_twice_is_one_record_and_the_first_payload_stays(
        account: Any) -> None:
    first, created = usage_record(account_id=account.pk, source_id="call:1", metric="calls",
                                  quantity=1, occurred_at=T)
    again, created_again = usage_record(account_id=account.pk, source_id="call:1",
                                        metric="sms", quantity=9, occurred_at=T)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.metric == "calls" and again.quantity == Decimal(1)
    assert UsageRecord.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [
    ("metric", "inconnu"), ("quantity", 0), ("quantity", -1), ("quantity", "abc"),
    ("quantity", 10**30), ("quantity", True), ("quantity", "NaN"), ("quantity", "0.001"),
    ("occurred_at", datetime(2026, 11, 23, 9)),  # noqa: DTZ001 (naive on purpose)
    ("source_id", " "), ("account_id", 10**9)])
def test_the_service_refuses_bad_input_with_field_errors(account: Any, field: str,
                                                         value: Any) -> None:
    kwargs = {"account_id": account.pk, "source_id": "s:1", "metric": "calls",
              "quantity": 1, "occurred_at": T, field: value}
    with pytest.raises(DomainError) as caught:
        usage_record(**kwargs)
    assert caught.value.status == 422
    assert caught.value.fields.keys() == {field.removesuffix("_id") if field == "account_id"
                                          else field}
    assert not UsageRecord.objects.exists()


# --- Replays in any order ---------------------------------------------------------------------

RECORDS = st.dictionaries(
    keys=st.text(alphabet="abcdef0123456789", min_size=1, max_size=6),
    values=st.tuples(st.sampled_from(Metric.values),
                     st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"),
                                 places=2)),
    min_size=1, max_size=12)


@pytest.mark.django_db
@hsettings(max_examples=30, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=RECORDS, copies=st.lists(st.integers(1, 3), min_size=12, max_size=12),
       seed=st.integers(0, 2**32))
def test_replaying_the_same_records_in_any_order_gives_the_same_totals(
        account: Any, records: dict[str, tuple[str, Decimal]], copies: list[int],
        seed: int) -> None:
    expected: dict[str, Decimal] = {}
    for metric, quantity in records.values():
        expected[metric] = expected.get(metric, Decimal(0)) + quantity
    replay = [s for i, s in enumerate(records) for _ in range(copies[i])]
    random.Random(seed).shuffle(replay)
    with transaction.atomic():
        for source in replay:
            metric, quantity = records[source]
            usage_record(account_id=account.pk, source_id=source, metric=metric,
                         quantity=quantity, occurred_at=T)
        assert usage_totals(account_id=account.pk) == expected
        for source in reversed(replay):  # once more, backwards: nothing changes
            metric, quantity = records[source]
            usage_record(account_id=account.pk, source_id=source, metric=metric,
                         quantity=quantity, occurred_at=T)
        assert usage_totals(account_id=account.pk) == expected
        assert UsageRecord.objects.count() == len(records)
        transaction.set_rollback(True)


# --- API --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_post_records_201_then_200_with_the_existing_record(api_client_for: Any,
                                                            billing: Any, account: Any) -> None:
    client = api_client_for(billing)
    first = post(client, body(account, quantity="1.5"))
    assert first.status_code == 201, first.content
    assert first.json()["quantity"] == 1.5 and first.json()["metric"] == "calls"
    again = post(client, body(account, quantity=7, metric="sms"))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert UsageRecord.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), [
    ({"metric": "inconnu"}, "metric"), ({"quantity": 0}, "quantity"),
    ({"quantity": -1}, "quantity"), ({"quantity": "abc"}, "quantity"),
    ({"quantity": 10**30}, "quantity"), ({"quantity": [1]}, "quantity"),
    ({"quantity": None}, "quantity"), ({"quantity": {"n": 1}}, "quantity"),
    ({"occurred_at": "hier"}, "occurred_at"), ({"occurred_at": "2026-11-23T09:00:00"},
                                               "occurred_at"),
    ({"account": "x"}, "account"), ({"account": 10**30}, "account"),
    ({"source_id": ""}, "source_id"), ({"source_id": "x" * 201}, "source_id"),
    ({"source_id": 12}, "source_id"), ({"metric": 3}, "metric"),
    ({"quantity": True}, "quantity"), ({"quantity": "Infinity"}, "quantity"),
    ({"quantity": "NaN"}, "quantity"), ({"quantity": 1e308}, "quantity"),
    ({"quantity": "0.001"}, "quantity")])
def test_bad_input_is_a_422_json_with_the_field_and_no_record(
        api_client_for: Any, billing: Any, account: Any, change: dict[str, Any],
        field: str) -> None:
    response = post(api_client_for(billing), body(account, **change))
    assert response.status_code == 422, (change, response.content)
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"], response.json()
    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [[1, 2], "texte", None, 3])
def test_a_body_that_is_not_an_object_is_a_422(api_client_for: Any, billing: Any,
                                               payload: Any) -> None:
    response = post(api_client_for(billing), payload)
    assert response.status_code == 422
    assert not UsageRecord.objects.exists()


@pytest.mark.django_db
def test_who_records_and_who_reads(api_client_for: Any, account: Any, agent: Any,
                                   client_user: Any, outsider_client: Any, supervisor: Any,
                                   admin_user: Any) -> None:
    assert post(api_client_for(agent), body(account)).status_code == 403
    assert post(api_client_for(client_user), body(account)).status_code == 403
    assert post(api_client_for(outsider_client), body(account)).status_code == 404
    assert not UsageRecord.objects.exists()
    assert post(api_client_for(supervisor), body(account, "s:1")).status_code == 201
    assert post(api_client_for(admin_user), body(account, "s:2")).status_code == 201
    query = {"account": account.pk, "from": "2026-11-01T00:00:00+01:00",
             "to": "2026-12-01T00:00:00+01:00"}
    for user, status in ((client_user, 200), (agent, 200), (outsider_client, 404)):
        assert api_client_for(user).get(URL, query).status_code == status
    assert Client().get(URL, query).status_code == 401


@pytest.mark.django_db
def test_get_totals_per_metric_for_the_period(api_client_for: Any, billing: Any,
                                              account: Any, other_account: Any) -> None:
    for source, metric, quantity, at, acc in (
            ("a", "calls", 1, "2026-11-02T10:00:00+01:00", account),
            ("b", "calls", 1, "2026-11-30T23:59:00+01:00", account),
            ("c", "call_minutes", "2.5", "2026-11-10T10:00:00+01:00", account),
            ("d", "calls", 5, "2026-12-01T00:00:00+01:00", account),  # next period
            ("e", "calls", 7, "2026-11-10T10:00:00+01:00", other_account)):
        usage_record(account_id=acc.pk, source_id=source, metric=metric, quantity=quantity,
                     occurred_at=datetime.fromisoformat(at))
    response = api_client_for(billing).get(URL, {
        "account": account.pk, "from": "2026-11-01T00:00:00+01:00",
        "to": "2026-12-01T00:00:00+01:00"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["totals"] == {"calls": 2.0, "call_minutes": 2.5, "messages": 0.0, "sms": 0.0,
                              "appointments": 0.0, "emails": 0.0, "chats": 0.0}
    assert data["account"] == account.pk
    bad = api_client_for(billing).get(URL, {"account": account.pk,
                                            "from": "2026-12-01T00:00:00+01:00",
                                            "to": "2026-11-01T00:00:00+01:00"})
    assert bad.status_code == 422 and "to" in bad.json()["errors"]
    assert api_client_for(billing).get(URL, {"account": "x"}).status_code == 422
    assert api_client_for(billing).get(URL, {"account": account.pk,
                                             "from": "hier"}).status_code == 422


def test_totals_are_one_query(django_assert_num_queries: Any, db: Any) -> None:
    with django_assert_num_queries(1):
        usage_totals(account_id=1, start=T, end=T.replace(month=12))


# --- Concurrency (PostgreSQL: real concurrent transactions) ----------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="concurrent writers need PostgreSQL (SQLite serialises them)")
def test_concurrent_posts_of_one_source_id_make_one_record(api_client_for: Any, billing: Any,
                                                           account: Any) -> None:
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    statuses: list[int] = []
    clients = [api_client_for(billing) for _ in range(threads_n)]

    def run(client: Client) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            statuses.append(post(client, body(account, "race:1")).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] * (threads_n - 1) + [201]
    assert UsageRecord.objects.filter(source_id="race:1").count() == 1

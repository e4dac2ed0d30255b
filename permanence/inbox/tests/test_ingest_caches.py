"""Short-lived caches on the ingestion path (routing rules, SLA targets, calendars, webhook
endpoints): fewer statements per new conversation, and every change still visible at once in
the process that made it, within seconds elsewhere, never when rolled back.

These tests commit for real (transaction=True): the caches deliberately stay out of the way
of a transaction that changed what they hold, as a test's wrapping transaction would."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from permanence.calendars.services import (
    calendar_set,
    spec_for_account,
    spec_for_account_cached,
)
from permanence.core import clock
from permanence.inbox import live, routing, services, sla
from permanence.inbox.models import (
    Channel,
    Contact,
    Conversation,
    Priority,
    RoutingRule,
    SlaPolicy,
)
from permanence.inbox.services import Incoming
from permanence.integrations.models import WebhookEndpoint
from permanence.integrations.services import any_active_endpoint

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday, 09:00


def open_conv(account: Any, email: str = "jean@exemple.fr", **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande", "body_text": "Bonjour",
                              "contact_email": email,
                              # Without the acknowledgement task (run at once in tests).
                              "acknowledge": False}
    fields.update(extra)
    with clock.frozen(T0):
        return services.conversation_open(Incoming(**fields))


@pytest.fixture(autouse=True)
def _default_policy(db: Any) -> None:
    # Created on first use otherwise, which (as any policy change) empties the caches.
    sla.ensure_default_policy()


def uncached_due(account: Any, hours: Decimal) -> datetime:
    policy_clock = SlaPolicy.objects.get(account=None).clock  # the policy's, read afresh
    return sla.due(spec_for_account(account), T0, hours, clock=policy_clock)


def statements(ctx: CaptureQueriesContext, table: str) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if table in q["sql"]]


def test_settings_are_read_once_for_successive_conversations(account: Any) -> None:
    open_conv(account, "a@exemple.fr")  # fills the caches
    with CaptureQueriesContext(connection) as ctx:
        open_conv(account, "b@exemple.fr")
    for table in ("inbox_routingrule", "inbox_slatarget", "core_businesscalendar",
                  "accounts_clientaccount"):
        assert statements(ctx, table) == [], table
    # Same deadline as computed without any cache.
    second = Conversation.objects.get(contact__email="b@exemple.fr")
    assert second.first_response_due_at == uncached_due(account, Decimal(24))


def test_statements_for_a_new_conversation(account: Any) -> None:
    open_conv(account, "a@exemple.fr")
    with CaptureQueriesContext(connection) as ctx:
        open_conv(account, "b@exemple.fr")
    # Contact, reference, conversation, the contact's earlier conversations on the motif
    # marked as followed up (first-contact resolution), status change, message, audit
    # (+ savepoint pair); SQLite looks the contact up before inserting it and numbers with a
    # counter row.
    limit = 10 if connection.vendor == "postgresql" else 11
    assert len(ctx.captured_queries) <= limit, [q["sql"][:80] for q in ctx.captured_queries]


def test_a_saved_rule_applies_at_once_in_this_process(account: Any) -> None:
    assert open_conv(account, "a@exemple.fr").priority == Priority.NORMAL
    rule = RoutingRule.objects.create(position=1, name="Urgent", keywords="bonjour",
                                      set_priority=Priority.URGENT)
    assert open_conv(account, "b@exemple.fr").priority == Priority.URGENT
    rule.is_active = False
    rule.save()
    assert open_conv(account, "c@exemple.fr").priority == Priority.NORMAL
    RoutingRule.objects.filter(pk=rule.pk).delete()
    assert routing.active_rules() == []


def test_a_rolled_back_rule_is_never_cached(account: Any) -> None:
    open_conv(account, "a@exemple.fr")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        RoutingRule.objects.create(position=1, name="Jamais", keywords="bonjour",
                                   set_priority=Priority.URGENT)
        # The transaction that made it sees it...
        assert open_conv(account, "b@exemple.fr").priority == Priority.URGENT
        raise Abort
    # ... and once rolled back, nobody does, even though it was read inside.
    assert routing.active_rules() == []
    assert open_conv(account, "c@exemple.fr").priority == Priority.NORMAL


def test_a_rule_committed_elsewhere_shows_when_the_entry_expires(account: Any,
                                                                 settings: Any) -> None:
    settings.LOCAL_CACHE_SECONDS = 0.3
    open_conv(account, "a@exemple.fr")
    rule = RoutingRule.objects.create(position=1, name="Urgent", keywords="bonjour",
                                      set_priority=Priority.URGENT, is_active=False)
    assert routing.active_rules() == []  # cached again
    # Another process's change: no signal reaches this one (an UPDATE sends none either).
    RoutingRule.objects.filter(pk=rule.pk).update(is_active=True)
    assert routing.active_rules() == []
    time.sleep(0.35)
    assert [r.pk for r in routing.active_rules()] == [rule.pk]
    assert open_conv(account, "b@exemple.fr").priority == Priority.URGENT


def test_zero_seconds_disables_the_caches(account: Any, settings: Any) -> None:
    settings.LOCAL_CACHE_SECONDS = 0
    open_conv(account, "a@exemple.fr")
    with CaptureQueriesContext(connection) as ctx:
        open_conv(account, "b@exemple.fr")
    assert statements(ctx, "inbox_routingrule")


def test_a_changed_sla_target_applies_at_once(account: Any) -> None:
    first = open_conv(account, "a@exemple.fr")
    assert first.first_response_due_at == uncached_due(account, Decimal(24))
    policy = sla.ensure_default_policy()
    target = policy.targets.get(priority=Priority.NORMAL, kind="")
    target.first_response_hours = Decimal(4)
    target.save()
    second = open_conv(account, "b@exemple.fr")
    assert second.first_response_due_at == uncached_due(account, Decimal(4))
    assert second.first_response_due_at != first.first_response_due_at


def test_an_account_policy_created_by_copy_applies_at_once(account: Any,
                                                           admin_user: Any) -> None:
    from permanence.inbox.settings_services import sla_policy_for_account_create

    open_conv(account, "a@exemple.fr")
    policy = sla_policy_for_account_create(actor=admin_user, account=account)
    # bulk_create sends no signal: the service invalidates; then edit the copy by UPDATE
    # inside a transaction that also saves the policy (as the settings page does).
    with transaction.atomic():
        policy.targets.filter(priority=Priority.NORMAL, kind="").update(
            first_response_hours=Decimal(2))
        policy.save()
    due = open_conv(account, "b@exemple.fr").first_response_due_at
    assert due == uncached_due(account, Decimal(2)) != uncached_due(account, Decimal(24))


def test_a_changed_calendar_applies_at_once(account: Any, admin_user: Any) -> None:
    open_conv(account, "a@exemple.fr")
    before = spec_for_account_cached(account)
    # Tuesdays 14:00–18:00 only: the only working day of the week.
    data = {"timezone": "Europe/Paris", "weekly": {"tue": [["14:00", "18:00"]]},
            "holidays": None, "closures": []}
    calendar_set(actor=admin_user, account=account, data=data)
    fresh = type(account).objects.get(pk=account.pk)
    assert spec_for_account_cached(fresh) != before
    conv = open_conv(account, "b@exemple.fr", priority=Priority.HIGH)  # 8 business hours
    # Monday no longer counts: 8 h of Tuesday (jours ouvrés), not Monday 17:00 as before.
    assert conv.first_response_due_at == datetime(2026, 11, 3, 8, 0, tzinfo=PARIS)


def test_a_calendar_inherited_from_the_operator_follows_its_changes(account: Any,
                                                                    admin_user: Any) -> None:
    from permanence.accounts.models import ClientAccount

    operator = ClientAccount.objects.create(name="Opérateur", slug="operateur",
                                            is_operator=True)
    first = spec_for_account_cached(account)
    data = {"timezone": "Europe/Paris", "weekly": {"sat": [["09:00", "12:00"]]},
            "holidays": None, "closures": []}
    calendar_set(actor=admin_user, account=operator, data=data)
    inherited = spec_for_account_cached(type(account).objects.get(pk=account.pk))
    assert inherited != first
    assert inherited.to_json()["weekly"]["sat"] == [["09:00", "12:00"]]


def test_webhook_endpoint_existence_is_cached_and_follows_changes(admin_user: Any) -> None:
    from permanence.integrations.services import webhook_endpoint_create, webhook_endpoint_delete

    # A loopback receiver must be allowed explicitly; nothing is sent in this test.
    assert any_active_endpoint() is False
    with CaptureQueriesContext(connection) as ctx:
        assert any_active_endpoint() is False
    assert ctx.captured_queries == []
    endpoint = webhook_endpoint_create(actor=admin_user, url="http://127.0.0.1:9/in",
                                       events=["conversation.created"], allow_private=True)
    assert any_active_endpoint() is True
    webhook_endpoint_delete(actor=admin_user, endpoint=endpoint)
    assert any_active_endpoint() is False
    assert not WebhookEndpoint.objects.exists()


def test_new_contact_and_known_contact(account: Any) -> None:
    with CaptureQueriesContext(connection) as ctx:
        new = services.contact_resolve(account=account, email="Jean@Exemple.fr", name="Jean")
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert (new.email, new.name, new.account_id) == ("jean@exemple.fr", "Jean", account.pk)
    assert Contact.objects.get(pk=new.pk).created_at == new.created_at
    with CaptureQueriesContext(connection) as ctx:
        same = services.contact_resolve(account=account, email="jean@exemple.fr",
                                        phone="+33612345678", name="Autre")
    assert same.pk == new.pk and same.name == "Jean" and same.phone == "+33612345678"
    # A new e-mail with a known phone: that phone's contact (as without the upsert).
    other = services.contact_resolve(account=account, email="paul@exemple.fr",
                                     phone="+33612345678")
    assert other.pk == new.pk and other.email == "jean@exemple.fr"
    # Phone only: found by phone.
    assert services.contact_resolve(account=account, phone="+33612345678").pk == new.pk


def test_live_pushes_go_out_together_and_one_failure_does_not_stop_the_other(
        monkeypatch: Any) -> None:
    sent: list[str] = []

    class Layer:
        async def group_send(self, group: str, payload: dict[str, Any]) -> None:
            if group == live.INBOX_GROUP:
                raise ConnectionError("redis down")
            sent.append(payload["type"])

    from permanence.core import live_push

    monkeypatch.setattr(live_push, "get_channel_layer", Layer)
    live.inbox_changed(42, "created")  # no exception: best effort
    live.message_added(42, 7)
    assert sent == ["conversation.changed", "conversation.message"]

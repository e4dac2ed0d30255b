"""Retention schedules: each purger on rows just before and just after its limit, the dry
run's counts equal to the real run's, a second run changing nothing, invoices never touched,
durations validated, the page reserved to administrators."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from permanence.accounts.models import AccountStatus, ClientAccount
from permanence.audit.models import AuditEvent
from permanence.audit.services import audit_record
from permanence.channels_sms.models import SmsEvent
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.desk.models import Call, CallEvent
from permanence.feedback.models import Feedback
from permanence.inbox.models import Contact, Conversation, Message
from permanence.integrations.models import WebhookDelivery, WebhookEndpoint
from permanence.livechat.models import ChatSession, ChatStatus
from permanence.payments.models import ProviderEvent
from permanence.privacy import retention
from permanence.privacy.models import RetentionRun, RetentionSchedule
from permanence.shop.models import Quote, QuoteStatus

NOW = datetime(2027, 6, 15, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def frozen() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


def _limit(rule: str) -> datetime:
    days = retention.durations()[rule]
    assert days is not None
    return NOW - timedelta(days=days)


def _conversation(account: Any, ref: str, at: datetime, **extra: Any) -> Conversation:
    fields = {"channel": "email", **extra}
    return Conversation.objects.create(account=account, reference=ref, subject="Ordonnance",
                                       created_at=at, updated_at=at, last_message_at=at,
                                       **fields)


def _message(conversation: Conversation, at: datetime) -> Message:
    return Message.objects.create(conversation=conversation, direction="in", channel="email",
                                  body_text="Mon traitement", sender="patient@test.fr",
                                  created_at=at)


def _call(account: Any, call_id: str, at: datetime, url: str) -> Call:
    return Call.objects.create(call_id=call_id, account=account, offered_at=at, created_at=at,
                               from_number="+33612345678", caller_name="M. Patient",
                               recording_url=url)


def _chat(account: Any, key: str, ended: datetime, conversation: Conversation) -> ChatSession:
    return ChatSession.objects.create(
        account=account, token_hash=key * 8, conversation=conversation,
        status=ChatStatus.ENDED, visitor_name="Visiteur", visitor_email=f"{key}@test.fr",
        consent_text="J'accepte", consent_at=ended, origin="https://site.test",
        page_url="https://site.test/rdv", created_at=ended, updated_at=ended, ended_at=ended)


def _quote(ref: str, at: datetime, status: str = QuoteStatus.SENT) -> Quote:
    quote = Quote.objects.create(reference=ref, status=status, requester_name="Jeanne Prospect",
                                 requester_email="jeanne@test.fr", requester_phone="0601020304",
                                 needs="Standard", token=ref * 4)
    Quote.objects.filter(pk=quote.pk).update(updated_at=at, created_at=at)
    return quote


def test_recordings_past_six_months_lose_their_reference(db: Any, frozen: None,
                                                         account: Any) -> None:
    limit = _limit("recordings")
    old = _call(account, "old", limit - MINUTE, "https://rec.test/old.mp3")
    recent = _call(account, "recent", limit + MINUTE, "https://rec.test/recent.mp3")
    run = retention.retention_run(dry_run=False)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.recording_url == "" and old.from_number == "+33612345678"  # only the recording
    assert recent.recording_url == "https://rec.test/recent.mp3"
    assert run.counts["recordings"] == {"desk.Call": 1}


def test_a_registered_provider_deleter_is_asked_outside_the_transaction(
        db: Any, frozen: None, account: Any, monkeypatch: Any) -> None:
    asked: list[tuple[str, bool]] = []

    def deleter(url: str) -> None:
        asked.append((url, connection.in_atomic_block))

    monkeypatch.setattr(retention, "_RECORDING_DELETERS", [deleter])
    _call(account, "old", _limit("recordings") - MINUTE, "https://rec.test/old.mp3")
    retention.retention_run(dry_run=False)
    assert [url for url, _atomic in asked] == ["https://rec.test/old.mp3"]


def test_chat_transcripts_ended_over_a_year_ago_are_anonymised(db: Any, frozen: None,
                                                               account: Any) -> None:
    limit = _limit("chat_transcripts")
    old_conv = _conversation(account, "D-1", limit - timedelta(days=1), channel="chat")
    new_conv = _conversation(account, "D-2", limit, channel="chat")
    old_msg, new_msg = _message(old_conv, limit - MINUTE), _message(new_conv, limit)
    old = _chat(account, "a", limit - MINUTE, old_conv)
    recent = _chat(account, "b", limit + MINUTE, new_conv)
    retention.retention_run(dry_run=False)
    for row in (old, recent, old_msg, new_msg):
        row.refresh_from_db()
    assert old.visitor_name == retention.ANONYMISED and old.visitor_email == ""
    assert old.page_url == "" and old_msg.body_text == retention.REDACTED
    assert old_msg.sender == ""
    assert recent.visitor_email == "b@test.fr" and new_msg.body_text == "Mon traitement"


def test_audit_events_older_than_a_year_are_deleted_by_their_own_path(
        db: Any, frozen: None, admin_user: Any) -> None:
    limit = _limit("audit_log")
    with clock.frozen(limit - MINUTE):
        old = audit_record(actor=admin_user, action="login")
    with clock.frozen(limit + MINUTE):
        kept = audit_record(actor=admin_user, action="login")
    with pytest.raises(PermissionError):  # the log stays append-only for everyone else
        AuditEvent.objects.filter(pk=old.pk).delete()
    run = retention.retention_run(dry_run=False)
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert run.counts["audit_log"] == {"audit.AuditEvent": 1}


def test_technical_payloads_are_emptied_once_processed_and_old(db: Any, frozen: None,
                                                               account: Any) -> None:
    limit = _limit("technical")
    payload = {"From": "+33612345678"}
    rows = {
        "old": ProviderEvent.objects.create(provider="stripe", event_id="e1", type="x",
                                            payload=payload, received_at=limit - MINUTE,
                                            processed_at=limit),
        "unprocessed": ProviderEvent.objects.create(provider="stripe", event_id="e2", type="x",
                                                    payload=payload,
                                                    received_at=limit - MINUTE),
        "recent": ProviderEvent.objects.create(provider="stripe", event_id="e3", type="x",
                                               payload=payload, received_at=limit + MINUTE,
                                               processed_at=limit + MINUTE),
        "call": CallEvent.objects.create(event_id="c1", call_id="c", event="ringing",
                                         occurred_at=limit, payload=payload,
                                         received_at=limit - MINUTE, processed_at=limit),
        "sms": SmsEvent.objects.create(provider="file", event_key="s1", kind="status",
                                       payload=payload, received_at=limit - MINUTE,
                                       processed_at=limit),
    }
    endpoint = WebhookEndpoint.objects.create(account=account, url="https://hook.test/")
    sent = WebhookDelivery.objects.create(endpoint=endpoint, event="conversation.created",
                                          payload=payload, status="sent",
                                          created_at=limit - MINUTE)
    pending = WebhookDelivery.objects.create(endpoint=endpoint, event="conversation.created",
                                             payload=payload, created_at=limit - MINUTE)
    run = retention.retention_run(dry_run=False)
    for row in (*rows.values(), sent, pending):
        row.refresh_from_db()
    assert rows["old"].payload == {} and rows["call"].payload == {}
    assert rows["sms"].payload == {} and sent.payload == {}
    assert rows["unprocessed"].payload == payload and rows["recent"].payload == payload
    assert pending.payload == payload  # still to be delivered
    assert run.counts["technical"] == {"payments.ProviderEvent": 1, "desk.CallEvent": 1,
                                       "channels_sms.SmsEvent": 1,
                                       "integrations.WebhookDelivery": 1}


def test_prospects_without_activity_for_three_years_are_anonymised(db: Any,
                                                                   frozen: None) -> None:
    limit = _limit("prospects")
    old = _quote("D-OLD", limit - MINUTE)
    accepted = _quote("D-ACC", limit - MINUTE, QuoteStatus.ACCEPTED)
    recent = _quote("D-NEW", limit + MINUTE)
    stale = Feedback.objects.create(page="/", rating=2, comment="Trop cher",
                                    created_at=limit - MINUTE, updated_at=limit - MINUTE)
    fresh = Feedback.objects.create(page="/", rating=5, comment="Bien",
                                    created_at=limit + MINUTE, updated_at=limit + MINUTE)
    retention.retention_run(dry_run=False)
    for row in (old, accepted, recent, stale, fresh):
        row.refresh_from_db()
    assert old.requester_name == retention.ANONYMISED and old.requester_email == ""
    assert accepted.requester_email == "jeanne@test.fr"  # became a client: not a prospect
    assert recent.requester_email == "jeanne@test.fr"
    assert stale.comment == "" and fresh.comment == "Bien"


def test_contacts_of_accounts_ended_three_years_ago_are_anonymised(
        db: Any, frozen: None, account: Any, other_account: Any) -> None:
    limit = _limit("ended_accounts")
    ClientAccount.objects.filter(pk=account.pk).update(status=AccountStatus.TERMINATED,
                                                       updated_at=limit - MINUTE)
    ClientAccount.objects.filter(pk=other_account.pk).update(
        status=AccountStatus.TERMINATED, updated_at=limit + timedelta(days=1))
    gone = Contact.objects.create(account=account, name="Paul", email="paul@test.fr")
    kept = Contact.objects.create(account=other_account, name="Lea", email="lea@test.fr")
    conv = _conversation(account, "D-3", limit - MINUTE, contact=gone)
    msg = _message(conv, limit - MINUTE)
    other_msg = _message(_conversation(other_account, "D-4", limit, contact=kept), limit)
    run = retention.retention_run(dry_run=False)
    for row in (gone, kept, conv, msg, other_msg):
        row.refresh_from_db()
    assert gone.name == retention.ANONYMISED and gone.email == ""
    assert conv.subject == retention.ANONYMISED and msg.body_text == retention.REDACTED
    assert kept.email == "lea@test.fr" and other_msg.body_text == "Mon traitement"
    assert run.counts["ended_accounts"]["inbox.Contact"] == 1


def _everything(account: Any) -> None:
    _call(account, "old", _limit("recordings") - MINUTE, "https://rec.test/a.mp3")
    _quote("D-OLD", _limit("prospects") - MINUTE)
    conv = _conversation(account, "D-5", NOW - timedelta(days=800), channel="chat")
    for _i in range(3):
        _message(conv, NOW - timedelta(days=800))
    _chat(account, "c", NOW - timedelta(days=800), conv)
    ProviderEvent.objects.create(provider="stripe", event_id="e9", type="x", payload={"a": 1},
                                 received_at=NOW - timedelta(days=400), processed_at=NOW)


def test_the_dry_run_counts_what_the_real_run_changes_and_a_second_run_nothing(
        db: Any, frozen: None, account: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches
    _everything(account)
    dry, real = retention.retention_apply()
    assert dry.dry_run and not real.dry_run
    assert dry.counts == real.counts and real.total == 7
    assert Message.objects.filter(body_text=retention.REDACTED).count() == 3
    again = retention.retention_run(dry_run=False)
    assert again.total == 0 and retention.retention_run(dry_run=True).total == 0
    assert RetentionRun.objects.count() == 4 and all(
        r.finished_at for r in RetentionRun.objects.all())


def test_the_dry_run_changes_nothing(db: Any, frozen: None, account: Any) -> None:
    _everything(account)
    retention.retention_run(dry_run=True)
    assert not Message.objects.filter(body_text=retention.REDACTED).exists()
    assert Call.objects.get(call_id="old").recording_url


def test_invoices_are_never_purged_only_reported(db: Any, frozen: None) -> None:
    assert all(p.rule != "invoices" for p in retention.PURGERS)
    run = retention.retention_run(dry_run=False)
    assert "invoices" not in run.counts and run.kept == {"invoices": {"billing.Invoice": 0}}


def test_a_shorter_duration_applies_at_once(db: Any, frozen: None, account: Any,
                                            admin_user: Any) -> None:
    call = _call(account, "c", NOW - timedelta(days=40), "https://rec.test/c.mp3")
    assert retention.retention_run(dry_run=True).total == 0
    retention.schedule_set(actor=admin_user, rule="recordings", days=30)
    assert retention.retention_run(dry_run=False).counts["recordings"] == {"desk.Call": 1}
    call.refresh_from_db()
    assert call.recording_url == ""
    event = AuditEvent.objects.filter(target_type="privacy.retentionschedule").get()
    assert event.changes == {"days": [183, 30]}


@pytest.mark.parametrize(("rule", "days"), [("invoices", 3649), ("recordings", 29),
                                            ("audit_log", 10), ("prospects", 10 ** 9)])
def test_durations_out_of_bounds_are_refused_with_a_field_error(
        db: Any, admin_user: Any, rule: str, days: int) -> None:
    with pytest.raises(DomainError) as exc:
        retention.schedule_set(actor=admin_user, rule=rule, days=days)
    assert "days" in exc.value.fields
    assert not RetentionSchedule.objects.exists()


def test_the_page_lists_rules_and_runs_and_saves_a_duration(client: Client,
                                                            admin_user: Any) -> None:
    client.force_login(admin_user)
    page = client.get("/app/confidentialite/conservation/").content.decode()
    assert "Enregistrements d&#x27;appels" in page and "desk.Call" in page
    assert "Simuler maintenant" in page and "Dernières exécutions" in page
    response = client.post("/app/confidentialite/conservation/",
                           {"rule": "chat_transcripts", "days": "200"})
    assert response.status_code == 302
    assert retention.durations()["chat_transcripts"] == 200
    assert client.post("/app/confidentialite/conservation/simuler/").status_code == 302
    page = client.get("/app/confidentialite/conservation/").content.decode()
    assert "Simulation" in page and admin_user.email in page


@pytest.mark.parametrize("data", [
    {"rule": "invoices", "days": "365"},
    {"rule": "recordings", "days": "99999999999999999999999"},
    {"rule": "recordings", "days": "abc"},
    {"rule": "recordings", "days": ["1", "2"]},
    {"rule": "staff", "days": "100"},
    {"rule": "nope", "days": "100"},
    {},
])
def test_bad_input_gives_field_errors_never_a_500(client: Client, admin_user: Any,
                                                  data: dict[str, Any]) -> None:
    client.force_login(admin_user)
    response = client.post("/app/confidentialite/conservation/", data)
    assert response.status_code == 400
    assert 'class="form-errors"' in response.content.decode()
    assert not RetentionSchedule.objects.exists()


def test_the_invoice_minimum_is_said_on_the_page(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)
    response = client.post("/app/confidentialite/conservation/",
                           {"rule": "invoices", "days": "365"})
    assert "10 ans" in response.content.decode()


@pytest.mark.parametrize("url", ["/app/confidentialite/conservation/"])
def test_supervisors_and_agents_are_refused(client: Client, supervisor: Any, agent: Any,
                                            url: str) -> None:
    for user in (supervisor, agent):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"rule": "recordings", "days": "60"}).status_code == 403
        assert client.post(f"{url}simuler/").status_code == 403
    assert not RetentionSchedule.objects.exists() and not RetentionRun.objects.exists()


def test_the_settings_page_links_the_new_pages(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)
    page = client.get("/app/parametres/").content.decode()
    assert "/app/confidentialite/conservation/" in page
    assert "/app/confidentialite/violations/" in page

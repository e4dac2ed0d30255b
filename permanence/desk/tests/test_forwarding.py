"""« Transmettre »: one row per recipient and channel named by the consignes, the e-mail and
the SMS actually sent, the proof (envoyé, délivré, échec, lu), the public read link, the
escalation of an urgent message nobody acknowledged, every step on the call's timeline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.channels_sms.services import opt_out
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.desk import forwarding
from permanence.desk.models import Forward, ForwardChannel, ForwardStatus
from permanence.desk.record import call_record_save
from permanence.desk.tasks_forwarding import forwards_escalate, forwards_sweep
from permanence.inbox.models import Direction, Notification

from .screen_helpers import THU_10H, manual_call, medical_practice, record_urgent

SITE = "https://permanence.example.fr"


@pytest.fixture(autouse=True)
def sms_files(settings: Any, tmp_path: Path) -> Path:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.SITE_URL = SITE
    return tmp_path / "sms"


@pytest.fixture
def urgent_call(account: Any, supervisor: Any, agent: Any) -> Any:
    medical_practice(account, supervisor)
    return record_urgent(agent, manual_call(agent, account))


class _Committed:
    """The test's transaction never commits: what waits for the commit (the e-mail task, the
    SMS provider call) is run by hand, as the commit would."""

    capture: Any = None


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks: Any) -> None:
    _Committed.capture = django_capture_on_commit_callbacks


def capture(**options: Any) -> Any:
    return _Committed.capture(**options)


def _send(agent: Any, call: Any, at: Any = THU_10H) -> list[Forward]:
    with clock.frozen(at), capture(execute=True):
        return forwarding.forward_send(actor=agent, call=call)


def _events(call: Any) -> list[str]:
    return list(call.conversation.messages.filter(direction=Direction.SYSTEM)
                .order_by("created_at", "id").values_list("event", flat=True))


def test_urgent_message_goes_to_the_doctor_by_email_and_sms(urgent_call: Any, agent: Any,
                                                            sms_files: Path) -> None:
    mail.outbox.clear()
    rows = _send(agent, urgent_call)
    assert sorted((f.recipient_key, f.channel) for f in rows) == [
        ("dr-martin", "email"), ("dr-martin", "sms")]
    assert all(f.urgent and f.escalate_at == THU_10H + timedelta(minutes=15) for f in rows)
    email = Forward.objects.get(channel=ForwardChannel.EMAIL)
    sms = Forward.objects.get(channel=ForwardChannel.SMS)
    # The e-mail left through the platform's mail, with the tracked link.
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["dr.martin@cabinet-martin.test"]
    assert sent.subject.startswith("[URGENT]")
    assert "Douleur thoracique, rappeler immédiatement." in sent.body
    assert f"{SITE}/poste/lu/{email.token}/" in sent.body
    assert "Urgence vitale" in sent.body
    assert email.status == ForwardStatus.SENT and email.sent_at is not None
    # The SMS was written by the file backend, which reports it delivered.
    files = list(sms_files.iterdir())
    assert len(files) == 1
    text = files[0].read_text()
    assert "+33612345601" in text and f"/poste/lu/{sms.token}/" in text
    assert sms.sms_id is not None and sms.status == ForwardStatus.DELIVERED
    events = _events(urgent_call)
    assert events[0] == "desk_forwarded"
    assert {"desk_forward_sent", "desk_forward_delivered"} <= set(events)


def test_a_normal_message_in_business_hours_goes_to_the_practice_secretary(
        account: Any, supervisor: Any, agent: Any) -> None:
    medical_practice(account, supervisor)
    call = manual_call(agent, account)
    with clock.frozen(THU_10H):
        call = call_record_save(actor=agent, call=call, motif="rdv", answers={"questions": {
            "Nom et prénom du patient": "Léa Petit", "Date de naissance": "03/04/1990",
            "Motif de consultation": "vaccin", "Téléphone": "0611223344"}},
            message="Souhaite un rendez-vous", urgency="normal", caller_name="Léa Petit")
    rows = _send(agent, call)
    assert [(f.recipient_key, f.channel, f.escalate_at) for f in rows] == [
        ("secretariat", "email", None)]


def test_nothing_is_forwarded_before_the_message_is_recorded(account: Any, supervisor: Any,
                                                             agent: Any) -> None:
    medical_practice(account, supervisor)
    with pytest.raises(DomainError) as exc:
        _send(agent, manual_call(agent, account))
    assert exc.value.status == 409 and exc.value.code == "not_recorded"


def test_forwarding_twice_sends_only_what_failed(urgent_call: Any, agent: Any) -> None:
    rows = _send(agent, urgent_call)
    with pytest.raises(DomainError) as exc:
        _send(agent, urgent_call)
    assert exc.value.code == "already_forwarded"
    sms = next(f for f in rows if f.channel == "sms")
    Forward.objects.filter(pk=sms.pk).update(status=ForwardStatus.FAILED, reason="Injoignable")
    again = _send(agent, urgent_call)
    assert [(f.recipient_key, f.channel) for f in again] == [("dr-martin", "sms")]


def test_an_agent_of_another_account_cannot_forward(urgent_call: Any,
                                                    other_agent: Any) -> None:
    with pytest.raises(DomainError) as exc:
        _send(other_agent, urgent_call)
    assert exc.value.status == 403
    assert not Forward.objects.exists()


def test_sms_receipts_move_the_status_forward_only(urgent_call: Any, agent: Any) -> None:
    _send(agent, urgent_call)
    sms = Forward.objects.get(channel="sms")
    Forward.objects.filter(pk=sms.pk).update(status=ForwardStatus.SENT, delivered_at=None)
    forwarding.forward_sms_status(f"desk.forward:{sms.pk}", "failed",
                                  "Numéro injoignable (30003)")
    sms.refresh_from_db()
    assert (sms.status, sms.reason) == (ForwardStatus.FAILED, "Numéro injoignable (30003)")
    forwarding.forward_sms_status(f"desk.forward:{sms.pk}", "sent", "")
    sms.refresh_from_db()
    assert sms.status == ForwardStatus.FAILED  # a late "sent" does not hide the failure
    forwarding.forward_sms_status("desk.forward:oops", "delivered", "")  # ignored
    assert "desk_forward_failed" in _events(urgent_call)


def test_the_read_link_is_public_asks_once_and_is_idempotent(urgent_call: Any, agent: Any,
                                                             supervisor: Any) -> None:
    rows = _send(agent, urgent_call)
    email = next(f for f in rows if f.channel == "email")
    url = reverse("forward_read", args=[email.token])
    anonymous = Client()
    page = anonymous.get(url)
    assert page.status_code == 200
    assert "ai pris connaissance</button>" in page.content.decode()
    email.refresh_from_db()
    assert email.read_at is None  # opening the link (a mail scanner) is not reading it
    with clock.frozen(THU_10H + timedelta(minutes=4)):
        response = anonymous.post(url)
        again = anonymous.post(url)
    assert response.status_code == again.status_code == 200
    assert "data-read" in response.content.decode()
    email.refresh_from_db()
    assert (email.status, email.read_at) == (ForwardStatus.READ,
                                             THU_10H + timedelta(minutes=4))
    # Read by the doctor: no escalation for the call any more, on any row.
    assert not Forward.objects.filter(escalate_at__isnull=False).exists()
    assert _events(urgent_call).count("desk_forward_read") == 1
    assert Notification.objects.filter(user=agent, kind="desk_read").count() == 1
    assert anonymous.get(reverse("forward_read", args=["inconnu"])).status_code == 404


def test_unread_urgent_message_escalates_to_the_replacement_and_alerts_staff(
        urgent_call: Any, agent: Any, supervisor: Any, sms_files: Path) -> None:
    _send(agent, urgent_call)
    with clock.frozen(THU_10H + timedelta(minutes=10)):
        with capture(execute=True):
            forwards_escalate.call()
    assert Forward.objects.filter(level=1).count() == 0  # not yet due
    mail.outbox.clear()
    with clock.frozen(THU_10H + timedelta(minutes=16)):
        with capture(execute=True):
            forwards_escalate.call()
    escalated = Forward.objects.filter(level=1).order_by("channel")
    assert [(f.recipient_key, f.channel) for f in escalated] == [
        ("dr-lefevre", "email"), ("dr-lefevre", "sms")]
    assert [m.to for m in mail.outbox] == [["dr.lefevre@cabinet-martin.test"]]
    assert len(list(sms_files.iterdir())) == 2
    assert not Forward.objects.filter(level=0, escalate_at__isnull=False).exists()
    assert "desk_forward_escalated" in _events(urgent_call)
    alert = Notification.objects.get(user=supervisor, kind="desk_escalation")
    assert alert.link == reverse("desk:call", args=[urgent_call.pk])
    assert Notification.objects.filter(user=agent, kind="desk_escalation").exists()
    # Running the job again changes nothing until the new rows are due.
    with clock.frozen(THU_10H + timedelta(minutes=17)):
        with capture(execute=True):
            forwards_escalate.call()
    assert Forward.objects.filter(level=2).count() == 0


def test_a_message_read_in_time_does_not_escalate(urgent_call: Any, agent: Any) -> None:
    rows = _send(agent, urgent_call)
    with clock.frozen(THU_10H + timedelta(minutes=5)):
        forwarding.forward_mark_read(token=rows[0].token)
    with clock.frozen(THU_10H + timedelta(minutes=30)):
        with capture(execute=True):
            forwards_escalate.call()
    assert not Forward.objects.filter(level__gt=0).exists()


def test_one_failing_call_does_not_stop_the_escalation_of_the_others(
        urgent_call: Any, agent: Any, account: Any, monkeypatch: Any) -> None:
    _send(agent, urgent_call)
    second = record_urgent(agent, manual_call(agent, account))
    _send(agent, second)
    real = forwarding.forward_escalate

    def flaky(*, call_id: int, now: Any = None) -> Any:
        if call_id == urgent_call.pk:
            raise RuntimeError("bad data")
        return real(call_id=call_id, now=now)

    monkeypatch.setattr(forwarding, "forward_escalate", flaky)
    with clock.frozen(THU_10H + timedelta(minutes=16)):
        result = forwards_escalate.call()
    assert "failed 1" in result
    assert Forward.objects.filter(call=second, level=1).exists()
    assert not Forward.objects.filter(call=urgent_call, level=1).exists()


def test_lost_email_wakeups_are_swept(urgent_call: Any, agent: Any) -> None:
    with clock.frozen(THU_10H):  # written, but the wake-up after the commit is lost
        forwarding.forward_send(actor=agent, call=urgent_call)
    email = Forward.objects.get(channel="email")
    assert email.status == ForwardStatus.QUEUED and not mail.outbox
    with clock.frozen(THU_10H + timedelta(minutes=2)):
        forwards_sweep.call()
    assert not mail.outbox  # too early: the worker may still be on it
    with clock.frozen(THU_10H + timedelta(minutes=6)):
        forwards_sweep.call()
    email.refresh_from_db()
    assert email.status == ForwardStatus.SENT and len(mail.outbox) == 1
    with clock.frozen(THU_10H + timedelta(minutes=7)):
        forwards_sweep.call()
    assert len(mail.outbox) == 1  # sent once


def test_an_email_claimed_and_never_recorded_is_marked_failed(urgent_call: Any,
                                                              agent: Any) -> None:
    with clock.frozen(THU_10H):
        forwarding.forward_send(actor=agent, call=urgent_call)
        forwarding.forward_email_claim(forward_id=Forward.objects.get(channel="email").pk)
    with clock.frozen(THU_10H + timedelta(minutes=40)):
        forwards_sweep.call()
    email = Forward.objects.get(channel="email")
    assert email.status == ForwardStatus.FAILED and "interrompu" in email.reason
    assert not mail.outbox


def test_an_sms_refused_at_once_is_a_failure_with_its_reason(urgent_call: Any, agent: Any,
                                                            account: Any) -> None:
    opt_out(account_id=account.pk, number="+33612345601", keyword="STOP")
    rows = _send(agent, urgent_call)
    sms = next(f for f in rows if f.channel == "sms")
    assert sms.status == ForwardStatus.FAILED and sms.reason and sms.sms_id is None
    email = Forward.objects.get(channel="email")
    assert email.status == ForwardStatus.SENT  # the other channel still went out
    assert "desk_forward_failed" in _events(urgent_call)

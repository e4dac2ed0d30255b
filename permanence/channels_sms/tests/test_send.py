"""core.sms.sms_send through the demo file backend, end to end: stored queued in the caller's
transaction, sent after the commit (never inside it), written to var/sms/, reported sent then
delivered, each change told to the listener of the ref's prefix; and the refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from permanence.channels_sms import providers
from permanence.channels_sms.models import OptOut, Sms, SmsStatus
from permanence.channels_sms.services import sms_overdue
from permanence.channels_sms.tasks import sweep
from permanence.core import clock, sms
from permanence.core.errors import DomainError
from permanence.payments.stripe_client import open_transactions

from .conftest import CONTACT_NUMBER

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[tuple[str, str, str]]]:
    calls: list[tuple[str, str, str]] = []

    def listener(ref: str, status: str, reason: str) -> None:
        # Called inside the SMS channel's transaction.
        assert connection.in_atomic_block
        calls.append((ref, status, reason))

    sms.sms_status_listen("test.forward:", listener)
    yield calls
    sms._LISTENERS.remove(("test.forward:", listener))


def test_file_backend_end_to_end(sms_account: Any, sms_settings: Any, heard: list[Any],
                                 django_capture_on_commit_callbacks: Any,
                                 monkeypatch: Any) -> None:
    in_transaction: list[bool] = []
    original = providers.FileProvider.send

    def watched(self: Any, row: Sms) -> Any:
        in_transaction.append(bool(open_transactions()))
        return original(self, row)

    monkeypatch.setattr(providers.FileProvider, "send", watched)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            sms_id = sms.sms_send(to=CONTACT_NUMBER, body="Message urgent : rappelez M. Durand",
                                  account_id=sms_account.pk, ref="test.forward:7")
            row = Sms.objects.get(pk=sms_id)
            assert row.status == SmsStatus.QUEUED
            assert in_transaction == []  # nothing sent before the commit
    row.refresh_from_db()
    assert in_transaction == [False]
    assert row.status == SmsStatus.DELIVERED
    assert row.sent_at and row.delivered_at
    assert (row.encoding, row.segments) == ("GSM-7", 1)
    files = list(Path(sms_settings.SMS_FILE_PATH).glob("*.txt"))
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert CONTACT_NUMBER in text and "rappelez M. Durand" in text
    assert heard == [("test.forward:7", "sent", ""), ("test.forward:7", "delivered", "")]
    assert sms.sms_status(sms_id) == ("delivered", "")


def test_refusals(sms_account: Any, monkeypatch: Any) -> None:
    with pytest.raises(DomainError) as bad_number:
        sms.sms_send(to="0612345678", body="x", account_id=sms_account.pk, ref="")
    assert bad_number.value.code == "invalid" and "to" in bad_number.value.fields
    with pytest.raises(DomainError) as empty:
        sms.sms_send(to=CONTACT_NUMBER, body="  ", account_id=sms_account.pk, ref="")
    assert empty.value.code == "invalid" and "body" in empty.value.fields

    OptOut.objects.create(account=sms_account, number=CONTACT_NUMBER, keyword="STOP",
                          created_at=clock.now())
    with pytest.raises(DomainError) as stopped:
        sms.sms_send(to=CONTACT_NUMBER, body="Bonjour", account_id=sms_account.pk, ref="")
    assert stopped.value.code == "sms_opted_out"
    # The opt-out is per account: another account (or none) may still write.
    assert sms.sms_send(to=CONTACT_NUMBER, body="Bonjour", account_id=None, ref="")

    monkeypatch.setattr(sms, "_BACKEND", [])
    with pytest.raises(DomainError) as unavailable:
        sms.sms_send(to=CONTACT_NUMBER, body="Bonjour", account_id=None, ref="")
    assert unavailable.value.code == "sms_unavailable"
    assert Sms.objects.count() == 1  # only the one that was allowed


def test_lost_wake_up_is_sent_by_the_sweep(sms_account: Any) -> None:
    """A commit whose wake-up was lost (no on-commit callback ran here): the sweep sends it."""
    sms_id = sms.sms_send(to=CONTACT_NUMBER, body="Bonjour", account_id=sms_account.pk,
                          ref="test.forward:1")
    assert Sms.objects.get(pk=sms_id).status == SmsStatus.QUEUED
    assert sms_overdue() == []  # too young: the normal wake-up may still come
    later = clock.now() + providers_grace()
    with clock.frozen(later):
        assert sms_overdue() == [sms_id]
        assert sweep.call() == "requeued 1"
    assert Sms.objects.get(pk=sms_id).status == SmsStatus.DELIVERED


def providers_grace() -> Any:
    from permanence.channels_sms.services import GRACE

    return GRACE * 2


def test_a_failing_listener_never_undoes_the_sms_record(
        sms_account: Any, django_capture_on_commit_callbacks: Any) -> None:
    def broken(ref: str, status: str, reason: str) -> None:
        Sms.objects.filter(ref=ref).update(body="changed by the listener")
        raise RuntimeError("listener bug")

    sms.sms_status_listen("test.broken:", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            sms_id = sms.sms_send(to=CONTACT_NUMBER, body="Bonjour",
                                  account_id=sms_account.pk, ref="test.broken:1")
    finally:
        sms._LISTENERS.remove(("test.broken:", broken))
    row = Sms.objects.get(pk=sms_id)
    assert row.status == SmsStatus.DELIVERED  # recorded, sent once
    assert row.body == "Bonjour"  # the listener's own writes were rolled back

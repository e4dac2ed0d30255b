"""Transmission to the plateforme agréée, against the stand-in on a loopback port (real HTTP,
AFNOR XP Z12-013 shapes): a business invoice's Factur-X PDF is deposited once, its lifecycle
statuses reach the invoice (staff page, espace client), a crash after the journal never
deposits it twice, failures are retried or shown, a rejected flow is shown and can be
deposited anew."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from permanence.billing import credit_notes, documents
from permanence.billing.models_invoices import Invoice, InvoiceStatus
from permanence.billing.statuses import invoice_transition
from permanence.core import clock
from permanence.core.scheduler import REGISTRY, claim
from permanence.einvoicing import services
from permanence.einvoicing.client import LifecycleStatus
from permanence.einvoicing.models import StatusEvent, Transmission, TransmissionStatus

from .conftest import TEN, TWENTY, consumer, issue

pytestmark = pytest.mark.django_db(transaction=True)

PLAN = [("Forfait Permanence Pro — mai", 14900, TWENTY)]


def test_a_business_invoice_is_deposited_and_its_lifecycle_reaches_the_invoice(
        platform_standin: Any, business: Any, billing: Any, client_user: Any,
        client: Any) -> None:
    invoice = issue(business, PLAN)

    outcome = services.transmissions_send_due()

    assert outcome == {"opened": 1, "deposited": 1}
    flow = platform_standin.control("flows", method="GET")["flows"][0]
    assert flow["trackingId"] == invoice.number
    assert flow["flowSyntax"] == "Factur-X"
    assert flow["sha256"] == invoice.pdf_sha256  # the archived PDF itself, unchanged
    row = Transmission.objects.get(invoice=invoice)
    assert (row.status, row.flow_id, row.lifecycle_code) == (
        TransmissionStatus.DEPOSITED, flow["flowId"], "200")
    invoice.refresh_from_db()
    assert invoice.platform_status == "200"

    # The platform moves on (one step per read): mise à disposition, then approuvée.
    assert services.transmissions_poll_due() == 1
    assert services.transmissions_poll_due() == 1
    assert services.transmissions_poll_due() == 0  # nothing new
    invoice.refresh_from_db()
    assert invoice.platform_status == "205"
    assert list(StatusEvent.objects.filter(transmission=row).values_list("code", flat=True)) \
        == ["200", "203", "205"]

    # The buyer's side reports the payment: 212 Encaissée, final — the transmission closes.
    platform_standin.control(f"flows/{row.flow_id}/status?code=212")
    services.transmissions_poll_due()
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert (row.status, invoice.platform_status) == (TransmissionStatus.CLOSED, "212")
    assert invoice.status == "emise"  # the platform's status is not the payment status

    client.force_login(billing)
    page = client.get(reverse("billing:invoice", args=[invoice.number])).content.decode()
    assert 'data-platform-status="212"' in page and "Encaissée" in page
    page = client.get(reverse("einvoicing:platform") + "?statut=a_traiter").content.decode()
    assert invoice.number not in page  # nothing to do about a paid invoice
    client.force_login(client_user)
    page = client.get(reverse("portal:invoices")).content.decode()
    assert 'data-platform-status="212"' in page and "Encaissée" in page


def test_only_business_invoices_with_their_pdf_are_transmitted(
        platform_standin: Any, business: Any, account: Any) -> None:
    issue(account, PLAN, buyer=consumer())  # a consumer: e-reporting, not e-invoicing
    waiting = issue(business, PLAN, pdf=False)  # its PDF task has not run yet

    assert services.transmissions_send_due() == {"opened": 0}
    assert platform_standin.deposits() == 0

    documents.invoice_pdf_store(waiting.pk, send_email=False)
    assert services.transmissions_send_due() == {"opened": 1, "deposited": 1}
    assert services.transmissions_send_due() == {"opened": 0}  # never twice
    assert platform_standin.deposits() == 1


def test_a_crash_after_the_journal_never_deposits_twice(
        platform_standin: Any, business: Any, monkeypatch: Any) -> None:
    invoice = issue(business, PLAN)

    def crash(*_args: Any) -> None:
        raise SystemExit("worker killed after the platform took the flow")

    monkeypatch.setattr(services, "_record_deposit", crash)
    with pytest.raises(SystemExit):
        services.transmissions_send_due()
    monkeypatch.undo()
    row = Transmission.objects.get(invoice=invoice)
    # The journal says an attempt is in progress; the platform has the flow.
    assert (row.status, row.attempts, row.flow_id) == (TransmissionStatus.SENDING, 1, "")
    assert platform_standin.deposits() == 1

    # Too early to call it a crash: another worker may still be on it.
    assert services.transmissions_send_due() == {"opened": 0}
    later = clock.now() + services.STALE_AFTER + timedelta(seconds=1)
    with clock.frozen(later):
        assert services.transmissions_send_due() == {"opened": 0, "deposited": 1}

    row.refresh_from_db()
    assert row.status == TransmissionStatus.DEPOSITED and row.attempts == 2
    flows = platform_standin.control("flows", method="GET")
    assert flows["deposits"] == {invoice.number: 1}
    assert row.flow_id == flows["flows"][0]["flowId"]  # the flow found, adopted
    assert platform_standin.deposits() == 1
    assert ("POST", "/v1/flows/search") in platform_standin.app.requests


def test_a_platform_outage_is_retried_and_bad_credentials_fail_at_once(
        platform_standin: Any, business: Any, settings: Any, billing: Any,
        client: Any) -> None:
    invoice = issue(business, PLAN)
    platform_standin.control("fail-next?count=1&status=503")

    assert services.transmissions_send_due() == {"opened": 1, "retry": 1}
    row = Transmission.objects.get(invoice=invoice)
    assert row.status == TransmissionStatus.PENDING and "503" in row.last_error
    assert row.next_attempt_at > clock.now()
    with clock.frozen(row.next_attempt_at + timedelta(seconds=1)):
        assert services.transmissions_send_due() == {"opened": 0, "deposited": 1}
    # The 503 had taken nothing: one flow.
    assert platform_standin.control("flows", method="GET")["deposits"] == {invoice.number: 1}

    other = issue(business, PLAN)
    settings.EINVOICING_PLATFORM_TOKEN = "wrong"
    assert services.transmissions_send_due() == {"opened": 1, "failed": 1}
    failed = Transmission.objects.get(invoice=other)
    other.refresh_from_db()
    assert failed.status == TransmissionStatus.FAILED and "401" in failed.last_error
    assert other.platform_status == "echec"

    # The token fixed, billing staff retransmit: searched first, then deposited once.
    settings.EINVOICING_PLATFORM_TOKEN = platform_standin.app.token
    client.force_login(billing)
    page = client.get(reverse("einvoicing:platform")).content.decode()
    assert "Échec du dépôt" in page and "UNAUTHORIZED" in page
    response = client.post(reverse("einvoicing:retransmit", args=[other.number]), follow=True)
    assert "remise en file de transmission" in response.content.decode()
    failed.refresh_from_db()
    other.refresh_from_db()
    assert (failed.status, failed.tracking_id, other.platform_status) == (
        TransmissionStatus.DEPOSITED, other.number, "200")
    assert platform_standin.control("flows", method="GET")["deposits"] == {
        invoice.number: 1, other.number: 1}


def test_a_rejected_flow_is_shown_and_can_be_deposited_anew(
        platform_standin: Any, business: Any, billing: Any, supervisor: Any,
        client: Any) -> None:
    business.siret = "7328293"  # a typo: the buyer's SIREN is not 9 digits
    business.save()
    invoice = issue(business, PLAN)

    services.transmissions_send_due()
    services.transmissions_poll_due()

    row = Transmission.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert row.status == TransmissionStatus.REJECTED
    assert invoice.platform_status == "213"
    assert "SIREN de l'acheteur" in row.last_error

    client.force_login(supervisor)  # reads, cannot retransmit
    page = client.get(reverse("einvoicing:platform")).content.decode()
    assert "Rejetée" in page and "SIREN de l&#x27;acheteur" in page
    assert "Retransmettre" not in page
    url = reverse("einvoicing:retransmit", args=[invoice.number])
    assert client.post(url).status_code == 403

    client.force_login(billing)
    page = client.get(reverse("einvoicing:platform") + "?statut=rejetee").content.decode()
    assert invoice.number in page and "Retransmettre" in page
    page = client.get(reverse("einvoicing:platform") + "?statut=a_traiter").content.decode()
    assert invoice.number in page
    assert client.post(url).status_code == 302  # enqueued on commit: ran at once here
    row.refresh_from_db()
    assert row.tracking_id == f"{invoice.number}-2" and row.generation == 2
    assert platform_standin.control("flows", method="GET")["deposits"] == {
        invoice.number: 1, f"{invoice.number}-2": 1}
    # A deposit that is neither failed nor rejected cannot be sent again.
    response = client.post(url, follow=True)
    assert "Seule une transmission en échec ou rejetée" in response.content.decode()


def test_statuses_arriving_out_of_order_keep_the_latest_on_the_invoice(
        platform_standin: Any, business: Any) -> None:
    invoice = issue(business, PLAN)
    services.transmissions_send_due()
    row = Transmission.objects.get(invoice=invoice)
    now = clock.now()
    newer = LifecycleStatus(code="205", at=now + timedelta(minutes=5))
    older = LifecycleStatus(code="203", at=now + timedelta(minutes=1))

    assert services.transmission_record_statuses(transmission_id=row.pk, statuses=[newer]) == 1
    assert services.transmission_record_statuses(transmission_id=row.pk,
                                                 statuses=[older, newer]) == 1
    invoice.refresh_from_db()
    row.refresh_from_db()
    assert (invoice.platform_status, row.lifecycle_code) == ("205", "205")
    assert StatusEvent.objects.filter(transmission=row).count() == 3  # 200, 203, 205


def test_no_platform_call_inside_a_transaction(platform_standin: Any, business: Any) -> None:
    invoice = issue(business, PLAN)
    with transaction.atomic():
        with pytest.raises(RuntimeError):
            services.transmissions_send_due()
    assert platform_standin.deposits() == 0
    assert not Transmission.objects.filter(invoice=invoice).exists()


def test_the_platform_status_is_the_only_invoice_column_written(
        platform_standin: Any, business: Any) -> None:
    invoice = issue(business, PLAN)
    before = Invoice.objects.filter(pk=invoice.pk).values().get()
    services.transmissions_send_due()
    after = Invoice.objects.filter(pk=invoice.pk).values().get()
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"platform_status", "platform_status_at"}
    with invoice.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == after["pdf_sha256"]


def test_a_paid_business_invoice_is_reported_cashed_once(
        platform_standin: Any, business: Any, monkeypatch: Any) -> None:
    invoice = issue(business, [("Forfait", 14900, TWENTY), ("Agenda", 5000, TEN)])
    services.transmissions_send_due()
    assert services.transmissions_report_payments() == 0  # not paid yet
    invoice_transition(invoice=invoice, to=InvoiceStatus.PAID, paid_cents=invoice.total_ttc_cents)

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise SystemExit("worker killed after the platform took the message")

    monkeypatch.setattr(services, "_record_payment_reported", crash)
    with pytest.raises(SystemExit):
        services.transmissions_report_payments()
    monkeypatch.undo()
    assert services.transmissions_report_payments() == 1
    assert services.transmissions_report_payments() == 0

    flows = platform_standin.control("flows", method="GET")
    assert flows["deposits"] == {invoice.number: 1, f"{invoice.number}-212": 1}
    message = next(f for f in flows["flows"] if f["trackingId"] == f"{invoice.number}-212")
    assert (message["flowSyntax"], message["flowType"]) == ("CDAR", "CustomerInvoiceLC")
    assert message["acknowledgement"]["status"] == "Ok"
    cdar_xml = platform_standin.app.files[message["flowId"]].decode()
    assert "<ram:ProcessConditionCode>212</ram:ProcessConditionCode>" in cdar_xml
    assert f"<ram:IssuerAssignedID>{invoice.number}</ram:IssuerAssignedID>" in cdar_xml
    assert '<ram:ValueAmount currencyID="EUR">178.80</ram:ValueAmount>' in cdar_xml
    assert '<ram:ValueAmount currencyID="EUR">55.00</ram:ValueAmount>' in cdar_xml
    # The platform's own record of the invoice says « Encaissée » too.
    invoice_flow = next(f for f in flows["flows"] if f["trackingId"] == invoice.number)
    assert invoice_flow["lifecycle"][-1]["code"] == "212"

    row = Transmission.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert (row.status, row.lifecycle_code, invoice.platform_status) == (
        TransmissionStatus.CLOSED, "212", "212")
    assert row.payment_flow_id == message["flowId"]
    assert StatusEvent.objects.get(transmission=row, code="212").reason == "Encaissée : 233,80 €"


def test_the_scheduler_jobs_run_by_the_database_worker(
        platform_standin: Any, business: Any, settings: Any) -> None:
    """The production path: the scheduler's jobs stored as tasks, run by db_worker outside
    any transaction (the services refuse to call the platform inside one)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "email"]}}
    invoice = issue(business, PLAN)
    for name in ("einvoicing.transmit", "einvoicing.poll"):
        job = REGISTRY[name]
        assert claim(job)
        job.task.enqueue()
        call_command("db_worker", "--batch", "--queue-name", "default", "--no-startup-delay",
                     "--no-reload", verbosity=0)
    invoice.refresh_from_db()
    assert invoice.platform_status == "203"  # deposited (200), then one poll: 203
    assert platform_standin.control("flows", method="GET")["deposits"] == {invoice.number: 1}
    done = dict(DBTaskResult.objects.values_list("task_path", "status"))
    assert done["permanence.einvoicing.tasks.transmit_due"] == "SUCCESSFUL"
    assert done["permanence.einvoicing.tasks.poll_statuses"] == "SUCCESSFUL"


def test_a_refusal_by_the_buyer_closes_the_transmission_and_is_to_handle(
        platform_standin: Any, business: Any, billing: Any, client: Any) -> None:
    invoice = issue(business, PLAN)
    services.transmissions_send_due()
    row = Transmission.objects.get(invoice=invoice)
    platform_standin.control(f"flows/{row.flow_id}/status?code=210&reason=Prestation+contest%C3%A9e")
    services.transmissions_poll_due()
    row.refresh_from_db()
    invoice.refresh_from_db()
    assert (row.status, row.lifecycle_code, invoice.platform_status) == (
        TransmissionStatus.CLOSED, "210", "210")
    client.force_login(billing)
    page = client.get(reverse("einvoicing:platform") + "?statut=a_traiter").content.decode()
    assert invoice.number in page and "210 Refusée" in page and "Prestation contestée" in page
    assert "Retransmettre" not in page  # a refusal is answered by a credit note, not a resend


def test_a_credit_note_is_transmitted_like_an_invoice(
        platform_standin: Any, business: Any, billing: Any) -> None:
    invoice = issue(business, PLAN)
    note = credit_notes.credit_note_issue(actor=billing, invoice=invoice, reason="Erreur")
    documents.invoice_pdf_store(note.pk, send_email=False)

    assert services.transmissions_send_due() == {"opened": 2, "deposited": 2}
    flows = platform_standin.control("flows", method="GET")
    assert flows["deposits"] == {invoice.number: 1, note.number: 1}
    assert all(f["acknowledgement"]["status"] == "Ok" for f in flows["flows"])
    note.refresh_from_db()
    assert note.number.startswith("AV") and note.platform_status == "200"

"""Facturation › Exports comptables: the sales and payments journals (rows, totals, CSV for
French Excel, XLSX), the period form (bad input is a form error), constant queries, who may
download; the archive check command."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from permanence.billing import issuing, journals
from permanence.billing.models_invoices import Invoice
from permanence.billing.tests.accounting_example import PARIS, Example, at, build
from permanence.core import clock
from permanence.payments.charges import invoice_transfer_record
from permanence.payments.machine import payment_transition
from permanence.payments.models import PaymentStatus
from permanence.payments.services import payment_start
from testkit.payments import WEBHOOK_PATH, signed, standin  # noqa: F401 (the fixture)
from testkit.shop import make_order

pytestmark = pytest.mark.django_db

PAGE = "/app/facturation/exports/"
SALES = "/app/facturation/exports/journal-des-ventes."
PAYMENTS = "/app/facturation/exports/journal-des-paiements."
FEC = "/app/facturation/exports/fec.txt"
MARCH = journals.Period(date(2027, 3, 1), date(2027, 3, 31))


@pytest.fixture
def example(client: Any, standin: Any, billing: Any, account: Any,  # noqa: F811
            other_account: Any) -> Example:
    return build(client=client, standin=standin, billing=billing, account=account,
                 other_account=other_account)


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_sales_journal_rows_and_totals(example: Example) -> None:
    rows = list(journals.sales_rows(MARCH))
    a, b, note = example.invoice_a, example.invoice_b, example.credit_note
    assert [(r.day, r.number, r.kind, r.vat_rate, r.ht_cents, r.vat_cents, r.ttc_cents)
            for r in rows] == [
        (date(2027, 3, 3), a.number, "facture", Decimal("20.00"), 14900, 2980, 17880),
        (date(2027, 3, 10), b.number, "facture", Decimal("10.00"), 10000, 1000, 11000),
        (date(2027, 3, 15), note.number, "avoir", Decimal("20.00"), -14900, -2980, -17880)]
    assert (a.number, b.number, note.number) == ("F2027-000001", "F2027-000002",
                                                 "AV2027-000001")
    assert rows[2].credit_of == a.number
    assert rows[0].status == "annulee"  # cancelled by the full credit note
    assert rows[0].client == a.account.name
    assert rows[0].client_siren == ""  # the order's billing details had no SIRET
    assert rows[0].account_id == example.invoice_a.account_id
    # Net sales of the month: the credit note cancels the first invoice.
    assert sum(r.ht_cents for r in rows) == 10000
    assert sum(r.vat_cents for r in rows) == 1000
    assert sum(r.ttc_cents for r in rows) == 11000
    # Outside the period: nothing.
    assert list(journals.sales_rows(journals.Period(date(2027, 4, 1),
                                                    date(2027, 4, 30)))) == []


def test_payments_journal_rows_and_totals(example: Example) -> None:
    rows = list(journals.payment_rows(MARCH))
    assert [(r.day, r.kind, r.provider, r.method, r.amount_cents, r.invoice) for r in rows] == [
        (date(2027, 3, 3), "encaissement", "stripe", "carte", 17880, "F2027-000001"),
        (date(2027, 3, 10), "encaissement", "virement", "virement", 11000, "F2027-000002"),
        (date(2027, 3, 20), "remboursement", "stripe", "carte", -17880, "F2027-000001")]
    assert rows[0].reference == example.card.provider_payment_id
    assert rows[0].reference.startswith("pi_")
    assert rows[1].reference == "VIR SEPA CABINET B 0310"
    assert example.transfer.order is not None
    assert rows[1].order == example.transfer.order.reference
    assert rows[1].account_id == example.invoice_b.account_id
    assert sum(r.amount_cents for r in rows) == 11000
    assert example.card.status == "rembourse"


def _charge_refunded(client: Any, standin: Any, payment: Any, cumulative: int,  # noqa: F811
                     event_id: str) -> None:
    """Stripe's charge.refunded, signed with the webhook secret, posted to our webhook."""
    charge = {"id": "ch_partial", "object": "charge", "amount": payment.amount_cents,
              "amount_refunded": cumulative, "currency": "eur", "paid": True,
              "payment_intent": payment.provider_payment_id, "metadata": {},
              "refunded": cumulative >= payment.amount_cents, "status": "succeeded"}
    data, header = signed({"id": event_id, "object": "event", "type": "charge.refunded",
                           "created": int(time.time()), "data": {"object": charge}},
                          standin.secret)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(WEBHOOK_PATH, data=data, content_type="application/json",
                               headers={"Stripe-Signature": header})
    assert response.status_code == 200


def test_partial_refunds_are_dated_and_counted_once(client: Any, standin: Any,  # noqa: F811
                                                    account: Any) -> None:
    with clock.frozen(at(3)):
        order = make_order(account)
        card = payment_start(order=order, method="carte", success_url="https://x/ok",
                             cancel_url="https://x/ko")
        standin.app.pay(card.provider_session_id)
        standin.deliver(client)
    card.refresh_from_db()
    with clock.frozen(at(5)):
        _charge_refunded(client, standin, card, 5000, "evt_refund_1")
    with clock.frozen(datetime(2027, 4, 2, 9, tzinfo=PARIS)):
        _charge_refunded(client, standin, card, card.amount_cents, "evt_refund_2")
    march = [(r.day, r.kind, r.amount_cents) for r in journals.payment_rows(MARCH)]
    assert march == [(date(2027, 3, 3), "encaissement", card.amount_cents),
                     (date(2027, 3, 5), "remboursement", -5000)]
    april = journals.Period(date(2027, 4, 1), date(2027, 4, 30))
    assert [(r.day, r.kind, r.amount_cents) for r in journals.payment_rows(april)] == [
        (date(2027, 4, 2), "remboursement", -(card.amount_cents - 5000))]


def test_a_returned_payment_leaves_again(example: Example) -> None:
    """A payment that came back (SEPA rejection, dispute): a negative row on its day."""
    payment_transition(payment=example.transfer, to=PaymentStatus.RETURNED, now=at(25))
    rows = list(journals.payment_rows(MARCH))
    assert [(r.day, r.kind, r.amount_cents, r.invoice) for r in rows][-1] == (
        date(2027, 3, 25), "retour", -11000, "F2027-000002")
    assert sum(r.amount_cents for r in rows) == 0


def test_an_invoice_paid_without_an_order(billing: Any, other_account: Any) -> None:
    """A periodic invoice paid by transfer (no order): the journal names the invoice and
    its client."""
    invoice = issuing.issue(issuing.Draft(account=other_account, lines=[issuing.Line(
        label="Forfait avril", unit_price_cents=10000, vat_rate=Decimal("20.00"))]),
        now=at(26))
    with clock.frozen(at(28)):
        invoice_transfer_record(actor=billing, invoice_number=invoice.number,
                                amount_cents=12000, received_on=date(2027, 3, 28),
                                bank_label="VIR CABINET B AVRIL")
    [row] = journals.payment_rows(MARCH)
    assert (row.day, row.invoice, row.order, row.account_id, row.client, row.reference,
            row.amount_cents) == (date(2027, 3, 28), invoice.number, "", other_account.pk,
                                  other_account.name, "VIR CABINET B AVRIL", 12000)


def test_sales_csv_is_for_french_excel(client: Any, billing: Any, example: Example,
                                       django_assert_num_queries: Any) -> None:
    client.force_login(billing)
    response = client.get(SALES + "csv", {"mois": "2027-03"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="journal-des-ventes-20270301-20270331.csv"' in (
        response["Content-Disposition"])
    # Session + user, then one query for the whole journal.
    with django_assert_num_queries(1):
        data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:3] == ["Date", "Numéro", "Type"]
    assert lines[1] == ["03/03/2027", "F2027-000001", "Facture", "Annulée par avoir",
                        example.invoice_a.account.name, f"C{example.invoice_a.account_id:06d}", "",
                        "", "20,00", "149,00", "29,80", "178,80"]
    assert lines[3][1:3] == ["AV2027-000001", "Avoir"]
    assert lines[3][7] == "F2027-000001"
    assert lines[3][-3:] == ["-149,00", "-29,80", "-178,80"]
    assert len(lines) == 4


def test_payments_csv_and_xlsx(client: Any, billing: Any, example: Example) -> None:
    client.force_login(billing)
    lines = list(csv.reader(io.StringIO(body(client.get(
        PAYMENTS + "csv", {"mois": "2027-03"})).decode("utf-8-sig")), delimiter=";"))
    assert [ln[1] for ln in lines[1:]] == ["Encaissement", "Encaissement", "Remboursement"]
    assert [ln[-1] for ln in lines[1:]] == ["178,80", "110,00", "-178,80"]
    response = client.get(PAYMENTS + "xlsx", {"du": "2027-03-01", "au": "2027-03-31"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(body(response)))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Date"
    assert [v[-1] for v in values[1:]] == [178.8, 110.0, -178.8]
    assert values[1][0].date() == date(2027, 3, 3)
    assert values[2][1:4] == ("Encaissement", "Virement", "Virement")


def test_sales_xlsx_opens_with_the_rows(client: Any, billing: Any, example: Example,
                                        django_assert_num_queries: Any) -> None:
    client.force_login(billing)
    # The workbook is written while the view runs: session, user, the journal's query.
    with django_assert_num_queries(3):
        response = client.get(SALES + "xlsx", {"mois": "2027-03"})
    book = openpyxl.load_workbook(io.BytesIO(body(response)))
    values = list(book.active.iter_rows(values_only=True))
    assert len(values) == 4
    assert [v[1] for v in values[1:]] == ["F2027-000001", "F2027-000002", "AV2027-000001"]
    assert [float(v[-1]) for v in values[1:]] == [178.8, 110.0, -178.8]


def test_queries_do_not_grow_with_the_documents(client: Any, billing: Any, example: Example,
                                                django_assert_num_queries: Any,
                                                monkeypatch: Any) -> None:
    """Payments journal: session and user, then receipts, refunds, returns — one query
    each, however many rows."""
    client.force_login(billing)
    with django_assert_num_queries(5):
        response = client.get(PAYMENTS + "csv", {"mois": "2027-03"})
        assert body(response).count(b"\r\n") == 4
    # The FEC: session, user, the seller's identity, the sales, then the three above.
    with django_assert_num_queries(7):
        response = client.get(FEC, {"mois": "2027-03"})
        assert body(response).count(b"\r\n") == 1 + 9 + 6
    # 30 more invoices, at two rates each, read in chunks of 8: the same queries.
    monkeypatch.setattr(journals, "CHUNK", 8)
    for n in range(30):
        issuing.issue(issuing.Draft(account=example.invoice_b.account, lines=[
            issuing.Line(label=f"Prestation {n}", unit_price_cents=1000 + n,
                         vat_rate=Decimal("20.00")),
            issuing.Line(label="Livre", unit_price_cents=500, vat_rate=Decimal("5.50"))]),
            now=at(21))
    with django_assert_num_queries(3):
        response = client.get(SALES + "csv", {"mois": "2027-03"})
        assert body(response).count(b"\r\n") == 1 + 3 + 60
    with django_assert_num_queries(7):
        response = client.get(FEC, {"mois": "2027-03"})
        assert body(response).count(b"\r\n") == 1 + 9 + 30 * 5 + 6


def test_page_defaults_to_the_month_and_links_the_files(client: Any, billing: Any,
                                                         example: Example) -> None:
    client.force_login(billing)
    page = client.get(PAGE).content.decode()
    assert 'href="/app/facturation/exports/fec.txt?' in page
    page = client.get(PAGE, {"mois": "2027-03"}).content.decode()
    assert "552081317FEC20270331.txt" in page
    assert "journal-des-ventes.csv?mois=2027-03" in page
    # The month's documents per kind: two invoices (288,80 € TTC), one credit note.
    assert "288,80" in page and "178,80" in page
    home = client.get("/app/facturation/").content.decode()
    assert 'href="/app/facturation/exports/"' in home


@pytest.mark.parametrize("query", [
    {"mois": "2027-13"}, {"mois": "mars"}, {"du": "2027-02-30", "au": "2027-03-01"},
    {"du": "2027-03-31", "au": "2027-03-01"}, {"du": "2026-01-01", "au": "2027-01-01"},
    {"du": "2027-03-01"}, {"du": "01/03/2027", "au": "31/03/2027"}])
@pytest.mark.parametrize("url", [PAGE, SALES + "csv", SALES + "xlsx", PAYMENTS + "csv", FEC])
def test_bad_period_is_a_form_error(client: Any, billing: Any, url: str,
                                    query: dict[str, str]) -> None:
    client.force_login(billing)
    response = client.get(url, query)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode() or \
        'aria-invalid="true"' in response.content.decode()


def test_a_client_name_never_runs_as_a_formula(client: Any, billing: Any,
                                               other_account: Any) -> None:
    evil = '=HYPERLINK("http://evil.test","x")'
    issuing.issue(issuing.Draft(account=other_account, buyer={"name": evil}, lines=[
        issuing.Line(label="Forfait", unit_price_cents=10000, vat_rate=Decimal("20.00"))]),
        now=at(26))
    client.force_login(billing)
    data = body(client.get(SALES + "csv", {"mois": "2027-03"})).decode("utf-8-sig")
    [line] = list(csv.reader(io.StringIO(data), delimiter=";"))[1:]
    assert line[4] == "'" + evil
    book = openpyxl.load_workbook(io.BytesIO(body(client.get(SALES + "xlsx",
                                                             {"mois": "2027-03"}))))
    cell = list(book.active.iter_rows(min_row=2))[0][4]
    assert (cell.value, cell.data_type) == (evil, "s")


def test_a_year_is_allowed_and_an_unknown_format_is_404(client: Any, billing: Any) -> None:
    client.force_login(billing)
    assert client.get(SALES + "csv", {"du": "2027-01-01", "au": "2027-12-31"}
                      ).status_code == 200
    assert client.get(SALES + "pdf").status_code == 404


def test_who_may_export(client: Any, admin_user: Any, supervisor: Any, agent: Any,
                        client_user: Any, billing: Any) -> None:
    for url in (PAGE, SALES + "csv", SALES + "xlsx", PAYMENTS + "csv", PAYMENTS + "xlsx",
                FEC):
        for user in (billing, admin_user, supervisor):
            client.force_login(user)
            assert client.get(url).status_code == 200, (url, user)
        for user in (agent, client_user):
            client.force_login(user)
            assert client.get(url).status_code == 403, (url, user)
        client.logout()
        response = client.get(url)
        assert response.status_code == 302 and "?next=" in response["Location"]


# --------------------------------------------------------------------------- archive


def test_archive_check_recomputes_the_hashes(example: Example, tmp_path: Any) -> None:
    from permanence.billing.documents import invoice_pdf_store

    for invoice in (example.invoice_a, example.invoice_b, example.credit_note):
        invoice_pdf_store(invoice.pk, send_email=False)
    out = io.StringIO()
    call_command("billing_archive_check", "--from", "2027-03-01", "--to", "2027-03-31",
                 stdout=out)
    assert "ok=3" in out.getvalue() and "pdf_mismatch=0" in out.getvalue()
    # Someone rewrites an archived PDF on disk: found, and the exit status says so.
    stored = Invoice.objects.get(pk=example.invoice_b.pk)
    with open(stored.pdf.path, "ab") as handle:
        handle.write(b"%tampered")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 archived document"):
        call_command("billing_archive_check", "--from", "2027-03-01", stdout=out)
    assert f"{stored.number}\tpdf_mismatch" in out.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command("billing_archive_check", "--from", "mars")

"""The legal documents of an issued invoice: its Factur-X EN 16931 XML passes the XSD and the
official schematron (and a broken one does not), its PDF is a PDF/A-3 carrying that XML and
printing the mentions, stored once, e-mailed once, and frozen by the database."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal
from html import unescape
from typing import Any

import facturx
import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from lxml import etree
from pypdf import PdfReader

from permanence.accounts.models import OperatorIdentity
from permanence.billing import documents, issuing, parties, validation
from permanence.billing.cii import NS
from permanence.billing.models_invoices import DocumentKind, Invoice

pytestmark = pytest.mark.django_db

TWENTY = Decimal("20")
MAY_START, MAY_END = date(2026, 5, 1), date(2026, 5, 31)


@pytest.fixture
def operator(db: Any) -> OperatorIdentity:
    """The seller (overrides billing's conftest fixture of the same name: these tests check
    its exact identity on the documents)."""
    identity, _created = OperatorIdentity.objects.update_or_create(pk=1, defaults={
        "legal_name": "Allô Secrétariat SAS", "siren": "552081317",
        "siret": "55208131700018", "vat_number": "FR03552081317",
        "address": "12 rue de la République\n69002 Lyon",
        "iban": "FR7630006000011234567890189",
        "support_email": "facturation@allo-secretariat.fr"})
    return identity


@pytest.fixture
def business(account: Any, operator: OperatorIdentity) -> Any:
    account.legal_name = "Cabinet Martin SELARL"
    account.siret = "73282932000074"
    account.vat_number = "FR44732829320"
    account.billing_address = "5 place Bellecour\nBâtiment B\n69002 Lyon"
    account.billing_email = "compta@cabinet-martin.fr"
    account.save()
    return account


def monthly_plan(account: Any) -> Invoice:
    return issuing.issue(issuing.Draft(
        account=account, period_start=MAY_START, period_end=MAY_END, lines=[
            issuing.Line("Forfait Permanence Pro — mai 2026", 14900, TWENTY,
                         period_start=MAY_START, period_end=MAY_END),
            issuing.Line("Option prise de rendez-vous", 2500, TWENTY,
                         period_start=MAY_START, period_end=MAY_END),
            issuing.Line("Minutes d'appel au-delà du forfait", 45, TWENTY,
                         quantity=Decimal("37.5"), unit="MIN"),
            issuing.Line("Permanence exceptionnelle", 3200, TWENTY,
                         quantity=Decimal("1.25"), unit="HUR"),
            issuing.Line("Remise de bienvenue", -1000, TWENTY),
        ]))


def consumer_invoice(account: Any) -> Invoice:
    buyer = {"name": "Jeanne Dupont", "legal_name": "", "siren": "", "siret": "",
             "vat_number": "", "email": "jeanne.dupont@example.fr",
             "address": parties.address("3 allée des Pins\n33000 Bordeaux"),
             "is_business": False}
    return issuing.issue(issuing.Draft(account=account, buyer=buyer, paid=True, lines=[
        issuing.Line("Permanence téléphonique — semaine d'essai", 4900, TWENTY)]))


def reverse_charge_invoice(account: Any) -> Invoice:
    buyer = {"name": "Müller Praxis GmbH", "legal_name": "Müller Praxis GmbH", "siren": "",
             "siret": "", "vat_number": "DE136695976", "email": "buchhaltung@mueller.de",
             "address": {"line1": "Hauptstraße 5", "line2": "", "postcode": "10115",
                         "city": "Berlin", "country": "DE"},
             "is_business": True}
    return issuing.issue(issuing.Draft(account=account, buyer=buyer, lines=[
        issuing.Line("Forfait Permanence Pro — mai 2026", 14900, TWENTY,
                     period_start=MAY_START, period_end=MAY_END)]))


def credit_note(account: Any, original: Invoice) -> Invoice:
    return issuing.issue(issuing.Draft(
        account=account, kind=DocumentKind.CREDIT_NOTE, credit_of=original,
        reason="Geste commercial : appels non décrochés le 12 mai", lines=[
            issuing.Line("Avoir sur le forfait de mai 2026", 2000, TWENTY)]))


def xml_of(invoice: Invoice) -> bytes:
    return invoice.facturx_xml.encode("utf-8")


def test_a_b2b_monthly_invoice_is_valid_en16931(business: Any) -> None:
    invoice = monthly_plan(business)
    tree = etree.fromstring(xml_of(invoice))
    quantities = tree.xpath("//ram:BilledQuantity", namespaces=NS)
    assert [(q.text, q.get("unitCode")) for q in quantities] == [
        ("1", "C62"), ("1", "C62"), ("37.5", "MIN"), ("1.25", "HUR"), ("-1", "C62")]
    assert tree.xpath("string(//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID)",
                      namespaces=NS) == "732829320"
    assert tree.xpath("string(//ram:DuePayableAmount)", namespaces=NS) == "265.06"
    assert invoice.total_ttc_cents == 26506
    assert validation.validate(xml_of(invoice)) == []
    # The French reform's B2B rules (BR-FR-*) hold as well.
    assert validation.validate(xml_of(invoice), fr_ctc=True) == []


def test_a_consumer_invoice_without_siren_is_valid(business: Any) -> None:
    invoice = consumer_invoice(business)
    tree = etree.fromstring(xml_of(invoice))
    assert not tree.xpath("//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization",
                          namespaces=NS)
    assert "recovery_indemnity" not in invoice.mentions
    assert validation.validate(xml_of(invoice)) == []


def test_a_reverse_charge_invoice_to_an_eu_business_is_valid(business: Any) -> None:
    invoice = reverse_charge_invoice(business)
    tree = etree.fromstring(xml_of(invoice))
    assert invoice.total_vat_cents == 0
    assert tree.xpath("string(//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
                      "/ram:CategoryCode)", namespaces=NS) == "AE"
    assert tree.xpath("string(//ram:ExemptionReasonCode)", namespaces=NS) == "VATEX-EU-AE"
    assert validation.validate(xml_of(invoice), fr_ctc=True) == []


def test_a_credit_note_cites_the_invoice_and_is_valid(business: Any) -> None:
    original = monthly_plan(business)
    note = credit_note(business, original)
    tree = etree.fromstring(xml_of(note))
    assert tree.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "381"
    assert tree.xpath("string(//ram:InvoiceReferencedDocument/ram:IssuerAssignedID)",
                      namespaces=NS) == original.number
    assert validation.validate(xml_of(note), fr_ctc=True) == []


def _broken(xml: bytes, change: Any) -> bytes:
    tree = etree.fromstring(xml)
    change(tree)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def test_the_schematrons_reject_a_wrong_total_a_missing_vat_or_mention(business: Any) -> None:
    xml = xml_of(monthly_plan(business))

    def wrong_total(tree: Any) -> None:
        tree.xpath("//ram:GrandTotalAmount", namespaces=NS)[0].text = "999.99"

    def no_seller_vat(tree: Any) -> None:
        seller = tree.xpath("//ram:SellerTradeParty", namespaces=NS)[0]
        seller.remove(seller.xpath("ram:SpecifiedTaxRegistration", namespaces=NS)[0])

    failures = validation.validate(_broken(xml, wrong_total))
    assert any("BR-CO-15" in failure for failure in failures), failures
    failures = validation.validate(_broken(xml, no_seller_vat))
    assert any("BR-S-02" in failure for failure in failures), failures
    # The same checks in process give the same answer.
    assert validation.validate(_broken(xml, no_seller_vat), isolated=False) == failures

    def no_recovery_indemnity(tree: Any) -> None:
        note = tree.xpath("//ram:IncludedNote[ram:SubjectCode='PMT']", namespaces=NS)[0]
        note.getparent().remove(note)

    assert validation.validate(_broken(xml, no_recovery_indemnity)) == []  # EN 16931: optional
    failures = validation.validate(_broken(xml, no_recovery_indemnity), fr_ctc=True,
                                   isolated=False)
    assert any("BR-FR-05" in failure for failure in failures), failures


def test_the_xsd_rejects_an_element_out_of_place(business: Any) -> None:
    xml = xml_of(monthly_plan(business))

    def misplaced(tree: Any) -> None:
        document = tree.xpath("//rsm:ExchangedDocument", namespaces=NS)[0]
        document.insert(0, etree.Element(f"{{{NS['ram']}}}TypeCode"))

    failures = validation.validate(_broken(xml, misplaced))
    assert failures
    assert failures[0].startswith("XSD")


def test_the_pdf_is_a_pdfa3_carrying_the_xml(business: Any) -> None:
    invoice = monthly_plan(business)
    pdf = documents.render_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    assert _xmp_pdfa(pdf) == ("3", "B")
    assert b"/AFRelationship /Alternative" in pdf  # EN 16931: the XML is the invoice too
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml.decode("utf-8") == invoice.facturx_xml


def _xmp_pdfa(pdf: bytes) -> tuple[str, str]:
    """(pdfaid:part, pdfaid:conformance) from the PDF's XMP metadata (a compressed stream)."""
    metadata = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object()
    xmp = etree.fromstring(metadata.get_data())
    namespaces = {"pdfaid": "http://www.aiim.org/pdfa/ns/id/"}
    return (str(xmp.xpath("string(//pdfaid:part)", namespaces=namespaces)),
            str(xmp.xpath("string(//pdfaid:conformance)", namespaces=namespaces)))


def test_the_printed_document_carries_every_mention(business: Any) -> None:
    invoice = monthly_plan(business)
    html = unescape(documents.render_html(invoice))
    assert f"Facture n° {invoice.number}" in html
    assert len(invoice.mentions) >= 6
    for text in invoice.mentions.values():
        assert text in html
    for fragment in ("552081317", "55208131700018", "FR03552081317",
                     "FR7630006000011234567890189", "732829320", "FR44732829320",
                     "Nature de l'opération : Prestation de services", "Prestation de services",
                     "37,5", "minute", "Reste à payer", "01/05/2026"):
        assert fragment in html, fragment
    note = credit_note(business, invoice)
    html = unescape(documents.render_html(note))
    assert f"Avoir n° {note.number}" in html
    assert f"sur la facture n° {invoice.number}" in html


def test_the_pdf_is_stored_once_emailed_once_and_then_frozen(
        business: Any, django_capture_on_commit_callbacks: Any) -> None:
    invoice = monthly_plan(business)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = documents.invoice_pdf_store(invoice.pk)
        assert mail.outbox == []  # not while the transaction is open
    assert len(callbacks) == 1
    invoice.refresh_from_db()
    assert result["pdf_sha256"] == invoice.pdf_sha256
    with invoice.pdf.open("rb") as handle:
        stored = handle.read()
    assert invoice.pdf_sha256 == hashlib.sha256(stored).hexdigest()
    assert facturx.get_xml_from_pdf(stored, check_xsd=False)[1].decode() == invoice.facturx_xml
    assert invoice.emailed_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["compta@cabinet-martin.fr"]
    assert message.subject == f"Facture n° {invoice.number} — Allô Secrétariat SAS"
    assert f"la facture n° {invoice.number} du" in message.body
    assert message.attachments[0][0] == f"{invoice.number}.pdf"
    assert message.attachments[0][1] == stored

    with django_capture_on_commit_callbacks(execute=True):
        second = documents.invoice_pdf_store(invoice.pk)
    assert second == {"invoice": invoice.pk, "pdf_sha256": invoice.pdf_sha256,
                      "emailed": False}
    again = Invoice.objects.get(pk=invoice.pk)
    assert (again.pdf.name, again.pdf_sha256, again.emailed_at) == (
        invoice.pdf.name, invoice.pdf_sha256, invoice.emailed_at)
    assert len(mail.outbox) == 1

    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(pdf_sha256="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(pdf="invoices/2026/other.pdf")
    assert Invoice.objects.get(pk=invoice.pk).pdf_sha256 == invoice.pdf_sha256


def test_issuing_enqueues_the_pdf_task_after_the_commit(
        business: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invoice = consumer_invoice(business)
    invoice.refresh_from_db()
    assert invoice.pdf_sha256
    assert invoice.pdf.name.endswith(f"{invoice.number}.pdf")
    assert [m.to for m in mail.outbox] == [["jeanne.dupont@example.fr"]]

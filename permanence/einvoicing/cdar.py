"""The lifecycle message (CDAR, UN/CEFACT Cross Domain Acknowledgement and Response) the seller
sends for status 212 « Encaissée »: for services the VAT is due on receipt, so the reform
asks the seller to report each B2B invoice's payment, with the amount received per VAT rate.

A simplified message after the lifecycle specification: context (the CDV guideline), the
message's id, type and date, the sender (seller's SIREN), the invoice it is about (number,
issue date, type), the status code and label, and the amounts received per rate."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from lxml import etree

from permanence.billing.cii import TYPE_CREDIT_NOTE, TYPE_INVOICE
from permanence.billing.models_invoices import DocumentKind, Invoice

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "ram": RAM, "udt": UDT}
GUIDELINE = "urn.cpro.gouv.fr:1p0:CDV:invoice"
CASHED = "212"
ACK_TYPE = "305"  # UNTDID 1001: application status report


def _sub(parent: etree._Element, tag: str, text: str | None = None,
         **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{NAMESPACES[prefix]}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def cashed_message(invoice: Invoice, *, at: datetime, message_id: str) -> bytes:
    """The 212 « Encaissée » message for a paid invoice."""
    root = etree.Element(f"{{{RSM}}}CrossDomainAcknowledgementAndResponse",
                         nsmap=NAMESPACES)
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)
    document = _sub(root, "rsm:ExchangedDocument")
    _sub(document, "ram:ID", message_id)
    _sub(document, "ram:TypeCode", ACK_TYPE)
    _sub(_sub(document, "ram:IssueDateTime"), "udt:DateTimeString",
         at.strftime("%Y%m%d%H%M%S"), format="204")
    sender = _sub(document, "ram:SenderTradeParty")
    _sub(sender, "ram:GlobalID", str(invoice.seller.get("siren", "")), schemeID="0002")
    _sub(sender, "ram:RoleCode", "SE")  # the seller
    ack = _sub(root, "rsm:AcknowledgementDocument")
    _sub(_sub(ack, "ram:IssueDateTime"), "udt:DateTimeString", at.strftime("%Y%m%d%H%M%S"),
         format="204")
    ref = _sub(ack, "ram:ReferenceReferencedDocument")
    _sub(ref, "ram:IssuerAssignedID", invoice.number)
    _sub(ref, "ram:TypeCode", TYPE_CREDIT_NOTE if invoice.kind == DocumentKind.CREDIT_NOTE
         else TYPE_INVOICE)
    _sub(_sub(ref, "ram:FormattedIssueDateTime"), "udt:DateTimeString",
         invoice.issued_on.strftime("%Y%m%d"), format="102")
    _sub(ref, "ram:ProcessConditionCode", CASHED)
    _sub(ref, "ram:ProcessCondition", "Encaissée")
    for row in invoice.vat_breakdown:
        received = Decimal(int(row["base_cents"]) + int(row["vat_cents"])) / 100
        characteristic = _sub(ref, "ram:SpecifiedDocumentCharacteristic")
        _sub(characteristic, "ram:TypeCode", "MEN")  # montant encaissé
        _sub(characteristic, "ram:ValueAmount", f"{received:.2f}", currencyID=invoice.currency)
        _sub(characteristic, "ram:ValuePercent", f"{Decimal(str(row['rate'])):.2f}")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))

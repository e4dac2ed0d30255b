"""The Factur-X XML of an invoice: UN/CEFACT Cross Industry Invoice (CII D16B), profile
EN 16931 ("urn:cen.eu:en16931:2017"), as embedded in the PDF/A-3 and kept in
`Invoice.facturx_xml`.

`build_cii(invoice, lines)` is called by `issuing.issue` before the insert: the invoice has its
number, dates, totals, VAT breakdown, mentions and party snapshots; `lines` are the
(unsaved) InvoiceLine objects. Amounts come from the stored cents (core.money's rounding),
never recomputed here, so the XML says exactly what the PDF prints. The business terms (BT-n)
named in the comments are EN 16931's; `validation.validate` checks the result against the XSD
and the official EN 16931 + Factur-X schematron.

VAT categories: S (standard, rate > 0), AE (reverse charge: an EU business buyer, rate 0, with
the legal reason), E (exempt: any other rate 0, with its reason). A line with a negative unit
price (a discount) is written as a negative quantity at a positive price (BR-27: a net price
is never negative). A credit note (TypeCode 381) has positive amounts and cites the invoice it
corrects (BT-25/BT-26)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from lxml import etree

from .models_invoices import DocumentKind, Invoice, InvoiceLine

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
GUIDELINE = "urn:cen.eu:en16931:2017"
TYPE_INVOICE, TYPE_CREDIT_NOTE = "380", "381"
# UNTDID 4461 payment means: SEPA credit transfer.
PAYMENT_SEPA_TRANSFER = "58"
# UNTDID 4451 subject codes for the notes (BT-21), as the French Factur-X guide maps the
# mentions of the Code de commerce: PMT the 40 € recovery indemnity, PMD the late-payment
# penalties, AAB the (absence of) discount — each at most once (French CTC rule BR-FR-06);
# the rest is regulatory or general information. The payment terms are BT-20 as well.
NOTE_SUBJECTS = {
    "operation": "AAI",
    "vat_regime": "TXD",
    "discount": "AAB",
    "late_penalty": "PMD",
    "recovery_indemnity": "PMT",
    "reverse_charge": "REG",
    "corrects": "REG",
}
# BT-8 (VAT point date code): 5 the invoice date (VAT on debits), 72 the payment date (VAT on
# receipts, the default for services in France).
VAT_ON_DEBITS, VAT_ON_RECEIPTS = "5", "72"
VATEX_REVERSE_CHARGE = "VATEX-EU-AE"
EXEMPT_REASON = "Exonération de TVA"
FRANCHISE_REASON = "TVA non applicable, art. 293 B du CGI"
VATEX_FRANCHISE = "VATEX-FR-FRANCHISE"


def amount(cents: int) -> str:
    """Integer cents → "1234.50" (two decimals, no float)."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{units}.{rest:02d}"


def decimal_text(value: Decimal | int | str) -> str:
    """20.00 → "20", 1.250 → "1.25" (no exponent)."""
    number = Decimal(value).normalize()
    return format(number, "f")


def date_102(day: date) -> str:
    return day.strftime("%Y%m%d")


class _Builder:
    """Small helpers over lxml: sub(parent, "ram:Name", text, **attributes)."""

    @staticmethod
    def qname(tag: str) -> str:
        prefix, local = tag.split(":")
        return f"{{{NS[prefix]}}}{local}"

    def sub(self, parent: etree._Element, tag: str, text: str | None = None,
            **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, self.qname(tag), attrs or None)
        if text is not None:
            element.text = text
        return element

    def date(self, parent: etree._Element, tag: str, day: date,
             prefix: str = "udt") -> etree._Element:
        holder = self.sub(parent, tag)
        self.sub(holder, f"{prefix}:DateTimeString", date_102(day), format="102")
        return holder


B = _Builder()


def _category(rate: Decimal, *, reverse_charge: bool) -> str:
    if rate > 0:
        return "S"
    return "AE" if reverse_charge else "E"


def _exemption(invoice: Invoice, category: str) -> tuple[str, str]:
    """(reason text BT-120, reason code BT-121) for a zero-rated category."""
    if category == "AE":
        return (invoice.mentions.get("reverse_charge") or "Autoliquidation",
                VATEX_REVERSE_CHARGE)
    if category == "E":
        if not (invoice.seller or {}).get("vat_number"):
            return FRANCHISE_REASON, VATEX_FRANCHISE
        return invoice.mentions.get("vat_exemption") or EXEMPT_REASON, ""
    return "", ""


def _address(parent: etree._Element, address: dict[str, Any] | None) -> None:
    """BG-5 / BG-8: the country is mandatory (BR-9, BR-11); France when not known."""
    address = address or {}
    postal = B.sub(parent, "ram:PostalTradeAddress")
    if address.get("postcode"):
        B.sub(postal, "ram:PostcodeCode", address["postcode"])
    if address.get("line1"):
        B.sub(postal, "ram:LineOne", address["line1"])
    if address.get("line2"):
        B.sub(postal, "ram:LineTwo", address["line2"])
    if address.get("city"):
        B.sub(postal, "ram:CityName", address["city"])
    B.sub(postal, "ram:CountryID", (address.get("country") or "FR").upper())


def _party(parent: etree._Element, tag: str, party: dict[str, Any]) -> None:
    """SellerTradeParty (BG-4) or BuyerTradeParty (BG-7): SIRET as the party identifier
    (ICD 0009), the SIREN as the legal registration (ICD 0002, the French reform's buyer and
    seller identifier), the postal address, the e-mail as electronic address (EAS "EM"), the
    VAT number (scheme VA)."""
    node = B.sub(parent, tag)
    siret = (party.get("siret") or "").replace(" ", "")
    siren = (party.get("siren") or siret[:9]).replace(" ", "")
    if siret:
        B.sub(node, "ram:GlobalID", siret, schemeID="0009")
    B.sub(node, "ram:Name", party.get("legal_name") or party.get("name") or "")
    if siren:
        legal = B.sub(node, "ram:SpecifiedLegalOrganization")
        B.sub(legal, "ram:ID", siren, schemeID="0002")
        trading = party.get("name") or ""
        if trading and trading != party.get("legal_name"):
            B.sub(legal, "ram:TradingBusinessName", trading)
    _address(node, party.get("address"))
    if party.get("email"):
        uri = B.sub(node, "ram:URIUniversalCommunication")
        B.sub(uri, "ram:URIID", party["email"], schemeID="EM")
    vat = (party.get("vat_number") or "").replace(" ", "").upper()
    if vat:
        registration = B.sub(node, "ram:SpecifiedTaxRegistration")
        B.sub(registration, "ram:ID", vat, schemeID="VA")


def _period(parent: etree._Element, start: date | None, end: date | None) -> None:
    if start is None and end is None:
        return
    period = B.sub(parent, "ram:BillingSpecifiedPeriod")
    if start is not None:
        B.date(period, "ram:StartDateTime", start)
    if end is not None:
        B.date(period, "ram:EndDateTime", end)


def _line(parent: etree._Element, line: InvoiceLine, *, reverse_charge: bool) -> None:
    item = B.sub(parent, "ram:IncludedSupplyChainTradeLineItem")
    document = B.sub(item, "ram:AssociatedDocumentLineDocument")
    B.sub(document, "ram:LineID", str(line.position))
    product = B.sub(item, "ram:SpecifiedTradeProduct")
    B.sub(product, "ram:Name", line.label)
    price, quantity = line.unit_price_cents, Decimal(line.quantity)
    if price < 0:  # BR-27: a discount is a negative quantity at a positive price
        price, quantity = -price, -quantity
    agreement = B.sub(item, "ram:SpecifiedLineTradeAgreement")
    net = B.sub(agreement, "ram:NetPriceProductTradePrice")
    B.sub(net, "ram:ChargeAmount", amount(price))
    delivery = B.sub(item, "ram:SpecifiedLineTradeDelivery")
    B.sub(delivery, "ram:BilledQuantity", decimal_text(quantity), unitCode=line.unit or "C62")
    settlement = B.sub(item, "ram:SpecifiedLineTradeSettlement")
    rate = Decimal(line.vat_rate)
    tax = B.sub(settlement, "ram:ApplicableTradeTax")
    B.sub(tax, "ram:TypeCode", "VAT")
    B.sub(tax, "ram:CategoryCode", _category(rate, reverse_charge=reverse_charge))
    B.sub(tax, "ram:RateApplicablePercent", decimal_text(rate))
    _period(settlement, line.period_start, line.period_end)
    summation = B.sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    B.sub(summation, "ram:LineTotalAmount", amount(line.total_ht_cents))


def _notes(parent: etree._Element, mentions: dict[str, str]) -> None:
    for key, text in mentions.items():
        if not text:
            continue
        note = B.sub(parent, "ram:IncludedNote")
        B.sub(note, "ram:Content", text)
        subject = NOTE_SUBJECTS.get(key)
        if subject:
            B.sub(note, "ram:SubjectCode", subject)


def _vat_breakdown(parent: etree._Element, invoice: Invoice, *, reverse_charge: bool,
                   on_debits: bool) -> None:
    """BG-23: one ApplicableTradeTax per rate, with the stored base and VAT amount."""
    for row in invoice.vat_breakdown:
        rate = Decimal(row["rate"])
        category = _category(rate, reverse_charge=reverse_charge)
        tax = B.sub(parent, "ram:ApplicableTradeTax")
        B.sub(tax, "ram:CalculatedAmount", amount(row["vat_cents"]))
        B.sub(tax, "ram:TypeCode", "VAT")
        reason, code = _exemption(invoice, category)
        if reason:
            B.sub(tax, "ram:ExemptionReason", reason)
        B.sub(tax, "ram:BasisAmount", amount(row["base_cents"]))
        B.sub(tax, "ram:CategoryCode", category)
        if code:
            B.sub(tax, "ram:ExemptionReasonCode", code)
        if category == "S":
            B.sub(tax, "ram:DueDateTypeCode", VAT_ON_DEBITS if on_debits else VAT_ON_RECEIPTS)
        B.sub(tax, "ram:RateApplicablePercent", decimal_text(rate))


def _settlement(parent: etree._Element, invoice: Invoice, *, reverse_charge: bool) -> None:
    settlement = B.sub(parent, "ram:ApplicableHeaderTradeSettlement")
    B.sub(settlement, "ram:PaymentReference", invoice.number)  # BT-83, for transfers
    B.sub(settlement, "ram:InvoiceCurrencyCode", invoice.currency or "EUR")
    iban = (invoice.seller.get("iban") or "").replace(" ", "").upper()
    balance = invoice.total_ttc_cents - invoice.paid_cents
    if iban and invoice.kind == DocumentKind.INVOICE:
        means = B.sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        B.sub(means, "ram:TypeCode", PAYMENT_SEPA_TRANSFER)
        B.sub(means, "ram:Information", "Virement SEPA")
        account = B.sub(means, "ram:PayeePartyCreditorFinancialAccount")
        B.sub(account, "ram:IBANID", iban)
    on_debits = "débits" in (invoice.mentions.get("vat_regime") or "")
    _vat_breakdown(settlement, invoice, reverse_charge=reverse_charge, on_debits=on_debits)
    _period(settlement, invoice.period_start, invoice.period_end)
    terms = B.sub(settlement, "ram:SpecifiedTradePaymentTerms")
    B.sub(terms, "ram:Description", invoice.mentions.get("payment_terms")
          or f"Échéance le {invoice.due_on.strftime('%d/%m/%Y')}")
    B.date(terms, "ram:DueDateDateTime", invoice.due_on)
    summation = B.sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    B.sub(summation, "ram:LineTotalAmount", amount(invoice.total_ht_cents))
    B.sub(summation, "ram:TaxBasisTotalAmount", amount(invoice.total_ht_cents))
    B.sub(summation, "ram:TaxTotalAmount", amount(invoice.total_vat_cents),
          currencyID=invoice.currency or "EUR")
    B.sub(summation, "ram:GrandTotalAmount", amount(invoice.total_ttc_cents))
    if invoice.paid_cents:
        B.sub(summation, "ram:TotalPrepaidAmount", amount(invoice.paid_cents))
    B.sub(summation, "ram:DuePayableAmount", amount(balance))
    original = invoice.credit_of
    if original is not None:  # BG-3: the invoice a credit note corrects
        reference = B.sub(settlement, "ram:InvoiceReferencedDocument")
        B.sub(reference, "ram:IssuerAssignedID", original.number)
        B.date(reference, "ram:FormattedIssueDateTime", original.issued_on, prefix="qdt")


def business_process(invoice: Invoice) -> str:
    """BT-23 as the French reform uses it ("cadre de facturation"): S1 a service invoice to
    be paid, S2 a service invoice already paid — only when the amount paid (BT-113) covers the
    total, which the French rule BR-FR-CO-09 checks."""
    paid = 0 < invoice.total_ttc_cents <= invoice.paid_cents
    return "S2" if paid and invoice.kind == DocumentKind.INVOICE else "S1"


def build_tree(invoice: Invoice, lines: Sequence[InvoiceLine]) -> etree._Element:
    root = etree.Element(B.qname("rsm:CrossIndustryInvoice"), nsmap=NS)
    context = B.sub(root, "rsm:ExchangedDocumentContext")
    process = B.sub(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    B.sub(process, "ram:ID", business_process(invoice))
    guideline = B.sub(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    B.sub(guideline, "ram:ID", GUIDELINE)

    document = B.sub(root, "rsm:ExchangedDocument")
    B.sub(document, "ram:ID", invoice.number)
    B.sub(document, "ram:TypeCode",
          TYPE_CREDIT_NOTE if invoice.kind == DocumentKind.CREDIT_NOTE else TYPE_INVOICE)
    B.date(document, "ram:IssueDateTime", invoice.issued_on)
    mentions = dict(invoice.mentions)
    if invoice.reason:
        mentions.setdefault("reason", invoice.reason)
    _notes(document, mentions)

    reverse_charge = bool(invoice.mentions.get("reverse_charge"))
    transaction = B.sub(root, "rsm:SupplyChainTradeTransaction")
    for line in lines:
        _line(transaction, line, reverse_charge=reverse_charge)
    agreement = B.sub(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", invoice.seller)
    _party(agreement, "ram:BuyerTradeParty", invoice.buyer)
    delivery = B.sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    if invoice.period_start is None and not any(ln.period_start for ln in lines):
        event = B.sub(delivery, "ram:ActualDeliverySupplyChainEvent")  # BT-72
        B.date(event, "ram:OccurrenceDateTime", invoice.issued_on)
    _settlement(transaction, invoice, reverse_charge=reverse_charge)
    return root


def build_cii(invoice: Invoice, lines: Iterable[InvoiceLine]) -> bytes:
    """The Factur-X EN 16931 XML of `invoice` (UTF-8, with the XML declaration)."""
    tree = build_tree(invoice, list(lines))
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))

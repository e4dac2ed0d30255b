"""The worked example of the accounting exports (test_exports.py, test_fec.py), March 2027:

- 3 March: Cabinet A pays its order (149,00 € HT at 20 %) by card through Stripe (the
  stand-in): payment 178,80 €, invoice F2027-000001 issued paid.
- 10 March: Cabinet B's transfer (100,00 € HT at 10 %) is matched by billing staff: payment
  110,00 €, invoice F2027-000002.
- 15 March: a full credit note on the first invoice: AV2027-000001, 178,80 € TTC.
- 20 March: the card payment is refunded through Stripe (charge.refunded received).

Everything goes through the real services and the provider's webhook, with the clock frozen
on each day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from permanence.billing.credit_notes import credit_note_issue
from permanence.billing.models_invoices import Invoice
from permanence.core import clock
from permanence.payments.models import Payment
from permanence.payments.services import payment_refund, payment_start, transfer_match
from testkit.shop import make_offer, make_order

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2027, 3, day, hour, tzinfo=PARIS)


@dataclass
class Example:
    card: Payment
    transfer: Payment
    invoice_a: Invoice
    invoice_b: Invoice
    credit_note: Invoice


def build(*, client: Any, standin: Any, billing: Any, account: Any,
          other_account: Any) -> Example:
    with clock.frozen(at(3)):
        order_a = make_order(account, offers=[make_offer("essentiel")])
        card = payment_start(order=order_a, method="carte", success_url="https://x/ok",
                             cancel_url="https://x/ko")
        standin.app.pay(card.provider_session_id)
        standin.deliver(client)
    with clock.frozen(at(10)):
        order_b = make_order(other_account, payment_method="virement", offers=[make_offer(
            "medical", name="Permanence médicale", monthly_price_cents=10000,
            vat_rate=Decimal("10.00"))])
        transfer = transfer_match(actor=billing, order=order_b,
                                  amount_cents=order_b.total_ttc_cents,
                                  bank_label="VIR SEPA CABINET B 0310")
    invoice_a = Invoice.objects.get(order=order_a)
    invoice_b = Invoice.objects.get(order=order_b)
    with clock.frozen(at(15)):
        note = credit_note_issue(actor=billing, invoice=invoice_a, reason="Résiliation")
    with clock.frozen(at(20)):
        card.refresh_from_db()
        payment_refund(actor=billing, payment=card)
        standin.app.wait_idle()
        standin.deliver(client)
    card.refresh_from_db()
    transfer.refresh_from_db()
    return Example(card=card, transfer=transfer, invoice_a=invoice_a, invoice_b=invoice_b,
                   credit_note=note)

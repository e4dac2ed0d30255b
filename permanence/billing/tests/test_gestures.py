"""Commercial gestures: granted by billing staff from an invoice (with the complaint it
answers), taken off the next invoice as a discount line, carried over for what one invoice
cannot absorb, never twice; the invoice still passes EN 16931."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from permanence.billing import gestures, invoicing_run, issuing, validation
from permanence.billing.models_credits import CommercialGesture, GestureUse
from permanence.core.errors import Forbidden

from .conftest import subscription_for
from .test_invoicing import line


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_gesture_comes_off_the_next_invoices_until_used_up(business: Any,
                                                             billing: Any) -> None:
    sub = subscription_for(business, monthly_price_cents=10000)
    gesture = gestures.gesture_grant(actor=billing, account=business, amount_ht_cents=15000,
                                     reason="Appels perdus le 12 janvier",
                                     complaint_conversation_id=42)
    february = invoicing_run.subscription_invoice(sub.pk, date(2027, 2, 1))
    assert february is not None
    kinds = list(february.lines.values_list("kind", "quantity", "total_ht_cents"))
    assert kinds == [("base", Decimal(1), 10000), ("remise", Decimal(-1), -10000)]
    assert february.total_ttc_cents == 0
    assert "Geste commercial" in february.lines.get(kind="remise").label
    assert validation.validate(february.facturx_xml.encode()) == []
    gesture.refresh_from_db()
    assert gesture.remaining_cents == 5000
    march = invoicing_run.subscription_invoice(sub.pk, date(2027, 3, 1))
    assert march is not None and march.total_ht_cents == 5000
    gesture.refresh_from_db()
    assert gesture.remaining_cents == 0
    assert sorted(GestureUse.objects.values_list("amount_cents", flat=True)) == [5000, 10000]
    april = invoicing_run.subscription_invoice(sub.pk, date(2027, 4, 1))
    assert april is not None and april.total_ht_cents == 10000  # used up: never twice


@pytest.mark.django_db
def test_the_preview_shows_the_gesture_and_stores_nothing(business: Any, billing: Any) -> None:
    subscription_for(business, monthly_price_cents=10000)
    gestures.gesture_grant(actor=billing, account=business, amount_ht_cents=2500,
                           reason="Retard de transmission")
    (_sub, draft), = invoicing_run.previews(date(2027, 2, 1))
    assert draft.totals().ht == 7500
    assert CommercialGesture.objects.get().remaining_cents == 2500


@pytest.mark.django_db
def test_only_billing_staff_grant_gestures_and_bad_amounts_get_field_errors(
        business: Any, billing: Any, supervisor: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    with pytest.raises(Forbidden):
        gestures.gesture_grant(actor=supervisor, account=business, amount_ht_cents=100,
                               reason="x")
    staff = logged(billing)
    url = f"/app/facturation/factures/{invoice.number}/geste/"
    for amount in ("abc", "0", "-5", "99999999999999999999", "1e5"):
        bad = staff.post(url, {"geste-amount": amount, "geste-reason": "Geste"})
        assert bad.status_code == 422, amount
    assert staff.post(url, {"geste-amount": "10", "geste-reason": ""}).status_code == 422
    assert logged(supervisor).post(url, {"geste-amount": "10",
                                       "geste-reason": "x"}).status_code == 403
    done = staff.post(url, {"geste-amount": "12,50", "geste-reason": "Attente trop longue",
                            "geste-complaint": "9"})
    assert done.status_code == 302
    gesture = CommercialGesture.objects.get()
    assert (gesture.amount_ht_cents, gesture.complaint_conversation_id,
            gesture.approved_by) == (1250, 9, billing)
    page = staff.get(f"/app/facturation/factures/{invoice.number}/?reclamation=9")
    assert 'name="geste-complaint" value="9"' in page.content.decode()


@pytest.mark.django_db
def test_the_client_sees_the_gesture_waiting_for_its_next_invoice(
        business: Any, billing: Any, client_user: Any, outsider_client: Any,
        other_account: Any) -> None:
    gestures.gesture_grant(actor=billing, account=business, amount_ht_cents=1990,
                           reason="Message transmis en retard")
    page = logged(client_user).get("/espace/factures/").content.decode()
    assert "19,90" in page and "Message transmis en retard" in page
    other = logged(outsider_client).get("/espace/factures/").content.decode()
    assert "Message transmis en retard" not in other

"""Payment schedules: the balance split into instalments that add up exactly, reminded or
charged once on their date, applied to the invoices oldest first, settled by the last one;
bad input gets field errors; only billing staff agree them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from permanence.billing import issuing, schedules
from permanence.billing.models_invoices import Invoice, InvoiceStatus
from permanence.billing.models_schedules import Instalment, PaymentSchedule
from permanence.core.errors import DomainError, Forbidden

from .test_invoicing import line


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@given(total=st.integers(1, 10**9), count=st.integers(2, 12))
def test_instalments_add_up_to_the_total(total: int, count: int) -> None:
    parts = schedules.split(total, count)
    assert sum(parts) == total and len(parts) == count
    assert max(parts) - min(parts) < count


@pytest.mark.django_db
def test_a_transfer_schedule_is_reminded_once_applied_oldest_first_and_settled(
        business: Any, billing: Any, django_capture_on_commit_callbacks: Any) -> None:
    first = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))  # 120 €
    second = issuing.issue(issuing.Draft(account=business, lines=[line(5000)]))  # 60 €
    today = timezone.localdate()
    schedule = schedules.schedule_create(actor=billing, invoices=[second, first], count=3,
                                         first_due=today + timedelta(days=5),
                                         method="virement", note="Accord tél. du 4/12")
    assert schedule.total_cents == 18000
    assert list(schedule.instalments.values_list("amount_cents", "due_on")) == [
        (6000, today + timedelta(days=5)), (6000, first_month(today, 1)),
        (6000, first_month(today, 2))]
    assert schedules.schedules_run(today) == {"requested": 0}  # nothing due yet
    with time_machine.travel(today + timedelta(days=5, hours=12), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        assert schedules.schedules_run() == {"requested": 1}
        assert schedules.schedules_run() == {"requested": 0}  # once
    assert len(mail.outbox) == 1 and f"ECH{schedule.pk}-1" in mail.outbox[0].body
    one, two, three = schedule.instalments.order_by("position")
    schedules.instalment_paid(instalment=one, actor=billing)
    schedules.instalment_paid(instalment=one, actor=billing)  # replayed: nothing more
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.paid_cents) == (InvoiceStatus.PARTLY_PAID, 6000)
    assert second.paid_cents == 0
    schedules.instalment_paid(instalment=two, actor=billing)
    schedules.instalment_paid(instalment=three, actor=billing)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (InvoiceStatus.PAID, InvoiceStatus.PAID)
    schedule.refresh_from_db()
    assert schedule.status == "solde"


def first_month(day: date, months: int) -> date:
    from dateutil.relativedelta import relativedelta

    return day + timedelta(days=5) + relativedelta(months=months)


@pytest.mark.django_db
def test_schedules_refuse_bad_input_and_other_roles(business: Any, billing: Any,
                                                    supervisor: Any,
                                                    other_account: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    other = issuing.issue(issuing.Draft(account=other_account, lines=[line(10000)]))
    today = timezone.localdate()
    with pytest.raises(Forbidden):
        schedules.schedule_create(actor=supervisor, invoices=[invoice], count=2,
                                  first_due=today, method="virement")
    for kwargs in ({"count": 1}, {"count": 13}, {"first_due": today - timedelta(days=1)},
                   {"first_due": today + timedelta(days=90)}, {"invoices": [invoice, other]},
                   {"method": "prelevement"}):  # no card on file
        args = {"actor": billing, "invoices": [invoice], "count": 3, "first_due": today,
                "method": "virement", **kwargs}
        with pytest.raises(DomainError) as err:
            schedules.schedule_create(**args)
        assert err.value.status == 422, kwargs
    schedules.schedule_create(actor=billing, invoices=[invoice], count=2, first_due=today,
                              method="virement")
    with pytest.raises(DomainError) as twice:
        schedules.schedule_create(actor=billing, invoices=[invoice], count=2, first_due=today,
                                  method="virement")
    assert twice.value.status == 409


@pytest.mark.django_db
def test_the_pages_agree_follow_and_show_it_to_the_client(business: Any, billing: Any,
                                                          client_user: Any) -> None:
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    staff = logged(billing)
    url = f"/app/facturation/factures/{invoice.number}/echeancier/"
    bad = staff.post(url, {"echeancier-count": "99999999999999999999",
                           "echeancier-first_due": "hier", "echeancier-method": "virement"})
    assert bad.status_code == 422
    first = timezone.localdate() + timedelta(days=3)
    done = staff.post(url, {"echeancier-count": "2", "echeancier-first_due": first.isoformat(),
                            "echeancier-method": "virement", "echeancier-note": "Accord"})
    schedule = PaymentSchedule.objects.get()
    assert done.status_code == 302 and done["Location"].endswith(f"/echeanciers/{schedule.pk}/")
    page = staff.get(done["Location"]).content.decode()
    assert "60,00" in page and invoice.number in page
    inst = Instalment.objects.get(position=1)
    staff.post(f"/app/facturation/echeanciers/{schedule.pk}/payee/", {"echeance": inst.pk})
    inst.refresh_from_db()
    assert inst.status == "payee"
    assert Invoice.objects.get(pk=invoice.pk).paid_cents == 6000
    listing = staff.get("/app/facturation/echeanciers/").content.decode()
    assert "1 / 2" in listing
    portal = logged(client_user).get("/espace/factures/").content.decode()
    assert f"ECH{schedule.pk}-2" in portal and "Votre échéancier" in portal


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "outcome"), [("pm_card_visa", "payee"),
                                                  ("pm_card_chargeDeclined", "impayee")])
def test_a_card_schedule_charges_each_instalment_on_its_date(
        standin: Any, business: Any, billing: Any, method: str, outcome: str) -> None:
    """Through the Stripe stand-in: the instalment's charge (reference ECH<n>-<k>), its
    outcome through payments' hook, applied to the invoice or told to the client."""
    from permanence.payments.models import ProviderCall

    from .conftest import subscription_for

    subscription_for(business, provider_customer_id="cus_test_1",
                     provider_payment_method_id=method)
    invoice = issuing.issue(issuing.Draft(account=business, lines=[line(10000)]))
    today = timezone.localdate()
    schedule = schedules.schedule_create(actor=billing, invoices=[invoice], count=2,
                                         first_due=today, method="prelevement")
    assert schedules.schedules_run(today) == {"requested": 1}
    first = schedule.instalments.get(position=1)
    assert first.status == outcome
    call = ProviderCall.objects.get(invoice_number=f"ECH{schedule.pk}-1")
    assert call.amount_cents == 6000
    invoice.refresh_from_db()
    assert invoice.paid_cents == (6000 if outcome == "payee" else 0)
    # The next run charges nothing again (paid, or failed: staff decide to try again).
    assert schedules.schedules_run(today) == {"requested": 0}
    assert ProviderCall.objects.filter(invoice_number__startswith="ECH").count() == 1
    told = [m for m in mail.outbox if m.subject.startswith("Échéance impayée")]
    assert len(told) == (1 if outcome == "impayee" else 0)
    if told:
        assert "n'a pas abouti" in told[0].body

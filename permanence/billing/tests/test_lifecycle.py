"""A subscription's life (issue 12): plan terms at creation, plan and option changes whose
preview is what gets recorded, proration by the day, suspension, cancellation with notice and
its withdrawal, the daily job (ends, renewal reminder once), the account's status following,
and a suspended account flagged to the staff in the inbox and on the call screen."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from permanence.accounts.models import AccountStatus
from permanence.billing import subscriptions as lifecycle
from permanence.billing.models import Subscription, SubscriptionChange, SubscriptionStatus
from permanence.billing.proration import Period, change_difference_cents, prorated_cents
from permanence.billing.subscriptions_daily import subscriptions_daily
from permanence.catalog.models import OfferKind, Unit
from permanence.core.errors import DomainError
from permanence.shop.models import OrderStatus
from permanence.shop.orders import order_transition
from testkit.shop import make_offer, make_order, mark_checked

# --- Proration: the property ---------------------------------------------------------------------


@given(start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
       months=st.sampled_from([1, 3, 12]), offset=st.integers(min_value=0, max_value=400),
       old=st.integers(min_value=0, max_value=10_000_000),
       new=st.integers(min_value=0, max_value=10_000_000))
def test_a_change_splits_the_period_without_billing_a_day_twice_nor_missing_one(
        start: date, months: int, offset: int, old: int, new: int) -> None:
    period = Period(start, start + relativedelta(months=months))
    at = start + timedelta(days=offset % period.days)
    used, rest = period.split(at)
    assert used.days + rest.days == period.days
    assert used.end == rest.start and used.start == period.start and rest.end == period.end
    # Each day is billed once: the old price on [start, at), the new one on [at, end).
    days = {used.start + timedelta(days=i) for i in range(used.days)}
    rest_days = {rest.start + timedelta(days=i) for i in range(rest.days)}
    assert not days & rest_days and len(days | rest_days) == period.days
    # Unchanged price: the two parts cost the whole (to the cent of rounding each part).
    parts = prorated_cents(old, period, used) + prorated_cents(old, period, rest)
    assert abs(parts - old) <= 1
    # What the client pays for the period after the change: old part + new part.
    paid = old + change_difference_cents(old, new, period, at)
    assert abs(paid - (prorated_cents(old, period, used) + prorated_cents(new, period, rest))
               ) <= 1
    assert change_difference_cents(old, old, period, at) == 0


# --- Fixtures ------------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def _activate(order: Any) -> None:
    mark_checked(order)
    for to in (OrderStatus.PAID, OrderStatus.VALIDATED, OrderStatus.ACTIVATED):
        order_transition(order=order, to=to)


@pytest.fixture
def option() -> Any:
    return make_offer("option-sms", kind=OfferKind.OPTION, name="Option SMS",
                      monthly_price_cents=3000, included_quantity=0, included_unit="",
                      unit_price_cents=0, unit="")


@pytest.fixture
def plan(option: Any) -> Any:
    offer = make_offer("essentiel", commitment_months=12, notice_days=30)
    offer.options.add(option)
    return offer


@pytest.fixture
def premium() -> Any:
    return make_offer("premium", monthly_price_cents=29900, included_quantity=300,
                      included_unit=Unit.MINUTE, unit=Unit.MINUTE, unit_price_cents=90,
                      notice_days=60)


@pytest.fixture
def sub(account: Any, client_user: Any, plan: Any, option: Any) -> Subscription:
    account.billing_email = "compta@cabinet-martin.fr"
    account.save(update_fields=["billing_email"])
    order = make_order(account, client_user, offers=[plan, option])
    _activate(order)
    return Subscription.objects.get(order=order)


# --- Creation ------------------------------------------------------------------------------------


def test_creation_fills_the_plan_terms_and_carries_the_options(
        sub: Subscription, plan: Any, option: Any) -> None:
    assert Subscription.objects.filter(order=sub.order).count() == 1  # the option is inside
    day = timezone.localdate(sub.started_at)
    assert sub.plan_kind == OfferKind.PACKAGE
    assert sub.included == {"calls": 100} and sub.unit_prices == {"calls": 120}
    assert sub.notice_days == 30 and sub.increment_minutes == plan.increment_minutes
    assert sub.current_period_start == day
    assert sub.next_invoice_on == day + relativedelta(months=1)
    assert sub.commitment_ends_on == day + relativedelta(months=12)
    assert sub.options == [{"offer": option.pk, "label": "Option SMS",
                            "monthly_price_cents": 3000}]
    assert lifecycle.total_monthly_cents(sub) == 14900 + 3000


# --- Changes: the preview is what gets recorded ------------------------------------------------


def test_upgrade_preview_equals_what_apply_records(sub: Subscription, premium: Any,
                                                   client_user: Any) -> None:
    at = sub.current_period_start + timedelta(days=10)
    preview = lifecycle.change_preview(subscription=sub, new_offer=premium, at=at)
    period = lifecycle.current_period(sub)
    assert preview.to_monthly_cents == 29900 + 3000
    assert preview.prorated_cents == change_difference_cents(17900, 32900, period, at) > 0
    change = lifecycle.change_apply(subscription=sub, new_offer=premium, at=at,
                                    actor=client_user)
    assert (change.prorated_cents, change.from_monthly_cents, change.to_monthly_cents,
            change.at, change.period_start, change.period_end, change.to_offer_id) == (
        preview.prorated_cents, 17900, 32900, at, period.start, period.end, premium.pk)
    sub.refresh_from_db()
    assert sub.offer_id == premium.pk and sub.monthly_price_cents == 29900
    assert sub.included == {"call_minutes": 300} and sub.notice_days == 60
    assert len(sub.options) == 1  # options are kept


def test_a_downgrade_is_a_credit_and_bad_changes_are_refused(sub: Subscription,
                                                             premium: Any) -> None:
    lifecycle.change_apply(subscription=sub, new_offer=premium, at=sub.current_period_start,
                           actor=None)
    sub.refresh_from_db()
    essentiel = make_offer("essentiel")
    at = sub.current_period_start + timedelta(days=5)
    assert lifecycle.change_preview(subscription=sub, new_offer=essentiel,
                                    at=at).prorated_cents < 0
    with pytest.raises(DomainError) as same:
        lifecycle.change_preview(subscription=sub, new_offer=premium, at=at)
    assert same.value.code == "same_plan"
    with pytest.raises(DomainError) as outside:
        lifecycle.change_preview(subscription=sub, new_offer=essentiel,
                                 at=sub.next_invoice_on)
    assert outside.value.status == 422


def test_option_remove_then_add_with_previews_recorded(sub: Subscription, option: Any) -> None:
    at = sub.current_period_start + timedelta(days=3)
    removal = lifecycle.option_preview(subscription=sub, option=option, add=False, at=at)
    assert removal.to_monthly_cents == 14900 and removal.prorated_cents < 0
    recorded = lifecycle.option_apply(subscription=sub, option=option, add=False, at=at,
                                      actor=None)
    assert recorded.prorated_cents == removal.prorated_cents
    sub.refresh_from_db()
    assert sub.options == []
    adding = lifecycle.option_preview(subscription=sub, option=option, add=True, at=at)
    assert adding.prorated_cents == -removal.prorated_cents
    lifecycle.option_apply(subscription=sub, option=option, add=True, at=at, actor=None)
    sub.refresh_from_db()
    assert [o["offer"] for o in sub.options] == [option.pk]
    assert SubscriptionChange.objects.filter(subscription=sub).count() == 2
    with pytest.raises(DomainError):
        lifecycle.option_preview(subscription=sub, option=option, add=True, at=at)


# --- Suspension ---------------------------------------------------------------------------------


def test_suspension_at_most_three_months_and_the_account_follows(sub: Subscription) -> None:
    on = sub.current_period_start
    with pytest.raises(DomainError) as too_long:
        lifecycle.subscription_suspend(subscription=sub, on=on,
                                       until=on + relativedelta(months=3, days=1), actor=None)
    assert too_long.value.code == "suspension_too_long"
    lifecycle.subscription_suspend(subscription=sub, on=on,
                                   until=on + relativedelta(months=3), actor=None)
    sub.account.refresh_from_db()
    assert sub.account.status == AccountStatus.SUSPENDED
    # The daily job resumes it on its end date.
    assert subscriptions_daily(on=on + relativedelta(months=3))["resumed"] == 1
    sub.refresh_from_db()
    sub.account.refresh_from_db()
    assert sub.status == SubscriptionStatus.ACTIVE and sub.suspended_until is None
    assert sub.account.status == AccountStatus.ACTIVE


def test_only_a_monthly_package_is_suspended(sub: Subscription) -> None:
    Subscription.objects.filter(pk=sub.pk).update(plan_kind=OfferKind.PER_ACT)
    with pytest.raises(DomainError) as caught:
        lifecycle.subscription_suspend(subscription=sub.pk, on=date(2026, 1, 1),
                                       until=date(2026, 2, 1), actor=None)
    assert caught.value.code == "suspension_not_allowed"


# --- Cancellation -------------------------------------------------------------------------------


def test_cancel_end_date_is_the_later_of_commitment_and_notice(sub: Subscription) -> None:
    commitment = sub.commitment_ends_on
    assert commitment is not None
    early = commitment - relativedelta(months=6)
    assert lifecycle.cancel_preview(subscription=sub, on=early) == commitment
    late = commitment - timedelta(days=10)  # within the notice: notice wins
    assert lifecycle.cancel_preview(subscription=sub, on=late) == late + timedelta(days=30)
    Subscription.objects.filter(pk=sub.pk).update(commitment_ends_on=None)
    sub.refresh_from_db()
    assert lifecycle.cancel_preview(subscription=sub, on=early) == early + timedelta(days=30)


def test_cancel_apply_then_withdraw(sub: Subscription, client_user: Any,
                                   django_capture_on_commit_callbacks: Any) -> None:
    on = sub.current_period_start
    preview = lifecycle.cancel_preview(subscription=sub, on=on)
    with django_capture_on_commit_callbacks(execute=True):
        done = lifecycle.cancel_apply(subscription=sub, on=on, actor=client_user)
    assert done.status == SubscriptionStatus.CANCEL_SCHEDULED and done.ends_on == preview
    assert any("Résiliation" in m.subject for m in mail.outbox)
    sub.account.refresh_from_db()
    assert sub.account.status == AccountStatus.ACTIVE  # served until the end date
    with pytest.raises(DomainError):
        lifecycle.cancel_apply(subscription=sub, on=on, actor=client_user)
    back = lifecycle.cancel_withdraw(subscription=sub, on=on, actor=client_user)
    assert back.status == SubscriptionStatus.ACTIVE and back.ends_on is None
    with pytest.raises(DomainError) as caught:
        lifecycle.cancel_withdraw(subscription=sub, on=on, actor=client_user)
    assert caught.value.code == "no_cancellation"


def test_the_daily_job_ends_due_subscriptions_and_the_account_follows(
        sub: Subscription) -> None:
    on = sub.current_period_start
    done = lifecycle.cancel_apply(subscription=sub, on=on, actor=None)
    assert done.ends_on is not None
    assert subscriptions_daily(on=done.ends_on - timedelta(days=1))["ended"] == 0
    assert subscriptions_daily(on=done.ends_on)["ended"] == 1
    sub.refresh_from_db()
    sub.account.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCELLED
    assert sub.account.status == AccountStatus.TERMINATED
    with pytest.raises(DomainError):
        lifecycle.cancel_withdraw(subscription=sub, on=done.ends_on, actor=None)


def test_renewal_reminder_is_sent_once_and_the_commitment_renews(
        sub: Subscription, django_capture_on_commit_callbacks: Any) -> None:
    ends = sub.commitment_ends_on
    assert ends is not None
    assert subscriptions_daily(on=ends - timedelta(days=31))["reminded"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        first = subscriptions_daily(on=ends - timedelta(days=30))
        second = subscriptions_daily(on=ends - timedelta(days=29))
    assert (first["reminded"], second["reminded"]) == (1, 0)
    reminders = [m for m in mail.outbox if "Renouvellement" in m.subject]
    assert len(reminders) == 1 and reminders[0].to == ["compta@cabinet-martin.fr"]
    sub.refresh_from_db()
    assert sub.renewal_reminded_for == ends
    assert subscriptions_daily(on=ends)["renewed"] == 1
    sub.refresh_from_db()
    assert sub.commitment_ends_on == ends + relativedelta(months=12)


# --- A suspended account is flagged to staff ------------------------------------------------


def test_a_suspended_account_is_flagged_in_the_inbox_and_on_the_call_screen(
        sub: Subscription, client: Any, supervisor: Any) -> None:
    from permanence.desk.models import Call
    from permanence.inbox import services as inbox

    conversation = inbox.conversation_open(inbox.Incoming(
        account=sub.account, channel="email", subject="Question", body_text="Bonjour",
        contact_email="x@example.com", acknowledge=False))
    call = Call.objects.create(call_id="flag-1", account=sub.account, offered_at=timezone.now(),
                               created_at=timezone.now())
    client.force_login(supervisor)
    pages = (f"/app/boite/{conversation.pk}/", f"/app/poste/appels/{call.pk}/")
    for url in pages:
        assert "data-account-service" not in client.get(url).content.decode()
    lifecycle.subscription_suspend(subscription=sub, on=sub.current_period_start,
                                   until=sub.current_period_start + timedelta(days=20),
                                   actor=None)
    for url in pages:
        body = client.get(url).content.decode()
        assert 'data-account-service="suspendu"' in body and "Compte suspendu" in body, url


# --- Staff: Facturation › Abonnements -----------------------------------------------------------


def test_billing_staff_list_suspend_and_cancel(sub: Subscription, client: Any, billing: Any,
                                               agent: Any) -> None:
    client.force_login(agent)
    assert client.get("/app/facturation/abonnements/").status_code == 403
    client.force_login(billing)
    html = client.get("/app/facturation/abonnements/").content.decode()
    assert sub.label in html and "179,00" in html  # plan + option
    client.post(f"/app/facturation/abonnements/{sub.pk}/suspendre/", {"jours": "20"})
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.SUSPENDED
    assert sub.suspended_until == lifecycle.today() + timedelta(days=20)
    client.post(f"/app/facturation/abonnements/{sub.pk}/resilier/")
    sub.refresh_from_db()
    assert sub.status == SubscriptionStatus.CANCEL_SCHEDULED
    assert sub.ends_on == lifecycle.cancel_preview(
        subscription=Subscription(status="active", notice_days=sub.notice_days,
                                  commitment_ends_on=sub.commitment_ends_on),
        on=lifecycle.today())


def test_the_staff_list_pages_and_searches_with_constant_queries(
        sub: Subscription, client: Any, billing: Any,
        django_assert_max_num_queries: Any) -> None:
    from permanence.accounts.models import ClientAccount
    from permanence.billing.views_subscriptions import PER_PAGE
    from testkit.shop import make_order

    for n in range(PER_PAGE + 3):
        account = ClientAccount.objects.create(name=f"Zeta cabinet {n:03d}", slug=f"zeta-{n}")
        Subscription.objects.create(account=account, offer=sub.offer, order=make_order(account),
                                    label="Forfait Zeta", monthly_price_cents=9900,
                                    vat_rate=sub.vat_rate, started_at=sub.started_at)
    client.force_login(billing)
    with django_assert_max_num_queries(12):
        first = client.get("/app/facturation/abonnements/").content.decode()
    assert "Page 1 / 2" in first and "page=2" in first
    second = client.get("/app/facturation/abonnements/?page=2").content.decode()
    assert "Zeta cabinet 052" in second and "Page 2 / 2" in second
    found = client.get("/app/facturation/abonnements/?q=cabinet+007").content.decode()
    assert "Zeta cabinet 007" in found and "Zeta cabinet 008" not in found
    assert client.get("/app/facturation/abonnements/?page=abc").status_code == 200

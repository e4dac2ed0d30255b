"""Checkout: a new professional or consumer customer, a logged-in client, CGV recorded,
payment started (transfer for real; card/SEPA through a stand-in of payment_start), double
submit, failures rolled back."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from permanence.accounts.models import ClientAccount, Membership, User
from permanence.catalog.models import OfferKind
from permanence.catalog.services import page_save
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.payments import services as payments
from permanence.shop.cart import cart_add
from permanence.shop.checkout import CheckoutDetails, checkout_place
from permanence.shop.consents import PRIVACY_PAGE, privacy_acceptance
from permanence.shop.models import Cart, Order, OrderConsent, OrderStatus
from testkit.shop import make_offer, make_terms

pytestmark = pytest.mark.django_db

GOOD_SIRET = "73282932000074"
BAD_SIRET = "73282932000075"
PASSWORD = "Un-mot-de-passe-solide-42"


@pytest.fixture
def shop(db: Any) -> dict[str, Any]:
    return {"plan": make_offer("essentiel", monthly_price_cents=14900),
            "option": make_offer("prise-rdv", kind=OfferKind.OPTION, monthly_price_cents=2900),
            "terms": make_terms("2026-11")}


def fill_cart(client: Client) -> None:
    response = client.post(reverse("shop:cart_add"), {"offer": "essentiel",
                                                      "options": ["prise-rdv"]})
    assert response.status_code == 302


def pro_details(**overrides: str) -> dict[str, str]:
    data = {"customer_kind": "professionnel", "legal_name": "Cabinet Dupont SARL",
            "siret": GOOD_SIRET, "vat_number": "", "name": "Jeanne Dupont",
            "email": "jeanne@dupont.fr", "phone": "01 23 45 67 89",
            "address": "3 rue des Lilas\n69003 Lyon", "password1": PASSWORD,
            "password2": PASSWORD}
    data.update(overrides)
    return data


def consumer_details(**overrides: str) -> dict[str, str]:
    data = pro_details(customer_kind="particulier", legal_name="", siret="",
                       email="paul@exemple.fr", name="Paul Martin")
    data.update(overrides)
    return data


def step2(client: Client, **data: Any) -> Any:
    payload = {"payment_method": "virement", "accept_terms": "on", "accept_privacy": "on",
               **data}
    return client.post(reverse("shop:checkout_payment"), payload)


@pytest.fixture
def fake_stripe(monkeypatch: Any) -> list[dict[str, Any]]:
    """payment_start for card/SEPA replaced by a stand-in (the view-layer contract only)."""
    calls: list[dict[str, Any]] = []

    def fake(*, order: Any, method: str, success_url: str, cancel_url: str) -> Any:
        calls.append({"order": order, "method": method, "success_url": success_url,
                      "cancel_url": cancel_url})
        return SimpleNamespace(checkout_url="https://checkout.stripe.test/c/pay/cs_test_1")

    monkeypatch.setattr(payments, "payment_start", fake)
    return calls


def test_empty_cart_sends_back_to_the_cart(client: Client, shop: Any) -> None:
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    response = client.get(reverse("shop:checkout_payment"))
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")


def test_step2_without_step1_goes_back_to_step1(client: Client, shop: Any) -> None:
    fill_cart(client)
    response = client.get(reverse("shop:checkout_payment"))
    assert response.status_code == 302 and response["Location"] == reverse("shop:checkout")


def test_professional_with_bad_siret_then_good_one_then_transfer(
        client: Client, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    fill_cart(client)
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200 and "Vous êtes" in page.content.decode()

    response = client.post(reverse("shop:checkout"), pro_details(siret=BAD_SIRET))
    assert response.status_code == 422
    assert "SIRET invalide" in str(response.context["form"].errors["siret"])
    assert not User.objects.filter(email="jeanne@dupont.fr").exists()

    response = client.post(reverse("shop:checkout"), pro_details(siret="732 829 320 00074"))
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:checkout_payment")
    page = client.get(reverse("shop:checkout_payment"))
    body = page.content.decode()
    assert "Commande avec obligation de paiement</button>" in body
    assert "Droit de rétractation" not in body  # professionals: no withdrawal right
    assert "start_before_withdrawal_end" not in body

    with django_capture_on_commit_callbacks(execute=True):
        response = step2(client)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order_detail", args=[order.reference])
    # The customer, their account and membership, created in the same transaction.
    user = User.objects.get(email="jeanne@dupont.fr")
    assert user.role == "client" and user.check_password(PASSWORD)
    account = ClientAccount.objects.get(memberships__user=user)
    assert account.kind == "professionnel" and account.status == "prospect"
    assert account.siret == GOOD_SIRET and account.legal_name == "Cabinet Dupont SARL"
    assert Membership.objects.get(user=user).role == "titulaire"
    # The order: the cart's lines, billing snapshot, CGV version and time of acceptance.
    assert order.account == account and order.buyer == user
    assert order.customer_kind == "professionnel" and order.billing_siret == GOOD_SIRET
    assert order.terms == shop["terms"] and order.terms_accepted_at is not None
    assert order.withdrawal_ends_at is None
    assert order.payment_method == "virement" and order.status == OrderStatus.AWAITING_PAYMENT
    assert sorted(line.label for line in order.lines.all()) == sorted(
        [shop["plan"].display_name, shop["option"].display_name])
    assert order.total_ht_cents == 14900 + 2900
    assert order.recurring_ht_cents == 14900 + 2900
    cart = Cart.objects.get()
    assert cart.checked_out_at is not None and cart.order == order and cart.user == user
    assert order.payments.get().provider == "virement"
    # The buyer is logged in and sees the transfer instructions.
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    body = detail.content.decode()
    assert order.transfer_reference in body and "Régler par virement" in body
    # Confirmation e-mail.
    [message] = [m for m in mail.outbox if order.reference in m.subject]
    assert message.to == ["jeanne@dupont.fr"]
    # The cart is empty afterwards.
    assert client.get(reverse("shop:cart")).context["summary"].is_empty


def test_confirmation_email_carries_the_cgv_pdf(
        client: Client, shop: Any, django_capture_on_commit_callbacks: Any) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    with django_capture_on_commit_callbacks(execute=True):
        step2(client)
    order = Order.objects.get()
    [message] = [m for m in mail.outbox if order.reference in m.subject]
    [(filename, content, mimetype)] = message.attachments
    assert filename == "CGV-2026-11.pdf" and mimetype == "application/pdf"
    assert content[:5] == b"%PDF-"


def test_bad_vat_number_and_missing_pro_fields(client: Client, shop: Any) -> None:
    fill_cart(client)
    response = client.post(reverse("shop:checkout"),
                           pro_details(vat_number="FR00000000000", legal_name="", siret=""))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) >= {"vat_number", "legal_name", "siret"}
    response = client.post(reverse("shop:checkout"), pro_details(vat_number="FR40303265045"))
    assert response.status_code == 302
    assert client.session["shop_checkout"]["vat_number"] == "FR40303265045"


def test_password_rules_and_confirmation(client: Client, shop: Any) -> None:
    fill_cart(client)
    response = client.post(reverse("shop:checkout"), pro_details(password1="abc",
                                                                 password2="abc"))
    assert response.status_code == 422 and "password1" in response.context["form"].errors
    response = client.post(reverse("shop:checkout"), pro_details(password2="autre-chose-42"))
    assert response.status_code == 422 and "password2" in response.context["form"].errors
    # The password never sits in the session in clear.
    client.post(reverse("shop:checkout"), pro_details())
    assert PASSWORD not in str(dict(client.session))


def test_existing_email_suggests_logging_in(client: Client, shop: Any,
                                           client_user: Any) -> None:
    fill_cart(client)
    response = client.post(reverse("shop:checkout"), pro_details(email="CLIENT@test.fr"))
    assert response.status_code == 422
    error = str(response.context["form"].errors["email"])
    assert "existe déjà" in error and reverse("login") in error


def test_consumer_withdrawal_information_and_request_recorded(client: Client,
                                                              shop: Any) -> None:
    fill_cart(client)
    assert client.post(reverse("shop:checkout"), consumer_details()).status_code == 302
    body = client.get(reverse("shop:checkout_payment")).content.decode()
    assert "Droit de rétractation" in body and "14 jours" in body
    assert ("Je demande l&#x27;exécution du service avant la fin du délai de rétractation"
            in body)
    response = step2(client, start_before_withdrawal_end="on")
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.customer_kind == "particulier" and order.start_before_withdrawal_end
    assert order.withdrawal_ends_at is not None
    assert (order.withdrawal_ends_at - order.created_at).days == 14
    assert order.billing_siret == "" and order.billing_legal_name == ""
    account = order.account
    assert account.kind == "particulier" and account.name == "Paul Martin"


def test_consumer_without_the_early_start_request(client: Client, shop: Any) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), consumer_details())
    step2(client)
    assert Order.objects.get().start_before_withdrawal_end is False


def test_cgv_must_be_accepted(client: Client, shop: Any) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    response = client.post(reverse("shop:checkout_payment"), {"payment_method": "virement"})
    assert response.status_code == 422
    assert "accept_terms" in response.context["form"].errors
    assert not Order.objects.exists() and not User.objects.filter(
        email="jeanne@dupont.fr").exists()


def test_the_privacy_notice_must_be_read(client: Client, shop: Any) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    response = client.post(reverse("shop:checkout_payment"),
                           {"payment_method": "virement", "accept_terms": "on"})
    assert response.status_code == 422
    assert response.context["form"].errors["accept_privacy"] == [
        "Vous devez prendre connaissance de la politique de confidentialité pour commander."]
    assert "accept_terms" not in response.context["form"].errors
    assert not Order.objects.exists() and not OrderConsent.objects.exists()


def test_the_service_refuses_each_missing_acceptance_by_name(shop: Any) -> None:
    cart = cart_add(cart=None, user=None, offer="essentiel")
    details = CheckoutDetails(customer_kind="professionnel", name="A", email="a@exemple.fr",
                              address="1 rue", legal_name="A SARL", siret=GOOD_SIRET,
                              password_hash="md5$x$y")
    with pytest.raises(DomainError) as refused:
        checkout_place(cart=cart, user=None, details=details, payment_method="virement",
                       accept_terms=False, accept_privacy=False, base_url="http://testserver")
    assert set(refused.value.fields) == {"accept_terms", "accept_privacy"}
    assert not Order.objects.exists()


def test_the_order_records_what_was_accepted_with_its_version(client: Client, shop: Any,
                                                              admin_user: Any) -> None:
    notice = page_save(actor=admin_user, data={
        "slug": PRIVACY_PAGE, "title": "Politique de confidentialité",
        "body": "Vos données servent à exécuter la commande.", "is_published": True})
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    page = client.get(reverse("shop:checkout_payment")).content.decode()
    assert f'href="/pages/{PRIVACY_PAGE}/"' in page and 'for="id_accept_privacy"' in page
    now = clock.now()
    with clock.frozen(now):
        step2(client)
    order = Order.objects.get()
    consents = {c.purpose: c for c in order.consents.all()}
    assert set(consents) == {"cgv", "confidentialite"}
    assert consents["cgv"].version == "2026-11" == order.terms.version
    assert consents["cgv"].text == "J'ai lu et j'accepte les conditions générales de vente."
    assert consents["confidentialite"].text.startswith(
        "J'ai pris connaissance de la politique de confidentialité")
    assert {c.accepted_at for c in consents.values()} == {now}
    # The notice edited: the next buyer agrees to another version.
    page_save(actor=admin_user, page=notice, data={"body": "Un texte revu."})
    assert privacy_acceptance().version != consents["confidentialite"].version
    assert privacy_acceptance().text == consents["confidentialite"].text


@pytest.mark.parametrize("method", ["bitcoin", ""])
def test_unknown_payment_method_is_a_field_error(client: Client, shop: Any,
                                                 method: str) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    response = step2(client, payment_method=method)
    assert response.status_code == 422 and not Order.objects.exists()


@pytest.mark.parametrize("method", ["carte", "sepa"])
def test_card_and_sepa_redirect_to_the_hosted_payment_page(
        client: Client, shop: Any, fake_stripe: list[dict[str, Any]], method: str) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    response = step2(client, payment_method=method)
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/c/pay/cs_test_1"
    [call] = fake_stripe
    order = Order.objects.get()
    assert call["order"] == order and call["method"] == method
    assert call["success_url"] == (
        f"http://testserver{reverse('shop:order_thanks', args=[order.reference])}")
    assert call["cancel_url"] == (
        f"http://testserver{reverse('shop:order_detail', args=[order.reference])}")


def test_provider_failure_rolls_everything_back(client: Client, shop: Any,
                                                monkeypatch: Any) -> None:
    def broken(**kwargs: Any) -> Any:
        raise ConnectionError("stripe unreachable")

    monkeypatch.setattr(payments, "payment_start", broken)
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    response = step2(client, payment_method="carte")
    assert response.status_code == 422
    assert "n'a pas pu être démarré" in response.content.decode().replace("&#x27;", "'")
    assert not Order.objects.exists() and not User.objects.filter(
        email="jeanne@dupont.fr").exists()
    assert Cart.objects.get().checked_out_at is None


def test_double_submit_creates_one_order(client: Client, shop: Any) -> None:
    fill_cart(client)
    client.post(reverse("shop:checkout"), pro_details())
    step2(client)
    second = step2(client)
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert second.status_code == 302
    assert second["Location"] == reverse("shop:order_detail", args=[order.reference])


def test_checkout_service_refuses_a_checked_out_cart(shop: Any) -> None:
    cart = cart_add(cart=None, user=None, offer="essentiel")
    details = CheckoutDetails(customer_kind="professionnel", name="A", email="a@exemple.fr",
                              address="1 rue", legal_name="A SARL", siret=GOOD_SIRET,
                              password_hash="md5$x$y")
    checkout_place(cart=cart, user=None, details=details, payment_method="virement",
                   accept_terms=True, accept_privacy=True, base_url="http://testserver")
    with pytest.raises(DomainError) as exc:
        checkout_place(cart=cart, user=None, details=details, payment_method="virement",
                       accept_terms=True, accept_privacy=True, base_url="http://testserver")
    assert exc.value.code == "checked_out"
    assert Order.objects.count() == 1


def test_checkout_needs_published_terms(db: Any) -> None:
    make_offer("essentiel")
    cart = cart_add(cart=None, user=None, offer="essentiel")
    details = CheckoutDetails(customer_kind="particulier", name="A", email="a@exemple.fr",
                              address="1 rue", password_hash="md5$x$y")
    with pytest.raises(DomainError) as exc:
        checkout_place(cart=cart, user=None, details=details, payment_method="virement",
                       accept_terms=True, accept_privacy=True, base_url="http://testserver")
    assert exc.value.code == "no_terms" and not Order.objects.exists()


def test_logged_in_client_orders_for_one_of_their_accounts(
        client: Client, shop: Any, client_user: Any, account: Any, other_account: Any) -> None:
    second = ClientAccount.objects.create(name="Zèbre SAS", slug="zebre", status="actif")
    Membership.objects.create(user=client_user, account=second, role="membre")
    client.force_login(client_user)
    fill_cart(client)
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200
    form = page.context["form"]
    assert "password1" not in form.fields
    assert {pk for pk, _name in form.fields["account"].choices} == {account.pk, second.pk}
    # Somebody else's account is not a choice.
    response = client.post(reverse("shop:checkout"),
                           pro_details(account=str(other_account.pk)))
    assert response.status_code == 422 and "account" in response.context["form"].errors
    response = client.post(reverse("shop:checkout"), pro_details(account=str(second.pk)))
    assert response.status_code == 302
    step2(client)
    order = Order.objects.get()
    assert order.account == second and order.buyer == client_user
    assert not User.objects.filter(email="jeanne@dupont.fr").exists()  # no new login


def test_staff_cannot_order(client: Client, shop: Any, agent: Any) -> None:
    client.force_login(agent)
    fill_cart(client)
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 200 and response.context["form"] is None
    assert "réservée aux clients" in response.content.decode()
    response = client.post(reverse("shop:checkout"), pro_details())
    assert response.status_code == 200 and "shop_checkout" not in client.session


def test_login_during_checkout_keeps_the_cart(client: Client, shop: Any,
                                              client_user: Any) -> None:
    fill_cart(client)
    client.post(reverse("login"), {"username": "client@test.fr", "password": PASSWORD})
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200
    assert len(page.context["summary"].rows) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_one_cart_create_one_order(client_user: Any,
                                                         account: Any) -> None:
    """Two requests placing the same cart at the same time: the cart row lock serialises
    them; the second finds the cart checked out."""
    import threading

    from django.db import connection

    make_offer("essentiel")
    make_terms()
    cart = cart_add(cart=None, user=client_user, offer="essentiel")
    details = CheckoutDetails(customer_kind="professionnel", name="A", email="a@exemple.fr",
                              address="1 rue", legal_name="A SARL", siret=GOOD_SIRET)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            checkout_place(cart=cart, user=client_user, details=details,
                           payment_method="virement", accept_terms=True, accept_privacy=True,
                           base_url="http://testserver")
            outcomes.append("order")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # In-memory SQLite (tests only) answers "table locked" at once instead of waiting like
    # PostgreSQL or the file database with its busy timeout: the second submit fails either
    # way, and only one order exists.
    assert outcomes.count("order") == 1 and len(outcomes) == 2
    [refusal] = [outcome for outcome in outcomes if outcome != "order"]
    allowed = {"checked_out"} if connection.vendor == "postgresql" else {"checked_out",
                                                                          "OperationalError"}
    assert refusal in allowed
    assert Order.objects.count() == 1


def test_confirmation_is_retried_when_sending_fails(shop: Any, monkeypatch: Any,
                                                    settings: Any) -> None:
    from django.core.mail import EmailMultiAlternatives
    from django_tasks_db.models import DBTaskResult

    from permanence.shop.tasks import send_order_confirmation

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default", "email"]}}

    def refuse(self: Any) -> None:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    payload = {"to": ["a@b.fr"], "subject": "Commande", "body": "Merci",
               "terms_id": shop["terms"].pk}
    assert send_order_confirmation.call(payload, 1) == "retry"
    [retry] = DBTaskResult.objects.filter(task_path=send_order_confirmation.module_path)
    assert retry.queue_name == "email" and retry.args_kwargs["args"] == [payload, 2]
    assert retry.run_after is not None
    with pytest.raises(ConnectionRefusedError):
        send_order_confirmation.call(payload, settings.EMAIL_MAX_ATTEMPTS)
    assert mail.outbox == []

"""Quotes (devis): request → acknowledgement, the staff editor, sending (PDF + link),
acceptance into an order, refusal, reminders and expiry, the list's query count."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from permanence.accounts.models import ClientAccount, Membership, User
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.core.money import compute_totals, line_total_cents
from permanence.inbox.models import Notification
from permanence.shop.models import Order, OrderStatus, Quote, QuoteStatus
from permanence.shop.orders import operator_deadline
from permanence.shop.quotes import services
from permanence.shop.quotes.selectors import today
from permanence.shop.quotes.services import QuoteLineInput
from testkit.shop import make_offer, make_terms

PARIS = ZoneInfo("Europe/Paris")

pytestmark = pytest.mark.django_db


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """E-mails and tasks run on commit: `with committed(): ...` runs those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def login(client: Any) -> Any:
    def as_user(user: Any) -> Any:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return as_user


REQUEST = {
    "name": "Claire Dupuis", "email": "claire@plomberie-dupuis.fr", "phone": "06 12 34 56 78",
    "customer_kind": "professionnel", "company": "Plomberie Dupuis", "sector": "artisan_btp",
    "needs": "Prise d'appels pendant les chantiers, prise de rendez-vous.",
    "expected_volume": "Une vingtaine d'appels par jour", "hours": "Lundi–vendredi 8 h – 18 h",
    "consent": "on",
}


def free_line(label: str = "Accueil téléphonique", price: int = 14900, qty: int = 1,
              discount: str = "0", vat: str = "20.00", recurring: bool = True) -> QuoteLineInput:
    return QuoteLineInput(label=label, quantity=qty, unit_price_cents=price,
                          vat_rate=Decimal(vat), discount_percent=Decimal(discount),
                          recurring=recurring)


def make_quote(actor: Any, *, account: Any = None, lines: list[QuoteLineInput] | None = None,
               email: str = "claire@plomberie-dupuis.fr", send: bool = True,
               **data: Any) -> Quote:
    fields = {"requester_name": "Claire Dupuis", "requester_email": email,
              "company": "Plomberie Dupuis", **data}
    quote = services.quote_create(actor=actor, data=fields, account=account,
                                  lines=lines if lines is not None else [
                                      free_line(), free_line("Mise en place", 9000,
                                                             recurring=False)])
    if send:
        quote = services.quote_send(actor=actor, quote=quote)
    return quote


# --- Request -----------------------------------------------------------------------------------

def test_public_request_creates_quote_with_acknowledgement_and_reference(
        client: Any, committed: Any, admin_user: Any, billing: Any, agent: Any) -> None:
    now = paris(2026, 11, 20, 16, 0)  # a Friday afternoon
    with clock.frozen(now), committed():
        response = client.post(reverse("quote_public:request"), REQUEST)
    assert response.status_code == 200
    quote = Quote.objects.get()
    assert quote.status == QuoteStatus.REQUESTED
    assert quote.reference == "DV-2026-000001"
    assert quote.account is None and quote.requester_email == REQUEST["email"]
    assert quote.expected_volume == REQUEST["expected_volume"]
    assert quote.response_due_at == operator_deadline(now, 48)
    assert quote.history.get().to_status == QuoteStatus.REQUESTED
    assert quote.reference in response.content.decode()
    [message] = mail.outbox
    assert message.to == [REQUEST["email"]]
    assert quote.reference in message.subject
    assert "accusé de réception automatique immédiat" in message.body
    assert "24 à 48 heures ouvrées" in message.body
    assert f"/devis/{quote.token}/" in message.body
    # Staff who manage quotes are told (in-app); agents are not.
    notified = set(Notification.objects.filter(kind="quote_request").values_list("user",
                                                                                 flat=True))
    assert notified == {admin_user.pk, billing.pk}
    assert {n.link for n in Notification.objects.filter(kind="quote_request")} == {
        f"/app/boutique/devis/{quote.pk}/"}


def test_request_with_errors_is_refused_with_field_errors(client: Any) -> None:
    response = client.post(reverse("quote_public:request"),
                           {**REQUEST, "email": "pas-une-adresse", "needs": " ", "consent": ""})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"email", "needs", "consent"} <= set(errors)
    assert not Quote.objects.exists() and not mail.outbox


def test_professional_request_needs_a_company(client: Any) -> None:
    response = client.post(reverse("quote_public:request"), {**REQUEST, "company": ""})
    assert response.status_code == 422
    assert "company" in response.context["form"].errors


def test_honeypot_looks_successful_and_keeps_nothing(client: Any, committed: Any) -> None:
    with committed():
        response = client.post(reverse("quote_public:request"),
                               {**REQUEST, "site_web": "http://spam.example"})
    assert response.status_code == 200
    assert not Quote.objects.exists() and not mail.outbox


def test_request_rate_limit(client: Any, settings: Any, committed: Any) -> None:
    settings.QUOTE_RATE_LIMIT = 2
    with committed():
        for _ in range(2):
            assert client.post(reverse("quote_public:request"), REQUEST).status_code == 200
        response = client.post(reverse("quote_public:request"), REQUEST)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert Quote.objects.count() == 2


def test_logged_in_client_request_is_tied_to_their_account(
        login: Any, client_user: Any, account: Any) -> None:
    client = login(client_user)
    page = client.get(reverse("quote_public:request"))
    assert page.context["form"].initial["email"] == client_user.email
    response = client.post(reverse("quote_public:request"), {**REQUEST,
                                                             "email": client_user.email})
    assert response.status_code == 200
    quote = Quote.objects.get()
    assert quote.account == account and quote.requested_by == client_user


# --- Staff editor --------------------------------------------------------------------------

def _editor_post(quote: Quote, lines: list[dict[str, str]], **header: str) -> dict[str, str]:
    data = {"q-requester_name": quote.requester_name,
            "q-requester_email": quote.requester_email, "q-company": quote.company,
            "q-customer_kind": quote.customer_kind, "q-message": "Merci de votre confiance.",
            "q-valid_until": "", "lines-TOTAL_FORMS": str(len(lines)),
            "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "50"}
    data.update({f"q-{k}": v for k, v in header.items()})
    for n, line in enumerate(lines):
        data.update({f"lines-{n}-{k}": v for k, v in line.items()})
    return data


@pytest.fixture
def requested(committed: Any) -> Quote:
    with committed():
        return services.quote_request(
            name="Claire Dupuis", email="claire@plomberie-dupuis.fr", company="Plomberie Dupuis",
            needs="Prise d'appels", customer_kind="professionnel")


def test_editor_rejects_bad_price_and_discount_over_100(
        login: Any, admin_user: Any, requested: Quote) -> None:
    client = login(admin_user)
    url = reverse("quotes:detail", kwargs={"pk": requested.pk})
    response = client.post(url, _editor_post(requested, [
        {"label": "Forfait", "quantity": "1", "unit_price": "douze euros",
         "discount_percent": "150", "vat_rate": "20.00"},
        {"label": "", "quantity": "0", "unit_price": "10,999", "vat_rate": "20.00"},
    ], valid_until="2001-01-01"))
    assert response.status_code == 422
    first, second = response.context["formset"].forms
    assert "unit_price" in first.errors and "discount_percent" in first.errors
    assert {"label", "quantity", "unit_price"} <= set(second.errors)
    assert "valid_until" in response.context["header"].errors
    requested.refresh_from_db()
    assert requested.status == QuoteStatus.REQUESTED and not requested.lines.exists()


def test_editor_saves_lines_and_totals_match_core_money(
        login: Any, admin_user: Any, requested: Quote) -> None:
    client = login(admin_user)
    offer = make_offer("essentiel", monthly_price_cents=14900, vat_rate=Decimal("20.00"))
    url = reverse("quotes:detail", kwargs={"pk": requested.pk})
    response = client.post(url, _editor_post(requested, [
        {"offer": str(offer.pk), "quantity": "2", "discount_percent": "10",
         "vat_rate": "20.00"},
        {"label": "Formation des secrétaires", "quantity": "3", "unit_price": "49,90",
         "discount_percent": "12,5", "vat_rate": "10.00"},
        {"label": "", "quantity": "1", "unit_price": "", "vat_rate": "20.00"},  # left empty
    ]))
    assert response.status_code == 302, response.context and response.context[
        "formset"].errors
    requested.refresh_from_db()
    assert requested.status == QuoteStatus.DRAFT
    assert requested.created_by == admin_user
    assert requested.valid_until == today() + timedelta(days=30)
    first, second = requested.lines.order_by("position")
    assert (first.offer, first.label, first.unit_price_cents, first.recurring) == (
        offer, offer.display_name, 14900, True)
    assert (second.unit_price_cents, second.discount_percent) == (4990, Decimal("12.5"))
    expected = compute_totals([(line_total_cents(14900, 2, Decimal(10)), Decimal("20")),
                               (line_total_cents(4990, 3, Decimal("12.5")), Decimal("10"))])
    assert (first.total_ht_cents, second.total_ht_cents) == (26820, 13099)
    assert (requested.total_ht_cents, requested.total_vat_cents,
            requested.total_ttc_cents) == (expected.ht, expected.vat, expected.ttc)
    assert [(h.from_status, h.to_status) for h in requested.history.all()] == [
        ("", "demande"), ("demande", "brouillon")]
    page = client.get(url)
    assert page.status_code == 200 and "149,00" in page.content.decode()


def test_editor_round_trip_keeps_unchanged_lines_and_removes_ticked_ones(
        login: Any, admin_user: Any) -> None:
    quote = make_quote(admin_user, send=False)
    client = login(admin_user)
    url = reverse("quotes:detail", kwargs={"pk": quote.pk})
    page = client.get(url)
    formset = page.context["formset"]
    data = _editor_post(quote, [], message="Nouveau message")
    data.update({"lines-TOTAL_FORMS": str(formset.total_form_count()),
                 "lines-INITIAL_FORMS": str(formset.initial_form_count())})
    for form in formset.forms:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if name in {"recurring", "DELETE"}:
                if value:
                    data[form.add_prefix(name)] = "on"
                continue
            data[form.add_prefix(name)] = "" if value is None else str(value).replace(".", ",")
    data["lines-0-vat_rate"], data["lines-1-vat_rate"] = "20.00", "20.00"
    assert client.post(url, data).status_code == 302
    quote.refresh_from_db()
    assert quote.message == "Nouveau message"
    assert [(line.label, line.unit_price_cents, line.recurring) for line in quote.lines.all()] == [
        ("Accueil téléphonique", 14900, True), ("Mise en place", 9000, False)]
    data["lines-1-DELETE"] = "on"
    assert client.post(url, data).status_code == 302
    quote.refresh_from_db()
    assert [line.label for line in quote.lines.all()] == ["Accueil téléphonique"]
    assert quote.total_ht_cents == 14900


def test_staff_creates_a_quote_for_an_account(login: Any, billing: Any, account: Any) -> None:
    account.billing_email = "compta@cabinet-martin.fr"
    account.save()
    client = login(billing)
    response = client.post(reverse("quotes:create"), {"account": account.pk,
                                                      "customer_kind": "professionnel",
                                                      "sector": ""})
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "quotes:detail", kwargs={"pk": quote.pk})
    assert (quote.account, quote.requester_email, quote.status) == (
        account, "compta@cabinet-martin.fr", QuoteStatus.DRAFT)


def test_new_quote_without_account_needs_a_recipient(login: Any, admin_user: Any) -> None:
    response = login(admin_user).post(reverse("quotes:create"),
                                      {"customer_kind": "professionnel"})
    assert response.status_code == 422
    assert {"requester_name", "requester_email"} <= set(response.context["form"].errors)
    assert not Quote.objects.exists()


def test_agents_and_clients_have_no_access_to_staff_quote_pages(
        login: Any, agent: Any, client_user: Any, admin_user: Any) -> None:
    quote = make_quote(admin_user, send=False)
    for user in (agent, client_user):
        client = login(user)
        assert client.get(reverse("quotes:list")).status_code == 403
        assert client.post(reverse("quotes:send", kwargs={"pk": quote.pk})).status_code == 403
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


# --- Send ----------------------------------------------------------------------------------

def test_send_emails_the_pdf_and_the_link(login: Any, admin_user: Any, committed: Any) -> None:
    quote = make_quote(admin_user, send=False, message="Au plaisir de travailler ensemble.")
    client = login(admin_user)
    with committed():
        response = client.post(reverse("quotes:send", kwargs={"pk": quote.pk}))
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT and quote.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["claire@plomberie-dupuis.fr"]
    assert quote.reference in message.subject
    assert f"/devis/{quote.token}/" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"devis-{quote.reference}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF")
    last = quote.history.last()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor) == ("brouillon", "envoye",
                                                              admin_user)


def test_send_without_lines_is_refused(admin_user: Any) -> None:
    quote = make_quote(admin_user, lines=[], send=False)
    with pytest.raises(DomainError) as exc:
        services.quote_send(actor=admin_user, quote=quote)
    assert "lines" in exc.value.fields
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_sent_quote_is_not_editable_until_reopened(login: Any, admin_user: Any) -> None:
    quote = make_quote(admin_user)
    client = login(admin_user)
    url = reverse("quotes:detail", kwargs={"pk": quote.pk})
    response = client.post(url, _editor_post(quote, [{"label": "X", "quantity": "1",
                                                      "unit_price": "1,00",
                                                      "vat_rate": "20.00"}]))
    assert response.status_code == 409
    assert quote.lines.count() == 2
    client.post(reverse("quotes:reopen", kwargs={"pk": quote.pk}))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_duplicate_cancel_and_link_account(login: Any, admin_user: Any, account: Any) -> None:
    quote = make_quote(admin_user)
    client = login(admin_user)
    client.post(reverse("quotes:duplicate", kwargs={"pk": quote.pk}))
    copy = Quote.objects.exclude(pk=quote.pk).get()
    assert copy.status == QuoteStatus.DRAFT and copy.token != quote.token
    assert copy.reference != quote.reference
    assert [(line.label, line.total_ht_cents) for line in copy.lines.all()] == [
        (line.label, line.total_ht_cents) for line in quote.lines.all()]
    assert copy.total_ttc_cents == quote.total_ttc_cents
    client.post(reverse("quotes:link_account", kwargs={"pk": copy.pk}),
                {"account": account.pk})
    client.post(reverse("quotes:cancel", kwargs={"pk": quote.pk}))
    copy.refresh_from_db()
    quote.refresh_from_db()
    assert copy.account == account
    assert quote.status == QuoteStatus.CANCELLED
    # A cancelled quote cannot be sent.
    response = client.post(reverse("quotes:send", kwargs={"pk": quote.pk}), follow=True)
    assert "ne peut pas être envoyé" in response.content.decode()


# --- Client side ---------------------------------------------------------------------------

def test_public_page_and_pdf(client: Any, admin_user: Any) -> None:
    quote = make_quote(admin_user)
    page = client.get(reverse("quote_public:detail", kwargs={"token": quote.token}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Accepter le devis" in html and "Mise en place" in html
    pdf = client.get(reverse("quote_public:pdf", kwargs={"token": quote.token}))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(reverse("quote_public:detail",
                              kwargs={"token": "x" * 43})).status_code == 404


def test_draft_quote_is_not_shown_on_its_link(client: Any, admin_user: Any) -> None:
    quote = make_quote(admin_user, send=False)
    page = client.get(reverse("quote_public:detail", kwargs={"token": quote.token}))
    assert page.status_code == 200 and "Mise en place" not in page.content.decode()
    assert client.get(reverse("quote_public:pdf",
                              kwargs={"token": quote.token})).status_code == 404


PASSWORD = "Un-mot-de-passe-solide-42"


def _accept(client: Any, quote: Quote, **data: str) -> Any:
    return client.post(reverse("quote_public:accept", kwargs={"token": quote.token}),
                       {"billing_address": "3 rue des Lilas\n69003 Lyon",
                        "accept_terms": "on", "password1": PASSWORD, "password2": PASSWORD,
                        **data})


def test_accepting_turns_the_quote_into_an_order(client: Any, admin_user: Any,
                                                 committed: Any) -> None:
    terms = make_terms()
    offer = make_offer("essentiel")
    quote = make_quote(admin_user, lines=[
        services.line_input_from_offer(offer, 2, Decimal("10")),
        free_line("Mise en place", 9000, recurring=False, discount="50")])
    with committed():
        response = _accept(client, quote)
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/commande/{order.reference}/payer/"
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED and quote.accepted_at is not None
    assert order.quote == quote and order.terms == terms and order.terms_accepted_at
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert (order.total_ht_cents, order.total_vat_cents, order.total_ttc_cents) == (
        quote.total_ht_cents, quote.total_vat_cents, quote.total_ttc_cents)
    lines = list(order.lines.order_by("pk"))
    assert [(line.label, line.quantity, line.unit_price_cents, line.discount_percent,
             line.recurring_cents, line.total_ht_cents, line.offer) for line in lines] == [
        (offer.display_name, 2, 14900, Decimal("10.00"), 14900, 26820, offer),
        ("Mise en place", 1, 9000, Decimal("50.00"), 0, 4500, None)]
    assert order.recurring_ht_cents == 26820
    # A new client account and login were made from the requester's details.
    account = order.account
    assert account == quote.account and account.name == "Plomberie Dupuis"
    buyer = User.objects.get(email="claire@plomberie-dupuis.fr")
    assert order.buyer == buyer and buyer.role == "client" and buyer.check_password(PASSWORD)
    assert Membership.objects.filter(user=buyer, account=account).exists()
    assert client.session["_auth_user_id"] == str(buyer.pk)  # logged in, to pay
    assert client.get(response["Location"]).status_code == 200  # the checkout's payment page
    assert order.billing_address == "3 rue des Lilas\n69003 Lyon"
    assert any(order.reference in m.subject or order.reference in m.body for m in mail.outbox)


def test_accepting_twice_makes_one_order(client: Any, admin_user: Any) -> None:
    make_terms()
    quote = make_quote(admin_user)
    first = _accept(client, quote)
    second = _accept(client, quote)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == f"/commande/{order.reference}/payer/"
    again = services.quote_accept(quote=quote, terms_accepted=True, billing_address="x")
    assert again == order and Order.objects.count() == 1


def test_accepting_needs_the_terms_an_address_and_a_password(client: Any,
                                                             admin_user: Any) -> None:
    make_terms()
    quote = make_quote(admin_user)
    page = client.get(reverse("quote_public:detail", kwargs={"token": quote.token}))
    assert "password1" in page.context["accept_form"].fields
    response = _accept(client, quote, accept_terms="", billing_address=" ", password2="autre")
    assert response.status_code == 422
    assert {"accept_terms", "billing_address", "password2"} <= set(
        response.context["accept_form"].errors)
    weak = _accept(client, quote, password1="1234", password2="1234")
    assert weak.status_code == 422 and "password1" in weak.context["accept_form"].errors
    assert not Order.objects.exists() and not User.objects.filter(
        email=quote.requester_email).exists()


def test_expired_quote_cannot_be_accepted(client: Any, admin_user: Any) -> None:
    make_terms()
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        quote = make_quote(admin_user, valid_until=date(2026, 11, 10))
    with clock.frozen(paris(2026, 11, 11, 10, 0)):
        response = _accept(client, quote)
    assert response.status_code == 409
    assert "a expiré le 10 novembre 2026" in response.content.decode()
    assert not Order.objects.exists()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


def test_unsent_quote_cannot_be_accepted(client: Any, admin_user: Any) -> None:
    make_terms()
    quote = make_quote(admin_user, send=False)
    response = _accept(client, quote)
    assert response.status_code == 409
    assert not Order.objects.exists()


def test_accepting_for_a_known_email_links_to_their_account(
        client: Any, admin_user: Any, client_user: Any, account: Any) -> None:
    make_terms()
    quote = make_quote(admin_user, email=client_user.email)
    page = client.get(reverse("quote_public:detail", kwargs={"token": quote.token}))
    assert "password1" not in page.context["accept_form"].fields  # they have a login
    response = _accept(client, quote)
    order = Order.objects.get()
    assert (order.account, order.buyer) == (account, client_user)
    assert ClientAccount.objects.count() == 1
    # Not logged in by a link: the payment page asks them to log in.
    assert "_auth_user_id" not in client.session
    assert response["Location"] == f"/commande/{order.reference}/payer/"


def test_accepting_for_a_staff_email_asks_to_log_in(client: Any, admin_user: Any,
                                                    agent: Any) -> None:
    make_terms()
    quote = make_quote(admin_user, email=agent.email)
    response = _accept(client, quote)
    assert response.status_code == 409
    assert "connectez-vous" in response.content.decode()
    assert not Order.objects.exists() and not ClientAccount.objects.exists()


def test_accepting_a_quote_of_an_account(login: Any, admin_user: Any, client_user: Any,
                                         account: Any) -> None:
    make_terms()
    quote = make_quote(admin_user, account=account, email="compta@cabinet-martin.fr")
    response = _accept(login(client_user), quote)
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.account, order.buyer, order.quote) == (account, client_user, quote)


def test_declining(client: Any, admin_user: Any) -> None:
    quote = make_quote(admin_user)
    response = client.post(reverse("quote_public:decline", kwargs={"token": quote.token}),
                           {"reason": "Trop cher"})
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED
    last = quote.history.last()
    assert last is not None and last.note == "Trop cher"
    assert _accept(client, quote).status_code == 409


# --- Reminders and expiry ------------------------------------------------------------------

def test_reminder_sent_once_before_expiry_then_expired(admin_user: Any, committed: Any) -> None:
    with clock.frozen(paris(2026, 11, 2, 10, 0)), committed():
        quote = make_quote(admin_user, valid_until=date(2026, 11, 20))
        later = make_quote(admin_user, valid_until=date(2026, 12, 20))
    mail.outbox.clear()
    with clock.frozen(paris(2026, 11, 16, 9, 0)), committed():  # 4 days before: nothing
        assert services.quotes_housekeeping() == {"expired": 0, "reminded": 0}
    with clock.frozen(paris(2026, 11, 17, 9, 0)), committed():  # 3 days before
        assert services.quotes_housekeeping() == {"expired": 0, "reminded": 1}
        assert services.quotes_housekeeping() == {"expired": 0, "reminded": 0}
    with clock.frozen(paris(2026, 11, 18, 9, 0)), committed():
        assert services.quotes_housekeeping() == {"expired": 0, "reminded": 0}
    [reminder] = mail.outbox
    assert quote.reference in reminder.subject and f"/devis/{quote.token}/" in reminder.body
    quote.refresh_from_db()
    assert quote.reminded_at == paris(2026, 11, 17, 9, 0)
    with clock.frozen(paris(2026, 11, 21, 0, 30)), committed():
        assert services.quotes_housekeeping() == {"expired": 1, "reminded": 0}
    quote.refresh_from_db()
    later.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED and later.status == QuoteStatus.SENT
    last = quote.history.last()
    assert last is not None and (last.from_status, last.to_status) == ("envoye", "expire")


def test_no_reminder_on_the_day_a_short_quote_is_sent(admin_user: Any) -> None:
    with clock.frozen(paris(2026, 11, 18, 10, 0)):
        make_quote(admin_user, valid_until=date(2026, 11, 20))
    with clock.frozen(paris(2026, 11, 18, 18, 0)):
        assert services.quotes_housekeeping() == {"expired": 0, "reminded": 0}
    with clock.frozen(paris(2026, 11, 19, 10, 0)):
        assert services.quotes_housekeeping() == {"expired": 0, "reminded": 1}


def test_the_pdf_task_skips_a_quote_no_longer_sent(admin_user: Any) -> None:
    from permanence.shop.quotes.tasks import send_quote

    quote = make_quote(admin_user)
    services.quote_cancel(actor=admin_user, quote=quote)
    mail.outbox.clear()
    assert send_quote.call(quote.pk) == "skipped"
    assert not mail.outbox


def test_housekeeping_job_is_registered_with_the_scheduler() -> None:
    from permanence.core.scheduler import REGISTRY

    assert "shop.quotes_housekeeping" in REGISTRY


# --- List ----------------------------------------------------------------------------------

def test_list_filters_counters_and_empty_state(login: Any, admin_user: Any) -> None:
    client = login(admin_user)
    empty = client.get(reverse("quotes:list"))
    assert "Aucun devis pour l'instant" in empty.content.decode()
    with clock.frozen(paris(2026, 11, 2, 10, 0)):
        services.quote_request(name="A", email="a@exemple.fr", needs="x", company="A")
    make_quote(admin_user)
    response = client.get(reverse("quotes:list"), {"overdue": "on"})
    assert [q.requester_name for q in response.context["page"].object_list] == ["A"]
    counters = response.context["counters"]
    assert (counters["demande"], counters["envoye"], counters["overdue"]) == (1, 1, 1)
    sent = client.get(reverse("quotes:list"), {"status": "envoye"})
    assert [q.status for q in sent.context["page"].object_list] == ["envoye"]


def test_list_query_count_is_constant(login: Any, admin_user: Any, account: Any,
                                      django_assert_max_num_queries: Any) -> None:
    client = login(admin_user)
    make_quote(admin_user, account=account, send=False)
    client.get(reverse("quotes:list"))  # warm-up (session, operator identity caches)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("quotes:list"))
    for n in range(12):
        make_quote(admin_user, account=account if n % 2 else None, send=n % 3 == 0)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("quotes:list"))
    assert len(response.context["page"].object_list) == 13


def test_editor_query_count_does_not_grow_with_lines(
        login: Any, admin_user: Any, django_assert_max_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_offer("essentiel")
    make_offer("confort")
    client = login(admin_user)
    small = make_quote(admin_user, send=False, lines=[free_line()])
    big = make_quote(admin_user, send=False, lines=[free_line(f"Ligne {n}") for n in range(20)])
    for quote in (small, big):  # warm-up (and the audit of a first view, once per quote)
        client.get(reverse("quotes:detail", kwargs={"pk": quote.pk}))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("quotes:detail", kwargs={"pk": small.pk}))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("quotes:detail", kwargs={"pk": big.pk}))
    assert "Forfait Confort — 149,00\u00a0€ HT / mois" in page.content.decode()

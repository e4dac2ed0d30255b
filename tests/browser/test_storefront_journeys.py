"""Storefront journeys in a real Chromium: catalog → cart → checkout → Stripe stand-in → order
board → espace client, a refused card then a retry, and a quote requested, built, sent and
accepted.

The payment provider is the local Stripe stand-in (testkit/stripe_standin.py) on a
loopback port: our checkout creates real Checkout Sessions on it over HTTP, the browser is
sent to its hosted page, and its "Payer" / "Simuler un refus" buttons POST signed webhook
events to the live server's webhook before redirecting the browser back — the same round trip
as with Stripe. The live server runs in this process, so `django.core.mail.outbox` (locmem)
is the test's own.

Only the catalog, the staff users and (journey 2) an existing client with its account are
created with the ORM, before the browser starts; everything the journeys are about goes
through the real pages. Payment outcomes arrive by webhook: the pages are reloaded (bounded)
until the status shows, never a fixed sleep.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVALID_SIRET = "732 829 320 00075"  # right length, wrong Luhn key
VALID_SIRET = "73282932000074"
CLIENT_PASSWORD = "Un-autre-mot-de-passe-99"
# Labels may end with the " *" of required fields: match their start.
PASSWORD_LABEL = re.compile(r"^Mot de passe(?!\s*\()")
PASSWORD2_LABEL = re.compile(r"^Mot de passe \(confirmation\)")
THANKS_URL = re.compile(r"/commande/([^/]+)/merci/$")
STATUS_WAIT_S = 20  # the webhook is delivered before the redirect; this is only a safety net


def label(text: str) -> re.Pattern[str]:
    """A field label that starts with `text` (required labels end with " *")."""
    return re.compile("^" + re.escape(text))


@pytest.fixture
def catalog(db: Any) -> None:
    from permanence.catalog.demo import seed_catalog

    seed_catalog()


@pytest.fixture(autouse=True)
def site_url_on_live_server(settings: Any, live_server: Any) -> None:
    """Links in e-mails (SITE_URL) point at the live server, as they point at the site."""
    settings.SITE_URL = live_server.url


@pytest.fixture
def stripe_standin(live_server: Any) -> Iterator[Any]:
    """The Stripe stand-in, delivering its signed events to the live server's webhook."""
    from testkit.payments import WEBHOOK_PATH, run_standin

    with run_standin(webhook_url=live_server.url + WEBHOOK_PATH) as running:
        yield running


def reload_until(page: Any, check: Callable[[], None], timeout_s: float = STATUS_WAIT_S
                 ) -> None:
    """Run `check` (expect(...) assertions with short timeouts), reloading the page between
    tries, until it passes or `timeout_s` is over (then its last AssertionError is raised)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def pay_on_hosted_page(page: Any, stripe_standin: Any, *, action: str = "Payer") -> None:
    """On the stand-in's hosted page (after our redirect): click `action`."""
    expect(page).to_have_url(re.compile("^" + re.escape(stripe_standin.url) + r"/pay/cs_"))
    expect(page.get_by_role("status")).to_contain_text("Mode test")
    page.get_by_role("button", name=action, exact=True).click()


def add_plan_to_cart(page: Any, slug: str = "essentiel") -> None:
    page.goto(f"/offres/{slug}/")
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(page).to_have_url(re.compile(r"/panier/$"))
    expect(page.get_by_role("table", name="Contenu du panier")).to_be_visible()


def staff_transition(staff: Any, action: str, confirm: re.Pattern[str]) -> None:
    """Open the "<action>" panel of the order page, tick its confirmation, submit."""
    panel = staff.locator("details").filter(
        has=staff.locator("summary", has_text=re.compile(f"^{action}$")))
    panel.locator("summary").click()
    panel.get_by_label(confirm).check()
    panel.get_by_role("button", name=action, exact=True).click()


# --- 1. Compare, configure, check out as a professional, pay, validate, activate -------------

def test_visitor_buys_a_plan_with_an_option_pays_by_card_staff_validates_and_activates(
        catalog: None, stripe_standin: Any, make_user: Any, new_page: Any,
        login: Any) -> None:
    from django.core import mail

    from permanence.shop.models import Order, OrderStatus

    make_user("superviseur@test.fr", "supervisor", full_name="Sophie Superviseur")

    # --- The visitor compares the plans. ----------------------------------------------------
    visitor = new_page()
    visitor.goto("/offres/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Nos offres de télésecrétariat")
    comparison = visitor.get_by_role("region", name="Comparatif des formules")
    table = comparison.get_by_role("table")
    expect(table).to_be_visible()
    for name in ("Forfait Essentiel", "Forfait Confort", "Forfait Premium"):
        expect(table.get_by_role("columnheader", name=re.compile(name))).to_be_visible()
    expect(table.get_by_role("rowheader", name="Abonnement mensuel")).to_be_visible()
    expect(table.get_by_role("rowheader", name="Engagement")).to_be_visible()
    table.get_by_role("link", name="Choisir Forfait Essentiel").click()

    # --- The plan page: an option changes the live price (htmx, no reload). -----------------
    expect(visitor).to_have_url(re.compile(r"/offres/essentiel/$"))
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("Forfait Essentiel")
    monthly = visitor.locator("#price [data-monthly-ht]")
    expect(monthly).to_have_text(re.compile(r"^149,00\s€$"))
    visitor.evaluate("window.__sameDocument = true")
    visitor.get_by_label(re.compile(r"^Prise de rendez-vous")).check()
    expect(monthly).to_have_text(re.compile(r"^178,00\s€$"))  # 149 + 29 HT per month
    expect(visitor.locator("#price [data-monthly-ttc]")).to_have_text(
        re.compile(r"^213,60\s€$"))
    assert visitor.evaluate("window.__sameDocument") is True
    visitor.get_by_role("button", name="Ajouter au panier").click()

    # --- The cart. --------------------------------------------------------------------------
    expect(visitor).to_have_url(re.compile(r"/panier/$"))
    expect(visitor.get_by_text("Ajouté à votre panier.")).to_be_visible()
    cart = visitor.get_by_role("table", name="Contenu du panier")
    expect(cart).to_contain_text("Forfait Essentiel")
    expect(cart).to_contain_text("Prise de rendez-vous")
    visitor.get_by_role("link", name="Commander").click()

    # --- Checkout, step 1: a professional, a bad SIRET first. --------------------------------
    expect(visitor).to_have_url(re.compile(r"/commande/$"))
    visitor.get_by_role("radio", name="Professionnel").check()
    visitor.get_by_label(label("Raison sociale")).fill("SELARL Cabinet Moreau")
    visitor.get_by_label(label("SIRET")).fill(INVALID_SIRET)
    visitor.get_by_label(label("Nom et prénom")).fill("Camille Moreau")
    visitor.get_by_label(label("E-mail")).fill("camille.moreau@example.fr")
    visitor.get_by_label(label("Téléphone")).fill("01 23 45 67 89")
    visitor.get_by_label(label("Adresse de facturation")).fill("12 rue des Lilas\n75011 Paris")
    visitor.get_by_label(PASSWORD_LABEL).fill(CLIENT_PASSWORD)
    visitor.get_by_label(PASSWORD2_LABEL).fill(CLIENT_PASSWORD)
    visitor.get_by_role("button", name="Continuer vers le paiement").click()

    expect(visitor).to_have_url(re.compile(r"/commande/$"))
    siret_field = visitor.locator(".field.has-error").filter(
        has=visitor.get_by_label(label("SIRET")))
    expect(siret_field.get_by_role("alert")).to_contain_text("SIRET invalide")
    expect(visitor.get_by_label(label("SIRET"))).to_have_value(INVALID_SIRET)
    expect(visitor.get_by_label(label("Raison sociale"))).to_have_value("SELARL Cabinet Moreau")
    assert not Order.objects.exists()

    # The good SIRET; passwords are never sent back to the browser: typed again.
    visitor.get_by_label(label("SIRET")).fill(VALID_SIRET)
    visitor.get_by_label(PASSWORD_LABEL).fill(CLIENT_PASSWORD)
    visitor.get_by_label(PASSWORD2_LABEL).fill(CLIENT_PASSWORD)
    visitor.get_by_role("button", name="Continuer vers le paiement").click()

    # --- Step 2: card, CGV and privacy notice (refused without them), "Commande avec
    # obligation de paiement". ---
    expect(visitor).to_have_url(re.compile(r"/commande/paiement/$"))
    expect(visitor.get_by_role("main")).to_contain_text(VALID_SIRET)
    visitor.get_by_role("radio", name="Carte bancaire").check()
    pay_button = visitor.get_by_role("button", name="Commande avec obligation de paiement")
    pay_button.click()
    expect(visitor.get_by_role("alert").filter(
        has_text="Vous devez accepter les conditions générales de vente")).to_be_visible()
    expect(visitor.get_by_role("alert").filter(
        has_text="Vous devez prendre connaissance de la politique de confidentialité")
    ).to_be_visible()
    assert not Order.objects.exists()
    visitor.get_by_label(label("J'ai lu et j'accepte les conditions générales de vente")).check()
    visitor.get_by_label(label("J'ai pris connaissance de la politique de confidentialité")
                         ).check()
    pay_button.click()

    # --- The stand-in's hosted payment page, then back to our confirmation. -----------------
    pay_on_hosted_page(visitor, stripe_standin)
    expect(visitor).to_have_url(THANKS_URL)
    reference = THANKS_URL.search(visitor.url).group(1)  # type: ignore[union-attr]
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Merci pour votre commande")

    def paid_shown() -> None:
        expect(visitor.get_by_text("Votre paiement est confirmé.")).to_be_visible(timeout=1000)
        expect(visitor.locator(".order-status .badge")).to_have_text("Payée", timeout=1000)

    reload_until(visitor, paid_shown)
    expect(visitor.get_by_role("main")).to_contain_text("Validation prévue au plus tard le")
    order = Order.objects.get(reference=reference)
    assert order.status == OrderStatus.PAID
    assert order.billing_siret == VALID_SIRET
    assert order.terms is not None and order.terms_accepted_at is not None
    assert sorted(order.consents.values_list("purpose", flat=True)) == ["cgv",
                                                                        "confidentialite"]
    assert order.validation_due_at is not None
    labels = [line.label for line in order.lines.order_by("pk")]
    assert len(labels) == 2 and "Forfait Essentiel" in labels[0], labels
    assert "Prise de rendez-vous" in labels[1], labels
    assert any(reference in m.subject and "camille.moreau@example.fr" in m.to
               for m in mail.outbox)

    # --- A supervisor finds it on the board with its deadline, validates, activates. --------
    staff = new_page()
    login(staff, "superviseur@test.fr")
    staff.goto("/app/boutique/commandes/")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Commandes")
    row = staff.locator("tr[data-order]").filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SELARL Cabinet Moreau")
    expect(row).to_contain_text("Payée")
    expect(row.locator("time.countdown")).to_have_text(re.compile(r"^dans "))
    row.get_by_role("link", name=reference).click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(f"Commande {reference}")
    due = staff.locator("dt", has_text="Valider avant le").locator("xpath=following-sibling::dd[1]")
    expect(due.locator("time").first).to_have_text(re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))
    expect(due).to_contain_text("dans ")

    # Validation needs the order's checks done: « Vérifier » first (a confirm() dialog).
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.get_by_role("button", name="Vérifier", exact=True).click()
    expect(staff.get_by_text("Commande marquée comme vérifiée.")).to_be_visible()
    staff_transition(staff, "Valider", label("Je confirme la validation"))
    expect(staff.get_by_text("Commande validée.")).to_be_visible()
    expect(staff.get_by_role("heading", level=1).locator(".badge")).to_have_text("Validée")
    activation_due = staff.locator("dt", has_text="Activer avant le").locator(
        "xpath=following-sibling::dd[1]")
    expect(activation_due).to_contain_text("dans ")

    staff_transition(staff, "Activer", label("Je confirme l'activation"))
    expect(staff.get_by_text("Commande activée : abonnement créé, client prévenu.")
           ).to_be_visible()
    expect(staff.get_by_role("heading", level=1).locator(".badge")).to_have_text("Activée")
    subscriptions = staff.locator("section").filter(
        has=staff.get_by_role("heading", name="Abonnements créés"))
    expect(subscriptions.get_by_role("listitem")).not_to_have_count(0)
    order.refresh_from_db()
    assert order.status == OrderStatus.ACTIVATED
    order.account.refresh_from_db()
    assert order.account.status == "actif"  # the prospect created at checkout is a client now
    assert order.activated_at is not None and order.activation_due_at is not None
    assert order.activated_at <= order.activation_due_at  # activated within the deadline

    # --- The client (still logged in since the checkout) sees it active. --------------------
    visitor.goto("/espace/commandes/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Mes commandes")
    client_row = visitor.get_by_role("row").filter(has_text=reference)
    expect(client_row).to_have_count(1)
    expect(client_row.locator(".badge")).to_have_text("Activée")
    expect(client_row).to_contain_text("active depuis le")


# --- 2. A refused card, then the retry link ---------------------------------------------------

def test_refused_card_shows_the_failure_and_the_retry_pays(
        catalog: None, stripe_standin: Any, make_user: Any, new_page: Any, password: str,
        live_server: Any) -> None:
    from django.core import mail

    from permanence.accounts.models import ClientAccount, Membership
    from permanence.shop.models import Order, OrderStatus

    client = make_user("claire@test.fr", "client", full_name="Claire Client")
    account = ClientAccount.objects.create(
        name="Cabinet Client", slug="cabinet-client", sector="medical", status="actif",
        legal_name="SCP Client", siret=VALID_SIRET, billing_address="3 place du Marché, Lyon",
        billing_email="claire@test.fr")
    Membership.objects.create(user=client, account=account, role="titulaire")

    # A visitor fills a cart, then logs in from the checkout: the cart is kept.
    page = new_page()
    add_plan_to_cart(page, "essentiel")
    page.get_by_role("link", name="Commander").click()
    expect(page).to_have_url(re.compile(r"/commande/$"))
    page.get_by_role("link", name="Connectez-vous").click()
    expect(page).to_have_url(re.compile(r"/connexion/\?next=/commande/$"))
    page.get_by_label("Adresse e-mail").fill("claire@test.fr")
    page.get_by_label(re.compile(r"^Mot de passe\b")).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/commande/$"))
    expect(page.get_by_role("main")).to_contain_text("Forfait Essentiel")
    # Known client: the details come from the account.
    expect(page.get_by_label(label("SIRET"))).to_have_value(VALID_SIRET)
    expect(page.get_by_label(label("Raison sociale"))).to_have_value("SCP Client")
    page.get_by_role("button", name="Continuer vers le paiement").click()

    expect(page).to_have_url(re.compile(r"/commande/paiement/$"))
    page.get_by_role("radio", name="Carte bancaire").check()
    page.get_by_label(label("J'ai lu et j'accepte les conditions générales de vente")).check()
    page.get_by_label(label("J'ai pris connaissance de la politique de confidentialité")).check()
    page.get_by_role("button", name="Commande avec obligation de paiement").click()

    # The card is refused: back on the order page, in failure, with a way to pay again.
    pay_on_hosted_page(page, stripe_standin, action="Simuler un refus")
    order_url = re.compile(r"/commande/([^/]+)/$")
    expect(page).to_have_url(order_url)
    reference = order_url.search(page.url).group(1)  # type: ignore[union-attr]

    def failure_shown() -> None:
        expect(page.locator(".order-status .badge")).to_have_text("Paiement en échec",
                                                                  timeout=1000)

    reload_until(page, failure_shown)
    order = Order.objects.get(reference=reference)
    assert order.status == OrderStatus.FAILED
    assert order.account_id == account.pk

    # The failure e-mail carries the retry link; the order page offers the same.
    retry_url = f"{live_server.url}/commande/{reference}/payer/"
    failed_mails = [m for m in mail.outbox if "claire@test.fr" in m.to
                    and m.subject.startswith("Échec du paiement")]
    assert len(failed_mails) == 1, [m.subject for m in mail.outbox]
    assert retry_url in failed_mails[0].body, failed_mails[0].body
    page.get_by_role("link", name="Payer la commande").click()
    expect(page).to_have_url(retry_url)
    expect(page.get_by_role("alert")).to_contain_text("Le dernier paiement n'a pas abouti")
    page.get_by_role("button", name="Payer", exact=True).click()

    # Second attempt: a new session on the hosted page, paid this time.
    pay_on_hosted_page(page, stripe_standin)
    expect(page).to_have_url(re.compile(rf"/commande/{re.escape(reference)}/merci/$"))

    def paid_shown() -> None:
        expect(page.get_by_text("Votre paiement est confirmé.")).to_be_visible(timeout=1000)

    reload_until(page, paid_shown)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.payments.count() == 2  # one failed attempt, one paid


# --- 3. A quote requested, built, sent and accepted --------------------------------------------

def test_quote_requested_built_sent_accepted_then_paid(
        catalog: None, stripe_standin: Any, make_user: Any, new_page: Any, login: Any,
        live_server: Any) -> None:
    from django.core import mail

    from permanence.shop.models import Order, OrderStatus, Quote, QuoteStatus

    make_user("superviseur@test.fr", "supervisor", full_name="Sophie Superviseur")

    # --- A visitor asks for a quote. --------------------------------------------------------
    visitor = new_page()
    visitor.goto("/devis/demande/")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Demander un devis")
    visitor.get_by_label(label("Nom et prénom")).fill("Paul Lambert")
    visitor.get_by_label(label("Adresse e-mail")).fill("paul.lambert@example.fr")
    visitor.get_by_role("radio", name="Professionnel").check()
    visitor.get_by_label(label("Entreprise")).fill("Lambert Plomberie")
    visitor.get_by_label(label("Secteur d'activité")).select_option(index=1)
    visitor.get_by_label(label("Vos besoins")).fill(
        "Prise des appels pendant les chantiers, rendez-vous de devis.")
    visitor.get_by_label(label("Volume d'appels attendu")).fill("20 appels par jour")
    visitor.get_by_label(label("Plages horaires souhaitées")).fill("Lundi au vendredi, 8 h – 18 h")
    visitor.get_by_label(re.compile(r"^J'accepte que les informations")).check()
    visitor.get_by_role("button", name="Envoyer ma demande de devis").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Merci, votre demande de devis est bien reçue")
    quote = Quote.objects.get(requester_email="paul.lambert@example.fr")
    assert quote.status == QuoteStatus.REQUESTED
    expect(visitor.get_by_role("main")).to_contain_text(quote.reference)

    # --- A supervisor builds it from the catalog and sends it. -------------------------------
    staff = new_page()
    login(staff, "superviseur@test.fr")
    staff.goto("/app/boutique/devis/")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Devis")
    staff.get_by_role("link", name=quote.reference).click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(f"Devis {quote.reference}")
    expect(staff.get_by_role("main")).to_contain_text("Lambert Plomberie")
    offer_select = staff.locator("select[name='lines-0-offer']")
    essentiel = offer_select.locator("option").filter(has_text=re.compile(r"^Forfait Essentiel"))
    offer_select.select_option(value=essentiel.get_attribute("value"))
    staff.get_by_role("button", name="Enregistrer").click()
    expect(staff.get_by_text("Devis enregistré.")).to_be_visible()
    expect(staff.get_by_role("main")).to_contain_text("Total TTC : 178,80")  # 149,00 HT + 20 %
    staff.get_by_role("button", name="Envoyer", exact=True).click()
    expect(staff.get_by_text(f"Devis {quote.reference} envoyé au client (PDF et lien).")
           ).to_be_visible()
    expect(staff.get_by_role("heading", level=1).locator(".badge")).to_have_text("Envoyé")

    # --- The e-mail carries the link; the visitor accepts online. ---------------------------
    sent = [m for m in mail.outbox if "paul.lambert@example.fr" in m.to
            and quote.reference in m.subject and "/devis/" in m.body
            and "Consulter" in m.body]
    assert len(sent) == 1, [m.subject for m in mail.outbox]
    link = re.search(re.escape(live_server.url) + r"/devis/[\w-]+/", sent[0].body)
    assert link is not None, sent[0].body
    assert any(name.endswith(".pdf") for name, *_ in sent[0].attachments)
    visitor.goto(link.group(0))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(f"Devis {quote.reference}")
    expect(visitor.get_by_role("main")).to_contain_text("Forfait Essentiel")
    visitor.get_by_label(label("Adresse de facturation")).fill("8 chemin des Vignes, Nantes")
    visitor.get_by_label(label("Choisissez un mot de passe")).fill(CLIENT_PASSWORD)
    visitor.get_by_label(label("Confirmez le mot de passe")).fill(CLIENT_PASSWORD)
    accept = visitor.get_by_role("button", name="Accepter le devis")
    accept.click()  # CGV not ticked: refused, next to the box
    expect(visitor.get_by_role("alert").filter(
        has_text="accepter les conditions générales de vente")).to_be_visible()
    visitor.get_by_label(label("Choisissez un mot de passe")).fill(CLIENT_PASSWORD)
    visitor.get_by_label(label("Confirmez le mot de passe")).fill(CLIENT_PASSWORD)
    visitor.get_by_label(label("J'ai lu et j'accepte les conditions générales de vente")).check()
    accept.click()

    # --- An order is created from the quote; the visitor is taken to pay it. ----------------
    pay_url = re.compile(r"/commande/([^/]+)/payer/$")
    expect(visitor).to_have_url(pay_url)
    reference = pay_url.search(visitor.url).group(1)  # type: ignore[union-attr]
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        f"Payer la commande {reference}")
    order = Order.objects.get(reference=reference)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert order.quote_id == quote.pk
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert order.terms is not None

    visitor.get_by_role("button", name="Payer", exact=True).click()
    pay_on_hosted_page(visitor, stripe_standin)
    expect(visitor).to_have_url(re.compile(rf"/commande/{re.escape(reference)}/merci/$"))

    def paid_shown() -> None:
        expect(visitor.get_by_text("Votre paiement est confirmé.")).to_be_visible(timeout=1000)

    reload_until(visitor, paid_shown)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

"""Issue 9, "looks and works like a product": phone numbers (E.164 stored, national format
shown), the audit log read by people, menus that fit the role, the favicon and the bell icon,
the demo's quotes at each stage and its inbound addresses."""

from __future__ import annotations

import importlib
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client

from permanence.audit.actions import Action
from permanence.audit.display import describe_changes, model_name
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.validators import normalise_phone, phone_display

# --- Phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("01 45 00 00 04", "+33145000004"),
    ("01.45.00.00.04", "+33145000004"),
    ("+33 1 45 00 00 04", "+33145000004"),
    ("0033 1 45 00 00 04", "+33145000004"),
    ("+33 (0)1 45 00 00 04", "+33145000004"),
    ("06 12 34 56 78", "+33612345678"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_phone_numbers_are_stored_in_e164(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["0145", "01 45 00 00 04 99 99", "abc", "+33 0", ""])
def test_an_impossible_phone_number_is_refused_in_french(typed: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalise_phone(typed)
    assert "Numéro de téléphone invalide" in info.value.messages[0]


def test_phone_numbers_are_shown_in_the_national_format() -> None:
    assert phone_display("+33145000004") == "01 45 00 00 04"
    assert phone_display("+33612345678") == "06 12 34 56 78"
    assert phone_display("+442079460958") == "+44 20 7946 0958"  # abroad: international
    assert phone_display("pas un numéro") == "pas un numéro"
    rendered = Template("{% load phone %}<a href='tel:{{ n|tel }}'>{{ n|phone }}</a>").render(
        Context({"n": "+33145000004"}))
    assert rendered == "<a href='tel:+33145000004'>01 45 00 00 04</a>"


def test_migration_normalises_stored_numbers_and_keeps_what_it_cannot_parse() -> None:
    migration = importlib.import_module(
        "permanence.accounts.migrations.0004_model_names_and_phones_e164")
    assert migration.e164("+33 4 72 00 00 00") == "+33472000000"
    assert migration.e164("04 72 00 00 00") == "+33472000000"
    assert migration.e164("+33472000000") == "+33472000000"
    assert migration.e164("poste 12") == "poste 12"
    assert migration.e164("") == ""


def test_profile_phone_is_stored_in_e164_and_shown_nationally(agent: Any) -> None:
    client = Client()
    client.force_login(agent)
    response = client.post("/app/profil/", {"full_name": "Alice Agent", "phone": "01 45 00 00 04",
                                            "language": "fr"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.phone == "+33145000004"


def test_account_phone_channel_is_matched_however_it_is_typed(admin_user: Any,
                                                               account: Any) -> None:
    """Inbound lookups keep working: the channel is stored in E.164, and a number typed or
    received in any form normalises to the same value."""
    from permanence.accounts.services import channel_add

    channel = channel_add(actor=admin_user, account=account, kind="phone",
                          value="01 45 00 00 04")
    assert channel.value == "+33145000004"
    assert normalise_phone("+33 1 45 00 00 04") == channel.value
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/app/comptes/{account.pk}/").content.decode()
    assert "01 45 00 00 04" in page and "+33145000004" not in page


# --- The audit log, read by people --------------------------------------------------------


def test_model_names_are_the_french_verbose_names() -> None:
    assert model_name("shop.order") == "Commande"
    assert model_name("shop.quote") == "Devis"
    assert model_name("accounts.clientaccount") == "Compte client"
    assert model_name("billing.subscription") == "Abonnement"
    assert model_name("payments.payment") == "Paiement"
    assert model_name("nothing.here") == "nothing.here"


def test_changes_get_french_labels_euros_choices_and_local_times() -> None:
    rows = describe_changes("shop.order", {"total_ttc_cents": 12960})
    assert [(r.label, r.value) for r in rows] == [("Total TTC", "129,60\u00a0€")]
    rows = describe_changes("shop.order", {"status": ["payee", "validee"]})
    assert [(r.label, r.value) for r in rows] == [("Statut", "Payée → Validée")]
    rows = describe_changes("shop.order", {"checked_at": [None, "2026-07-01T10:00:00+00:00"]})
    assert rows[0].value == "— → 01/07/2026 12:00"  # Europe/Paris, summer time
    rows = describe_changes("shop.order", {"information_complete": [False, True]})
    assert rows[0].value == "non → oui"
    # A foreign key's key holding a label rather than an id is shown as written (no error).
    rows = describe_changes("accounts.apitoken", {"user": "agent@test.fr", "name": "standard"})
    assert [(r.label, r.value) for r in rows] == [("Utilisateur", "agent@test.fr"),
                                                  ("Nom", "standard")]
    rows = describe_changes("inbox.message", {"direction": "out"})
    assert (rows[0].label, rows[0].value) == ("Sens", "Envoyé")  # the field's own choice label


def test_the_audit_page_speaks_french(admin_user: Any, account: Any) -> None:
    from testkit.shop import make_order

    order = make_order(account=account)
    with clock.frozen(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)):
        audit_record(actor=admin_user, action=Action.UPDATE, target=order, account=account,
                     changes={"status": ["payee", "validee"], "total_ttc_cents": 12960})
    client = Client()
    client.force_login(admin_user)
    page = client.get("/app/audit/?action=update").content.decode()
    assert "Commande" in page and "shop.order" not in page
    assert "129,60\u00a0€" in page and "total_ttc_cents" not in page and "12960" not in page
    assert "Payée → Validée" in page and "payee" not in page.split("<tbody>")[1]
    assert "01/07/2026 12:00:00" in page  # 10:00 UTC shown in Europe/Paris


# --- Menus fit the role ------------------------------------------------------------------------


def _menu(user: Any) -> list[str]:
    client = Client()
    client.force_login(user)
    html = client.get("/app/").content.decode()
    nav = re.search(r'<nav aria-label="Navigation">(.*?)</nav>', html, re.S)
    assert nav
    return [re.sub(r"<[^>]+>", "", a).strip()
            for a in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(1), re.S)]


def test_agents_see_no_facturation_and_may_not_open_it(agent: Any) -> None:
    menu = _menu(agent)
    assert "Facturation" not in menu and "Agenda" in menu
    assert "Devis" not in menu and "Paiements" not in menu
    client = Client()
    client.force_login(agent)
    assert client.get("/app/facturation/").status_code == 403


def test_billing_staff_see_no_agenda_nor_call_recording(billing: Any) -> None:
    menu = _menu(billing)
    assert "Facturation" in menu and "Agenda" not in menu
    client = Client()
    client.force_login(billing)
    assert client.get("/app/agenda/").status_code == 403
    assert client.get("/app/boite/appel/").status_code == 403
    assert "Enregistrer un appel" not in client.get("/app/boite/").content.decode()


def test_supervisors_and_admins_see_every_section(supervisor: Any, admin_user: Any) -> None:
    for user in (supervisor, admin_user):
        menu = _menu(user)
        assert {"Facturation", "Agenda", "Devis", "Paiements"} <= set(menu), menu
    assert "Site et catalogue" in _menu(admin_user)


# --- Icons -------------------------------------------------------------------------------------


def test_bell_is_an_svg_icon_and_there_is_a_favicon(agent: Any) -> None:
    client = Client()
    client.force_login(agent)
    html = client.get("/app/").content.decode()
    bell = re.search(r'<a class="bell".*?</a>', html, re.S)
    assert bell and "<svg" in bell.group(0) and "🔔" not in html
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg"', html)
    response = Client().get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")


# --- Demo data ---------------------------------------------------------------------------------


def test_demo_has_a_quote_at_each_stage_and_prints_inbound_addresses(db: Any,
                                                                     settings: Any) -> None:
    from permanence.shop.models import Quote, QuoteStatus

    settings.MAILGATEWAY_PORT = 2626
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    statuses = set(Quote.objects.values_list("status", flat=True))
    assert {QuoteStatus.REQUESTED, QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.ACCEPTED,
            QuoteStatus.DECLINED, QuoteStatus.EXPIRED} <= statuses
    accepted = Quote.objects.get(status=QuoteStatus.ACCEPTED)
    assert accepted.orders.exists()
    count = Quote.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Quote.objects.count() == count  # idempotent
    printed = out.getvalue()
    for address in ("accueil@cabinet-martin.test", "secretariat@durand-avocats.test",
                    "contact@bati-renov.test", "service-client@jolies-bougies.test"):
        assert address in printed
    assert "127.0.0.1:2626" in printed and "send_test_mail" in printed


def test_send_test_mail_reaches_the_configured_port(settings: Any) -> None:
    """The command talks SMTP to MAILGATEWAY_HOST:MAILGATEWAY_PORT (here a local server)."""
    from aiosmtpd.controller import Controller

    from testkit.stack import free_port

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.MAILGATEWAY_HOST = "127.0.0.1"
        settings.MAILGATEWAY_PORT = port
        call_command("send_test_mail", "accueil@cabinet-martin.test", stdout=io.StringIO())
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in received] == [["accueil@cabinet-martin.test"]]

"""The pages: the board and an incident's page for billing roles only, the actions (note,
retry now, resolve), the transfer form on the invoice's page, the client's payment page for
their own invoices only, and the incident shown on the client's invoice."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from permanence.recovery.charges import charges_run
from permanence.recovery.models import PaymentIncident

from .conftest import make_invoice, make_subscription, paris

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(business: Any, standin: Any, run_committed: Any) -> PaymentIncident:
    sub = make_subscription(business, payment_method="pm_card_chargeDeclined")
    with time_machine.travel(paris(2027, 3, 1), tick=False):
        invoice = make_invoice(business, sub, paris(2027, 3, 1))
    with time_machine.travel(paris(2027, 3, 16), tick=False):
        run_committed(charges_run)
    return PaymentIncident.objects.get(invoice=invoice)


def test_board_is_for_billing_roles(client: Any, incident: PaymentIncident, billing: Any,
                                    supervisor: Any, admin_user: Any, agent: Any,
                                    client_user: Any) -> None:
    for user in (billing, supervisor, admin_user):
        client.force_login(user)
        page = client.get("/app/facturation/impayes/")
        assert page.status_code == 200
        assert incident.invoice.number in page.content.decode()
        assert client.get(f"/app/facturation/impayes/{incident.pk}/").status_code == 200
    for user in (agent, client_user):
        client.force_login(user)
        assert client.get("/app/facturation/impayes/").status_code == 403
        assert client.get(f"/app/facturation/impayes/{incident.pk}/").status_code == 403
    client.force_login(billing)
    closed = client.get("/app/facturation/impayes/?etat=clos").content.decode()
    assert incident.invoice.number not in closed


def test_incident_page_actions(client: Any, incident: PaymentIncident, billing: Any,
                               supervisor: Any, standin: Any) -> None:
    client.force_login(supervisor)  # reads, does not act
    assert client.post(f"/app/facturation/impayes/{incident.pk}/note/",
                       {"text": "Appelé le client"}).status_code == 403
    client.force_login(billing)
    client.post(f"/app/facturation/impayes/{incident.pk}/note/", {"text": "Appelé le client"})
    page = client.get(f"/app/facturation/impayes/{incident.pk}/").content.decode()
    assert "Appelé le client" in page and "Échec du paiement" in page
    before = len(standin.app.intents)
    with time_machine.travel(paris(2027, 3, 17), tick=False):
        client.force_login(billing)  # the session of the real day has expired by then
        response = client.post(f"/app/facturation/impayes/{incident.pk}/relancer/")
        assert response.status_code == 302
        assert len(standin.app.intents) == before + 1  # a new attempt, declined again
        client.post(f"/app/facturation/impayes/{incident.pk}/clore/",
                    {"note": "Passé en perte"})
    incident.refresh_from_db()
    assert incident.state == "resolu"
    # The last step written (by id: the note was written on the real day, the closing on a
    # travelled one, which may sort either way in time).
    assert list(incident.events.order_by("pk").values_list("kind", flat=True))[-1] == "resolu"


def test_transfer_form_on_the_invoice_page(client: Any, incident: PaymentIncident,
                                           billing: Any, run_committed: Any) -> None:
    client.force_login(billing)
    number = incident.invoice.number
    page = client.get(f"/app/facturation/factures/{number}/").content.decode()
    assert "Rapprocher un virement reçu" in page and "Voir l'incident" in page
    with time_machine.travel(paris(2027, 3, 20), tick=False):
        client.force_login(billing)
        response = run_committed(client.post, f"/app/facturation/factures/{number}/virement/",
                                 {"amount": "120,00", "received_on": "2027-03-19",
                                  "bank_label": "VIR SEPA CABINET MARTIN F"})
    assert response.status_code == 302
    incident.refresh_from_db()
    incident.invoice.refresh_from_db()
    assert incident.invoice.status == "payee"
    assert incident.state == "resolu"


def test_client_pays_only_their_own_invoices(client: Any, incident: PaymentIncident,
                                             client_user: Any, outsider_client: Any,
                                             other_account: Any) -> None:
    number = incident.invoice.number
    client.force_login(outsider_client)
    assert client.get(f"/espace/factures/{number}/payer/").status_code == 404
    assert client.post(f"/espace/factures/{number}/payer/").status_code == 404
    client.force_login(client_user)
    page = client.get(f"/espace/factures/{number}/payer/").content.decode()
    assert "Payer 120,00" in page
    invoice_page = client.get(f"/espace/factures/{number}/").content.decode()
    assert 'data-incident-state="ouvert"' in invoice_page
    assert f"/espace/factures/{number}/payer/" in invoice_page
    assert "Rapprocher" not in invoice_page

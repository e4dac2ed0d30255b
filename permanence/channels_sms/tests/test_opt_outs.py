"""SMS → Désinscriptions: the numbers that sent STOP, per account, for staff on the accounts
they see (an agent: its assigned accounts only; the provider's shared-sender opt-outs only for
those who see every account); filter by account, pages of 50, an empty state, and a number
of queries that does not grow with the rows."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.channels_sms.models import OptOut
from permanence.core import clock

from .conftest import CONTACT_NUMBER, twilio_inbound_params, twilio_post

pytestmark = pytest.mark.django_db

URL = "/app/sms/desinscriptions/"


def _get(user: Any, **params: Any) -> Any:
    browser = Client()
    browser.force_login(user)
    return browser.get(URL, params)


def _text(response: Any) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _opt_outs(account: Any, count: int, *, first: int = 0) -> None:
    now = clock.now()
    OptOut.objects.bulk_create(
        OptOut(account=account, number=f"+3361100{first + n:04d}", keyword="STOP",
               created_at=now - timedelta(minutes=first + n)) for n in range(count))


def test_the_url_is_french_and_named() -> None:
    assert reverse("sms:opt_outs") == URL


def test_a_stop_received_by_sms_is_listed(sms_account: Any, supervisor: Any, client: Client,
                                          django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        twilio_post(client, "/api/v1/sms/twilio/inbound",
                    twilio_inbound_params("STOP", sid="SM" + "5" * 32))
    page = _text(_get(supervisor))
    assert CONTACT_NUMBER in page and sms_account.name in page and ">STOP<" in page


def test_agents_see_their_accounts_only(account: Any, other_account: Any, agent: Any,
                                        supervisor: Any) -> None:
    now = clock.now()
    OptOut.objects.create(account=account, number="+33611000001", keyword="STOP",
                          created_at=now)
    OptOut.objects.create(account=other_account, number="+33611000002", keyword="ARRET",
                          created_at=now)
    OptOut.objects.create(account=None, number="+33611000003", keyword="STOP", created_at=now)
    mine = _text(_get(agent))
    assert "+33611000001" in mine
    assert "+33611000002" not in mine and other_account.name not in mine
    assert "+33611000003" not in mine  # shared sender: for those who see every account
    # Asking for an account the agent does not see reveals nothing of it.
    assert "+33611000002" not in _text(_get(agent, account=other_account.pk))
    everything = _text(_get(supervisor))
    assert all(n in everything for n in ("+33611000001", "+33611000002", "+33611000003"))
    assert "Tous les comptes (expéditeur partagé)" in everything
    only_other = _text(_get(supervisor, account=other_account.pk))
    assert "+33611000002" in only_other
    assert "+33611000001" not in only_other and "+33611000003" not in only_other


def test_clients_are_refused(account: Any, client_user: Any) -> None:
    assert _get(client_user).status_code == 403


def test_empty_state(account: Any, admin_user: Any) -> None:
    page = _text(_get(admin_user))
    assert "Aucun numéro ne s'est désinscrit des SMS pour ces comptes." in page
    assert "<table" not in page


def test_pages_of_fifty_newest_first(account: Any, supervisor: Any) -> None:
    _opt_outs(account, 51)
    first = _text(_get(supervisor, account=account.pk))
    assert "+33611000000" in first and "+33611000050" not in first
    assert "Page 1 / 2" in first and f"account={account.pk}&amp;page=2" in _get(
        supervisor, account=account.pk).content.decode()
    second = _text(_get(supervisor, account=account.pk, page=2))
    assert "+33611000050" in second and "+33611000000" not in second


def test_queries_do_not_grow_with_the_rows(account: Any, other_account: Any,
                                           supervisor: Any) -> None:
    browser = Client()
    browser.force_login(supervisor)
    _opt_outs(account, 1)
    with CaptureQueriesContext(connection) as few:
        _text(browser.get(URL))
    _opt_outs(account, 30, first=1)
    _opt_outs(other_account, 30, first=31)
    with CaptureQueriesContext(connection) as many:
        page = _text(browser.get(URL))
    assert other_account.name in page and account.name in page  # the accounts of 50 rows
    assert len(many) == len(few) <= 10, [q["sql"] for q in many.captured_queries]

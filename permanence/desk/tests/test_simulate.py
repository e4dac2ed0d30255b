"""`manage.py simulate_call` (signed events over HTTP to a running server) and the
« Simuler un appel » button (supervisors, telephony test mode only)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from permanence.desk.models import Call, Callback, CallEvent, CallOutcome, CallState
from testkit.stack import free_port

from .calls_helpers import number_account


@pytest.mark.django_db(transaction=True)
def test_the_command_posts_signed_events_to_the_server(live_server: Any, account: Any,
                                                       agent: Any) -> None:
    number_account(account)
    out = StringIO()
    call_command("simulate_call", "--to", "01 45 00 00 04", "--agent", "agent@test.fr",
                 "--url", live_server.url, "--pace", "0", stdout=out)
    printed = out.getvalue()
    for name in ("new", "ringing", "answered", "hangup"):
        assert f"  {name}" in printed
    assert printed.count("→ 200") == 4
    call = Call.objects.get()
    assert call.account == account and call.agent == agent
    assert call.outcome == CallOutcome.ANSWERED and call.state == CallState.WRAPUP
    assert CallEvent.objects.count() == 4

    call_command("simulate_call", "--to", "+33145000004", "--from", "0698765432",
                 "--abandon", "--url", live_server.url, "--pace", "0", stdout=StringIO())
    abandoned = Call.objects.exclude(pk=call.pk).get()
    assert abandoned.outcome == CallOutcome.ABANDONED
    assert Callback.objects.get(call=abandoned).number == "+33698765432"


def test_the_command_says_when_the_server_is_unreachable() -> None:
    with pytest.raises(CommandError, match="injoignable"):
        call_command("simulate_call", "--to", "+33145000004",
                     "--url", f"http://127.0.0.1:{free_port()}", stdout=StringIO())


def test_the_command_refuses_a_bad_number() -> None:
    with pytest.raises(CommandError, match="invalide"):
        call_command("simulate_call", "--to", "pas un numéro", stdout=StringIO())


@pytest.mark.django_db
def test_the_button_in_test_mode(client: Any, supervisor: Any, account: Any,
                                 settings: Any) -> None:
    number_account(account)
    client.force_login(supervisor)
    page = client.get(reverse("desk:agents"))
    assert "Simuler un appel" in page.content.decode()
    response = client.post(reverse("desk:simulate"), {"to": "01 45 00 00 04",
                                                      "from_number": "06 12 34 56 78",
                                                      "abandon": "on"}, follow=True)
    assert "Appel simulé" in response.content.decode()
    call = Call.objects.get()
    assert call.account == account and call.outcome == CallOutcome.ABANDONED
    assert CallEvent.objects.filter(source="simulator").count() == 3
    settings.TELEPHONY_TEST_MODE = False
    assert "Simuler un appel" not in client.get(reverse("desk:agents")).content.decode()
    assert client.post(reverse("desk:simulate"), {"to": "0145000004"}).status_code == 404

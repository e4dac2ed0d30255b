"""Consignes over the API: the same rules as the pages (field errors as JSON 422, versions,
another account is a 404, reading confirmed)."""

from __future__ import annotations

import json
from typing import Any

from permanence.desk.consignes import consigne_current, consigne_save
from permanence.desk.models import ConsigneRead, ConsigneVersion


def _url(account: Any, tail: str = "") -> str:
    return f"/api/v1/accounts/{account.pk}/consignes{tail}"


def _put(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def test_get_returns_the_version_in_force_and_the_greeting(
        api_client_for: Any, account: Any, agent: Any, supervisor: Any) -> None:
    empty = api_client_for(agent).get(_url(account)).json()
    assert empty["version"] is None and empty["content"]["motifs"] == []
    consigne_save(actor=supervisor, account=account,
                  content={"greeting": "{compte}, bonjour.", "notes": "Vouvoyer."})
    body = api_client_for(agent).get(_url(account)).json()
    assert body["version"]["number"] == 1
    assert body["version"]["author"] == supervisor.email
    assert body["greeting"] == "Cabinet Martin, bonjour."
    assert body["unread_by"] is None  # only supervisors see who has not read
    assert api_client_for(supervisor).get(_url(account)).json()["unread_by"] == [agent.email]


def test_client_puts_a_new_version(api_client_for: Any, account: Any, client_user: Any) -> None:
    response = _put(api_client_for(client_user), _url(account),
                    {"content": {"notes": "Par l'API"}, "summary": "Depuis notre logiciel"})
    assert response.status_code == 200
    version = consigne_current(account)
    assert version.by_client and version.summary == "Depuis notre logiciel"
    versions = api_client_for(client_user).get(_url(account, "/versions")).json()
    assert [v["number"] for v in versions] == [1]


def test_invalid_content_is_a_422_naming_the_fields(api_client_for: Any, account: Any,
                                                    agent: Any) -> None:
    response = _put(api_client_for(agent), _url(account), {"content": {
        "recipients": [{"name": "Dr Martin", "email": "faux"}]}})
    assert response.status_code == 422
    assert response.json()["errors"]["recipients.0.email"] == ["Adresse e-mail invalide."]
    assert not ConsigneVersion.objects.exists()


def test_another_account_is_a_404(api_client_for: Any, account: Any, other_account: Any,
                                  client_user: Any, agent: Any) -> None:
    for user in (client_user, agent):
        client = api_client_for(user)
        assert client.get(_url(other_account)).status_code == 404
        assert _put(client, _url(other_account), {"content": {}}).status_code == 404
    assert not ConsigneVersion.objects.exists()


def test_reading_is_confirmed_for_the_version_in_force(
        api_client_for: Any, account: Any, agent: Any, supervisor: Any) -> None:
    consigne_save(actor=supervisor, account=account, content={"notes": "A"})
    client = api_client_for(agent)
    stale = client.post(_url(account, "/read"), {"version": 7}, content_type="application/json")
    assert stale.status_code == 409
    response = client.post(_url(account, "/read"), {"version": 1},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["version"] == 1
    assert ConsigneRead.objects.filter(user=agent).count() == 1

"""Login by e-mail, login rate limiting (django-axes) and the password-reset journey."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from conftest import PASSWORD
from permanence.accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN_URL = "/connexion/"
NEW_PASSWORD = "Encore-un-autre-secret-2026"


def post_login(client: Client, email: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip)


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def is_lockout(response: Any) -> bool:
    return response.status_code in (403, 429) and "Trop de tentatives" in response.content.decode()


# --- Login by e-mail --------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["agent@test.fr", "AGENT@Test.FR", "  Agent@test.fr "])
def test_login_by_email_is_case_insensitive(agent: User, typed: str) -> None:
    client = Client()
    response = post_login(client, typed, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/apres-connexion/"
    assert logged_in_user_id(client) == str(agent.pk)


def test_wrong_password_shows_french_error(agent: User) -> None:
    client = Client()
    response = post_login(client, agent.email, "mauvais")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()
    assert logged_in_user_id(client) is None


def test_inactive_user_cannot_log_in(agent: User) -> None:
    agent.is_active = False
    agent.save()
    client = Client()
    response = post_login(client, agent.email, PASSWORD)
    assert response.status_code == 200
    assert logged_in_user_id(client) is None


# --- Rate limiting ----------------------------------------------------------------------------

def fail_until_limit(email: str, ip: str = "10.0.0.1") -> list[Any]:
    return [post_login(Client(), email, f"faux-{i}", ip=ip)
            for i in range(settings.AXES_FAILURE_LIMIT)]


def test_lockout_after_failure_limit_even_with_right_password(agent: User) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    responses = fail_until_limit(agent.email)
    # The attempts before the limit are ordinary failures.
    assert all(r.status_code == 200 for r in responses[:-1])
    client = Client()
    response = post_login(client, agent.email, PASSWORD)
    assert is_lockout(response)
    assert logged_in_user_id(client) is None


def test_lockout_is_per_user_and_ip(agent: User, other_agent: User) -> None:
    fail_until_limit(agent.email, ip="10.0.0.1")
    # Another user from the same address is not locked.
    client = Client()
    assert post_login(client, other_agent.email, PASSWORD, ip="10.0.0.1").status_code == 302
    assert logged_in_user_id(client) == str(other_agent.pk)
    # The same user from another address is not locked either.
    client = Client()
    assert post_login(client, agent.email, PASSWORD, ip="10.0.0.2").status_code == 302
    assert logged_in_user_id(client) == str(agent.pk)
    # But from the first address, still locked.
    assert is_lockout(post_login(Client(), agent.email, PASSWORD, ip="10.0.0.1"))


def test_lockout_cannot_be_bypassed_by_changing_the_email_case(agent: User) -> None:
    for i, typed in enumerate(["agent@test.fr", "Agent@test.fr", "AGENT@test.fr",
                               "agent@TEST.fr", "aGent@test.fr"]):
        post_login(Client(), typed, f"faux-{i}")
    client = Client()
    response = post_login(client, "AgEnT@tEsT.fr", PASSWORD)
    assert is_lockout(response)
    assert logged_in_user_id(client) is None


def test_successful_login_resets_the_failure_count(agent: User) -> None:
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(Client(), agent.email, f"faux-{i}")
    assert post_login(Client(), agent.email, PASSWORD).status_code == 302
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(Client(), agent.email, f"faux-{i}")
    client = Client()
    assert post_login(client, agent.email, PASSWORD).status_code == 302
    assert logged_in_user_id(client) == str(agent.pk)


# --- Password reset ---------------------------------------------------------------------------

LINK_RE = re.compile(r"http://testserver(/mot-de-passe/nouveau/[^/\s]+/[^/\s]+/)")


def request_reset(client: Client, email: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post("/mot-de-passe/oubli/", {"email": email})


def test_password_reset_journey(agent: User, django_capture_on_commit_callbacks: Any) -> None:
    client = Client()
    assert client.get("/mot-de-passe/oubli/").status_code == 200
    response = request_reset(client, "Agent@Test.fr", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/mot-de-passe/oubli/envoye/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@test.fr"]
    assert "\n" not in message.subject
    match = LINK_RE.search(message.body)
    assert match, message.body
    link = match.group(1)

    # The link leads to the "choose a password" form (Django moves the token to the session).
    response = client.get(link, follow=True)
    assert response.status_code == 200
    set_url = response.redirect_chain[-1][0]
    assert set_url.endswith("/set-password/")
    assert 'name="new_password1"' in response.content.decode()

    response = client.post(set_url, {"new_password1": NEW_PASSWORD,
                                     "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/mot-de-passe/nouveau/termine/"

    # The new password works, the old one does not, and the link is spent.
    assert post_login(Client(), agent.email, PASSWORD).status_code == 200
    fresh = Client()
    assert post_login(fresh, agent.email, NEW_PASSWORD).status_code == 302
    assert logged_in_user_id(fresh) == str(agent.pk)
    spent = Client().get(link, follow=True)
    assert 'name="new_password1"' not in spent.content.decode()


def test_reset_email_is_sent_only_after_commit(agent: User,
                                               django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Client().post("/mot-de-passe/oubli/", {"email": agent.email})
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [[agent.email]]


def test_reset_for_unknown_email_sends_nothing_but_looks_the_same(
        db: Any, django_capture_on_commit_callbacks: Any) -> None:
    response = request_reset(Client(), "inconnu@test.fr", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/mot-de-passe/oubli/envoye/"
    assert mail.outbox == []


def test_tampered_reset_link_is_refused(agent: User,
                                        django_capture_on_commit_callbacks: Any) -> None:
    request_reset(Client(), agent.email, django_capture_on_commit_callbacks)
    link = LINK_RE.search(mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    tampered = link[:-3] + ("a" if link[-3] != "a" else "b") + link[-2:]
    response = Client().get(tampered, follow=True)
    assert response.status_code == 200
    assert 'name="new_password1"' not in response.content.decode()

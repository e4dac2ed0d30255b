"""Staff two-factor authentication: TOTP against RFC 6238, enrolment, the login's code step,
backup codes, replays, the policy, an administrator's reset, sessions and audit."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from conftest import PASSWORD
from permanence.accounts import services_two_factor, totp
from permanence.accounts.models import BackupCode, User
from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.management.commands import runstack

# --- RFC 6238 (appendix B) ---------------------------------------------------------------------

SEED_SHA1 = b"12345678901234567890"
SEED_SHA256 = b"12345678901234567890123456789012"
SEED_SHA512 = b"1234567890" * 6 + b"1234"  # 64 bytes
RFC_VECTORS = [  # (time, TOTP SHA-1, SHA-256, SHA-512), 8 digits
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("t", "sha1", "sha256", "sha512"), RFC_VECTORS)
def test_totp_matches_rfc_6238_vectors(t: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp.totp(SEED_SHA1, t, digits=8) == sha1
    assert totp.totp(SEED_SHA256, t, digits=8, digest=hashlib.sha256) == sha256
    assert totp.totp(SEED_SHA512, t, digits=8, digest=hashlib.sha512) == sha512
    # The 6-digit code our staff type is the last six digits of the same value.
    assert totp.totp(SEED_SHA1, t) == sha1[-6:]


def test_verify_accepts_one_step_of_drift_and_refuses_replays() -> None:
    secret = totp.generate_secret()
    now = 1_700_000_000.0
    step = totp.time_step(now)
    previous, current, following = (totp.totp_now(secret, now + d * 30) for d in (-1, 0, 1))
    assert totp.totp_verify(secret, current, now, None) == step
    assert totp.totp_verify(secret, previous, now, None) == step - 1
    assert totp.totp_verify(secret, following, now, None) == step + 1
    assert totp.totp_verify(secret, totp.totp_now(secret, now - 60), now, None) is None
    assert totp.totp_verify(secret, current, now, step) is None  # already used
    assert totp.totp_verify(secret, previous, now, step - 1) is None
    assert totp.totp_verify(secret, "12345", now, None) is None
    assert totp.totp_verify(secret, "abcdef", now, None) is None


def test_secret_is_encrypted_at_rest(settings: Any) -> None:
    secret = totp.generate_secret()
    token = totp.encrypt_secret(secret)
    assert secret not in token
    assert totp.decrypt_secret(token) == secret
    settings.SECRET_KEY = "another-key-" + "x" * 40
    assert totp.decrypt_secret(token) == ""


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "agent@test.fr")
    assert uri.startswith("otpauth://totp/Permanence:agent@test.fr?")
    assert "secret=JBSWY3DPEHPK3PXP" in uri and "issuer=Permanence" in uri
    assert "digits=6" in uri and "period=30" in uri


# --- Helpers -----------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db

SECURITY_URL = "/app/profil/securite/"
LOGIN_URL = "/connexion/"
CODE_URL = "/connexion/code/"


def code_for(user: User, offset_steps: int = 0) -> str:
    user.refresh_from_db()
    secret = totp.decrypt_secret(user.totp_secret_encrypted)
    return totp.totp_now(secret, clock.now().timestamp() + offset_steps * 30)


def enrolled(user: User) -> list[str]:
    """Enrols `user` through the services; returns the backup codes."""
    services_two_factor.two_factor_start(actor=user)
    return services_two_factor.two_factor_confirm(actor=user, code=code_for(user))


def password_step(client: Client, user: User, ip: str = "10.0.0.9") -> Any:
    return client.post(LOGIN_URL, {"username": user.email, "password": PASSWORD},
                       REMOTE_ADDR=ip)


def frozen_at(seconds_from_now: float = 0) -> Any:
    return clock.frozen(datetime.now(UTC) + timedelta(seconds=seconds_from_now))


def audit_changes(user: User) -> list[dict[str, Any]]:
    return [e.changes for e in AuditEvent.objects.filter(target_id=str(user.pk),
                                                        target_type="accounts.user")
            .order_by("pk")]


# --- Enrolment ---------------------------------------------------------------------------------

def test_enrolment_through_the_security_page(agent: User) -> None:
    client = Client()
    client.force_login(agent)
    page = client.get(SECURITY_URL)
    assert page.status_code == 200
    assert "Activer la double authentification" in page.content.decode()

    assert client.post(SECURITY_URL, {"start": "1"}).status_code == 302
    page = client.get(SECURITY_URL).content.decode()
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert shown is not None
    secret = shown.group(1).replace(" ", "")
    assert "otpauth://totp/Permanence:agent@test.fr?secret=" + secret in page.replace("&amp;", "&")
    # The same key as a QR code, drawn inline (segno), with its text alternative.
    assert '<svg' in page and 'class="totp-qr"' in page and "<title>Code QR" in page
    agent.refresh_from_db()
    assert secret not in agent.totp_secret_encrypted  # stored encrypted
    assert not agent.two_factor_enabled

    wrong = client.post(SECURITY_URL, {"confirm": "1", "code": "000000"})
    assert wrong.status_code == 422
    agent.refresh_from_db()
    assert not agent.two_factor_enabled

    done = client.post(SECURITY_URL, {"confirm": "1",
                                      "code": totp.totp_now(secret, clock.now().timestamp())})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    agent.refresh_from_db()
    assert agent.two_factor_enabled
    stored = set(BackupCode.objects.filter(user=agent).values_list("code_hash", flat=True))
    assert stored == {totp.hash_backup_code(c) for c in codes}  # only hashes are kept
    assert not any(c in h for c in codes for h in stored)
    # The current session survives the change; the codes are not shown again.
    again = client.get(SECURITY_URL)
    assert again.status_code == 200
    assert codes[0] not in again.content.decode()
    assert "10 codes de secours" in again.content.decode()
    assert {"two_factor": "enabled"} in audit_changes(agent)


def test_regenerate_backup_codes_and_disable(agent: User) -> None:
    old = enrolled(agent)
    client = Client()
    client.force_login(agent)
    with frozen_at(30):
        response = client.post(SECURITY_URL, {"regenerate": "1", "code": code_for(agent)})
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert not BackupCode.objects.filter(code_hash=totp.hash_backup_code(old[0])).exists()

    assert client.post(SECURITY_URL, {"disable": "1", "code": "999999"}).status_code == 422
    agent.refresh_from_db()
    assert agent.two_factor_enabled
    with frozen_at(60):
        assert client.post(SECURITY_URL, {"disable": "1", "code": code_for(agent)}
                           ).status_code == 302
    agent.refresh_from_db()
    assert not agent.two_factor_enabled and agent.totp_secret_encrypted == ""
    assert not BackupCode.objects.filter(user=agent).exists()
    assert client.get(SECURITY_URL).status_code == 200  # still logged in here
    changes = audit_changes(agent)
    assert {"two_factor": "backup_codes_regenerated"} in changes
    assert {"two_factor": "disabled"} in changes


# --- Login -------------------------------------------------------------------------------------

def test_login_without_two_factor_is_unchanged(agent: User) -> None:
    client = Client()
    response = password_step(client, agent)
    assert response.status_code == 302 and response.url == "/apres-connexion/"
    assert client.session.get("_auth_user_id") == str(agent.pk)


def test_login_with_code(agent: User) -> None:
    enrolled(agent)
    client = Client()
    response = password_step(client, agent)
    assert response.status_code == 302 and response.url == CODE_URL
    assert "_auth_user_id" not in client.session  # not logged in yet
    assert client.get("/app/").status_code == 302
    assert client.get(CODE_URL).status_code == 200
    with frozen_at(30):
        done = client.post(CODE_URL, {"code": code_for(agent)})
    assert done.status_code == 302 and done.url == "/apres-connexion/"
    assert client.session.get("_auth_user_id") == str(agent.pk)
    assert "two_factor_pending" not in client.session


def test_login_with_a_backup_code_once(agent: User) -> None:
    codes = enrolled(agent)
    client = Client()
    password_step(client, agent)
    done = client.post(CODE_URL, {"code": codes[3].upper()})
    assert done.status_code == 302
    assert client.session.get("_auth_user_id") == str(agent.pk)
    assert BackupCode.objects.get(user=agent, code_hash=totp.hash_backup_code(codes[3])).used_at

    again = Client()
    password_step(again, agent)
    refused = again.post(CODE_URL, {"code": codes[3]})
    assert refused.status_code == 422
    assert "_auth_user_id" not in again.session
    assert again.post(CODE_URL, {"code": codes[4]}).status_code == 302


def test_wrong_code_is_refused_audited_and_limited(agent: User) -> None:
    enrolled(agent)
    client = Client()
    password_step(client, agent)
    for _ in range(4):
        response = client.post(CODE_URL, {"code": "000000"}, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 422
        assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(action="login_failed", target_id=str(agent.pk))
    assert failures.count() == 4
    assert failures.first().changes == {"email": agent.email, "step": "two_factor"}
    # The fifth failure ends the pending login (and django-axes, at its limit of 5, locks
    # this address out for this user).
    fifth = client.post(CODE_URL, {"code": "000000"}, REMOTE_ADDR="10.0.0.9")
    assert fifth.status_code in (302, 403, 429)
    assert "two_factor_pending" not in client.session
    assert "_auth_user_id" not in client.session
    locked = password_step(Client(), agent, ip="10.0.0.9")
    assert locked.status_code in (403, 429) and "Trop de tentatives" in locked.content.decode()


def test_replayed_code_is_refused(agent: User) -> None:
    enrolled(agent)
    with frozen_at(30):
        first = Client()
        password_step(first, agent)
        code = code_for(agent)
        assert first.post(CODE_URL, {"code": code}).status_code == 302
        second = Client()
        password_step(second, agent)
        assert second.post(CODE_URL, {"code": code}).status_code == 422
        assert "_auth_user_id" not in second.session


def test_expired_pending_login(agent: User) -> None:
    enrolled(agent)
    client = Client()
    password_step(client, agent)
    with frozen_at(301):
        response = client.post(CODE_URL, {"code": code_for(agent)})
    assert response.status_code == 302 and response.url == LOGIN_URL
    assert "_auth_user_id" not in client.session
    assert "two_factor_pending" not in client.session


def test_code_step_without_password_step_goes_to_login(agent: User) -> None:
    response = Client().post(CODE_URL, {"code": "123456"})
    assert response.status_code == 302 and response.url == LOGIN_URL


# --- Policy ------------------------------------------------------------------------------------

def test_policy_sends_an_admin_without_two_factor_to_enrol(settings: Any, admin_user: User,
                                                            agent: User) -> None:
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin", "billing"]
    client = Client()
    client.force_login(admin_user)
    for url in ("/app/", "/app/comptes/", "/app/equipe/"):
        response = client.get(url)
        assert response.status_code == 302 and response.url == SECURITY_URL, url
    assert client.get(SECURITY_URL).status_code == 200
    htmx = client.get("/app/comptes/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == SECURITY_URL
    assert client.post("/deconnexion/").status_code == 302  # logout still works
    # An agent is not concerned by this policy.
    other = Client()
    other.force_login(agent)
    assert other.get("/app/").status_code == 200
    # Enrolled, the administrator uses the back-office again.
    enrolled(admin_user)
    client = Client()
    client.force_login(admin_user)
    assert client.get("/app/").status_code == 200


def test_policy_does_not_concern_api_tokens(settings: Any, admin_user: User,
                                            api_client_for: Any) -> None:
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin"]
    assert api_client_for(admin_user).get("/api/v1/me").status_code == 200


def test_policy_off_by_default_in_tests(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    assert client.get("/app/").status_code == 200


# --- Administrator's reset ---------------------------------------------------------------------

def test_admin_resets_a_staff_members_two_factor(admin_user: User, agent: User) -> None:
    enrolled(agent)
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/app/").status_code == 200
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(f"/app/equipe/{agent.pk}/").content.decode()
    assert f"/app/equipe/{agent.pk}/double-authentification/reinitialiser/" in page
    response = admin.post(f"/app/equipe/{agent.pk}/double-authentification/reinitialiser/")
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.two_factor_enabled and not BackupCode.objects.filter(user=agent).exists()
    event = AuditEvent.objects.get(target_id=str(agent.pk),
                                   changes={"two_factor": "reset_by_administrator"})
    assert event.actor_id == admin_user.pk
    # The member's sessions ended; the password alone logs in again.
    assert agent_client.get("/app/").status_code == 302
    fresh = Client()
    assert password_step(fresh, agent).url == "/apres-connexion/"


def test_only_administrators_reset(supervisor: User, agent: User) -> None:
    enrolled(agent)
    client = Client()
    client.force_login(supervisor)
    response = client.post(f"/app/equipe/{agent.pk}/double-authentification/reinitialiser/")
    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.two_factor_enabled


# --- Sessions ----------------------------------------------------------------------------------

def test_enabling_and_disabling_end_the_other_sessions(agent: User) -> None:
    other = Client()
    other.force_login(agent)
    assert other.get("/app/").status_code == 200
    enrolled(agent)
    assert other.get("/app/").status_code == 302  # signed out
    again = Client()
    again.force_login(agent)
    assert again.get("/app/").status_code == 200
    with frozen_at(30):
        services_two_factor.two_factor_disable(actor=agent, code=code_for(agent))
    assert again.get("/app/").status_code == 302


def test_password_change_ends_the_other_sessions(agent: User) -> None:
    other = Client()
    other.force_login(agent)
    assert other.get("/app/").status_code == 200
    agent.set_password("Un-tout-nouveau-secret-77")
    agent.save()
    assert other.get("/app/").status_code == 302


def test_deactivation_ends_sessions_and_api_tokens(admin_user: User, agent: User,
                                                   api_client_for: Any) -> None:
    session = Client()
    session.force_login(agent)
    api = api_client_for(agent)
    assert session.get("/app/").status_code == 200
    assert api.get("/api/v1/me").status_code == 200
    admin = Client()
    admin.force_login(admin_user)
    response = admin.post(f"/app/equipe/{agent.pk}/", {
        "email": agent.email, "full_name": agent.full_name, "phone": "", "role": agent.role,
    })  # is_active unticked
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    assert session.get("/app/").status_code == 302
    assert api.get("/api/v1/me").status_code == 401


# --- The demo ----------------------------------------------------------------------------------

def test_demo_prints_the_two_factor_policy(settings: Any) -> None:
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    assert "optional in this demo" in runstack.two_factor_line()
    assert "administrators and billing staff" in runstack.two_factor_line()
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin", "billing"]
    assert runstack.two_factor_line().endswith("required for the roles admin, billing.")


def test_make_demo_runs_with_the_policy_empty() -> None:
    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert 'TWO_FACTOR_REQUIRED_ROLES="$${TWO_FACTOR_REQUIRED_ROLES-}"' in demo

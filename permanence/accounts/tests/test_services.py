"""Account, channel, staff, operator and API-token services, and the account visibility gate."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from permanence.accounts import services
from permanence.accounts.models import (
    ApiToken,
    ClientAccount,
    ContactChannel,
    Membership,
    OperatorIdentity,
    User,
)
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.models import AuditEvent
from permanence.core.errors import DomainError, Forbidden

pytestmark = pytest.mark.django_db

VALID_SIRET = "73282932000074"  # SIREN 732829320
VALID_VAT = "FR44732829320"
VALID_IBAN = "FR7630006000011234567890189"


def events_for(obj: Any, action: str | None = None) -> list[AuditEvent]:
    qs = AuditEvent.objects.filter(target_type=obj._meta.label_lower, target_id=str(obj.pk))
    if action:
        qs = qs.filter(action=action)
    return list(qs)


# --- account_create / account_update ----------------------------------------------------------

def test_account_create_normalises_ids_generates_slug_and_audits(admin_user: User) -> None:
    account = services.account_create(actor=admin_user, data={
        "name": "  Cabinet Dupont & Fils ", "siret": "732 829 320 00074",
        "vat_number": "FR 44 732829320", "sector": "medical", "notes": "secret interne",
    })
    account.refresh_from_db()
    assert account.name == "Cabinet Dupont & Fils"
    assert account.slug == "cabinet-dupont-fils"
    assert account.siret == VALID_SIRET
    assert account.vat_number == VALID_VAT
    [event] = events_for(account, AuditEvent.Action.CREATE)
    assert event.actor == admin_user
    assert event.account_id == account.pk
    assert event.changes["siret"] == VALID_SIRET
    assert event.changes["slug"] == "cabinet-dupont-fils"
    assert "notes" not in event.changes


def test_account_create_rejects_invalid_siret_in_french(admin_user: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.account_create(actor=admin_user, data={"name": "X", "siret": "73282932000075"})
    assert exc.value.status == 422
    assert "Numéro SIRET invalide" in exc.value.fields["siret"][0]
    assert not ClientAccount.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).exists()


def test_account_create_rejects_invalid_vat_in_french(admin_user: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.account_create(actor=admin_user, data={"name": "X", "vat_number": "FR123"})
    assert "TVA intracommunautaire invalide" in exc.value.fields["vat_number"][0]
    assert not ClientAccount.objects.exists()


def test_account_create_requires_a_name(admin_user: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.account_create(actor=admin_user, data={"name": "   "})
    assert exc.value.fields["name"] == ["Le nom est obligatoire."]


def test_account_slug_must_be_unique(admin_user: User, account: ClientAccount) -> None:
    # `account` has slug "cabinet-martin": a second account with the same name collides.
    with pytest.raises(DomainError) as exc:
        services.account_create(actor=admin_user, data={"name": "Cabinet Martin"})
    assert "déjà utilisé" in exc.value.fields["slug"][0]
    assert ClientAccount.objects.count() == 1
    # An explicit slug is slugified and accepted when free.
    other = services.account_create(actor=admin_user, data={"name": "Cabinet Martin",
                                                            "slug": "Cabinet Martin Lyon"})
    assert other.slug == "cabinet-martin-lyon"


@pytest.mark.parametrize("role_fixture", ["agent", "billing", "client_user"])
def test_account_create_forbidden_for_non_managers(request: Any, role_fixture: str) -> None:
    actor = request.getfixturevalue(role_fixture)
    with pytest.raises(Forbidden):
        services.account_create(actor=actor, data={"name": "Interdit"})
    assert not ClientAccount.objects.filter(name="Interdit").exists()


def test_supervisor_may_create_accounts(supervisor: User) -> None:
    account = services.account_create(actor=supervisor, data={"name": "Boulangerie Petit"})
    assert account.slug == "boulangerie-petit"


def test_account_update_records_changes_and_skips_noop(supervisor: User,
                                                       account: ClientAccount) -> None:
    services.account_update(actor=supervisor, account=account,
                            data={"status": "suspendu", "siret": "732 829 320 00074"})
    account.refresh_from_db()
    assert account.status == "suspendu"
    assert account.siret == VALID_SIRET
    [event] = events_for(account, AuditEvent.Action.UPDATE)
    assert event.changes["status"] == ["actif", "suspendu"]
    assert event.changes["siret"] == ["", VALID_SIRET]
    # Same data again: nothing changes, nothing is recorded.
    services.account_update(actor=supervisor, account=account,
                            data={"status": "suspendu", "siret": VALID_SIRET})
    assert len(events_for(account, AuditEvent.Action.UPDATE)) == 1


def test_account_update_keeps_own_slug_but_rejects_anothers(
        admin_user: User, account: ClientAccount, other_account: ClientAccount) -> None:
    services.account_update(actor=admin_user, account=account,
                            data={"name": "Cabinet Martin", "slug": "cabinet-martin"})
    with pytest.raises(DomainError) as exc:
        services.account_update(actor=admin_user, account=account,
                                data={"slug": "durand-avocats"})
    assert "slug" in exc.value.fields
    account.refresh_from_db()
    assert account.slug == "cabinet-martin"


def test_account_update_invalid_siret_leaves_account_untouched(admin_user: User,
                                                               account: ClientAccount) -> None:
    with pytest.raises(DomainError):
        services.account_update(actor=admin_user, account=account,
                                data={"siret": "123", "status": "resilie"})
    account.refresh_from_db()
    assert account.status == "actif"
    assert account.siret == ""


def test_agent_cannot_update_even_an_assigned_account(agent: User,
                                                      account: ClientAccount) -> None:
    with pytest.raises(Forbidden):
        services.account_update(actor=agent, account=account, data={"status": "resilie"})


# --- account_set_agents -----------------------------------------------------------------------

def test_set_agents_audits_added_and_removed(supervisor: User, account: ClientAccount,
                                             agent: User, other_agent: User) -> None:
    services.account_set_agents(actor=supervisor, account=account, agent_ids=[other_agent.pk])
    assert list(account.assigned_agents.all()) == [other_agent]
    [event] = events_for(account, AuditEvent.Action.UPDATE)
    assert event.changes == {"assigned_agents": {"added": [other_agent.pk],
                                                 "removed": [agent.pk]}}
    # No change → no new audit row.
    services.account_set_agents(actor=supervisor, account=account, agent_ids=[other_agent.pk])
    assert len(events_for(account, AuditEvent.Action.UPDATE)) == 1


@pytest.mark.parametrize("who", ["supervisor", "client_user", "billing"])
def test_only_agents_can_be_assigned(request: Any, admin_user: User, account: ClientAccount,
                                     agent: User, who: str) -> None:
    not_an_agent = request.getfixturevalue(who)
    with pytest.raises(DomainError) as exc:
        services.account_set_agents(actor=admin_user, account=account,
                                    agent_ids=[agent.pk, not_an_agent.pk])
    assert "télésecrétaires" in exc.value.fields["assigned_agents"][0]
    assert list(account.assigned_agents.all()) == [agent]


def test_set_agents_forbidden_for_agent(agent: User, other_agent: User,
                                        account: ClientAccount) -> None:
    with pytest.raises(Forbidden):
        services.account_set_agents(actor=agent, account=account, agent_ids=[other_agent.pk])
    assert list(account.assigned_agents.all()) == [agent]


def test_account_create_with_agents(admin_user: User, agent: User, client_user: User) -> None:
    account = services.account_create(actor=admin_user, data={"name": "Avec agents"},
                                      agent_ids=[agent.pk])
    assert list(account.assigned_agents.all()) == [agent]
    with pytest.raises(DomainError):
        services.account_create(actor=admin_user, data={"name": "Mauvais agent"},
                                agent_ids=[client_user.pk])
    assert not ClientAccount.objects.filter(name="Mauvais agent").exists()


# --- channel_add ------------------------------------------------------------------------------

def test_channel_email_is_lower_cased(supervisor: User, account: ClientAccount) -> None:
    channel = services.channel_add(actor=supervisor, account=account, kind="email",
                                   value="  Accueil@Cabinet-Martin.FR ")
    assert channel.value == "accueil@cabinet-martin.fr"
    [event] = events_for(channel, AuditEvent.Action.CREATE)
    assert event.account_id == account.pk
    assert event.changes == {"kind": "email", "value": "accueil@cabinet-martin.fr"}


@pytest.mark.parametrize(("raw", "expected"), [
    ("01 23 45 67 89", "+33123456789"),
    ("06.12.34.56.78", "+33612345678"),
    ("0033 1 23 45 67 89", "+33123456789"),
    ("+33 1 23 45 67 89", "+33123456789"),
    ("+44 20 7946 0958", "+442079460958"),
])
def test_channel_phone_normalised_to_e164(supervisor: User, account: ClientAccount,
                                          raw: str, expected: str) -> None:
    channel = services.channel_add(actor=supervisor, account=account, kind="phone", value=raw)
    assert channel.value == expected
    assert ContactChannel.objects.get(pk=channel.pk).value == expected


@pytest.mark.parametrize(("kind", "value", "field"), [
    ("phone", "12", "value"),
    ("phone", "01 23", "value"),
    ("email", "pas-une-adresse", "value"),
    ("fax", "01 23 45 67 89", "kind"),
])
def test_channel_invalid_values(supervisor: User, account: ClientAccount, kind: str,
                                value: str, field: str) -> None:
    with pytest.raises(DomainError) as exc:
        services.channel_add(actor=supervisor, account=account, kind=kind, value=value)
    assert field in exc.value.fields
    assert not ContactChannel.objects.exists()


def test_channel_unique_across_accounts_names_the_owner(
        supervisor: User, account: ClientAccount, other_account: ClientAccount) -> None:
    services.channel_add(actor=supervisor, account=account, kind="phone",
                         value="01 23 45 67 89")
    services.channel_add(actor=supervisor, account=account, kind="email",
                         value="accueil@martin.fr")
    # Same number written differently, same address in another case: both collide.
    for kind, value in (("phone", "+33 1 23 45 67 89"), ("email", "ACCUEIL@martin.fr")):
        with pytest.raises(DomainError) as exc:
            services.channel_add(actor=supervisor, account=other_account, kind=kind,
                                 value=value)
        assert exc.value.fields["value"] == ["Déjà utilisé par le compte « Cabinet Martin »."]
    assert not other_account.channels.exists()
    assert account.channels.count() == 2


def test_channel_add_forbidden_for_agent(agent: User, account: ClientAccount) -> None:
    with pytest.raises(Forbidden):
        services.channel_add(actor=agent, account=account, kind="email", value="a@b.fr")


# --- staff ------------------------------------------------------------------------------------

def test_admin_creates_staff_without_password(admin_user: User) -> None:
    user = services.staff_create(actor=admin_user, data={
        "email": " Nouvel.Agent@Test.FR ", "full_name": "Nouvel Agent", "role": "agent",
        "is_active": True,
    })
    user.refresh_from_db()
    assert user.email == "nouvel.agent@test.fr"
    assert user.role == "agent"
    assert not user.has_usable_password()
    [event] = events_for(user, AuditEvent.Action.CREATE)
    assert event.changes == {"email": "nouvel.agent@test.fr", "role": "agent"}


@pytest.mark.parametrize("who", ["supervisor", "agent", "billing", "client_user"])
def test_only_admin_creates_staff(request: Any, who: str) -> None:
    actor = request.getfixturevalue(who)
    with pytest.raises(Forbidden):
        services.staff_create(actor=actor, data={"email": "x@test.fr", "role": "agent"})
    assert not User.objects.filter(email="x@test.fr").exists()


def test_staff_create_rejects_client_role_and_duplicate_email(admin_user: User,
                                                             agent: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.staff_create(actor=admin_user, data={"email": "c@test.fr", "role": "client"})
    assert "role" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.staff_create(actor=admin_user, data={"email": "AGENT@test.fr", "role": "agent"})
    assert "email" in exc.value.fields
    assert User.objects.filter(email__iexact="agent@test.fr").count() == 1


def test_admin_updates_staff_with_audit(admin_user: User, agent: User) -> None:
    services.staff_update(actor=admin_user, user=agent,
                          data={"role": "supervisor", "full_name": "Chef"})
    agent.refresh_from_db()
    assert agent.role == "supervisor"
    [event] = events_for(agent, AuditEvent.Action.UPDATE)
    assert event.changes["role"] == ["agent", "supervisor"]


def test_staff_update_forbidden_for_supervisor(supervisor: User, agent: User) -> None:
    with pytest.raises(Forbidden):
        services.staff_update(actor=supervisor, user=agent, data={"role": "admin"})
    agent.refresh_from_db()
    assert agent.role == "agent"


@pytest.mark.parametrize("data", [{"role": "supervisor"}, {"is_active": False}])
def test_admin_cannot_demote_or_disable_self(admin_user: User, data: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as exc:
        services.staff_update(actor=admin_user, user=admin_user, data=data)
    assert exc.value.code == "self_demotion"
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"
    assert admin_user.is_active


def test_admin_may_edit_own_name(admin_user: User) -> None:
    services.staff_update(actor=admin_user, user=admin_user,
                          data={"full_name": "Alice", "role": "admin", "is_active": True})
    admin_user.refresh_from_db()
    assert admin_user.full_name == "Alice"


def test_staff_update_rejects_email_of_someone_else(admin_user: User, agent: User,
                                                   other_agent: User) -> None:
    with pytest.raises(DomainError) as exc:
        services.staff_update(actor=admin_user, user=agent, data={"email": "Agent2@Test.fr"})
    assert "email" in exc.value.fields


# --- client_user_add --------------------------------------------------------------------------

def test_client_user_add_creates_login_and_membership(supervisor: User,
                                                      account: ClientAccount) -> None:
    membership = services.client_user_add(actor=supervisor, account=account,
                                          email=" Secretaire@Martin.FR", full_name="Sec",
                                          role="membre")
    user = membership.user
    assert user.email == "secretaire@martin.fr"
    assert user.role == "client"
    assert not user.has_usable_password()
    assert membership.account == account
    assert len(events_for(membership, AuditEvent.Action.CREATE)) == 1
    # Again: no duplicate membership, no second audit row.
    again = services.client_user_add(actor=supervisor, account=account,
                                     email="secretaire@martin.fr")
    assert again.pk == membership.pk
    assert Membership.objects.filter(user=user).count() == 1
    assert len(events_for(membership, AuditEvent.Action.CREATE)) == 1


def test_client_user_add_reuses_existing_client(supervisor: User, client_user: User,
                                                account: ClientAccount,
                                                other_account: ClientAccount) -> None:
    membership = services.client_user_add(actor=supervisor, account=other_account,
                                          email=client_user.email.upper())
    assert membership.user == client_user
    assert set(client_user.memberships.values_list("account", flat=True)) == {
        account.pk, other_account.pk}


def test_client_user_add_refuses_staff_address(supervisor: User, agent: User,
                                               account: ClientAccount) -> None:
    with pytest.raises(DomainError) as exc:
        services.client_user_add(actor=supervisor, account=account, email=agent.email)
    assert "équipe" in exc.value.fields["email"][0]
    assert not Membership.objects.filter(user=agent).exists()


def test_client_user_add_forbidden_for_agent(agent: User, account: ClientAccount) -> None:
    with pytest.raises(Forbidden):
        services.client_user_add(actor=agent, account=account, email="new@client.fr")
    assert not User.objects.filter(email="new@client.fr").exists()


# --- operator identity ------------------------------------------------------------------------

def test_operator_update_valid_data_is_compacted(admin_user: User) -> None:
    identity = services.operator_update(actor=admin_user, data={
        "legal_name": "Permanence SAS", "siren": "732 829 320", "siret": "732 829 320 00074",
        "vat_number": "fr 44 732 829 320", "iban": "fr76 3000 6000 0112 3456 7890 189",
    })
    stored = OperatorIdentity.objects.get(pk=1)
    assert stored.pk == identity.pk
    assert (stored.siren, stored.siret, stored.vat_number, stored.iban) == (
        "732829320", VALID_SIRET, VALID_VAT, VALID_IBAN)
    [event] = events_for(stored, AuditEvent.Action.UPDATE)
    assert event.changes["iban"] == ["", VALID_IBAN]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("siren", "732829321", "Numéro SIREN invalide"),
    ("siret", "73282932000075", "Numéro SIRET invalide"),
    ("vat_number", "FR00732829320", "TVA intracommunautaire invalide"),
    ("iban", "FR7630006000011234567890188", "IBAN invalide."),
])
def test_operator_update_rejects_invalid_identifiers(admin_user: User, field: str, value: str,
                                                     message: str) -> None:
    with pytest.raises(DomainError) as exc:
        services.operator_update(actor=admin_user, data={"legal_name": "P", field: value})
    assert message in exc.value.fields[field][0]
    assert not OperatorIdentity.objects.exists()


def test_operator_siret_must_start_with_siren(admin_user: User) -> None:
    # Both valid on their own, but they belong to different companies.
    with pytest.raises(DomainError) as exc:
        services.operator_update(actor=admin_user, data={
            "legal_name": "P", "siren": "552081317", "siret": VALID_SIRET})
    assert "Le SIRET doit commencer par le SIREN." in exc.value.fields["siret"]
    assert not OperatorIdentity.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "agent", "billing"])
def test_operator_update_is_admin_only(request: Any, who: str) -> None:
    with pytest.raises(Forbidden):
        services.operator_update(actor=request.getfixturevalue(who),
                                 data={"legal_name": "Pirate"})
    assert services.operator_identity().legal_name == "Permanence"


# --- API tokens -------------------------------------------------------------------------------

def test_api_token_only_hash_is_stored(agent: User) -> None:
    token, raw = services.api_token_create(actor=agent, user=agent, name="Standard")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (stored.token_hash, stored.prefix, stored.name)
    assert raw.startswith(stored.prefix) and len(stored.prefix) < len(raw)
    # The raw token is nowhere in the audit log either.
    assert all(raw not in str(e.changes) for e in AuditEvent.objects.all())
    assert len(events_for(stored, AuditEvent.Action.CREATE)) == 1


def test_api_token_authenticate_then_revoke(agent: User) -> None:
    token, raw = services.api_token_create(actor=agent, user=agent, name="CLI")
    assert services.api_token_authenticate(raw) == agent
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert services.api_token_authenticate(raw + "x") is None
    services.api_token_revoke(actor=agent, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert services.api_token_authenticate(raw) is None
    assert len(events_for(token, AuditEvent.Action.UPDATE)) == 1


def test_api_token_of_inactive_user_does_not_authenticate(agent: User) -> None:
    _token, raw = services.api_token_create(actor=agent, user=agent, name="CLI")
    agent.is_active = False
    agent.save()
    assert services.api_token_authenticate(raw) is None


def test_api_tokens_are_personal(agent: User, other_agent: User, admin_user: User) -> None:
    with pytest.raises(Forbidden):
        services.api_token_create(actor=agent, user=other_agent, name="x")
    token, _raw = services.api_token_create(actor=other_agent, user=other_agent, name="x")
    with pytest.raises(Forbidden):
        services.api_token_revoke(actor=agent, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    # An administrator may revoke anybody's token.
    services.api_token_revoke(actor=admin_user, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


# --- accounts_visible_to ----------------------------------------------------------------------

@pytest.fixture
def both_accounts(account: ClientAccount, other_account: ClientAccount) -> set[int]:
    return {account.pk, other_account.pk}


@pytest.mark.parametrize("who", ["admin_user", "supervisor", "billing"])
def test_back_office_roles_see_all_accounts(request: Any, both_accounts: set[int],
                                            who: str) -> None:
    user = request.getfixturevalue(who)
    assert set(accounts_visible_to(user).values_list("pk", flat=True)) == both_accounts


def test_agent_sees_only_assigned_accounts(both_accounts: set[int], agent: User,
                                           other_agent: User, account: ClientAccount,
                                           other_account: ClientAccount) -> None:
    assert list(accounts_visible_to(agent)) == [account]
    assert list(accounts_visible_to(other_agent)) == [other_account]


def test_client_sees_only_own_accounts(both_accounts: set[int], client_user: User,
                                       outsider_client: User, account: ClientAccount,
                                       other_account: ClientAccount) -> None:
    assert list(accounts_visible_to(client_user)) == [account]
    assert list(accounts_visible_to(outsider_client)) == [other_account]


def test_anonymous_and_inactive_see_nothing(both_accounts: set[int], admin_user: User,
                                            agent: User) -> None:
    assert not accounts_visible_to(AnonymousUser()).exists()
    for user in (admin_user, agent):
        user.is_active = False
        user.save()
        assert not accounts_visible_to(user).exists()

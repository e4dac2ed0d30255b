"""Routing rules (ordered, first match wins; conditions and actions) and automatic
assignment (round-robin, least-loaded, absent agents skipped)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from permanence.core import clock
from permanence.inbox import routing, services
from permanence.inbox.models import (
    AgentPresence,
    Channel,
    Conversation,
    Direction,
    Kind,
    Motif,
    Notification,
    Priority,
    RoutingRule,
    Status,
    Team,
)
from permanence.inbox.services import Incoming

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday


def open_conv(account: Any, at: datetime = T0, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande", "body_text": "Bonjour",
                              "contact_email": "jean@exemple.fr"}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


def tags(c: Conversation) -> list[str]:
    return sorted(c.tags.values_list("name", flat=True))


@pytest.fixture
def colleague(make_user: Any, account: Any) -> Any:
    user = make_user("claire@test.fr", "agent", full_name="Claire")
    account.assigned_agents.add(user)
    return user


# --- Rules ---------------------------------------------------------------------------------------


def test_rules_are_ordered_and_the_first_match_wins(account: Any) -> None:
    RoutingRule.objects.create(position=0, name="Inactive", is_active=False, keywords="fuite",
                               set_priority=Priority.LOW)
    RoutingRule.objects.create(position=2, name="Seconde", keywords="fuite",
                               set_priority=Priority.HIGH, add_tags="seconde")
    RoutingRule.objects.create(position=1, name="Première", keywords="fuite",
                               set_priority=Priority.URGENT, add_tags="Plomberie, urgent ")
    c = open_conv(account, subject="Fuite d'eau")
    assert c.priority == Priority.URGENT
    assert tags(c) == ["plomberie", "urgent"]
    # Routing happens before the SLA: an urgent conversation is due the same business day
    # (8 h of the working day from 09:00, the seeded jours-ouvrés clock).
    assert c.first_response_due_at == datetime(2026, 11, 2, 17, 0, tzinfo=PARIS)
    plain = open_conv(account, subject="Question")
    assert (plain.priority, tags(plain)) == (Priority.NORMAL, [])


CONDITIONS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("kind", {"kind": Kind.COMPLAINT}, {"kind": Kind.COMPLAINT}, {"kind": Kind.QUESTION}),
    ("motif", {"motif": Motif.INVOICING}, {"motif": Motif.INVOICING}, {"motif": ""}),
    ("channel", {"channel": Channel.WEBFORM}, {"channel": Channel.WEBFORM},
     {"channel": Channel.EMAIL}),
    ("language", {"language": "en"}, {"language": "en"}, {"language": "fr"}),
    ("keywords in body", {"keywords": "devis, tarif"},
     {"body_text": "Quel est votre TARIF horaire ?"}, {"body_text": "Bonjour"}),
    ("keywords in subject", {"keywords": " , devis"}, {"subject": "Demande de devis"},
     {"subject": "Demande"}),
]


@pytest.mark.parametrize(("name", "condition", "matching", "other"), CONDITIONS,
                         ids=[c[0] for c in CONDITIONS])
def test_conditions(account: Any, name: str, condition: dict[str, Any],
                    matching: dict[str, Any], other: dict[str, Any]) -> None:
    RoutingRule.objects.create(name=name, add_tags="route", **condition)
    assert tags(open_conv(account, **matching)) == ["route"]
    assert tags(open_conv(account, **other)) == []


def test_account_and_account_kind_conditions(account: Any, other_account: Any) -> None:
    other_account.kind = "particulier"
    other_account.save(update_fields=["kind"])
    account.refresh_from_db()
    assert account.kind == "professionnel"
    RoutingRule.objects.create(position=1, name="Compte", account=account, add_tags="martin")
    RoutingRule.objects.create(position=2, name="Particuliers", account_kind="particulier",
                               add_tags="particulier")
    RoutingRule.objects.create(position=3, name="Pros", account_kind="professionnel",
                               add_tags="pro")
    assert tags(open_conv(account)) == ["martin"]
    assert tags(open_conv(other_account)) == ["particulier"]
    other_account.kind = "professionnel"
    other_account.save(update_fields=["kind"])
    assert tags(open_conv(other_account)) == ["pro"]


def test_all_conditions_of_a_rule_must_match(account: Any, other_account: Any) -> None:
    RoutingRule.objects.create(name="Réclamations de facturation chez Martin", account=account,
                               kind=Kind.COMPLAINT, motif=Motif.INVOICING, keywords="facture",
                               set_priority=Priority.HIGH)
    full = {"kind": Kind.COMPLAINT, "motif": Motif.INVOICING, "body_text": "Ma facture"}
    assert open_conv(account, **full).priority == Priority.HIGH
    for missing in ({"kind": Kind.QUESTION}, {"motif": Motif.ORDER},
                    {"body_text": "Mon colis"}):
        assert open_conv(account, **{**full, **missing}).priority == Priority.NORMAL, missing
    assert open_conv(other_account, **full).priority == Priority.NORMAL


def test_actions_team_and_assignee(account: Any, agent: Any,
                                   django_capture_on_commit_callbacks: Any) -> None:
    team = Team.objects.create(name="Médical")
    RoutingRule.objects.create(name="Tout", set_team=team, set_assignee=agent,
                               set_priority=Priority.HIGH, add_tags="tri")
    with clock.frozen(T0), django_capture_on_commit_callbacks(execute=True):
        c = services.conversation_open(Incoming(account=account, channel=Channel.EMAIL,
                                                subject="Demande", body_text="Bonjour"))
    c = Conversation.objects.get(pk=c.pk)
    assert (c.team, c.assignee, c.priority, tags(c)) == (team, agent, Priority.HIGH, ["tri"])
    assert c.messages.filter(direction=Direction.SYSTEM, event="assigned",
                             data__assignee=agent.pk).exists()
    [note] = Notification.objects.filter(user=agent, kind="assigned")
    assert c.reference in note.text


def test_matching_rule_without_actions_changes_nothing(account: Any) -> None:
    RoutingRule.objects.create(name="Rien", keywords="bonjour")
    c = open_conv(account)
    assert routing.matching_rule(c).name == "Rien"
    assert (c.priority, c.assignee, c.team, tags(c)) == (Priority.NORMAL, None, None, [])


# --- Automatic assignment -----------------------------------------------------------------------


def assignees(account: Any, n: int, start: int = 0, **extra: Any) -> list[Any]:
    out = []
    for i in range(start, start + n):
        c = open_conv(account, T0 + timedelta(minutes=i), **extra)
        out.append(c.assignee)
    return out


def test_round_robin_alternates_among_the_accounts_agents(account: Any, agent: Any,
                                                          colleague: Any, other_agent: Any,
                                                          supervisor: Any) -> None:
    RoutingRule.objects.create(name="Tour de rôle", assignment_mode="round_robin")
    picked = assignees(account, 4)
    assert picked in ([agent, colleague, agent, colleague], [colleague, agent, colleague, agent])
    # Only agents assigned to the account (not the other account's, not supervisors).
    assert other_agent not in picked and supervisor not in picked
    assert AgentPresence.objects.get(user=picked[-1]).last_assigned_at == T0 + timedelta(
        minutes=3)


def test_least_loaded_relative_to_capacity(account: Any, agent: Any, colleague: Any) -> None:
    for _ in range(3):
        Conversation.objects.filter(pk=open_conv(account).pk).update(assignee=agent)
    Conversation.objects.filter(pk=open_conv(account).pk).update(assignee=colleague)
    done = open_conv(account)
    Conversation.objects.filter(pk=done.pk).update(assignee=colleague, status=Status.CLOSED)
    RoutingRule.objects.create(name="Charge", assignment_mode="least_loaded")
    # Same capacity (20): 3 open vs 1 open (closed ones do not count).
    assert assignees(account, 1, start=10) == [colleague]  # colleague now has 2 open
    # Relative to capacity: 3/30 beats 2/4.
    AgentPresence.objects.update_or_create(user=agent, defaults={"capacity": 30})
    AgentPresence.objects.update_or_create(user=colleague, defaults={"capacity": 4})
    assert assignees(account, 1, start=11) == [agent]
    # A full agent gets nothing more.
    AgentPresence.objects.filter(user=agent).update(capacity=4)  # 4 open = full
    assert assignees(account, 2, start=12) == [colleague, colleague]  # 2/4 → 4/4
    assert assignees(account, 1, start=14) == [None]  # both full: left unassigned


def test_absent_agents_are_skipped(account: Any, agent: Any, colleague: Any) -> None:
    RoutingRule.objects.create(name="Tour de rôle", assignment_mode="round_robin")
    services.presence_set(user=colleague, available=False)
    assert assignees(account, 3) == [agent, agent, agent]
    services.presence_set(user=agent, available=False)
    assert assignees(account, 1, start=5) == [None]
    services.presence_set(user=colleague, available=True)
    assert assignees(account, 1, start=6) == [colleague]
    RoutingRule.objects.update(assignment_mode="least_loaded")
    assert assignees(account, 1, start=7) == [colleague]


def test_automatic_assignment_within_the_rules_team(account: Any, agent: Any,
                                                    colleague: Any) -> None:
    team = Team.objects.create(name="Soir")
    team.members.add(colleague)
    RoutingRule.objects.create(name="Équipe du soir", set_team=team,
                               assignment_mode="round_robin")
    assert assignees(account, 3) == [colleague, colleague, colleague]


def test_manual_mode_leaves_conversations_unassigned(account: Any, agent: Any) -> None:
    RoutingRule.objects.create(name="Manuel", assignment_mode="manual", add_tags="manuel")
    c = open_conv(account)
    assert c.assignee is None and tags(c) == ["manuel"]

"""Routing rules (ordered, first match wins) and automatic assignment."""

from __future__ import annotations

from django.db.models import Count, Q

from permanence.accounts.models import Role, User
from permanence.core import clock, local_cache

from .models import OPEN_STATUSES, AgentPresence, Conversation, RoutingRule, Tag


def _matches(rule: RoutingRule, conversation: Conversation, text: str) -> bool:
    checks = [
        (rule.account_id, lambda: rule.account_id == conversation.account_id),
        (rule.account_kind, lambda: rule.account_kind == conversation.account.kind),
        (rule.kind, lambda: rule.kind == conversation.kind),
        (rule.motif, lambda: rule.motif == conversation.motif),
        (rule.channel, lambda: rule.channel == conversation.channel),
        (rule.language, lambda: rule.language == conversation.language),
        (rule.keywords, lambda: any(k.strip().lower() in text
                                    for k in rule.keywords.split(",") if k.strip())),
    ]
    return all(check() for condition, check in checks if condition)


# The active rules, for a few seconds: read for every new conversation, edited rarely. Saving
# or deleting a rule (or a team or user a rule names: SET_NULL sends no signal for the
# rule) empties the cache at once in this process (see core.local_cache). Cached rows are
# shared between threads: read them, never modify them.
local_cache.watch("inbox.RoutingRule")
local_cache.watch("inbox.Team", "accounts.User", deletes_only=True)
_RULES = local_cache.LocalCache("routing_rules")


def active_rules() -> list[RoutingRule]:
    return _RULES.get_or_compute("active", lambda: list(
        RoutingRule.objects.filter(is_active=True).select_related("account")))


def matching_rule(conversation: Conversation) -> RoutingRule | None:
    text = f"{conversation.subject}\n{conversation.search_text}".lower()
    for rule in active_rules():
        if _matches(rule, conversation, text):
            return rule
    return None


def apply_rules(conversation: Conversation) -> RoutingRule | None:
    """Sets priority, team and assignee on an unsaved conversation; tags after save."""
    rule = matching_rule(conversation)
    conversation._routing_rule = rule  # type: ignore[attr-defined]
    if rule is None:
        return None
    if rule.set_priority:
        conversation.priority = rule.set_priority
    if rule.set_team_id:
        conversation.team_id = rule.set_team_id
    if rule.set_assignee_id:
        conversation.assignee_id = rule.set_assignee_id
    elif rule.assignment_mode != RoutingRule.Mode.MANUAL:
        agent = pick_agent(conversation, rule.assignment_mode)
        if agent is not None:
            conversation.assignee = agent
    return rule


def apply_tags(conversation: Conversation) -> None:
    rule = getattr(conversation, "_routing_rule", None)
    if rule is None or not rule.add_tags:
        return
    names = {t.strip().lower()[:50] for t in rule.add_tags.split(",") if t.strip()}
    conversation.tags.add(*[Tag.objects.get_or_create(name=n)[0] for n in names])


def pick_agent(conversation: Conversation, mode: str) -> User | None:
    """Among available agents assigned to the account (and in the team, if any)."""
    agents = User.objects.filter(role=Role.AGENT, is_active=True,
                                 assigned_accounts=conversation.account_id).exclude(
        presence__available=False)
    if conversation.team_id:
        agents = agents.filter(teams=conversation.team_id)
    agents = agents.annotate(load=Count("assigned_conversations", filter=Q(
        assigned_conversations__status__in=OPEN_STATUSES)))
    candidates = list(agents.select_related("presence"))
    if not candidates:
        return None

    def capacity(u: User) -> int:
        presence = getattr(u, "presence", None)
        return presence.capacity if presence else 20

    candidates = [u for u in candidates if u.load < capacity(u)]  # type: ignore[attr-defined]
    if not candidates:
        return None
    if mode == RoutingRule.Mode.LEAST_LOADED:
        chosen = min(candidates, key=lambda u: (u.load / max(capacity(u), 1), u.pk))  # type: ignore[attr-defined]
    else:  # round robin: the one assigned longest ago
        def last(u: User) -> float:
            presence = getattr(u, "presence", None)
            stamp = presence.last_assigned_at if presence else None
            return stamp.timestamp() if stamp else 0.0

        chosen = min(candidates, key=lambda u: (last(u), u.pk))
    AgentPresence.objects.update_or_create(user=chosen,
                                           defaults={"last_assigned_at": clock.now()})
    return chosen

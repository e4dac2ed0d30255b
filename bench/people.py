"""The benchmark's staff and client accounts, created once and found again on later runs."""

from __future__ import annotations

from typing import Any


def staff_and_accounts(*, agent_email: str, slug_prefix: str, name_format: str,
                       count: int) -> tuple[Any, Any, list[Any]]:
    """(supervisor, agent, accounts): `count` accounts named name_format.format(i), slugs
    `{slug_prefix}{i:02d}`; the agent is assigned to the first five."""
    from permanence.accounts.models import ClientAccount, Role, User

    supervisor = User.objects.filter(email="bench-sup@permanence.test").first() or \
        User.objects.create_user("bench-sup@permanence.test", None, role=Role.SUPERVISOR)
    agent = User.objects.filter(email=agent_email).first() or \
        User.objects.create_user(agent_email, None, role=Role.AGENT)
    existing = ClientAccount.objects.filter(slug__startswith=slug_prefix)
    have = existing.count()
    if have < count:
        ClientAccount.objects.bulk_create([
            ClientAccount(name=name_format.format(i), slug=f"{slug_prefix}{i:02d}",
                          status="actif") for i in range(have, count)])
    accounts = list(existing.order_by("slug"))
    for a in accounts[:5]:
        a.assigned_agents.add(agent)
    return supervisor, agent, accounts

"""GET /api/v1/accounts with 10,000 accounts: latency percentiles and SQL query count."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from permanence.accounts.models import User

N_ACCOUNTS = 10_000


def seed() -> tuple[User, User]:
    from permanence.accounts.models import ClientAccount, Role, User

    admin = User.objects.filter(email="bench-admin@permanence.test").first()
    if admin is None:
        admin = User.objects.create_user("bench-admin@permanence.test", None, role=Role.ADMIN)
    agents = list(User.objects.filter(email__startswith="bench-agent"))
    if not agents:
        agents = [User.objects.create_user(f"bench-agent{i}@permanence.test", None,
                                           role=Role.AGENT) for i in range(20)]
    have = ClientAccount.objects.filter(slug__startswith="bench-").count()
    if have < N_ACCOUNTS:
        sectors = ["medical", "juridique", "artisan_btp", "ecommerce", "services", "autre"]
        statuses = ["prospect", "actif", "actif", "actif", "suspendu", "resilie"]
        batch = [
            ClientAccount(name=f"Client {i:05d}", slug=f"bench-{i:05d}",
                          sector=sectors[i % 6], status=statuses[i % 6],
                          kind="professionnel" if i % 4 else "particulier")
            for i in range(have, N_ACCOUNTS)
        ]
        ClientAccount.objects.bulk_create(batch, batch_size=1000)
        through = ClientAccount.assigned_agents.through
        accounts = ClientAccount.objects.filter(slug__startswith="bench-").values_list("pk",
                                                                                   flat=True)
        links = [through(clientaccount_id=pk, user_id=agents[pk % len(agents)].pk)
                 for pk in accounts]
        through.objects.bulk_create(links, batch_size=2000, ignore_conflicts=True)
    return admin, agents[0]


def run() -> list[tuple[str, str, str, bool]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from permanence.accounts.services import api_token_create

    from .stats import percentile, summary_ms

    print(f"\n== GET /api/v1/accounts ({N_ACCOUNTS} accounts) ==")
    t0 = time.perf_counter()
    admin, agent = seed()
    print(f"  seeded in {time.perf_counter() - t0:.1f} s")
    out = []
    for label, user in (("admin", admin), ("agent", agent)):
        _tok, raw = api_token_create(actor=user, user=user, name="bench")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="127.0.0.1")
        client.get("/api/v1/accounts?limit=1")  # warm-up (token last-used stamp, caches)
        queries = {}
        for limit in (10, 50, 200):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"/api/v1/accounts?limit={limit}")
            assert response.status_code == 200, response.content[:200]
            queries[limit] = len(ctx.captured_queries)
        timings = []
        for i in range(200):
            t = time.perf_counter()
            response = client.get(f"/api/v1/accounts?limit=50&offset={(i * 50) % 5000}")
            timings.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        t = time.perf_counter()
        client.get("/api/v1/accounts?q=Client%2009&limit=50")
        search_ms = (time.perf_counter() - t) * 1000
        p95 = percentile(timings, 95)
        print(f"  as {label}: {summary_ms(timings)}; search {search_ms:.1f} ms; "
              f"queries per request by page size {queries}")
        constant = len(set(queries.values())) == 1
        out.append((f"accounts list p95 ({label}, limit=50)", f"{p95:.1f} ms", "< 50 ms",
                    p95 < 50))
        out.append((f"accounts list queries ({label})", str(max(queries.values())),
                    "≤ 5, constant", constant and max(queries.values()) <= 5))
    return out

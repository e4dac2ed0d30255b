"""Creating conversations on a full inbox (the `inbox` benchmark's 200,000 conversations, scaled
by BENCH_INBOX_SCALE): `POST /api/v1/conversations` and the public contact form, one
sequential client each, with tasks stored in the database as in production (the
acknowledgement is a task row written in the same transaction). Prints p50/p95, creates per
second and SQL statements per create (transaction control aside)."""

from __future__ import annotations

import time
from typing import Any

from .stats import percentile, summary_ms

N_CREATES = 300
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                        "QUEUES": ["default", "email"]}}


def _timed_posts(send: Any, n: int) -> tuple[list[float], list[int], float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings: list[float] = []
    queries: list[int] = []
    wall = time.perf_counter()
    for i in range(n):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            send(i)
            timings.append((time.perf_counter() - t) * 1000)
        sql = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
        queries.append(sum(1 for s in sql if not s.startswith(
            ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"))))
    return timings, queries, n / (time.perf_counter() - wall)


def run() -> list[tuple[str, str, str, bool]]:
    from django.test import Client, override_settings

    from permanence.accounts.models import ClientAccount
    from permanence.accounts.services import api_token_create

    from .inbox import N_CONVERSATIONS, seed

    print(f"\n== Conversation creation on a full inbox ({N_CONVERSATIONS:,} conversations) ==")
    supervisor, agent, account_ids = seed()
    _token, raw = api_token_create(actor=agent, user=agent, name="bench create")
    out: list[tuple[str, str, str, bool]] = []
    with override_settings(TASKS=DB_TASKS):
        api = Client(HTTP_HOST="127.0.0.1")
        headers = {"Authorization": f"Bearer {raw}"}
        agent_accounts = account_ids[:5]  # the bench agent works for the first accounts

        def api_create(i: int) -> None:
            response = api.post("/api/v1/conversations", {
                "account": agent_accounts[i % len(agent_accounts)], "channel": "telephone",
                "subject": f"Appel de Mme Martin n°{i}", "body": "Souhaite un rappel demain.",
                "contact": {"name": "Mme Martin", "email": f"martin{i}@exemple.fr",
                            "phone": ""}, "acknowledge": True,
            }, content_type="application/json", headers=headers)
            assert response.status_code == 201, response.content[:300]

        for i in range(10):  # warm-up
            api_create(10_000_000 + i)
        timings, queries, rate = _timed_posts(api_create, N_CREATES)
        p50 = percentile(timings, 50)
        print(f"  API create: {summary_ms(timings)}; {rate:.0f} creates/s; statements "
              f"{min(queries)}–{max(queries)}")
        out.append(("API create p50", f"{p50:.1f} ms", "≤ 15 ms", p50 <= 15))
        out.append(("API creates/s (one client)", f"{rate:.0f}", "≥ 60", rate >= 60))

        slug = ClientAccount.objects.get(pk=account_ids[0]).slug
        form = Client(HTTP_HOST="127.0.0.1")

        def form_create(i: int) -> None:
            response = form.post(f"/contact/{slug}/", {
                "kind": "question", "name": "Jean Dupont", "email": f"jean{i}@exemple.fr",
                "phone": "", "subject": f"Question n°{i}", "message": "Bonjour, une question.",
                "consent": "on"}, REMOTE_ADDR=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}")
            assert response.status_code == 200, response.content[:300]

        for i in range(10):
            form_create(1_000_000 + i)
        timings, queries, rate = _timed_posts(form_create, N_CREATES)
        p50 = percentile(timings, 50)
        print(f"  contact form: {summary_ms(timings)}; {rate:.0f} creates/s; statements "
              f"{min(queries)}–{max(queries)}")
        out.append(("contact form create p50", f"{p50:.1f} ms", "≤ 15 ms", p50 <= 15))
    return out

"""Inbox search and API paging at scale: what a secretary types, and an integration paging
through every conversation.

Runs on the `inbox` benchmark's data (200,000 conversations, BENCH_INBOX_SCALE scales it).
When they are missing on PostgreSQL, a lean seed (bench/inbox_lean.py: contacts and
conversations with their search text streamed with COPY, no messages — these measures read
neither) makes `BENCH_INBOX_SCALE=5` (1,000,000 conversations) a matter of minutes.

Measured through the pages and the API (Django test client, in-process), p95 over rounds:
* search, per kind of query: rare words (a name, a reference, a word being typed…), the
  common words « rendez-vous » (1 conversation in 6) and « facture », an e-mail domain
  (« exemple.fr »: every contact of the benchmark) and phone fragments;
* `GET /api/v1/conversations`: offset 0, a deep offset (3/4 of the conversations), by cursor
  (the 20 pages after a deep point, in the default and the "due" order), and a search with
  many matches.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from .inbox import N_ACCOUNTS, N_CONVERSATIONS
from .stats import percentile, summary_ms

ROUNDS = 5  # each query of a group this many times (plus one warm-up)


def _data() -> tuple[Any, Any, list[int]]:
    from django.db import connection

    from permanence.inbox.models import Conversation

    from . import inbox
    from .people import staff_and_accounts

    supervisor, agent, accounts = staff_and_accounts(
        agent_email="bench-inbox-agent@permanence.test", slug_prefix="bench-inbox-",
        name_format="Cabinet {:02d}", count=N_ACCOUNTS)
    have = Conversation.objects.filter(account__in=accounts).count()
    if have < N_CONVERSATIONS and connection.vendor == "postgresql":
        from . import inbox_lean

        inbox_lean.seed(accounts, agent, have)
        return supervisor, agent, [a.pk for a in accounts]
    return inbox.seed()


def _timed(client: Any, url: str, **headers: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    response = client.get(url, **headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return elapsed, response


def _group(client: Any, urls: list[str], **headers: Any) -> list[float]:
    for url in urls:
        _timed(client, url, **headers)  # warm-up
    return [_timed(client, url, **headers)[0] for _ in range(ROUNDS) for url in urls]


def run() -> list[tuple[str, str, str, bool]]:
    from django.test import Client

    from permanence.inbox.models import Conversation

    print(f"\n== Inbox search and API paging: {N_CONVERSATIONS:,} conversations ==")
    t0 = time.perf_counter()
    supervisor, agent, account_ids = _data()
    print(f"  data ready in {time.perf_counter() - t0:.0f} s")
    out: list[tuple[str, str, str, bool]] = []
    sample = list(Conversation.objects.filter(account_id__in=account_ids, contact__isnull=False)
                  .order_by("reference").values_list("reference", "contact__name",
                                                     "contact__email", "contact__phone")
                  [N_CONVERSATIONS // 3:N_CONVERSATIONS // 3 + 3])
    national = [s[3].replace("+33", "0") for s in sample]
    groups = {
        "rare words": ["Lefèvre", "ordonnance récupérer", "fuite d'eau", "factu",
                       "colis endommagé", sample[0][0], sample[1][1],
                       sample[2][1].split()[-1] + " facture", "D-2025-0001",
                       "ordonance"],
        "« rendez-vous »": ["rendez-vous"],
        "« facture »": ["facture"],
        "e-mail fragment": ["exemple.fr", sample[0][2].split("@")[0], "@exemple"],
        "phone fragment": [national[0], national[1][-6:],
                           " ".join(national[2][i:i + 2] for i in range(0, 10, 2))],
    }
    for label, user in (("supervisor", supervisor), ("agent", agent)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        for group, terms in groups.items():
            timings = _group(client, [f"/app/boite/?view=all&q={quote(t)}" for t in terms])
            p95 = percentile(timings, 95)
            print(f"  search {group} as {label}: {summary_ms(timings)}")
            out.append((f"inbox search p95, {group} ({label})", f"{p95:.0f} ms", "< 300 ms",
                        p95 < 300))

    # The API, as an integration with a supervisor's token pages through everything.
    token = _token(supervisor)
    api = Client(HTTP_HOST="127.0.0.1")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    base = "/api/v1/conversations?limit=50"
    deep = N_CONVERSATIONS * 3 // 4
    measures = {
        "offset 0": [base],
        f"offset {deep:,}": [f"{base}&offset={deep}", f"{base}&offset={deep + 1000}"],
        "search « rendez-vous »": [f"{base}&q=rendez-vous"],
    }
    for name, urls in measures.items():
        timings = _group(api, urls, **auth)
        p95 = percentile(timings, 95)
        print(f"  API list {name}: {summary_ms(timings)}")
        out.append((f"API list p95, {name}", f"{p95:.0f} ms", "< 100 ms", p95 < 100))
    # By cursor: the pages after a deep point, each request carrying the previous cursor
    # (the default order, and the "due" order whose undated rows come last).
    for sort in ("recent", "due"):
        url = f"{base}&sort={sort}"
        _ms, response = _timed(api, f"{url}&offset={deep}", **auth)
        cursor = response.json().get("next_cursor")
        name = f"API list p95, by cursor ({sort})"
        if cursor is None:
            print(f"  API list by cursor ({sort}): no next_cursor in the response")
            out.append((name, "n/a", "< 100 ms", False))
            continue
        timings = []
        for _ in range(20):
            elapsed, response = _timed(api, f"{url}&cursor={cursor}", **auth)
            timings.append(elapsed)
            cursor = response.json()["next_cursor"]
        p95 = percentile(timings, 95)
        print(f"  API list by cursor, sort {sort} (20 pages from offset {deep:,}): "
              f"{summary_ms(timings)}")
        out.append((name, f"{p95:.0f} ms", "< 100 ms", p95 < 100))
    return out


def _token(user: Any) -> str:
    from permanence.accounts.services import api_token_create

    return str(api_token_create(actor=user, user=user, name="bench-inbox-search")[1])

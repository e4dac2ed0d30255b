"""The desk: call events through the signed webhook (events/s), the screen pop's latency from
the event to the agent's websocket, and the calls list at scale (API and /app/poste pages).

- Webhook: BENCH_DESK_CALLS_IN (default 1,000) inbound calls × 4 events (new, ringing,
  answered or not, hangup), signed beforehand, POSTed over HTTP by BENCH_DESK_CLIENTS
  (default 8) concurrent keep-alive clients — each one call's events in order, as a PBX —
  to uvicorn on this database (BENCH_DESK_WEB_WORKERS processes, default 1 as `make demo`;
  a production deployment with Redis runs one per core). Each event is stored and committed
  before its 200 (desk.webhook's fast path); the processes' pumps process them meanwhile. Figures: events acknowledged per second, then
  events processed per second (until the last one is), both against ≥ 500/s; and the
  answer's p95.
- Screen pop: BENCH_DESK_POPS (default 60) « ringing » events posted while the agent's
  websocket (/ws/desk/, the whole ASGI stack) is open; from just before the POST to the
  message on the socket, through the process's pump (processing in the background, as in
  production; one warm-up event first). Target p95 < 100 ms.
- Calls at scale: BENCH_DESK_CALLS (default 200,000; the issue's figure is 5,000,000) calls
  over 200 accounts (each with every kind of call: answered, missed, abandoned; callers'
  names, messages), written by INSERT … SELECT over a generated series (PostgreSQL
  generate_series; a recursive CTE on SQLite), the other columns from the model's defaults;
  the call backs the missed and abandoned ones owed (the last two days' still to do); then
  VACUUM ANALYZE, as autovacuum would after such an insert. The calls the webhook and pop
  runs left in progress are ended (a quiet desk: the home's slowest case). Then
  GET /api/v1/calls (supervisor, an agent of 3 accounts, one account, a time window, deep by
  cursor), the /app/poste/ pages (home, Rappels to do, done, of one account; Équipe), and the
  espace client's « Appels et messages » of one account (first, second and 40th page; a
  week a year ago, to handle, searches by number, by name and by a common word):
  p95 < 150 ms, queries constant."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from .sql_seed import insert_series
from .stats import percentile, summary_ms

ROOT = Path(__file__).resolve().parent.parent

N_CALLS_IN = int(os.environ.get("BENCH_DESK_CALLS_IN", "1000"))
CLIENTS = int(os.environ.get("BENCH_DESK_CLIENTS", "8"))
WEB_WORKERS = int(os.environ.get("BENCH_DESK_WEB_WORKERS", "1"))
N_POPS = int(os.environ.get("BENCH_DESK_POPS", "60"))
N_CALLS = int(os.environ.get("BENCH_DESK_CALLS", "200000"))
N_ACCOUNTS = 200
BASE_NUMBER = 33_170_000_000  # +33 1 70 00 00 00 …: one number per bench account
# The seeded calls' callers and messages, for the call log's search.
NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Durand", "Moreau", "Laurent"]
MESSAGES = ["Souhaite un rendez-vous la semaine prochaine", "Question sur sa facture",
            "Demande un devis pour une intervention",
            "Douleur au genou depuis hier, demande à être rappelé",
            "Rappeler au sujet de la livraison"]


def _accounts() -> tuple[list[Any], Any, Any]:
    from permanence.accounts.models import ClientAccount, ContactChannel, Membership, User

    accounts = []
    for i in range(N_ACCOUNTS):
        account, _ = ClientAccount.objects.get_or_create(
            slug=f"bench-desk-{i:03d}", defaults={"name": f"Bench poste {i:03d}",
                                                  "status": "actif"})
        ContactChannel.objects.get_or_create(value=f"+{BASE_NUMBER + i}", defaults={
            "account": account, "kind": "phone"})
        accounts.append(account)
    supervisor = (User.objects.filter(email="bench-desk-sup@permanence.test").first()
                  or User.objects.create_user("bench-desk-sup@permanence.test", None,
                                              role="supervisor", full_name="Sup Bench"))
    agent = (User.objects.filter(email="bench-desk-agent@permanence.test").first()
             or User.objects.create_user("bench-desk-agent@permanence.test", None,
                                         role="agent", full_name="Agent Bench"))
    agent.assigned_accounts.add(*accounts[:3])
    client = (User.objects.filter(email="bench-desk-client@permanence.test").first()
              or User.objects.create_user("bench-desk-client@permanence.test", None,
                                          role="client", full_name="Client Bench"))
    Membership.objects.get_or_create(user=client, account=accounts[1],
                                     defaults={"role": "titulaire"})
    return accounts, supervisor, agent


def _signed(client: Any, data: dict[str, Any]) -> Any:
    from django.conf import settings

    from permanence.desk.signature import signature_header

    body = json.dumps(data).encode()
    return client.post("/api/v1/telephony/events", data=body, content_type="application/json",
                       headers={"X-Permanence-Signature": signature_header(
                           body, settings.TELEPHONY_WEBHOOK_SECRET)})


def _server(port: int) -> Any:
    """The web process as `make demo` runs it (uvicorn), WEB_WORKERS of them (uvicorn's
    --workers), on this database."""
    env = {**os.environ, "SITE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "permanence.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--lifespan", "off",
         "--workers", str(WEB_WORKERS)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_up(port: int) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                        timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the web server did not start")


def _signed_calls(run: str) -> list[list[tuple[bytes, str]]]:
    """Each call's events, signed beforehand: a PBX sends what it has; signing while
    posting would put this process's CPU into the server's figure."""
    from django.conf import settings

    from permanence.desk.calls import simulated_events
    from permanence.desk.signature import signature_header

    calls = []
    for i in range(N_CALLS_IN):
        bodies = []
        for data in simulated_events(to=f"+{BASE_NUMBER + i % N_ACCOUNTS}",
                                     from_number=f"+3361{i:07d}"[:12], abandon=i % 5 == 0):
            data["event_id"] = f"{run}-{data['event_id']}"
            data["call_id"] = f"{run}-{data['call_id']}"
            body = json.dumps(data).encode()
            bodies.append((body, signature_header(body, settings.TELEPHONY_WEBHOOK_SECRET)))
        calls.append(bodies)
    return calls


def _post_all(port: int, calls: list[list[tuple[bytes, str]]]) -> tuple[list[float], list[str]]:
    """CLIENTS keep-alive connections, each posting whole calls (their events in order)."""
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    queue = iter(calls)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                events = next(queue, None)
            if events is None:
                connection.close()
                return
            for body, signature in events:
                t = time.perf_counter()
                connection.request("POST", "/api/v1/telephony/events", body=body, headers={
                    "Content-Type": "application/json", "X-Permanence-Signature": signature})
                response = connection.getresponse()
                response.read()
                with lock:
                    timings.append((time.perf_counter() - t) * 1000)
                    if response.status != 200:
                        errors.append(str(response.status))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, errors


def _webhook() -> list[tuple[str, str, str, bool]]:
    from permanence.desk.models import CallEvent

    print(f"\n== Desk webhook over HTTP: {N_CALLS_IN} calls × 4 signed events, {CLIENTS} "
          f"concurrent clients, uvicorn × {WEB_WORKERS} ==")
    run = secrets.token_hex(3)
    calls = _signed_calls(run)
    total = sum(len(c) for c in calls)
    pending = CallEvent.objects.filter(event_id__startswith=f"{run}-",
                                       processed_at__isnull=True)
    port = _free_port()
    server = _server(port)
    try:
        _wait_up(port)
        started = time.perf_counter()
        timings, errors = _post_all(port, calls)
        acked = time.perf_counter() - started
        while pending.exists() and time.perf_counter() - started < 600:
            time.sleep(0.05)
        processed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    assert not errors, errors[:5]
    left = pending.count()
    rate, done_rate = total / acked, total / processed
    print(f"  signed, stored, committed, acknowledged: {rate:.0f} events/s; "
          f"{summary_ms(timings)}")
    print(f"  processed (calls, call backs, agents' states): {done_rate:.0f} events/s — all "
          f"{total:,} in {processed:.1f} s{f'; {left} left' if left else ''}")
    return [("desk webhook events/s (acknowledged)", f"{rate:.0f}/s", "≥ 500/s", rate >= 500),
            ("desk webhook events/s (processed)", f"{done_rate:.0f}/s", "≥ 500/s",
             done_rate >= 500 and not left),
            ("desk webhook p95", f"{percentile(timings, 95):.1f} ms", "< 100 ms",
             percentile(timings, 95) < 100)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pops(agent: Any, account_number: str) -> list[tuple[str, str, str, bool]]:
    from asgiref.sync import async_to_sync, sync_to_async
    from asgiref.testing import ApplicationCommunicator
    from django.conf import settings
    from django.test import Client

    from permanence.asgi import application
    from permanence.desk import agents
    from permanence.desk.models import AgentStatus

    print(f"\n== Screen pop: {N_POPS} ringing events → the agent's websocket ==")
    agents.agent_state_set(user=agent, status=AgentStatus.AVAILABLE)
    login = Client(HTTP_HOST="127.0.0.1")
    login.force_login(agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={login.cookies[settings.SESSION_COOKIE_NAME].value}"
    run = secrets.token_hex(3)
    client = Client(HTTP_HOST="127.0.0.1")
    lock = threading.Lock()

    def ring(i: int) -> float:
        with lock:
            t = time.perf_counter()
            response = _signed(client, {
                "event_id": f"pop-{run}-{i}", "event": "ringing", "call_id": f"pop-{run}-{i}",
                "occurred_at": "2026-11-23T09:00:00+01:00", "to": account_number,
                "from": "+33612345678"})
            assert response.status_code == 200, response.content
            return t

    async def scenario() -> list[float]:
        socket = ApplicationCommunicator(application, {
            "type": "websocket", "path": "/ws/desk/", "query_string": b"", "subprotocols": [],
            "headers": [(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1"),
                        (b"cookie", cookie.encode())]})
        await socket.send_input({"type": "websocket.connect"})
        accepted = await socket.receive_output(timeout=5)
        assert accepted["type"] == "websocket.accept", accepted
        latencies = []
        for i in range(N_POPS + 1):  # the first one warms up (the pump's thread starts)
            sent = await sync_to_async(ring)(i)
            while True:
                message = await socket.receive_output(timeout=5)
                if json.loads(message["text"]).get("type") == "call.ringing":
                    break
            if i:
                latencies.append((time.perf_counter() - sent) * 1000)
        await socket.send_input({"type": "websocket.disconnect", "code": 1000})
        return latencies

    latencies = async_to_sync(scenario)()
    p95 = percentile(latencies, 95)
    print(f"  event posted → pop on the socket: {summary_ms(latencies)}")
    return [("screen pop p95 (event → websocket)", f"{p95:.1f} ms", "< 100 ms", p95 < 100)]


def _seed_calls(accounts: list[Any], agent: Any) -> None:
    from django.db import connection

    from permanence.core import clock
    from permanence.desk.models import Call, Callback

    have = Call.objects.filter(call_id__startswith="bench-").count()
    if have >= N_CALLS:
        return
    now = clock.now()
    span = len(accounts)
    ids = ",".join(str(int(a.pk)) for a in accounts)
    pg = connection.vendor == "postgresql"
    q = connection.ops.quote_name
    seconds = 3 * 365 * 86400  # three years of calls, most recent first
    # Call i is for accounts[i % span] (its number is BASE_NUMBER + i % span), whatever the
    # accounts' ids: other benchmarks may have made accounts in between. What varies within
    # an account (outcome, caller's name, message) goes by i / span, so that each account has
    # every kind of call.
    def pick(values: list[str], index: str) -> str:
        quoted = ", ".join(f"'{v}'" for v in values)
        return (f"(ARRAY[{quoted}])[1 + {index}]" if pg else
                f"json_extract('[{', '.join(chr(34) + v + chr(34) for v in values)}]', "
                f"'$[' || ({index}) || ']')")

    account = (f"(ARRAY[{ids}]::bigint[])[1 + i %% {span}]" if pg else
               f"json_extract('[{ids}]', '$[' || (i %% {span}) || ']')")
    kind = f"(i / {span}) %% 10"  # 0 abandoned, 1 missed, else answered
    custom = {
        "call_id": "'bench-' || i",
        "account": account,
        "direction": "'inbound'",
        "from_number": "'+336' || (10000000 + i %% 89999999)",
        "caller_name": pick(NAMES, f"(i / {span}) %% {len(NAMES)}") + " || ' ' || (i %% 997)",
        "to_number": f"'+' || ({BASE_NUMBER} + i %% {span})",
        "state": "'ended'",
        "outcome": f"CASE WHEN {kind} = 0 THEN 'abandoned' WHEN {kind} = 1 THEN 'missed' "
                   "ELSE 'answered' END",
        "agent": f"CASE WHEN {kind} > 1 THEN {agent.pk} END",
        "message": f"CASE WHEN {kind} > 1 THEN "
                   f"{pick(MESSAGES, f'(i / {span} / 10) %% {len(MESSAGES)}')} ELSE '' END",
        "wait_seconds": "i %% 40",
        "talk_seconds": f"CASE WHEN {kind} > 1 THEN 30 + i %% 300 END",
        "hold_seconds": "0",
    }
    started = time.perf_counter()
    insert_series(Call, have + 1, N_CALLS, custom,
                  stamps={name: (seconds, N_CALLS)
                          for name in ("offered_at", "created_at", "last_event_at")},
                  now=now, label="calls")
    _seed_callbacks(now, agent)
    print(f"  … call backs ({time.perf_counter() - started:.0f} s)")
    # VACUUM as autovacuum does after a bulk insert (PostgreSQL 13+): the visibility map set,
    # counts and index-only scans read no table page; without it (autovacuum off, as on some
    # test servers) each count visited every row's page.
    with connection.cursor() as cursor:
        for model in (Call, Callback):
            cursor.execute(f"VACUUM ANALYZE {q(model._meta.db_table)}" if pg else "ANALYZE")


def _seed_callbacks(now: Any, agent: Any) -> None:
    """The call backs the missed and abandoned calls owed (a fifth of the calls): those of
    the last two days still to do, the older ones done half an hour after the call — what
    the Rappels pages read after three years."""
    from django.db import connection, transaction

    from permanence.desk.models import Call, Callback

    pg = connection.vendor == "postgresql"
    q = connection.ops.quote_name
    column = {f.name: q(str(f.column)) for f in Callback._meta.concrete_fields}
    later = ("c.offered_at + interval '{m} minutes'" if pg else
             "strftime('%%Y-%%m-%%d %%H:%%M:%%f', c.offered_at, '+{m} minutes')")
    recent = "c.offered_at > %s"
    values = {
        "account": "c.account_id", "call": "c.id", "number": "c.from_number", "name": "''",
        "reason": "c.outcome",
        "status": f"CASE WHEN {recent} THEN 'a_faire' ELSE 'fait' END",
        "due_at": later.format(m=60), "assignee": "NULL",
        "attempts": f"CASE WHEN {recent} THEN 0 ELSE 1 END", "note": "''",
        "done_at": f"CASE WHEN {recent} THEN NULL ELSE {later.format(m=30)} END",
        "done_by": f"CASE WHEN {recent} THEN NULL ELSE {int(agent.pk)} END",
        "created_at": "c.offered_at",
    }
    names = [f.name for f in Callback._meta.concrete_fields if not f.primary_key]
    assert set(names) == set(values), set(names) ^ set(values)
    cutoff = now - timedelta(days=2)
    if not pg:
        cutoff = cutoff.strftime("%Y-%m-%d %H:%M:%S")
    sql = (f"INSERT INTO {q(Callback._meta.db_table)} "  # noqa: S608 (names from models)
           f"({', '.join(column[n] for n in names)}) "
           f"SELECT {', '.join(values[n] for n in names)} FROM {q(Call._meta.db_table)} c "
           "WHERE c.call_id LIKE 'bench-%%' AND c.outcome IN ('abandoned', 'missed') "
           f"AND NOT EXISTS (SELECT 1 FROM {q(Callback._meta.db_table)} b "
           f"WHERE b.{column['call']} = c.id)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [cutoff] * sql.count("%s"))


def _measure(client: Any, urls: list[str], n: int) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], []
    for i in range(n):
        url = urls[i % len(urls)]
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        queries.append(len(ctx.captured_queries))
    return timings, queries


def _lists(accounts: list[Any], supervisor: Any, agent: Any) -> list[tuple[str, str, str, bool]]:
    from django.test import Client

    from permanence.core import clock
    from permanence.desk.models import Call, CallState
    from permanence.desk.selectors import ACTIVE_STATES

    print(f"\n== Calls at scale: {N_CALLS:,} calls over {N_ACCOUNTS} accounts ==")
    t0 = time.perf_counter()
    _seed_calls(accounts, agent)
    print(f"  data ready in {time.perf_counter() - t0:.0f} s")
    # The calls the webhook and screen-pop runs left ringing or in wrap-up (nobody closes
    # their forms here) are ended: the desk home then reads a quiet desk, where its list of
    # calls in progress finds none or a few among millions — its slowest case.
    Call.objects.filter(state__in=ACTIVE_STATES).update(state=CallState.ENDED)
    out = []
    week = (clock.now() - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S%%2B00:00")
    week_end = (clock.now() - timedelta(days=393)).strftime("%Y-%m-%dT%H:%M:%S%%2B00:00")
    for label, user in (("supervisor", supervisor), ("agent of 3 accounts", agent)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        first = client.get("/api/v1/calls?limit=50").json()
        deep = first["next_cursor"]
        for _ in range(20):  # 1,000 calls down (or the last page)
            following = client.get(f"/api/v1/calls?limit=50&cursor={deep}").json()
            if not following["next_cursor"]:
                break
            deep = following["next_cursor"]
        urls = ["/api/v1/calls?limit=50", f"/api/v1/calls?account={accounts[1].pk}",
                f"/api/v1/calls?from={week}&to={week_end}",
                f"/api/v1/calls?limit=50&cursor={deep}"]
        timings, queries = _measure(client, urls, 80)
        p95 = percentile(timings, 95)
        print(f"  GET /api/v1/calls ({label}): {summary_ms(timings)}; queries "
              f"{min(queries)}–{max(queries)}")
        out.append((f"GET /api/v1/calls p95 ({label})", f"{p95:.0f} ms", "< 150 ms",
                    p95 < 150))
        out.append((f"GET /api/v1/calls queries ({label})", f"{min(queries)}–{max(queries)}",
                    "constant", max(queries) - min(queries) <= 1))
        pages = ["/app/poste/", "/app/poste/rappels/", "/app/poste/rappels/?status=fait",
                 f"/app/poste/rappels/?account={accounts[2].pk}&status="]
        if user is supervisor:
            pages.append("/app/poste/equipe/")
        timings, queries = _measure(client, pages, 40)
        p95 = percentile(timings, 95)
        print(f"  /app/poste pages ({label}): {summary_ms(timings)}; queries "
              f"{min(queries)}–{max(queries)}")
        out.append((f"/app/poste pages p95 ({label})", f"{p95:.0f} ms", "< 150 ms", p95 < 150))
    out += _client_log(accounts)
    return out


def _client_log(accounts: list[Any]) -> list[tuple[str, str, str, bool]]:
    """The espace client's « Appels et messages » of one account (its share of the calls):
    first, second and 40th page; then a week a year ago, the calls still to handle, and a
    search by the caller's number and by a word (the CSV is not measured)."""
    from django.test import Client

    from permanence.accounts.models import User
    from permanence.core import clock
    from permanence.desk.models import Call

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email="bench-desk-client@permanence.test"))
    calls = Call.objects.filter(account=accounts[1]).count()
    pages = ["/espace/appels/", "/espace/appels/?page=40", "/espace/appels/?page=2"]
    timings, queries = _measure(client, pages, 40)
    p95 = percentile(timings, 95)
    print(f"  /espace/appels/ (client of one account, {calls:,} calls): "
          f"{summary_ms(timings)}; queries {min(queries)}–{max(queries)}")
    day = clock.now().date() - timedelta(days=365)
    filtered = [f"/espace/appels/?du={day}&au={day + timedelta(days=6)}",
                "/espace/appels/?traite=non&page=3",
                # A caller's number (one call), a caller's name (a few), a common word (one
                # message in six).
                "/espace/appels/?q=0610001201", "/espace/appels/?q=Durand+421",
                "/espace/appels/?q=douleur"]
    f_timings, f_queries = _measure(client, filtered, 40)
    f_p95 = percentile(f_timings, 95)
    print(f"  /espace/appels/ filtered (a week, to handle, searches): "
          f"{summary_ms(f_timings)}; queries {min(f_queries)}–{max(f_queries)}")
    return [("espace client call log p95", f"{p95:.0f} ms", "< 150 ms", p95 < 150),
            ("espace client call log queries", f"{min(queries)}–{max(queries)}", "constant",
             max(queries) - min(queries) <= 1),
            ("espace client call log filtered p95", f"{f_p95:.0f} ms", "< 150 ms",
             f_p95 < 150)]


def run() -> list[tuple[str, str, str, bool]]:
    accounts, supervisor, agent = _accounts()
    out = _webhook()
    out += _pops(agent, f"+{BASE_NUMBER}")
    out += _lists(accounts, supervisor, agent)
    return out

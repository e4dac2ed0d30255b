"""Reports at scale: GET /api/v1/reports/kpis over one month, for one account and for all
accounts, with BENCH_REPORTS_CALLS calls (default 5,000,000) and BENCH_REPORTS_CONVERSATIONS
conversations (default 1,000,000) over 200 accounts and a year, then the monthly activity
reports of the 200 accounts (figures and PDFs, time printed). PostgreSQL: the seed writes
each table in a few INSERT … SELECT over generate_series (bench.sql_seed).

How it stays under the target (p95 < 500 ms): every figure is one aggregate per table over
an index range (calls by offered_at, conversations by created_at), business durations and
on-time flags are stored on the conversation when known (no calendar arithmetic at read
time), and percentiles are read by ORDER BY … OFFSET on the period's rows."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from .stats import percentile, summary_ms

N_CALLS = int(os.environ.get("BENCH_REPORTS_CALLS", "5000000"))
N_CONVERSATIONS = int(os.environ.get("BENCH_REPORTS_CONVERSATIONS", "1000000"))
N_CONTACTS = max(1, N_CONVERSATIONS // 3)
N_ACCOUNTS = 200
SPAN = 365 * 86400


def _contiguous(accounts: list[Any]) -> int:
    ids = sorted(a.pk for a in accounts)
    if ids != list(range(ids[0], ids[0] + len(ids))):
        raise SystemExit("bench reports: the benchmark accounts' ids are not contiguous; "
                         "use a fresh database")
    return ids[0]


def seed() -> tuple[Any, Any, list[Any]]:
    from django.db import connection

    from permanence.core import clock
    from permanence.desk.models import Call
    from permanence.inbox.models import Contact, Conversation
    from permanence.inbox.models_complaints import SurveyResponse

    from .people import staff_and_accounts
    from .sql_seed import insert_series

    if connection.vendor != "postgresql":
        raise SystemExit("bench reports needs PostgreSQL (DATABASE_URL)")
    supervisor, agent, accounts = staff_and_accounts(
        agent_email="bench-rep-agent@permanence.test", slug_prefix="bench-rep-",
        name_format="Cabinet rapports {:03d}", count=N_ACCOUNTS)
    first = _contiguous(accounts)
    now = clock.now()
    if not Call.objects.filter(call_id="rep-1").exists():
        insert_series(Call, 1, N_CALLS, {
            "call_id": "'rep-' || i", "account_id": f"{first} + (i %% {N_ACCOUNTS})",
            "direction": "'inbound'", "from_number": "'+336' || (10000000 + i %% 89999999)",
            "state": "'ended'",
            "outcome": "CASE WHEN i %% 20 = 0 THEN 'abandoned' WHEN i %% 20 = 1 THEN 'voicemail' "
                       "ELSE 'answered' END",
            "answered_at": f"CASE WHEN i %% 20 > 1 THEN TIMESTAMPTZ '{now.isoformat()}' - "
                           f"make_interval(secs => (i * {SPAN}.0 / {N_CALLS})) + "
                           "make_interval(secs => i %% 45) END",
            "ended_at": f"TIMESTAMPTZ '{now.isoformat()}' - make_interval(secs => "
                        f"(i * {SPAN}.0 / {N_CALLS})) + make_interval(secs => 60 + i %% 400)",
            "agent_id": f"CASE WHEN i %% 20 > 1 THEN {agent.pk} END",
            "wait_seconds": "CASE WHEN i %% 20 > 1 THEN i %% 45 END",
            "talk_seconds": "CASE WHEN i %% 20 > 1 THEN 30 + i %% 300 END",
            "hold_seconds": "i %% 7", "wrapup_seconds": "CASE WHEN i %% 20 > 1 THEN i %% 60 END",
        }, stamps={"offered_at": (SPAN, N_CALLS), "created_at": (SPAN, N_CALLS),
                   "last_event_at": (SPAN, N_CALLS)}, now=now, label="calls")
    if not Contact.objects.filter(email="rep-1@exemple.fr").exists():
        insert_series(Contact, 1, N_CONTACTS, {
            "account_id": f"{first} + (i %% {N_ACCOUNTS})", "name": "'Contact ' || i",
            "email": "'rep-' || i || '@exemple.fr'", "phone": "'+336' || (20000000 + i)",
        }, stamps={"created_at": (SPAN, N_CONTACTS)}, now=now, label="contacts")
    contact_first = Contact.objects.get(email="rep-1@exemple.fr").pk
    if not Conversation.objects.filter(reference="REP-1").exists():
        created = (f"(TIMESTAMPTZ '{now.isoformat()}' - make_interval(secs => "
                   f"(i * {SPAN}.0 / {N_CONVERSATIONS})))")
        insert_series(Conversation, 1, N_CONVERSATIONS, {
            "account_id": f"{first} + (i %% {N_ACCOUNTS})", "reference": "'REP-' || i",
            "subject": "'Demande ' || i", "reply_token": "substr(md5(i::text), 1, 16)",
            "contact_id": f"{contact_first} + (i %% {N_CONTACTS})",
            "channel": "(ARRAY['email','telephone','formulaire','chat','sms'])[1 + i %% 5]",
            "motif": "(ARRAY['facturation','livraison','information','retour'])[1 + i %% 4]",
            "kind": "CASE WHEN i %% 25 = 0 THEN 'reclamation' ELSE 'question' END",
            "status": "CASE WHEN i %% 50 = 0 THEN 'ouvert' ELSE 'resolu' END",
            "first_response_at": f"CASE WHEN i %% 10 < 9 THEN {created} + INTERVAL '1 hour' END",
            "first_response_business_seconds": "CASE WHEN i %% 10 < 9 THEN 600 + i %% 86400 END",
            "first_response_on_time": "CASE WHEN i %% 10 < 9 THEN i %% 10 < 8 END",
            "resolved_at": f"CASE WHEN i %% 50 <> 0 THEN {created} + INTERVAL '5 hours' END",
            "resolution_business_seconds": "CASE WHEN i %% 50 <> 0 THEN 3600 + i %% 172800 END",
            "resolution_on_time": "CASE WHEN i %% 50 <> 0 THEN i %% 7 <> 0 END",
            "followed_up": "i %% 9 = 0", "reopen_count": "CASE WHEN i %% 30 = 0 THEN 1 ELSE 0 END",
        }, stamps={"created_at": (SPAN, N_CONVERSATIONS), "updated_at": (SPAN, N_CONVERSATIONS),
                   "last_message_at": (SPAN, N_CONVERSATIONS)}, now=now, label="conversations")
    conv_first = Conversation.objects.get(reference="REP-1").pk
    surveys = N_CONVERSATIONS // 10
    if not SurveyResponse.objects.filter(conversation_id=conv_first).exists():
        insert_series(SurveyResponse, 1, surveys, {
            "conversation_id": f"{conv_first} + (i * 10 - 10)",
            "csat": "1 + i %% 5", "nps": "i %% 11", "ask_nps": "true",
            "token": "md5(i::text)", "account_id": f"{first} + ((i * 10 - 9) %% {N_ACCOUNTS})",
        }, stamps={"sent_at": (SPAN, surveys), "answered_at": (SPAN, surveys)}, now=now,
            label="survey answers")
    with connection.cursor() as cursor:  # as autovacuum would: visibility maps, statistics
        for model in (Call, Contact, Conversation, SurveyResponse):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return supervisor, agent, accounts


def _measure(client: Any, url: str, n: int) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], []
    client.get(url)  # warm-up (plans, caches)
    for _ in range(n):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        queries.append(len(ctx.captured_queries))
    return timings, queries


def run() -> list[tuple[str, str, str, bool]]:
    from django.test import Client

    from permanence.core import clock
    from permanence.reports import kpis, monthly

    print(f"\n== Reports: {N_CALLS:,} calls, {N_CONVERSATIONS:,} conversations, "
          f"{N_ACCOUNTS} accounts, one year ==")
    t0 = time.perf_counter()
    supervisor, _agent, accounts = seed()
    print(f"  data ready in {time.perf_counter() - t0:.0f} s")
    today = clock.now().astimezone(kpis.PARIS).date()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    month = last_month_end.replace(day=1)
    period = f"from={month.isoformat()}&to={last_month_end.isoformat()}"
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(supervisor)
    out = []
    for label, url in (
            ("all accounts", f"/api/v1/reports/kpis?{period}"),
            ("one account", f"/api/v1/reports/kpis?{period}&account={accounts[7].pk}"),
            ("all accounts, e-mail only", f"/api/v1/reports/kpis?{period}&channel=email")):
        timings, queries = _measure(client, url, 10)
        p95 = percentile(timings, 95)
        print(f"  KPI endpoint, one month, {label}: {summary_ms(timings)}; queries "
              f"{min(queries)}–{max(queries)}")
        out.append((f"KPI endpoint p95 ({label})", f"{p95:.0f} ms", "< 500 ms", p95 < 500))
    timings, queries = _measure(client, f"/app/rapports/?du={month}&au={last_month_end}", 5)
    print(f"  indicators page, one month (two periods + charts): {summary_ms(timings)}; "
          f"queries {min(queries)}–{max(queries)}")
    started = time.perf_counter()
    for account in accounts:
        monthly.figures(account, month)
    figures_s = time.perf_counter() - started
    started = time.perf_counter()
    for account in accounts:
        monthly.pdf(account, month)
    pdf_s = time.perf_counter() - started
    print(f"  monthly reports for {len(accounts)} accounts: figures {figures_s:.1f} s, "
          f"figures + PDF {pdf_s:.1f} s ({1000 * pdf_s / len(accounts):.0f} ms per account)")
    out.append(("monthly reports, 200 accounts (figures + PDF)", f"{pdf_s:.0f} s", "printed",
                True))
    return out




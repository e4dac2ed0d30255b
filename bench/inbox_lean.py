"""A lean seed for the search and API-paging measures at 1,000,000 conversations
(PostgreSQL): contacts and conversations only — with the same corpus, statuses, dates and
search text as bench/inbox.py, so word frequencies are those of the full seed — streamed
with COPY instead of the ORM, and no messages (search reads the search text, the API list
neither messages nor attachments). `BENCH_INBOX_SCALE=5 make bench BENCH=inbox_search`.

Every column of the conversation table is written from an unsaved model instance
(field defaults included), so fields added later need no change here; the search vector
and vocabulary come from the table's trigger (migration inbox/0010)."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from .inbox import (
    FIRST_NAMES,
    LAST_NAMES,
    MESSAGES_PER_CONVERSATION,
    N_ACCOUNTS,
    N_CONVERSATIONS,
    TOPIC_NAMES,
    _body,
    _email,
    _phone,
    _subject,
)

BATCH = 20_000


def _copy(cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    # Table and column names come from the models, never from input.
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def seed(accounts: list[Any], agent: Any, have: int) -> None:
    from django.db import connection, transaction

    from permanence.core import clock
    from permanence.inbox.models import Conversation

    rng = random.Random(4242 + have)
    now = clock.now()
    fields = [f for f in Conversation._meta.concrete_fields]
    columns = [str(f.column) for f in fields]
    agent_accounts = {a.pk for a in accounts[:5]}
    with connection.cursor() as c:
        c.execute("SELECT coalesce(max(id), 0) FROM inbox_contact")
        contact_base = c.fetchone()[0]
        c.execute("SELECT coalesce(max(id), 0) FROM inbox_conversation")
        conversation_base = c.fetchone()[0]
    started = time.perf_counter()
    for start in range(have, N_CONVERSATIONS, BATCH):
        count = min(BATCH, N_CONVERSATIONS - start)
        contacts, conversations = [], []
        for i in range(count):
            n = start + i
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            person = (first, last)
            account_id = accounts[n % N_ACCOUNTS].pk
            contact_id = contact_base + i + 1
            name, email, phone = f"{first} {last}", _email(first, last, n), _phone(n)
            contacts.append((contact_id, account_id, name, email, phone, now))
            topic = rng.choice(TOPIC_NAMES)
            subject = _subject(rng, person, topic)
            reference = f"D-2025-{n + 1:06d}"
            status = rng.choice(["nouveau", "ouvert", "ouvert", "attente_client", "resolu",
                                 "clos", "clos", "clos"])
            created = now - timedelta(minutes=n % 100_000, seconds=n // 100_000)
            bodies = "\n".join(_body(rng, person, topic, inbound=k % 2 == 0)
                               for k in range(MESSAGES_PER_CONVERSATION))
            conversation = Conversation(
                id=conversation_base + i + 1, account_id=account_id, reference=reference,
                subject=subject, contact_id=contact_id,
                channel=rng.choice(["email", "formulaire", "telephone"]), status=status,
                created_at=created, updated_at=created, last_message_at=created,
                last_inbound_at=created,
                assignee_id=agent.pk if n % 7 == 0 and account_id in agent_accounts else None,
                next_due_at=created + timedelta(hours=24) if status in (
                    "nouveau", "ouvert") else None,
                reply_token=f"{n:016x}",
                search_text=f"{reference} {subject} {name} {email} {phone}\n{bodies}")
            conversations.append(tuple(
                f.get_db_prep_save(f.pre_save(conversation, add=True), connection)
                for f in fields))
        with transaction.atomic(), connection.cursor() as c:
            raw = c.cursor  # psycopg's cursor, for COPY
            _copy(raw, "inbox_contact",
                  ["id", "account_id", "name", "email", "phone", "created_at"], contacts)
            _copy(raw, "inbox_conversation", columns, conversations)
        contact_base += count
        conversation_base += count
        done = start + count
        rate = (done - have) / (time.perf_counter() - started)
        print(f"  lean seed: {done:,} conversations ({rate:,.0f}/s)", flush=True)
    with connection.cursor() as c:
        for table in ("inbox_contact", "inbox_conversation"):
            c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                      f"(SELECT max(id) FROM {table}))")
        c.execute("VACUUM ANALYZE inbox_contact")
        c.execute("VACUUM ANALYZE inbox_conversation")

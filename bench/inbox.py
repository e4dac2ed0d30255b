"""Inbox at scale: 1,000,000 messages in 200,000 conversations over 50 accounts (scaled by
BENCH_INBOX_SCALE), then inbox list, conversation page and search latencies + query counts."""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta
from typing import Any

from .stats import percentile, summary_ms

SCALE = float(os.environ.get("BENCH_INBOX_SCALE", "1"))
N_ACCOUNTS = 50
N_CONVERSATIONS = int(200_000 * SCALE)
MESSAGES_PER_CONVERSATION = 5
WORDS = ("rendez-vous facture commande livraison remboursement ordonnance devis urgence "
         "retard colis annulation rappel résultats analyse contrat honoraires chantier fuite "
         "devis intervention paiement prélèvement abonnement forfait appel message").split()
NAMES = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
         "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André").split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def seed() -> tuple[Any, Any, list[int]]:
    from django.db import connection, transaction

    from permanence.accounts.models import ClientAccount, Role, User
    from permanence.inbox.models import Contact, Conversation, Message

    supervisor = User.objects.filter(email="bench-sup@permanence.test").first() or \
        User.objects.create_user("bench-sup@permanence.test", None, role=Role.SUPERVISOR)
    agent = User.objects.filter(email="bench-inbox-agent@permanence.test").first() or \
        User.objects.create_user("bench-inbox-agent@permanence.test", None, role=Role.AGENT)
    accounts = list(ClientAccount.objects.filter(slug__startswith="bench-inbox-"))
    if len(accounts) < N_ACCOUNTS:
        ClientAccount.objects.bulk_create([
            ClientAccount(name=f"Cabinet {i:02d}", slug=f"bench-inbox-{i:02d}", status="actif")
            for i in range(len(accounts), N_ACCOUNTS)])
        accounts = list(ClientAccount.objects.filter(slug__startswith="bench-inbox-"))
    for a in accounts[:5]:
        a.assigned_agents.add(agent)
    have = Conversation.objects.filter(account__in=accounts).count()
    if have >= N_CONVERSATIONS:
        return supervisor, agent, [a.pk for a in accounts]
    rng = random.Random(42)  # noqa: S311 (benchmark data)
    from permanence.core import clock

    now = clock.now()
    batch = 5000
    started = time.perf_counter()
    for start in range(have, N_CONVERSATIONS, batch):
        count = min(batch, N_CONVERSATIONS - start)
        with transaction.atomic():
            contacts = Contact.objects.bulk_create([
                Contact(account=accounts[(start + i) % N_ACCOUNTS],
                        name=f"{rng.choice(NAMES)} {rng.choice(NAMES)}",
                        email=f"c{start + i}@exemple.fr") for i in range(count)])
            convs, bodies_of = [], []
            for i, contact in enumerate(contacts):
                n = start + i
                created = now - timedelta(minutes=n % 100_000)
                subject = f"{rng.choice(WORDS).capitalize()} {_text(rng, 3)}"
                ref = f"D-2025-{n + 1:06d}"
                status = rng.choice(["nouveau", "ouvert", "ouvert", "attente_client", "resolu",
                                     "clos", "clos", "clos"])
                bodies = [_text(rng, 25) for _ in range(MESSAGES_PER_CONVERSATION)]
                bodies_of.append(bodies)
                # search_text complete at insert: the FTS index is written once per row.
                convs.append(Conversation(
                    account_id=contact.account_id, reference=ref, subject=subject,
                    contact=contact, channel=rng.choice(["email", "formulaire", "telephone"]),
                    status=status, created_at=created, updated_at=created,
                    last_message_at=created, last_inbound_at=created,
                    assignee=agent if n % 7 == 0 and contact.account_id in
                    {a.pk for a in accounts[:5]} else None,
                    next_due_at=created + timedelta(hours=24) if status in (
                        "nouveau", "ouvert") else None,
                    search_text=f"{ref} {subject} {contact.name} {contact.email}\n"
                                + "\n".join(bodies)))
            convs = Conversation.objects.bulk_create(convs)
            messages = [
                Message(conversation=conv, direction="in" if k % 2 == 0 else "out",
                        channel=conv.channel, body_text=body,
                        created_at=conv.created_at + timedelta(minutes=k))
                for conv, bodies in zip(convs, bodies_of, strict=True)
                for k, body in enumerate(bodies)]
            Message.objects.bulk_create(messages, batch_size=5000)
        done = start + count
        if done % 20_000 == 0 or done == N_CONVERSATIONS:
            rate = (done - have) / (time.perf_counter() - started)
            print(f"  seeded {done:,} conversations ({rate:,.0f}/s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return supervisor, agent, [a.pk for a in accounts]


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
        assert response.status_code == 200, (url, response.status_code)
        queries.append(len(ctx.captured_queries))
    return timings, queries


def run() -> list[tuple[str, str, str, bool]]:
    from django.test import Client

    from permanence.inbox.models import Conversation

    print(f"\n== Inbox: {N_CONVERSATIONS:,} conversations, "
          f"{N_CONVERSATIONS * MESSAGES_PER_CONVERSATION:,} messages, {N_ACCOUNTS} accounts ==")
    t0 = time.perf_counter()
    supervisor, agent, account_ids = seed()
    print(f"  data ready in {time.perf_counter() - t0:.0f} s")
    out = []
    for label, user in (("supervisor", supervisor), ("agent", agent)):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        client.get("/app/boite/")  # warm-up
        urls = ["/app/boite/?view=open", "/app/boite/?view=all&sort=recent",
                f"/app/boite/?view=open&account={account_ids[1]}", "/app/boite/?view=mine",
                "/app/boite/?view=all&status=clos&page=3"]
        timings, queries = _measure(client, urls, 60)
        p95 = percentile(timings, 95)
        print(f"  inbox list as {label}: {summary_ms(timings)}; queries {min(queries)}–"
              f"{max(queries)}")
        out.append((f"inbox list p95 ({label})", f"{p95:.0f} ms", "< 150 ms", p95 < 150))
        out.append((f"inbox list queries ({label})", str(max(queries)), "≤ 10",
                    max(queries) <= 10))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(supervisor)
    ids = list(Conversation.objects.filter(account_id__in=account_ids).order_by("?")
               .values_list("pk", flat=True)[:40])
    timings, queries = _measure(client, [f"/app/boite/{pk}/" for pk in ids], 40)
    p95 = percentile(timings, 95)
    print(f"  conversation page: {summary_ms(timings)}; queries {min(queries)}–{max(queries)}")
    out.append(("conversation page p95", f"{p95:.0f} ms", "< 150 ms", p95 < 150))
    terms = ["remboursement", "colis retard", "factu", "D-2025-000123", "ordonnance urgence",
             "Lefèvre", "prelevement", "c1234@exemple.fr"]
    timings, queries = _measure(client, [f"/app/boite/?view=all&q={t}" for t in terms], 40)
    p95 = percentile(timings, 95)
    print(f"  search: {summary_ms(timings)}; queries {min(queries)}–{max(queries)}")
    out.append(("inbox search p95", f"{p95:.0f} ms", "< 300 ms", p95 < 300))
    return out

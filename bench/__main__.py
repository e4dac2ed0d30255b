"""`make bench`: seed realistic volumes and print figures.

Uses DATABASE_URL when set (e.g. PostgreSQL), else its own SQLite file var/bench.sqlite3, so
the demo database is never touched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "permanence.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
    os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.dummy.DummyBackend")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # As the web process does once loaded (asgi.py): the measures run in the same conditions.
    from permanence.core.startup_gc import freeze_loaded_code

    freeze_loaded_code()
    import importlib

    # Each benchmark is a module of this package with a `run()` returning
    # [(name, value, target, ok), ...]; listed here in the order they run.
    names = ["business_time", "api_accounts", "healthz", "mail_ingest", "inbox", "inbox_search",
             "conversation_create",
             "checkout", "payments", "orders", "live", "desk", "agenda", "agenda_sync", "billing_run",
             "invoice_documents", "knowledge", "livechat", "reports"]
    benches = {name: importlib.import_module(f"bench.{name}").run for name in names
               if (ROOT / "bench" / f"{name}.py").exists()}
    wanted = sys.argv[1:] or list(benches)
    unknown = [w for w in wanted if w not in benches]
    if unknown:
        print(f"unknown benchmark(s): {unknown}; choose among {list(benches)}")
        return 2
    print(f"Permanence benchmarks — database: {django.db.connection.vendor}")
    results = [benches[name]() for name in wanted]
    print("\nSummary")
    failed = False
    for block in results:
        for name, value, target, ok in block:
            mark = "OK " if ok else "MISS"
            failed |= not ok
            print(f"  [{mark}] {name}: {value}  (target {target})")
    return 1 if failed and os.environ.get("BENCH_STRICT") else 0


if __name__ == "__main__":
    sys.exit(main())

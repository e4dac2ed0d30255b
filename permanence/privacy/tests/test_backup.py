"""Issue 15, continuity: `manage.py backup` and `manage.py restore`, proved by a restore drill
into a fresh database (a new PostgreSQL database or a new SQLite file, whichever engine the
suite runs on), every table's row count and every media file's SHA-256 compared with the
source; corrupted and encrypted archives; failed backups recorded as failed; /healthz and the
once-a-day stale-backup alert.

The drill tests commit their data (transactional tests): pg_dump reads the database from a
process of its own, and the SQLite backup API from a connection of its own."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client
from psycopg import sql

from permanence.billing.models_invoices import Invoice
from permanence.core import clock
from permanence.core.scheduler import REGISTRY
from permanence.inbox import services as inbox_services
from permanence.inbox.models import Attachment, Conversation
from permanence.privacy.models import BackupAlert, BackupRun
from permanence.privacy.tasks import alert_stale_backup

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES = connection.vendor == "postgresql"
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)


# --- Fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture
def seeded(account: Any, other_account: Any) -> dict[str, Any]:
    """Two accounts, a conversation with an attachment and an invoice with its PDF."""
    conversation = inbox_services.conversation_open(inbox_services.Incoming(
        account=account, channel="email", subject="Ordonnance", body_text="Bonjour",
        contact_email="jean@exemple.fr", acknowledge=False,
        attachments=[SimpleUploadedFile("ordonnance.pdf", b"%PDF-1.4 ordonnance")]))
    invoice = Invoice.objects.create(
        number="F2026-00001", account=account, issued_on=date(2026, 5, 31),
        due_on=date(2026, 6, 30), total_ht_cents=10000, total_vat_cents=2000,
        total_ttc_cents=12000, content_hash="0" * 64, created_at=T0)
    invoice.pdf.save("F2026-00001.pdf", ContentFile(b"%PDF-1.4 facture F2026-00001"))
    attachment = Attachment.objects.get(message__conversation=conversation)
    return {"attachment": attachment.file.name, "invoice_pdf": invoice.pdf.name}


@pytest.fixture
def fresh_target(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A fresh, empty database of the suite's engine: {"url", "name"}. The PostgreSQL one is
    dropped afterwards, whatever the test's outcome."""
    if not POSTGRES:
        path = tmp_path / "drill" / "drill.sqlite3"
        yield {"url": f"sqlite:///{path}", "name": str(path)}
        return
    source = connection.settings_dict
    name = f"b_drill_{secrets.token_hex(4)}"
    admin = _pg_connect("postgres")
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        auth = quote(source["USER"] or "", safe="")
        if source["PASSWORD"]:
            auth += ":" + quote(source["PASSWORD"], safe="")
        url = (f"postgres://{auth}@{source['HOST'] or '127.0.0.1'}:"
               f"{source['PORT'] or 5432}/{name}")
        yield {"url": url, "name": name}
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                      .format(sql.Identifier(name)))
        admin.close()


def _pg_connect(name: str) -> psycopg.Connection[Any]:
    source = connection.settings_dict
    params = {"host": source["HOST"], "port": source["PORT"], "user": source["USER"],
              "password": source["PASSWORD"], "dbname": name}
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def source_counts() -> dict[str, int]:
    """Every table of the test database, counted through Django's own connection."""
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (introspected names)
            counts[table] = cursor.fetchone()[0]
    return counts


def target_counts(target: dict[str, Any]) -> dict[str, int]:
    if POSTGRES:
        with _pg_connect(target["name"]) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE'").fetchall()]
            return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}")
                                    .format(sql.Identifier(t))).fetchone()[0]  # type: ignore[index]
                    for t in tables}
    if not Path(target["name"]).exists():
        return {}
    conn = sqlite3.connect(target["name"])
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                for t in tables}
    finally:
        conn.close()


def media_hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def run_backup(output: Path, *extra: str) -> Path:
    call_command("backup", "--output", str(output), *extra, stdout=open(os.devnull, "w"))  # noqa: SIM115
    archives = sorted(p for p in output.iterdir() if p.name.startswith("permanence-backup-")
                      and not p.name.endswith(".sha256"))
    return archives[-1]


def restore(archive: Path, target: dict[str, Any], media: Path, *extra: str) -> str:
    out = Path(media.parent / "restore-output.txt")
    with out.open("w") as stream:
        call_command("restore", str(archive), "--database-url", target["url"],
                     "--media-root", str(media), *extra, stdout=stream)
    return out.read_text()


def healthz_backup() -> dict[str, Any]:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert {"status", "version", "database", "cache", "worker"} <= set(body)
    return body["backup"]


# --- The restore drill ------------------------------------------------------------------------

def test_restore_drill_into_a_fresh_database(seeded: dict[str, Any], fresh_target: dict[str, Any],
                                             tmp_path: Path) -> None:
    archive = run_backup(tmp_path / "backups")
    sha_file = Path(f"{archive}.sha256")
    assert sha_file.read_text().split() == [hashlib.sha256(archive.read_bytes()).hexdigest(),
                                            archive.name]
    run = BackupRun.objects.get()
    assert run.ok and run.finished_at and run.path == str(archive)
    assert run.sha256 == sha_file.read_text().split()[0] and run.size == archive.stat().st_size

    media = tmp_path / "restored-media"
    report = restore(archive, fresh_target, media)
    assert "Restauration vérifiée" in report

    expected = source_counts()
    assert expected["inbox_conversation"] == Conversation.objects.count() == 1
    assert expected["inbox_attachment"] == 1 and expected["billing_invoice"] == 1
    assert expected["accounts_clientaccount"] == 2
    assert expected["privacy_backuprun"] == 1
    assert target_counts(fresh_target) == expected

    source_media = media_hashes(Path(settings.MEDIA_ROOT))
    assert {seeded["attachment"], seeded["invoice_pdf"]} <= set(source_media)
    assert media_hashes(media) == source_media

    # The target is no longer empty: a second restore needs --yes, then passes again.
    with pytest.raises(CommandError, match="n'est pas vide"):
        restore(archive, fresh_target, media)
    assert "Restauration vérifiée" in restore(archive, fresh_target, media, "--yes")
    assert target_counts(fresh_target) == expected


def test_the_backup_is_consistent_while_the_application_writes(
        seeded: dict[str, Any], fresh_target: dict[str, Any], tmp_path: Path) -> None:
    """Rows are inserted without pause during the backup: the manifest's counts and the dump
    describe the same instant, so the restored database matches the manifest exactly."""
    stop, written = threading.Event(), []

    def write() -> None:
        day = date(2000, 1, 1)
        try:
            while not stop.is_set():
                BackupAlert.objects.create(day=day + timedelta(days=len(written)), sent_at=T0)
                written.append(1)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while not written:  # the writer is under way before the backup starts
            stop.wait(0.01)
        archive = run_backup(tmp_path / "backups")
    finally:
        stop.set()
        writer.join()
    media = tmp_path / "restored-media"
    assert "Restauration vérifiée" in restore(archive, fresh_target, media)
    restored = target_counts(fresh_target)["privacy_backupalert"]
    assert 0 < restored < len(written)  # the writes went on after the snapshot


def test_a_corrupted_archive_is_refused_and_nothing_is_restored(
        seeded: dict[str, Any], fresh_target: dict[str, Any], tmp_path: Path) -> None:
    archive = run_backup(tmp_path / "backups")
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    media = tmp_path / "restored-media"
    with pytest.raises(CommandError, match="Archive corrompue.*rien n'a été restauré"):
        restore(archive, fresh_target, media)
    assert target_counts(fresh_target) == {}
    assert not media.exists()


def test_an_encrypted_backup_restores_with_its_key_only(
        seeded: dict[str, Any], fresh_target: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("BACKUP_KEY", key)
    archive = run_backup(tmp_path / "backups", "--encrypt")
    assert archive.name.endswith(".tar.gz.enc")
    content = archive.read_bytes()
    assert not content.startswith(b"\x1f\x8b")  # not a readable gzip stream
    assert b"ordonnance" not in content and b"manifest.json" not in content
    assert BackupRun.objects.get().encrypted

    media = tmp_path / "restored-media"
    monkeypatch.delenv("BACKUP_KEY")
    with pytest.raises(CommandError, match="chiffrée.*BACKUP_KEY"):
        restore(archive, fresh_target, media)
    monkeypatch.setenv("BACKUP_KEY", Fernet.generate_key().decode())
    with pytest.raises(CommandError, match="n'est pas la clé"):
        restore(archive, fresh_target, media)
    assert target_counts(fresh_target) == {}
    assert not media.exists()

    # Key rotation: a new key first, the old one still decrypts.
    monkeypatch.setenv("BACKUP_KEY", f"{Fernet.generate_key().decode()},{key}")
    assert "Restauration vérifiée" in restore(archive, fresh_target, media)
    assert target_counts(fresh_target) == source_counts()
    assert media_hashes(media) == media_hashes(Path(settings.MEDIA_ROOT))


def test_a_failed_backup_is_recorded_as_failed(
        seeded: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "backups"
    if POSTGRES:
        # pg_dump missing: a PATH where it cannot be found.
        empty = tmp_path / "bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        expected = "pg_dump est introuvable"
    else:
        # SQLite needs no pg_dump; its backup fails when the output cannot be written.
        output.write_text("a file, not a directory")
        expected = "Sauvegarde échouée"
    with pytest.raises(CommandError, match=expected):
        call_command("backup", "--output", str(output))
    run = BackupRun.objects.get()
    assert not run.ok and run.finished_at is not None and run.error and not run.sha256
    if POSTGRES:
        assert not any(output.iterdir())  # no partial archive left behind

    # --encrypt without a key: refused, recorded as failed too.
    monkeypatch.delenv("BACKUP_KEY", raising=False)
    with pytest.raises(CommandError, match="BACKUP_KEY"):
        call_command("backup", "--output", str(tmp_path / "other"), "--encrypt")
    assert BackupRun.objects.filter(ok=False).count() == 2
    assert not BackupRun.objects.filter(ok=True).exists()
    assert healthz_backup()["status"] == "missing"


def test_only_the_last_backups_are_kept(seeded: dict[str, Any], tmp_path: Path,
                                        settings: Any) -> None:
    settings.BACKUP_KEEP = 2
    output = tmp_path / "backups"
    archives = [run_backup(output) for _ in range(3)]
    assert sorted(p.name for p in output.iterdir()) == sorted(
        [archives[1].name, f"{archives[1].name}.sha256",
         archives[2].name, f"{archives[2].name}.sha256"])
    assert BackupRun.objects.filter(ok=True).count() == 3


# --- Health and alert -------------------------------------------------------------------------

def _succeeded(at: datetime) -> None:
    BackupRun.objects.create(started_at=at - timedelta(minutes=1), finished_at=at, ok=True,
                             path="/var/backups/x.tar.gz", size=1, sha256="0" * 64)


@pytest.mark.django_db
def test_healthz_shows_the_last_successful_backup(settings: Any) -> None:
    assert healthz_backup() == {"last_success_at": None, "age_hours": None,
                                "status": "missing"}
    _succeeded(T0)
    # A later failed run does not count.
    BackupRun.objects.create(started_at=T0 + timedelta(hours=2),
                             finished_at=T0 + timedelta(hours=2), ok=False, error="disk full")
    with clock.frozen(T0 + timedelta(hours=3)):
        assert healthz_backup() == {"last_success_at": T0.isoformat(), "age_hours": 3.0,
                                    "status": "ok"}
    with clock.frozen(T0 + timedelta(hours=26, minutes=30)):
        # Stale, shown, and still a 200 (healthz_backup asserts it).
        assert healthz_backup()["status"] == "stale"
    settings.BACKUP_STALE_HOURS = 48
    with clock.frozen(T0 + timedelta(hours=27)):
        assert healthz_backup()["status"] == "ok"


@pytest.mark.django_db
def test_stale_backup_alerts_the_administrators_once_a_day(
        admin_user: Any, agent: Any, django_capture_on_commit_callbacks: Any) -> None:
    assert REGISTRY["privacy.stale_backup_alert"].task is alert_stale_backup
    _succeeded(T0)

    def tick(at: datetime) -> None:
        with clock.frozen(at), django_capture_on_commit_callbacks(execute=True):
            alert_stale_backup.enqueue()

    tick(T0 + timedelta(hours=20))  # fresh: nothing
    assert mail.outbox == []
    tick(T0 + timedelta(hours=27))  # stale: the administrators are told
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin_user.email]  # not the agent
    assert "sauvegarde" in mail.outbox[0].subject.lower()
    tick(T0 + timedelta(hours=28))  # same day: not again
    tick(T0 + timedelta(hours=29))
    assert len(mail.outbox) == 1
    tick(T0 + timedelta(days=1, hours=27))  # the next day: once more
    assert len(mail.outbox) == 2
    assert BackupAlert.objects.count() == 2
    _succeeded(T0 + timedelta(days=2, hours=1))  # a fresh backup: quiet again
    tick(T0 + timedelta(days=2, hours=3))
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_backups_page_shows_the_state_and_each_run(admin_user: Any, supervisor: Any,
                                                       django_assert_max_num_queries: Any
                                                       ) -> None:
    page = Client()
    page.force_login(admin_user)
    empty = page.get("/app/confidentialite/sauvegardes/").content.decode()
    assert "Aucune sauvegarde réussie" in empty and "encore été lancée" in empty
    _succeeded(T0)
    BackupRun.objects.create(started_at=T0 + timedelta(hours=2),
                             finished_at=T0 + timedelta(hours=2), ok=False, error="disk full")
    with clock.frozen(T0 + timedelta(hours=30)), django_assert_max_num_queries(8):
        html = page.get("/app/confidentialite/sauvegardes/").content.decode()
    assert "En retard" in html and "30,0 heures" in html  # the state /healthz reports
    assert "disk full" in html and "Échec" in html and "Réussie" in html
    assert "0" * 64 in html  # the archive's fingerprint, to compare with the copy off site
    other = Client()
    other.force_login(supervisor)
    assert other.get("/app/confidentialite/sauvegardes/").status_code == 403

"""Backups and their restore: the database and the media files in one compressed archive,
with a manifest (versions, migrations, row counts, SHA-256 of every file), its own SHA-256
beside it, optionally encrypted (Fernet, BACKUP_KEY).

Consistency: on PostgreSQL the row counts are read in a REPEATABLE READ transaction whose
snapshot is exported and given to `pg_dump --snapshot`, so the dump and the manifest see the
same instant while the application keeps writing; on SQLite the online backup API copies the
database page by page into a file of its own and the counts are read from that copy. The media
files are archived after the database: a file the database names was written before it (media
files are written once), so every file the restored database refers to is in the archive.

Archive layout (tar, gzip): `database.dump` (pg_dump's custom format) or `database.sqlite3`,
`media/<path under MEDIA_ROOT>`, and `manifest.json` last. Encrypted archives are a stream
of Fernet tokens (MAGIC, then for each chunk its length and token; each token holds the
chunk's index and whether it is the last, so a truncated or reordered file is refused)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess  # nosec B404  # pg_dump/psql with argument lists, no shell
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import django
import psycopg
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from psycopg import sql

FORMAT = 1
PREFIX = "permanence-backup-"
NAME_RE = re.compile(r"^permanence-backup-\d{8}-\d{6}-\d{6}\.tar\.gz(\.enc)?$")
MAGIC = b"PERMANENCE-BACKUP-FERNET-1\n"
CHUNK = 4 * 1024 * 1024
DB_MEMBERS = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """A backup or a restore that cannot go on; the message says why, in French."""


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str
    manifest: dict[str, Any]


@dataclass
class RestoreReport:
    tables: int = 0
    rows: int = 0
    media: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


# --- Helpers ----------------------------------------------------------------------------------

def vendor_of(db: dict[str, Any]) -> str:
    engine = str(db.get("ENGINE", ""))
    if "postgresql" in engine:
        return "postgresql"
    if "sqlite3" in engine:
        return "sqlite"
    raise BackupError(f"Moteur de base de données non pris en charge : {engine}")


def pg_environ(db: dict[str, Any]) -> dict[str, str]:
    """The connection for pg_dump / pg_restore, through libpq's environment variables: never
    on the command line, where any user of the machine could read the password."""
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"),
                     ("PGPASSWORD", "PASSWORD"), ("PGDATABASE", "NAME")):
        value = db.get(key)
        if value not in (None, ""):
            env[var] = str(value)
        else:
            env.pop(var, None)
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def pg_connect(db: dict[str, Any], **kwargs: Any) -> psycopg.Connection[Any]:
    params = {"dbname": db.get("NAME"), "host": db.get("HOST") or None,
              "port": db.get("PORT") or None, "user": db.get("USER") or None,
              "password": db.get("PASSWORD") or None}
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        params["sslmode"] = sslmode
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None}, **kwargs)


def pg_tables(cursor: psycopg.Cursor[Any]) -> list[str]:
    cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                   " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname")
    return [row[0] for row in cursor.fetchall()]


def pg_counts(cursor: psycopg.Cursor[Any]) -> dict[str, int]:
    counts = {}
    for table in pg_tables(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = int(cursor.fetchone()[0])  # type: ignore[index]
    return counts


def sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite_%' ORDER BY name").fetchall()
    return [row[0] for row in rows]


def sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {table: int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])  # noqa: S608 (names from sqlite_master)  # nosec B608
            for table in sqlite_tables(conn)}


def migration_state(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for app, name in rows:
        state.setdefault(app, []).append(name)
    return state


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def media_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under MEDIA_ROOT (symbolic links are not followed), in a stable order."""
    if not root.is_dir():
        return
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(root).as_posix()


class _HashingReader(io.RawIOBase):
    """Reads a file into the tar while hashing exactly the bytes archived."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> str:
    with path.open("rb") as handle:
        info = tar.gettarinfo(fileobj=handle, arcname=arcname)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = _HashingReader(handle)
        tar.addfile(info, reader)  # type: ignore[arg-type]
        return reader.digest.hexdigest()


# --- Encryption -------------------------------------------------------------------------------

def fernet_for(key: str) -> MultiFernet:
    """BACKUP_KEY: one Fernet key, or several separated by commas (rotation: the first
    encrypts, every one decrypts)."""
    try:
        return MultiFernet([Fernet(part.strip().encode()) for part in key.split(",")
                            if part.strip()])
    except (ValueError, TypeError) as exc:
        raise BackupError("BACKUP_KEY n'est pas une clé Fernet valide (32 octets en base64 "
                          "url-safe, voir le README).") from exc


def encrypt_file(source: Path, target: Path, key: str) -> None:
    box = fernet_for(key)
    with source.open("rb") as src, target.open("wb") as out:
        out.write(MAGIC)
        index, chunk = 0, src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            token = box.encrypt(struct.pack(">QB", index, int(last)) + chunk)
            out.write(struct.pack(">I", len(token)) + token)
            if last:
                break
            index, chunk = index + 1, following


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def decrypt_file(source: Path, target: Path, key: str) -> None:
    box = fernet_for(key)
    with source.open("rb") as src, target.open("wb") as out:
        src.read(len(MAGIC))
        expected, finished = 0, False
        while header := src.read(4):
            if finished or len(header) != 4:
                raise BackupError("Archive chiffrée invalide (données après la fin).")
            (length,) = struct.unpack(">I", header)
            try:
                plain = box.decrypt(src.read(length))
            except InvalidToken as exc:
                raise BackupError("Impossible de déchiffrer l'archive : BACKUP_KEY n'est pas la "
                                  "clé de cette sauvegarde.") from exc
            index, last = struct.unpack(">QB", plain[:9])
            if index != expected:
                raise BackupError("Archive chiffrée invalide (morceaux dans le désordre).")
            out.write(plain[9:])
            expected, finished = expected + 1, bool(last)
        if not finished:
            raise BackupError("Archive chiffrée tronquée.")


# --- Backup -----------------------------------------------------------------------------------

def archive_name(at: datetime) -> str:
    return f"{PREFIX}{at.astimezone(UTC):%Y%m%d-%H%M%S-%f}.tar.gz"


def _dump_postgresql(db: dict[str, Any], target: Path) -> tuple[dict[str, int],
                                                                 dict[str, list[str]]]:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump est introuvable (paquet postgresql-client) : aucune "
                          "sauvegarde de la base n'a pu être faite.")
    with pg_connect(db, autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]  # type: ignore[index]
            counts = pg_counts(cursor)
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
            migrations = migration_state(cursor.fetchall())
            # The exporting transaction stays open while pg_dump reads the same snapshot.
            done = subprocess.run(  # noqa: S603 (absolute binary, fixed arguments)  # nosec B603
                [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                 f"--file={target}"],
                env=pg_environ(db), capture_output=True, text=True, check=False)
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump a échoué ({done.returncode}) : {done.stderr.strip()}")
    return counts, migrations


def _dump_sqlite(db: dict[str, Any], target: Path) -> tuple[dict[str, int],
                                                             dict[str, list[str]]]:
    source_path = Path(str(db["NAME"]))
    if not source_path.is_file():
        raise BackupError(f"Base SQLite introuvable : {source_path}")
    source = sqlite3.connect(source_path, timeout=20)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # consistent even while the application writes
        counts = sqlite_counts(copy)
        migrations = migration_state(copy.execute(
            "SELECT app, name FROM django_migrations ORDER BY app, id").fetchall())
    finally:
        copy.close()
        source.close()
    return counts, migrations


def create_backup(*, db: dict[str, Any], media_root: Path, output_dir: Path,
                  key: str | None = None, now: datetime) -> BackupResult:
    """Writes the archive (and its .sha256) into output_dir; nothing is left there when it
    fails."""
    vendor = vendor_of(db)
    if key is not None:
        fernet_for(key)  # refuse a malformed key before any work
    output_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=output_dir))
    try:
        dump = work / DB_MEMBERS[vendor]
        counts, migrations = (_dump_postgresql if vendor == "postgresql"
                              else _dump_sqlite)(db, dump)
        plain = work / "archive.tar.gz"
        files: dict[str, str] = {}
        with tarfile.open(plain, "w:gz", compresslevel=6) as tar:
            files[dump.name] = _add_file(tar, dump, dump.name)
            for path, rel in media_files(media_root):
                files[f"media/{rel}"] = _add_file(tar, path, f"media/{rel}")
            manifest = {
                "format": FORMAT, "created_at": now.isoformat(),
                "django_version": django.get_version(), "database_vendor": vendor,
                "encrypted": key is not None, "migrations": migrations,
                "row_counts": counts, "files": files,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
        name = archive_name(now)
        final = plain
        if key is not None:
            name += ".enc"
            final = work / "archive.tar.gz.enc"
            encrypt_file(plain, final, key)
            plain.unlink()
        digest = file_sha256(final)
        size = final.stat().st_size
        path = output_dir / name
        os.replace(final, path)
        (output_dir / f"{name}.sha256").write_text(f"{digest}  {name}\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(path=path, size=size, sha256=digest, manifest=manifest)


def prune_backups(output_dir: Path, keep: int) -> list[Path]:
    """Deletes all but the `keep` most recent archives (and their .sha256)."""
    archives = sorted(p for p in output_dir.iterdir() if NAME_RE.match(p.name))
    removed = archives[:-keep] if keep > 0 else archives
    for path in removed:
        path.unlink(missing_ok=True)
        Path(f"{path}.sha256").unlink(missing_ok=True)
    return removed


# --- Restore ----------------------------------------------------------------------------------

def verify_checksum(archive: Path) -> None:
    if not archive.is_file():
        raise BackupError(f"Archive introuvable : {archive}")
    checksum = Path(f"{archive}.sha256")
    if not checksum.is_file():
        raise BackupError(f"Somme de contrôle introuvable : {checksum} (rien n'a été restauré).")
    expected = checksum.read_text().split()[0].lower() if checksum.read_text().split() else ""
    actual = file_sha256(archive)
    if actual != expected:
        raise BackupError(f"Archive corrompue : SHA-256 {actual}, attendu {expected} "
                          "(rien n'a été restauré).")


def _unpack(archive: Path, work: Path, key: str | None) -> tuple[Path, dict[str, Any]]:
    plain = archive
    if is_encrypted(archive):
        if not key:
            raise BackupError("Cette archive est chiffrée : définissez la variable "
                              "d'environnement BACKUP_KEY (rien n'a été restauré).")
        plain = work / "archive.tar.gz"
        decrypt_file(archive, plain, key)
    content = work / "content"
    content.mkdir()
    try:
        with tarfile.open(plain, "r:gz") as tar:
            tar.extractall(content, filter="data")
        manifest = json.loads((content / "manifest.json").read_text())
    except (tarfile.TarError, OSError, ValueError) as exc:
        raise BackupError(f"Archive illisible : {exc} (rien n'a été restauré).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Format d'archive inconnu : {manifest.get('format')}")
    listed = set(manifest["files"])
    present = {p.relative_to(content).as_posix() for p in content.rglob("*") if p.is_file()}
    present.discard("manifest.json")
    if listed != present:
        raise BackupError("Le contenu de l'archive ne correspond pas à son manifeste "
                          "(rien n'a été restauré).")
    for rel, digest in manifest["files"].items():
        if file_sha256(content / rel) != digest:
            raise BackupError(f"Fichier altéré dans l'archive : {rel} (rien n'a été restauré).")
    return content, manifest


def _database_is_empty(db: dict[str, Any], vendor: str) -> bool:
    if vendor == "postgresql":
        with pg_connect(db, autocommit=True) as conn, conn.cursor() as cursor:
            return not pg_tables(cursor)
    path = Path(str(db["NAME"]))
    if not path.exists() or path.stat().st_size == 0:
        return True
    lite = sqlite3.connect(path)
    try:
        return not sqlite_tables(lite)
    finally:
        lite.close()


def _restore_postgresql(db: dict[str, Any], dump: Path) -> None:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore est introuvable (paquet postgresql-client).")
    # `-d ""`: restore into a database (not to a script), the one named by PGDATABASE.
    done = subprocess.run(  # noqa: S603 (absolute binary, fixed arguments)  # nosec B603
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error", "--dbname=", str(dump)],
        env=pg_environ(db), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore a échoué ({done.returncode}) : {done.stderr.strip()}")


def _restore_sqlite(db: dict[str, Any], copy: Path) -> None:
    target = Path(str(db["NAME"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(copy, staged)
    # A write-ahead log left by the previous database would be replayed into this one.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)


def _target_counts(db: dict[str, Any], vendor: str) -> dict[str, int]:
    if vendor == "postgresql":
        with pg_connect(db, autocommit=True) as conn, conn.cursor() as cursor:
            return pg_counts(cursor)
    lite = sqlite3.connect(Path(str(db["NAME"])))
    try:
        return sqlite_counts(lite)
    finally:
        lite.close()


def restore_backup(*, archive: Path, db: dict[str, Any], media_root: Path,
                   key: str | None = None, overwrite: bool = False,
                   say: Callable[[str], None] = print) -> RestoreReport:
    """Checks the archive whole before touching anything, restores the database and the
    media files, then compares the target with the manifest."""
    verify_checksum(archive)
    vendor = vendor_of(db)
    work = Path(tempfile.mkdtemp(prefix="permanence-restore-"))
    try:
        content, manifest = _unpack(archive, work, key)
        if manifest["database_vendor"] != vendor:
            raise BackupError(f"Sauvegarde {manifest['database_vendor']}, base cible {vendor} : "
                              "restaurez dans une base du même moteur.")
        if not overwrite and not _database_is_empty(db, vendor):
            raise BackupError("La base cible n'est pas vide : relancez avec --yes pour "
                              "l'écraser (rien n'a été restauré).")
        media = {rel.removeprefix("media/"): digest
                 for rel, digest in manifest["files"].items() if rel.startswith("media/")}
        if not overwrite:
            clashes = [rel for rel, digest in media.items()
                       if (media_root / rel).is_file()
                       and file_sha256(media_root / rel) != digest]
            if clashes:
                raise BackupError(f"{len(clashes)} fichier(s) de MEDIA_ROOT seraient remplacés "
                                  f"(par ex. {clashes[0]}) : relancez avec --yes (rien n'a été "
                                  "restauré).")
        say(f"Sauvegarde du {manifest['created_at']} (Django {manifest['django_version']}, "
            f"{vendor}) vérifiée.")
        dump = content / DB_MEMBERS[vendor]
        if vendor == "postgresql":
            _restore_postgresql(db, dump)
        else:
            _restore_sqlite(db, dump)
        for rel in media:
            destination = media_root / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            staged = destination.with_name(f".{destination.name}.restoring")
            shutil.copyfile(content / "media" / rel, staged)
            os.replace(staged, destination)
        return _compare(db, vendor, manifest, media, media_root)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)


def _compare(db: dict[str, Any], vendor: str, manifest: dict[str, Any],
             media: dict[str, str], media_root: Path) -> RestoreReport:
    report = RestoreReport()
    counts = _target_counts(db, vendor)
    for table, expected in sorted(manifest["row_counts"].items()):
        actual = counts.get(table)
        report.tables += 1
        report.rows += actual or 0
        if actual != expected:
            report.mismatches.append(f"table {table} : {actual} ligne(s), {expected} attendue(s)")
    for rel, digest in sorted(media.items()):
        path = media_root / rel
        report.media += 1
        if not path.is_file() or file_sha256(path) != digest:
            report.mismatches.append(f"fichier {rel} : absent ou différent")
    return report

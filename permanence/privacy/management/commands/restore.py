"""`manage.py restore ARCHIVE [--database-url URL] [--media-root DIR] [--yes]`: checks the
archive, restores the database and the media files, compares the row counts and the files
with the manifest; exits non-zero on any difference."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from permanence.privacy.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restaure une sauvegarde (base de données et fichiers) puis la vérifie."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive")
        parser.add_argument("--database-url", default=None,
                            help="base cible (défaut : la base configurée, DATABASE_URL)")
        parser.add_argument("--media-root", default=None,
                            help="dossier des fichiers restaurés (défaut : MEDIA_ROOT)")
        parser.add_argument("--yes", action="store_true",
                            help="écrase une base cible non vide et les fichiers existants")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["database_url"]:
            db: dict[str, Any] = dict(dj_database_url.parse(options["database_url"]))
        else:
            db = dict(connections["default"].settings_dict)
            # pg_restore --clean and the SQLite file swap must not race our own connections.
            connections.close_all()
        media_root = Path(options["media_root"] or settings.MEDIA_ROOT)
        try:
            report = restore_backup(archive=Path(options["archive"]), db=db,
                                    media_root=media_root,
                                    key=os.environ.get("BACKUP_KEY", "").strip() or None,
                                    overwrite=options["yes"], say=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Base : {report.tables} tables, {report.rows} lignes ; "
                          f"fichiers : {report.media}.")
        if not report.ok:
            for line in report.mismatches:
                self.stderr.write(f"Écart : {line}")
            raise CommandError(f"Restauration incomplète : {len(report.mismatches)} écart(s) "
                               "avec le manifeste.")
        self.stdout.write(self.style.SUCCESS(
            "Restauration vérifiée : chaque table et chaque fichier correspondent au manifeste."))

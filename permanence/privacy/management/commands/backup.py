"""`manage.py backup [--output DIR] [--encrypt]`: the database and the media files in one
checksummed archive (privacy/backup.py); each run recorded in BackupRun; the last
BACKUP_KEEP archives kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from permanence.core import clock
from permanence.privacy import services
from permanence.privacy.backup import create_backup, prune_backups


class Command(BaseCommand):
    help = "Sauvegarde la base de données et les fichiers (MEDIA_ROOT) dans une archive vérifiable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=None,
                            help="dossier des archives (défaut : BACKUP_DIR, var/backups/)")
        parser.add_argument("--encrypt", action="store_true",
                            help="chiffre l'archive avec la clé Fernet de BACKUP_KEY")

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"] or settings.BACKUP_DIR)
        key = os.environ.get("BACKUP_KEY", "").strip() if options["encrypt"] else None
        run = services.backup_run_start(encrypted=key is not None)
        try:
            if key == "":
                raise CommandError("--encrypt demande une clé : définissez la variable "
                                   "d'environnement BACKUP_KEY (voir le README).")
            result = create_backup(db=connections["default"].settings_dict,
                                   media_root=Path(settings.MEDIA_ROOT), output_dir=output,
                                   key=key, now=clock.now())
        except Exception as exc:  # any failure is recorded as failed, then reported
            services.backup_run_fail(run=run, error=f"{exc.__class__.__name__}: {exc}")
            raise CommandError(f"Sauvegarde échouée : {exc}") from exc
        services.backup_run_succeed(run=run, path=str(result.path), size=result.size,
                                    sha256=result.sha256)
        removed = prune_backups(output, settings.BACKUP_KEEP)
        manifest = result.manifest
        self.stdout.write(
            f"Sauvegarde écrite : {result.path} ({result.size} octets, "
            f"{sum(manifest['row_counts'].values())} lignes dans "
            f"{len(manifest['row_counts'])} tables, "
            f"{sum(1 for name in manifest['files'] if name.startswith('media/'))} fichiers)"
            f"{', chiffrée' if key else ''}\nSHA-256 : {result.sha256}")
        if removed:
            self.stdout.write(f"{len(removed)} ancienne(s) sauvegarde(s) supprimée(s) "
                              f"(BACKUP_KEEP={settings.BACKUP_KEEP}).")

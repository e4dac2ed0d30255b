"""Writes of the privacy app: the backup runs' record and the stale-backup alert."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import Role, User
from permanence.core import clock
from permanence.core.mail import queue_email

from .models import BackupAlert, BackupRun
from .selectors import backup_health, last_successful_backup_at


def backup_run_start(*, encrypted: bool) -> BackupRun:
    """The run is recorded as not ok until backup_run_succeed says otherwise: a crash
    leaves a failed run, never a successful one."""
    return BackupRun.objects.create(started_at=clock.now(), encrypted=encrypted, ok=False)


def backup_run_succeed(*, run: BackupRun, path: str, size: int, sha256: str) -> BackupRun:
    with transaction.atomic():
        locked = BackupRun.objects.select_for_update().get(pk=run.pk)
        locked.finished_at = clock.now()
        locked.path, locked.size, locked.sha256 = path, size, sha256
        locked.ok, locked.error = True, ""
        locked.save(update_fields=["finished_at", "path", "size", "sha256", "ok", "error"])
    return locked


def backup_run_fail(*, run: BackupRun, error: str) -> BackupRun:
    with transaction.atomic():
        locked = BackupRun.objects.select_for_update().get(pk=run.pk)
        locked.finished_at = clock.now()
        locked.ok, locked.error = False, error[:4000]
        locked.save(update_fields=["finished_at", "ok", "error"])
    return locked


def stale_backup_alert() -> bool:
    """Hourly (scheduler): when the last successful backup is missing or stale, the active
    administrators get one e-mail per day (the day's BackupAlert row is the claim, so two
    schedulers never both send it). True when an alert was sent by this call."""
    health = backup_health()
    if health["status"] == "ok":
        return False
    now = clock.now()
    recipients = list(User.objects.filter(role=Role.ADMIN, is_active=True)
                      .exclude(email="").order_by("pk").values_list("email", flat=True))
    try:
        with transaction.atomic():
            BackupAlert.objects.create(day=timezone.localdate(now), sent_at=now,
                                       last_success_at=last_successful_backup_at())
            if recipients:
                queue_email(to=recipients, subject=_alert_subject(health),
                            body=_alert_body(health))
    except IntegrityError:  # today's alert was already sent
        return False
    return True


def _alert_subject(health: dict[str, object]) -> str:
    if health["status"] == "missing":
        return _("[Permanence] Aucune sauvegarde réussie")
    return _("[Permanence] Dernière sauvegarde réussie il y a %(hours)s heures") % {
        "hours": health["age_hours"]}


def _alert_body(health: dict[str, object]) -> str:
    last = health["last_success_at"]
    when = (timezone.localtime(datetime.fromisoformat(str(last))).strftime("%d/%m/%Y %H:%M")
            if last else _("jamais"))
    return _(
        "La dernière sauvegarde réussie de Permanence date de : %(when)s.\n\n"
        "Vérifiez la tâche planifiée « manage.py backup » (cron ou planificateur) et l'espace "
        "disque du dossier des sauvegardes, puis lancez une sauvegarde à la main :\n"
        "    python manage.py backup\n\n"
        "Ce message est envoyé au plus une fois par jour tant que la sauvegarde reste en "
        "retard.") % {"when": when}

"""Demo data of the status page: one past incident with its timeline, one planned
maintenance next week, and 90 days of plausible health samples (idempotent)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from permanence.core import clock

from .models import Channel, ChannelDay, Incident, IncidentUpdate

PAST_TITLE = "Réception des e-mails interrompue"
PLANNED_TITLE = "Mise à jour du serveur de base de données"


def _at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localdate(clock.now()) + timedelta(days=day_offset)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed_status() -> int:
    """Rows written (0 on a re-run with nothing to add)."""
    written = 0
    now = clock.now()
    with transaction.atomic():
        if not Incident.objects.filter(title=PAST_TITLE).exists():
            past = Incident.objects.create(
                kind=Incident.Kind.INCIDENT, title=PAST_TITLE,
                title_en="Inbound e-mail interrupted",
                description="La passerelle de réception des e-mails n'acceptait plus les "
                            "messages. Les expéditeurs ont été invités à réessayer ; aucun "
                            "message accepté n'a été perdu.",
                description_en="The inbound e-mail gateway refused messages. Senders were "
                               "asked to retry; no accepted message was lost.",
                channels=[Channel.EMAIL], severity=Incident.Severity.UNAVAILABLE,
                starts_at=_at(-12, 9, 40), ends_at=_at(-12, 10, 5), planned=False,
                internal_notes="Disque du serveur de messagerie plein (journaux).",
                created_at=now, updated_at=now)
            IncidentUpdate.objects.bulk_create([
                IncidentUpdate(incident=past, at=_at(-12, 9, 48),
                               text="Incident identifié : la passerelle refuse les messages.",
                               text_en="Identified: the gateway refuses messages."),
                IncidentUpdate(incident=past, at=_at(-12, 10, 5),
                               text="Rétabli. Les messages en attente chez les expéditeurs "
                                    "arrivent.",
                               text_en="Resolved. Messages held by senders are arriving.")])
            written += 3
        if not Incident.objects.filter(title=PLANNED_TITLE, starts_at__gt=now).exists():
            Incident.objects.create(
                kind=Incident.Kind.MAINTENANCE, title=PLANNED_TITLE,
                title_en="Database server upgrade",
                description="Le site, l'espace client et le chat seront indisponibles au "
                            "plus 30 minutes. Les appels et les e-mails sont reçus normalement.",
                description_en="The website, client area and chat will be unavailable for at "
                               "most 30 minutes. Calls and e-mails are received as usual.",
                channels=[Channel.WEB, Channel.CHAT], severity=Incident.Severity.UNAVAILABLE,
                starts_at=_at(6, 22, 0), ends_at=_at(6, 22, 30), planned=True,
                created_at=now, updated_at=now)
            written += 1
        written += _seed_samples(now)
    return written


def _seed_samples(now: datetime) -> int:
    rng = random.Random(15)  # noqa: S311  # nosec B311 (demo figures, not security)
    today = timezone.localdate(now)
    existing = set(ChannelDay.objects.filter(day__gte=today - timedelta(days=90))
                   .values_list("channel", "day"))
    rows = []
    for back in range(90, 0, -1):
        day = today - timedelta(days=back)
        for channel in Channel.values:
            if (channel, day) in existing:
                continue
            down = rng.choice((0, 0, 0, 0, 0, 0, 1, 2))
            if channel == Channel.EMAIL and back == 12:
                down += 25  # the past incident
            rows.append(ChannelDay(channel=channel, day=day, minutes_observed=1440,
                                   minutes_up=1440 - down, last_at=now, last_up=True))
    ChannelDay.objects.bulk_create(rows)
    return len(rows)

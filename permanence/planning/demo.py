"""Demo planning: this week's and next week's shifts of the demo secretaries (7 days out of 7:
weekdays in two overlapping shifts, a Friday night shift, the weekend covered), and four
anonymous answers to last month's staff pulse (enough to be shown). Idempotent: a week
that already has shifts, a month that already has answers, is left alone."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import transaction

from permanence.accounts.models import Role, User
from permanence.core import clock

from .models import PulseResponse, Shift, month_start
from .selectors import PARIS, week_start

# login → [(weekday 0-6, start, end, note)]
WEEK: dict[str, list[tuple[int, str, str, str]]] = {
    "agent": [(d, "08:00", "15:30", "") for d in range(5)]
    + [(6, "09:00", "13:00", "Permanence du dimanche")],
    "agent2": [(d, "12:00", "19:30", "") for d in range(5)]
    + [(4, "22:00", "06:00", "Nuit : urgences du cabinet médical"),
       (5, "08:00", "13:00", "Samedi matin")],
}
PULSE = [(5, 4, 5, "Bonne ambiance, merci pour la souplesse sur les horaires."),
         (4, 3, 4, "Les lundis matin sont très chargés."),
         (4, 4, 5, ""),
         (2, 2, 3, "Plus de pauses pendant les pics d'appels, s'il vous plaît.")]


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@transaction.atomic
def seed_planning(domain: str = "permanence.test") -> int:
    """Returns the number of shifts and answers written (0 on a re-run)."""
    today = clock.now().astimezone(PARIS).date()
    written = 0
    now = clock.now()
    for monday in (week_start(today), week_start(today) + timedelta(days=7)):
        if Shift.objects.filter(day__gte=monday, day__lt=monday + timedelta(days=7)).exists():
            continue
        for login, shifts in WEEK.items():
            agent = User.objects.filter(email=f"{login}@{domain}", role=Role.AGENT).first()
            if agent is None:
                continue
            Shift.objects.bulk_create([
                Shift(agent=agent, day=monday + timedelta(days=weekday), starts_at=_hm(start),
                      ends_at=_hm(end), note=note, created_at=now, updated_at=now)
                for weekday, start, end, note in shifts])
            written += len(shifts)
    last_month = month_start(month_start(today) - timedelta(days=1))
    if not PulseResponse.objects.filter(month=last_month).exists():
        PulseResponse.objects.bulk_create([
            PulseResponse(month=last_month, wellbeing=w, workload=load, support=s, comment=c)
            for w, load, s, c in PULSE])
        written += len(PULSE)
    return written




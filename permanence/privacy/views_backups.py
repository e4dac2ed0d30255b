"""Paramètres › Sauvegardes: the state /healthz reports, and the latest runs of
`manage.py backup` (who checks the backups checks them here, not on the server)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from permanence.core.access import AuthedHttpRequest, role_required

from . import selectors
from .permissions import can_manage_privacy


@role_required(can_manage_privacy)
def backups_page(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "privacy/backups.html", {
        "section": "settings", "health": selectors.backup_health(),
        "runs": selectors.backup_runs(), "stale_hours": settings.BACKUP_STALE_HOURS,
        "keep": settings.BACKUP_KEEP})

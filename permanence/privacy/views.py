from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from permanence.core.access import AuthedHttpRequest, role_required

from . import registry
from .permissions import can_manage_privacy


@role_required(can_manage_privacy)
def registry_page(request: AuthedHttpRequest) -> HttpResponse:
    """The registry of personal data, as the auditor reads it: per kind of person, what is
    held, why, on what basis and for how long."""
    groups = []
    for subject, label in registry.SUBJECTS.items():
        rows = [{"entry": e, "category": registry.CATEGORIES[e.category],
                 "basis": registry.BASES[e.basis], "rule": registry.RETENTION[e.retention]}
                for e in registry.REGISTRY if e.subject == subject]
        groups.append({"key": subject, "label": label, "rows": rows})
    return render(request, "privacy/registry.html", {
        "section": "settings", "groups": groups, "rules": registry.RETENTION})

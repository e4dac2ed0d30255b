"""Every model holding personal data is in the registry: a model that gains a
personal-looking field fails here until it is registered (or said not to be personal, with
the reason)."""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.db import models

from permanence.privacy import registry

# Field names that usually hold something about a person.
PERSONAL = re.compile(
    r"(^|_)(name|email|phone|address|ip|user_agent|number|body|body_text|body_html|comment|"
    r"notes?|message|facts|question|answers|raw|payload|recording_url|sender|recipients?|"
    r"iban|search_text|details|caller_name|visitor_name|file|buyer|needs)($|_)")
TEXT_TYPES = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField,
              models.FileField)


def _candidates() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("permanence."):
            continue
        for f in model._meta.concrete_fields:
            if isinstance(f, TEXT_TYPES) and PERSONAL.search(f.name):
                out.setdefault(model._meta.label, set()).add(f.name)
    return out


def test_every_personal_looking_field_is_registered_or_explained() -> None:
    missing = []
    for label, names in sorted(_candidates().items()):
        entry = registry.BY_MODEL.get(label)
        for name in sorted(names):
            registered = entry is not None and name in entry.fields
            if not registered and f"{label}.{name}" not in registry.NOT_PERSONAL:
                missing.append(f"{label}.{name}")
    assert not missing, "register these in privacy/registry.py (or say why not): " + ", ".join(
        missing)


def test_the_registry_names_real_fields_and_known_rules() -> None:
    for entry in registry.REGISTRY:
        model = apps.get_model(entry.model)
        names = {f.name for f in model._meta.concrete_fields}
        assert set(entry.fields) <= names, (entry.model, set(entry.fields) - names)
        assert entry.subject in registry.SUBJECTS and entry.category in registry.CATEGORIES
        assert entry.basis in registry.BASES and entry.retention in registry.RETENTION
    for key in registry.NOT_PERSONAL:
        label, _sep, name = key.rpartition(".")
        assert name in {f.name for f in apps.get_model(label)._meta.concrete_fields}, key
    assert len(registry.BY_MODEL) == len(registry.REGISTRY)  # one entry per model


def test_invoices_are_kept_ten_years() -> None:
    assert registry.RETENTION[registry.BY_MODEL["billing.Invoice"].retention].days == 3650


def test_the_registry_page_is_for_administrators(client: Any, admin_user: Any,
                                                 supervisor: Any) -> None:
    client.force_login(supervisor)
    assert client.get("/app/confidentialite/registre/").status_code == 403
    client.force_login(admin_user)
    page = client.get("/app/confidentialite/registre/").content.decode()
    assert "inbox.Message" in page and "body_text" in page
    assert "3650 jours après" in page  # invoices: ten years

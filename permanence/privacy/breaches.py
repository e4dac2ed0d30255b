"""The register of personal-data breaches (RGPD art. 33(5)): every breach recorded with what
happened, who and what it affects, its consequences and the measures taken; the 72-hour
clock of the CNIL notification (art. 33(1)); the letter informing the people concerned when
the risk is high (art. 34)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.services import operator_identity
from permanence.audit.actions import Action
from permanence.audit.services import audit_record, diff_fields
from permanence.core import clock
from permanence.core.errors import DomainError

from . import registry
from .models import Breach

NOTIFICATION_DELAY = timedelta(hours=72)

FIELDS = ("title", "description", "discovered_at", "occurred_at", "data_categories",
          "subject_categories", "people_count", "consequences", "measures", "risk",
          "notified_at", "informed_at", "status")


@dataclass(frozen=True)
class Deadline:
    """The CNIL notification's deadline and where `now` stands against it."""

    due_at: datetime
    remaining: timedelta  # negative once overdue
    overdue: bool
    done: bool  # notified (on time or late), or no notification due

    @property
    def hours_left(self) -> int:
        return int(self.remaining.total_seconds() // 3600)

    @property
    def hours_late(self) -> int:
        return int(-self.remaining.total_seconds() // 3600)


def notification_deadline(breach: Breach, now: datetime | None = None) -> Deadline:
    """discovered_at + 72 h. Overdue when that moment has passed and the CNIL, though it
    must be notified, has not been (a notification made late is done, and said late)."""
    due = breach.discovered_at + NOTIFICATION_DELAY
    at = now or clock.now()
    if breach.notified_at is not None:
        return Deadline(due, due - breach.notified_at, breach.notified_at > due, True)
    if not breach.cnil_required:
        return Deadline(due, due - at, False, True)
    return Deadline(due, due - at, at > due, False)


def _validate(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name, allowed in (("data_categories", registry.CATEGORIES),
                          ("subject_categories", registry.SUBJECTS)):
        values = data.get(name) or []
        if not isinstance(values, list) or any(v not in allowed for v in values):
            errors[name] = [_("Choisissez dans la liste.")]
    discovered, occurred = data.get("discovered_at"), data.get("occurred_at")
    now = clock.now()
    if discovered is not None and discovered > now + timedelta(minutes=5):
        errors.setdefault("discovered_at", []).append(
            _("La découverte ne peut pas être dans le futur."))
    if occurred is not None and discovered is not None and occurred > discovered:
        errors.setdefault("occurred_at", []).append(
            _("La violation ne peut pas survenir après sa découverte."))
    for name in ("notified_at", "informed_at"):
        value = data.get(name)
        if value is not None and discovered is not None and value < discovered:
            errors.setdefault(name, []).append(_("Cette date précède la découverte."))
    if errors:
        raise DomainError("breach_invalid", _("Vérifiez les champs signalés."), fields=errors)


def breach_create(*, actor: User, data: dict[str, Any]) -> Breach:
    clean = {k: v for k, v in data.items() if k in FIELDS}
    _validate(clean)
    now = clock.now()
    with transaction.atomic():
        breach = Breach.objects.create(**clean, created_at=now, updated_at=now,
                                       created_by=actor)
        audit_record(actor=actor, action=Action.CREATE, target=breach,
                     changes={k: [None, v] for k, v in clean.items()})
    return breach


def breach_update(*, actor: User, breach: Breach, data: dict[str, Any]) -> Breach:
    clean = {k: v for k, v in data.items() if k in FIELDS}
    _validate(clean)
    with transaction.atomic():
        locked = Breach.objects.select_for_update().get(pk=breach.pk)
        changes = diff_fields(locked, clean)
        for name, value in clean.items():
            setattr(locked, name, value)
        locked.updated_at = clock.now()
        locked.save()
        if changes:
            audit_record(actor=actor, action=Action.UPDATE, target=locked, changes=changes)
    return locked


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y") if value else _("date inconnue")


def information_letter(breach: Breach) -> str:
    """The letter informing the people concerned (art. 34(2)): the nature of the breach,
    a contact point, the likely consequences and the measures taken, in plain French."""
    identity = operator_identity()
    contact = " — ".join(x for x in (identity.support_email, identity.support_phone) if x)
    categories = ", ".join(str(registry.CATEGORIES[c]) for c in breach.data_categories
                           if c in registry.CATEGORIES) or _("à préciser")
    return _(
        "Objet : information sur une violation de vos données personnelles\n\n"
        "Madame, Monsieur,\n\n"
        "Nous vous informons qu'un incident de sécurité, découvert le %(discovered)s, "
        "a concerné des données personnelles vous concernant.\n\n"
        "Ce qui s'est passé : %(description)s\n\n"
        "Données concernées : %(categories)s.\n\n"
        "Conséquences possibles : %(consequences)s\n\n"
        "Mesures prises : %(measures)s\n\n"
        "Nous vous recommandons de rester vigilant face à tout message inhabituel se "
        "réclamant de nous ou de nos clients.\n\n"
        "Pour toute question, ou pour exercer vos droits, contactez-nous : %(contact)s.\n"
        "Vous pouvez aussi adresser une réclamation à la CNIL (www.cnil.fr).\n\n"
        "Nous vous prions de nous excuser pour cet incident.\n\n"
        "%(operator)s") % {
        "discovered": _when(breach.discovered_at),
        "description": breach.description,
        "categories": categories,
        "consequences": breach.consequences or _("en cours d'évaluation."),
        "measures": breach.measures or _("en cours."),
        "contact": contact or identity.legal_name,
        "operator": identity.legal_name,
    }

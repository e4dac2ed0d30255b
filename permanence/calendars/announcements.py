from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.accounts.permissions import can_manage_announcements
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.errors import DomainError, Forbidden

from .models import Announcement


@transaction.atomic
def announcement_create(*, actor: User, kind: str, title: str, message: str,
                        starts_at: datetime, ends_at: datetime, show_public: bool = True,
                        show_portal: bool = True) -> Announcement:

    if not can_manage_announcements(actor):
        raise Forbidden()
    if ends_at <= starts_at:
        raise DomainError("invalid", _("Certains champs sont invalides."), status=422,
                          fields={"ends_at": [_("La fin doit suivre le début.")]})
    announcement = Announcement.objects.create(
        kind=kind, title=title.strip(), message=message.strip(), starts_at=starts_at,
        ends_at=ends_at, show_public=show_public, show_portal=show_portal,
    )
    audit_record(actor=actor, action=Action.CREATE, target=announcement,
                 changes={"title": announcement.title, "kind": kind})
    return announcement


@transaction.atomic
def announcement_delete(*, actor: User, announcement: Announcement) -> None:

    if not can_manage_announcements(actor):
        raise Forbidden()
    audit_record(actor=actor, action=Action.DELETE, target=announcement,
                 changes={"title": announcement.title})
    announcement.delete()

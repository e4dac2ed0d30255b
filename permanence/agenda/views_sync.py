"""« Synchroniser maintenant » on a resource: runs the CalDAV sync and says what changed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, role_required

from . import selectors
from .caldav_sync import resource_sync
from .permissions import can_configure

# Staff who set agendas up (clients configure theirs through the espace client).
configure_required = role_required(lambda u: u.is_active and can_configure(u)
                                   and not getattr(u, "is_client", False))


def summary(result: dict[str, Any]) -> str:
    """What a sync changed, in a sentence for staff."""
    counts = {key: int(result.get(key, 0)) for key in (
        "pushed", "deleted_remote", "busy_added", "busy_updated", "busy_removed")}
    # Literal ngettext calls, one per count, so that makemessages finds them.
    phrases = {
        "pushed": ngettext("%(n)d rendez-vous envoyé", "%(n)d rendez-vous envoyés",
                           counts["pushed"]),
        "deleted_remote": ngettext("%(n)d supprimé là-bas", "%(n)d supprimés là-bas",
                                   counts["deleted_remote"]),
        "busy_added": ngettext("%(n)d occupation ajoutée", "%(n)d occupations ajoutées",
                               counts["busy_added"]),
        "busy_updated": ngettext("%(n)d occupation modifiée", "%(n)d occupations modifiées",
                                 counts["busy_updated"]),
        "busy_removed": ngettext("%(n)d occupation retirée", "%(n)d occupations retirées",
                                 counts["busy_removed"]),
    }
    parts = [phrases[key] % {"n": n} for key, n in counts.items() if n]
    text = _("Synchronisation faite : %(what)s.") % {
        "what": ", ".join(parts) if parts else _("rien de nouveau")}
    if result.get("full"):
        text += " " + _("(synchronisation complète)")
    if result.get("conflicts"):
        text += " " + ngettext(
            "%(n)d rendez-vous modifié ou supprimé dans l'autre calendrier a été rétabli tel "
            "qu'il est réservé ici.",
            "%(n)d rendez-vous modifiés ou supprimés dans l'autre calendrier ont été rétablis "
            "tels qu'ils sont réservés ici.", result["conflicts"]) % {"n": result["conflicts"]}
    return text


@require_POST
@transaction.non_atomic_requests
@configure_required
def sync_now(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    resource = selectors.get_resource_for_user(request.user, pk)
    if not resource.caldav_url:
        messages.error(request, _("Aucun calendrier CalDAV n'est configuré pour cet agenda."))
        return redirect("agenda:resource", pk=resource.pk)
    result = resource_sync(resource.pk)
    if result.get("error"):
        messages.error(request, _("Échec de la synchronisation : %(error)s") % {
            "error": result["error"]})
    else:
        messages.success(request, summary(result))
    return redirect("agenda:resource", pk=resource.pk)

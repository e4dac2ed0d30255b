"""Writes of the feedback app: an opinion left from a page, and the board's work on it."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.selectors import accounts_of_client
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import Forbidden, invalid
from permanence.core.transitions import Machine, apply

from .models import FEEDBACK_TRANSITIONS, Feedback, FeedbackStatus, FeedbackStatusChange, Source
from .permissions import can_manage_feedback

MACHINE: Machine[Feedback] = Machine(
    model=Feedback, transitions=FEEDBACK_TRANSITIONS, history_model=FeedbackStatusChange,
    history_fk="feedback", status_choices=FeedbackStatus, ref_field="pk")


def clean_page(page: str) -> str:
    """A path of this site (never a full URL from elsewhere): what the board groups by."""
    page = (page or "").strip()[:300]
    if not page.startswith("/") or page.startswith("//"):
        return "/"
    return page.split("#", 1)[0]


def _account_for(user: User | None, account_id: int | None) -> ClientAccount | None:
    """The client's account the opinion is about: one of theirs, never another's."""
    if user is None or not account_id:
        return None
    return accounts_of_client(user).filter(pk=account_id).first()


@transaction.atomic
def feedback_submit(*, page: str, rating: int, comment: str = "", source: str = Source.SITE,
                    user: User | None = None, account_id: int | None = None,
                    language: str = "") -> Feedback:
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise invalid(rating=_("Une note de 1 à 5."))
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise invalid(comment=_("2 000 caractères au plus."))
    now = clock.now()
    user = user if user is not None and user.is_authenticated else None
    return Feedback.objects.create(
        page=clean_page(page), source=source if source in Source.values else Source.SITE,
        rating=rating, comment=comment, user=user, account=_account_for(user, account_id),
        language=language[:8], created_at=now, updated_at=now)


@transaction.atomic
def feedback_update(*, actor: User, feedback: Feedback | int, status: str,
                    owner: User | None, theme: str, notes: str) -> Feedback:
    if not can_manage_feedback(actor):
        raise Forbidden(_("Seuls les superviseurs traitent les avis."))
    pk = feedback if isinstance(feedback, int) else feedback.pk
    locked = Feedback.objects.select_for_update().get(pk=pk)
    if status not in FeedbackStatus.values:
        raise invalid(status=_("Choisissez un statut."))
    before = {"status": locked.status, "owner": locked.owner_id, "theme": locked.theme}
    apply(MACHINE, locked, to=status, actor=actor)
    locked.owner = owner
    locked.theme = (theme or "").strip()[:60]
    locked.notes = (notes or "").strip()[:4000]
    locked.updated_at = clock.now()
    locked.save()
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={"before": before, "status": locked.status, "owner": owner and owner.pk,
                          "theme": locked.theme})
    return locked

"""Satisfaction: a short survey link after resolution (CSAT 1–5 + comment; NPS 0–10 at most
once per contact per 90 days). Answered without login."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox.models import Conversation, Message
from permanence.inbox.models_complaints import SurveyResponse

NPS_EVERY = timedelta(days=90)


@transaction.atomic
def survey_create(conversation: Conversation) -> SurveyResponse | None:
    """One survey per resolution of a conversation with a reachable contact."""
    contact = conversation.contact
    if contact is None or not contact.email:
        return None
    now = clock.now()
    recent = SurveyResponse.objects.filter(conversation=conversation,
                                           sent_at__gte=now - timedelta(days=1)).exists()
    if recent:
        return None
    # NPS is *asked* at most once per contact per 90 days, answered or not.
    asked_recently = SurveyResponse.objects.filter(contact=contact, ask_nps=True,
                                                   sent_at__gt=now - NPS_EVERY).exists()
    answered_recently = contact.last_nps_at is not None and now - contact.last_nps_at < NPS_EVERY
    ask_nps = not asked_recently and not answered_recently
    return SurveyResponse.objects.create(conversation=conversation, contact=contact,
                                         ask_nps=ask_nps, sent_at=now)


@transaction.atomic
def survey_answer(*, token: str, csat: int, comment: str = "",
                  nps: int | None = None) -> SurveyResponse:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the contact join.
    survey = SurveyResponse.objects.select_for_update(of=("self",)).select_related(
        "contact").filter(token=token).first()
    if survey is None:
        raise DomainError("not_found", _("Ce lien de satisfaction n'existe pas."), status=404)
    if survey.answered_at is not None:
        raise DomainError("already_answered", _("Vous avez déjà répondu : merci !"),
                          status=409)
    errors: dict[str, list[str]] = {}
    if csat not in range(1, 6):
        errors["csat"] = [_("Choisissez une note de 1 à 5.")]
    if nps is not None and (not survey.ask_nps or nps not in range(0, 11)):
        errors["nps"] = [_("Choisissez une note de 0 à 10.")]
    if errors:
        raise DomainError("invalid", _("Certains champs sont invalides."), status=422,
                          fields=errors)
    now = clock.now()
    survey.csat, survey.comment, survey.answered_at = csat, comment.strip()[:2000], now
    if nps is not None:
        survey.nps = nps
        if survey.contact:
            survey.contact.last_nps_at = now
            survey.contact.save(update_fields=["last_nps_at"])
    survey.save()

    Message.objects.create(conversation=survey.conversation, direction="system",
                           channel=survey.conversation.channel, event="survey",
                           data={"csat": csat, "nps": nps, "comment": survey.comment},
                           created_at=now)
    return survey

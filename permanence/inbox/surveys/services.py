"""Satisfaction: a short survey link after resolution (CSAT 1–5 + comment; NPS 0–10 at most
once per contact per 90 days). Answered without login."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox.models import Conversation, Message, Origin, SurveyExclusion
from permanence.inbox.models_complaints import SurveyResponse

NPS_EVERY = timedelta(days=90)

# How mail to an account's contacts is signed: (From header, Reply-To address or ""). The
# e-mail channel registers it when it loads (channels_email.startup): the survey goes out
# under the client's name, like the acknowledgement and the replies, without the inbox
# importing the channel.
_IDENTITY: list[Callable[[Conversation], tuple[str, str]]] = []


def survey_identity_register(identity: Callable[[Conversation], tuple[str, str]]) -> None:
    _IDENTITY[:] = [identity]


# Who must never be surveyed, asked by contact id: the privacy app registers the contacts
# who objected (RGPD art. 21) when it loads, without the inbox importing it.
_VETOES: list[Callable[[int | None], bool]] = []


def survey_veto_register(veto: Callable[[int | None], bool]) -> None:
    if veto not in _VETOES:
        _VETOES.append(veto)


def survey_identity(conversation: Conversation) -> tuple[str, str]:
    """(From, Reply-To) of the survey mail about `conversation`."""
    if not _IDENTITY:
        raise LookupError("no survey sender registered: is channels_email installed?")
    return _IDENTITY[0](conversation)


def survey_exclusion_for(conversation: Conversation) -> SurveyExclusion | None:
    """The first exclusion rule (Paramètres → Enquêtes de satisfaction) matching the
    conversation: its account (or every account), its nature, its motif, one of its tags."""
    tags = [t.lower() for t in conversation.tags.values_list("name", flat=True)]
    return SurveyExclusion.objects.filter(
        Q(account__isnull=True) | Q(account_id=conversation.account_id),
        Q(kind="") | Q(kind=conversation.kind),
        Q(motif="") | Q(motif=conversation.motif),
        Q(tag="") | Q(tag__in=tags),
    ).order_by("pk").first()


def survey_wanted(conversation: Conversation) -> bool:
    """Whether a resolved conversation gets the satisfaction survey: its contact's, about
    the work done for the account (not the client business's own requests to the operator,
    whose "contact" is the client itself), and no exclusion rule matching (by default:
    complaints, cancellations, spam)."""
    contact = conversation.contact
    if contact is None or not contact.email:
        return False
    if conversation.origin == Origin.CLIENT:
        return False
    if any(veto(contact.pk) for veto in _VETOES):
        return False
    return survey_exclusion_for(conversation) is None


@transaction.atomic
def survey_create(conversation: Conversation) -> SurveyResponse | None:
    """One survey per resolution of a conversation with a reachable contact, when a survey
    makes sense for it (`survey_wanted`)."""
    contact = conversation.contact
    if contact is None or not survey_wanted(conversation):
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

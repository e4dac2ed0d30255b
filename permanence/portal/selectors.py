"""Reads of the espace client: "Mes demandes" (what the client business asks the operator:
conversations of origin "client") and "Activité" (the conversations its contacts opened and
the secretaries handle on its behalf: origin "contact"). Every query starts from the inbox's
`conversations_visible_to(user)` gate and is then narrowed to the account chosen with the
switcher; clients never see internal notes nor events, only the messages exchanged (and, on
their activity, their own instructions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.accounts.models import ClientAccount, User
from permanence.core import clock
from permanence.core.errors import NotFound
from permanence.inbox import selectors as inbox_selectors
from permanence.inbox.models import (
    OPEN_STATUSES,
    Attachment,
    Conversation,
    Direction,
    Message,
    Origin,
    ReadMarker,
    Status,
    StatusChange,
)
from permanence.inbox.services import REOPEN_WINDOW_DAYS

# What the client reads for each status (plain French, from their point of view).
CLIENT_STATUS_LABELS: dict[str, Any] = {
    Status.NEW: gettext_lazy("Reçue"),
    Status.OPEN: gettext_lazy("En cours de traitement"),
    Status.PENDING_CUSTOMER: gettext_lazy("En attente de votre réponse"),
    Status.PENDING_INTERNAL: gettext_lazy("En cours de traitement"),
    Status.RESOLVED: gettext_lazy("Résolue"),
    Status.CLOSED: gettext_lazy("Close"),
}
# The same statuses, read by the client business about its contacts' conversations (it is
# not the one expected to answer: its contact is).
ACTIVITY_STATUS_LABELS: dict[str, Any] = {
    Status.NEW: gettext_lazy("Nouvelle"),
    Status.OPEN: gettext_lazy("En cours"),
    Status.PENDING_CUSTOMER: gettext_lazy("En attente du contact"),
    Status.PENDING_INTERNAL: gettext_lazy("En cours"),
    Status.RESOLVED: gettext_lazy("Traitée"),
    Status.CLOSED: gettext_lazy("Close"),
}
CLIENT_DIRECTIONS = (Direction.IN, Direction.OUT)
# On an activity item the client also reads the instructions left for the secretaries.
ACTIVITY_DIRECTIONS = (Direction.IN, Direction.OUT, Direction.INSTRUCTION)
NOT_FOUND = gettext_lazy("Demande introuvable. Si elle concerne un autre de vos comptes, "
                         "choisissez ce compte dans le sélecteur en haut de la page.")


def client_status_label(status: str) -> str:
    return str(CLIENT_STATUS_LABELS.get(status, status))


def activity_status_label(status: str) -> str:
    return str(ACTIVITY_STATUS_LABELS.get(status, status))


def account_requests(user: User, account: ClientAccount) -> QuerySet[Conversation]:
    """The account's own requests to the operator, most recently active first, annotated
    with `last_reply_at` (our last answer), `has_new_reply` (an answer this user has not
    opened yet), `client_updated_at` (last message or status change: not internal activity)
    and `client_status` (the status as the client reads it)."""
    return _annotated(user, account, Origin.CLIENT, CLIENT_STATUS_LABELS)


def account_activity(user: User, account: ClientAccount) -> QuerySet[Conversation]:
    """The conversations the account's contacts opened, handled on its behalf, most
    recently active first, annotated as `account_requests` (`client_status` worded from the
    client business's side: "En attente du contact", "Traitée"...)."""
    return _annotated(user, account, Origin.CONTACT, ACTIVITY_STATUS_LABELS)


def account_activity_summary(user: User, account: ClientAccount) -> dict[str, int]:
    """For the home page: the activity in progress, and the items opened in 30 days."""
    since = clock.now() - timedelta(days=30)
    counts: dict[str, int] = (
        inbox_selectors.conversations_visible_to(user)
        .filter(account=account, origin=Origin.CONTACT).order_by()
        .aggregate(open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
                   recent=Count("pk", filter=Q(created_at__gte=since))))
    return counts


def _annotated(user: User, account: ClientAccount, origin: str,
               labels: dict[str, Any]) -> QuerySet[Conversation]:
    last_reply = (Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.OUT)
                  .order_by("-created_at").values("created_at")[:1])
    read_at = ReadMarker.objects.filter(conversation=OuterRef("pk"), user=user).values(
        "read_at")[:1]
    last_status = (StatusChange.objects.filter(conversation=OuterRef("pk"))
                   .order_by("-at").values("at")[:1])
    return (
        inbox_selectors.conversations_visible_to(user).filter(account=account, origin=origin)
        .annotate(last_reply_at=Subquery(last_reply), seen_at=Subquery(read_at),
                  last_status_at=Subquery(last_status))
        .annotate(
            has_new_reply=Case(
                When(last_reply_at__isnull=True, then=Value(False)),
                When(seen_at__isnull=True, then=Value(True)),
                When(last_reply_at__gt=F("seen_at"), then=Value(True)),
                default=Value(False), output_field=BooleanField()),
            client_updated_at=Greatest("last_message_at",
                                       Coalesce("last_status_at", "last_message_at")),
            client_status=Case(*[When(status=value, then=Value(str(label)))
                                 for value, label in labels.items()],
                               default=F("status"), output_field=CharField()),
        )
        .select_related("contact")
        .order_by("-last_message_at", "-pk")
    )


def account_requests_summary(user: User, account: ClientAccount) -> dict[str, int]:
    """For the home page: requests in progress, and answers not read yet."""
    counts: dict[str, int] = account_requests(user, account).order_by().aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        new_replies=Count("pk", filter=Q(has_new_reply=True)),
    )
    return counts


def client_conversation(user: User, account: ClientAccount, pk: Any,
                        origin: str | None = None) -> Conversation:
    """A conversation of the current account (404 for anything else, the same message
    whether it does not exist, belongs to someone else or to another of the user's
    accounts); `origin`: of that origin only (a request, or an activity item)."""
    try:
        conversation = inbox_selectors.get_conversation_for_user(user, pk, "client")
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    if conversation.account_id != account.pk:
        raise NotFound(NOT_FOUND)
    if origin is not None and conversation.origin != origin:
        raise NotFound(NOT_FOUND)
    return conversation


def client_timeline(conversation: Conversation) -> QuerySet[Message]:
    """Messages from and to the customer only: internal notes and system events are
    never shown in the espace client."""
    return inbox_selectors.timeline(conversation).filter(direction__in=CLIENT_DIRECTIONS)


def activity_timeline(conversation: Conversation) -> QuerySet[Message]:
    """An activity item as the client business reads it: what its contact wrote, what was
    answered, and the instructions it left (never notes nor events)."""
    return inbox_selectors.timeline(conversation).filter(direction__in=ACTIVITY_DIRECTIONS)


def client_attachment(user: User, account: ClientAccount, attachment_id: Any) -> Attachment:
    """An attachment of a message the client may see (404 otherwise, notes included)."""
    try:
        item = Attachment.objects.select_related("message__conversation").get(
            pk=attachment_id, message__direction__in=CLIENT_DIRECTIONS)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Pièce jointe introuvable.")) from None
    source = item.message.conversation
    # A merged conversation's messages show on the conversation it was merged into.
    client_conversation(user, account, source.merged_into_id or source.pk)
    return item


def can_reply(conversation: Conversation) -> bool:
    """Whether a client's message would reach someone: open, or resolved recently enough
    for their reply to reopen it (the inbox's rule). Closed ones need a new request."""

    if conversation.status in OPEN_STATUSES:
        return True
    return (conversation.status == Status.RESOLVED and conversation.resolved_at is not None
            and clock.now() - conversation.resolved_at <= timedelta(days=REOPEN_WINDOW_DAYS))


"""Conversations (dossiers) in the REST API: list, read, create, update, reply or note, merge.

Same gates as the UI: `conversations_visible_to` / `get_conversation_for_user` for reads,
action="work" for writes (agents on their accounts, supervisors, administrators). Clients
read their accounts' conversations without internal notes; billing reads only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja import Status as Respond
from pydantic import AfterValidator, WithJsonSchema

from permanence.accounts.models import User
from permanence.accounts.selectors import get_account_for_user
from permanence.audit.services import audit_view
from permanence.core.access import AuthedHttpRequest
from permanence.core.cursors import (
    InvalidCursor,
    aware_datetime,
    cursor_decode,
    cursor_encode,
    is_bigint,
)
from permanence.core.errors import DomainError, Forbidden
from permanence.core.validators import normalise_phone

from . import manual, permissions, selectors, services
from .models import (
    Category,
    Channel,
    Conversation,
    Direction,
    Kind,
    Message,
    Motif,
    Priority,
    Status,
)

router = Router(tags=["dossiers"])

QUALIFICATION = ("priority", "category", "motif", "kind", "subject")


def _one_of(values: list[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError("Valeur inconnue ; valeurs possibles : "
                             + ", ".join(repr(v) for v in values))
        return value

    return check


# Category and motif may be blank ("" = not qualified yet): one string field, one error key.
CATEGORIES = ["", *Category.values]
MOTIFS = ["", *Motif.values]
CategoryOrBlank = Annotated[str, AfterValidator(_one_of(CATEGORIES)),
                            WithJsonSchema({"type": "string", "enum": CATEGORIES})]
MotifOrBlank = Annotated[str, AfterValidator(_one_of(MOTIFS)),
                         WithJsonSchema({"type": "string", "enum": MOTIFS})]


# --- Schemas -------------------------------------------------------------------------------

class ContactOut(Schema):
    id: int
    name: str
    email: str
    phone: str


class AttachmentOut(Schema):
    id: int
    filename: str
    size: int
    content_type: str


class MessageOut(Schema):
    id: int
    conversation: int
    # "consigne": the client business's instruction to the secretaries (never sent).
    direction: Literal["in", "out", "note", "consigne"]
    channel: str
    author: int | None
    body_text: str
    created_at: datetime
    delivery_status: str
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_conversation(obj: Message) -> int:
        # A merged conversation's timeline shows the messages of the folded-in ones too.
        return obj.conversation_id

    @staticmethod
    def resolve_author(obj: Message) -> int | None:
        return obj.author_id

    @staticmethod
    def resolve_attachments(obj: Message) -> list[Any]:
        return list(obj.attachments.all())  # prefetched


class ConversationOut(Schema):
    id: int
    reference: str
    account: int
    subject: str
    channel: Channel
    status: Status
    priority: Priority
    kind: Kind
    category: str
    motif: str
    tags: list[str]
    assignee: int | None
    contact: ContactOut | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    last_message_at: datetime
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_account(obj: Conversation) -> int:
        return obj.account_id

    @staticmethod
    def resolve_assignee(obj: Conversation) -> int | None:
        return obj.assignee_id

    @staticmethod
    def resolve_tags(obj: Conversation) -> list[str]:
        return sorted(t.name for t in obj.tags.all())  # prefetched


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(obj: Conversation) -> list[Message]:
        return getattr(obj, "api_messages", [])


class ConversationPage(Schema):
    count: int = Field(description=(
        "Nombre de dossiers correspondants, compté jusqu'à 10 000 (1 000 pour une "
        "recherche `q`) : exact quand `count_capped` est faux ; sinon il y en a plus de "
        "`count`."))
    count_capped: bool = Field(description=(
        "Vrai quand le compte s'arrête au plafond (10 000, ou 1 000 pour une recherche)."))
    limit: int
    offset: int
    next_cursor: str | None = Field(description=(
        "À passer en paramètre `cursor` pour la page suivante (stable même si des dossiers "
        "arrivent entre deux pages) ; null sur la dernière page."))
    items: list[ConversationOut]


class ConversationFilters(Schema):
    account: int | None = None
    status: Status | None = None
    channel: Channel | None = None
    kind: Kind | None = None
    assignee: int | None = None
    q: str = Field("", max_length=200, description="Recherche plein texte")
    sort: Literal["recent", "due", "oldest", "priority"] = "recent"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)
    cursor: str = Field("", max_length=500, description=(
        "Pagination par curseur : la valeur `next_cursor` de la page précédente (avec les "
        "mêmes filtres et le même tri ; `offset` doit alors valoir 0)."))


class ContactIn(Schema):
    name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=30)


class ConversationIn(Schema):
    account: int
    subject: str = Field(..., min_length=1, max_length=250)
    body: str = Field(..., min_length=1, max_length=100_000)
    channel: Channel = Channel.API
    kind: Kind = Kind.QUESTION
    priority: Priority = Priority.NORMAL
    category: CategoryOrBlank = ""
    motif: MotifOrBlank = ""
    contact: ContactIn | None = None
    acknowledge: bool = Field(True, description=(
        "Accusé de réception envoyé au contact (s'il a un e-mail). Avec `received_at`, "
        "envoyé seulement si `acknowledge` vaut explicitement true ; il indique alors "
        "l'heure de réception d'origine."))
    received_at: datetime | None = Field(None, description=(
        "Saisie manuelle (mode dégradé) : date et heure ISO 8601 avec fuseau horaire "
        "(`2026-03-02T14:05:00+01:00`) auxquelles la demande a été reçue, ni dans le futur "
        "ni plus de 30 jours en arrière. Le dossier est créé à cette heure : ses échéances "
        "(heures ouvrées du compte) et les indicateurs comptent depuis elle. Sinon 422."))


class ConversationPatch(Schema):
    status: Status | None = None
    priority: Priority | None = None
    category: CategoryOrBlank | None = None
    motif: MotifOrBlank | None = None
    kind: Kind | None = None
    subject: str | None = Field(None, min_length=1, max_length=250)
    tags: list[str] | None = Field(None, max_length=50)
    assignee: int | None = Field(None, description="Identifiant d'utilisateur ; null : personne")


class MessageIn(Schema):
    type: Literal["reply", "note"]
    body: str = Field(..., min_length=1, max_length=100_000)
    status_after: Status | None = None


class MergeIn(Schema):
    into: int
    inform_customer: bool = True


# --- Helpers -------------------------------------------------------------------------------

def _invalid(fields: dict[str, list[str]]) -> DomainError:
    return DomainError("invalid", _("Certains champs sont invalides."), status=422, fields=fields)


def _visible_messages(conversation: Conversation, user: User) -> QuerySet[Message]:
    directions = [Direction.IN, Direction.OUT]
    if permissions.can_see_internal_notes(user):
        directions += [Direction.NOTE, Direction.INSTRUCTION]
    return selectors.timeline(conversation).filter(direction__in=directions)


def _detail(user: User, pk: int) -> Conversation:
    conversation = (Conversation.objects.select_related("contact").prefetch_related("tags")
                    .get(pk=pk))
    conversation.api_messages = list(  # type: ignore[attr-defined]
        _visible_messages(conversation, user))
    return conversation


def _created(conversation: Conversation, message: Message) -> Conversation:
    """The 201 of a create: the conversation and its first message as the service wrote them
    (the timeline of a new conversation is that message), with two small reads (tags set by
    routing, attachments) instead of reading the whole conversation back."""
    prefetch_related_objects([conversation], "tags")
    prefetch_related_objects([message], "attachments")
    for obj in (conversation, message, conversation.contact):
        _as_stored(obj)
    conversation.api_messages = [message]  # type: ignore[attr-defined]
    return conversation


def _as_stored(obj: Any) -> None:
    """Datetimes in UTC, as the database gives them back (the SLA engine computes in the
    account's zone): the JSON then reads exactly like a GET of the same conversation."""
    if obj is None:
        return
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(value, datetime) and value.tzinfo is not None:
            setattr(obj, field.attname, value.astimezone(UTC))


def _require_object(request: AuthedHttpRequest) -> None:
    """A PATCH whose schema has only optional fields still needs a JSON object."""
    try:
        ok = isinstance(json.loads(request.body or b"null"), dict)
    except ValueError:
        ok = False
    if not ok:
        raise _invalid({"__all__": [_("Un objet JSON est attendu.")]})


def _message(pk: int) -> Message:
    return Message.objects.prefetch_related("attachments").get(pk=pk)


# --- Endpoints -----------------------------------------------------------------------------

@router.get("/conversations", response=ConversationPage, summary="Dossiers visibles")
def conversation_list(request: AuthedHttpRequest,
                      filters: Query[ConversationFilters]) -> dict[str, Any]:
    qs = selectors.inbox_list(
        request.user, view="all",
        account=str(filters.account) if filters.account is not None else "",
        status=filters.status or "", channel=filters.channel or "", kind=filters.kind or "",
        assignee=str(filters.assignee) if filters.assignee is not None else "",
        q=filters.q, sort=filters.sort,
    )
    # Every sort ends with the id: a stable order for offsets and cursors alike.
    cap = API_SEARCH_COUNT_CAP if filters.q.strip() else API_COUNT_CAP
    count = qs.order_by().values("pk")[:cap + 1].count()
    if filters.cursor and filters.offset:
        raise _invalid({"offset": [_("Avec un curseur, offset doit valoir 0.")]})
    # The page's ids first (an index walk), then only those rows with their joins.
    if filters.cursor:
        ids = selectors.keyset_page_ids(qs, filters.sort, _cursor_values(filters),
                                        filters.limit)
    else:
        ids = list(qs.values_list("pk", flat=True)
                   [filters.offset: filters.offset + filters.limit])
    rows = {c.pk: c for c in qs.model.objects.filter(pk__in=ids).defer("search_text")
            .select_related("contact").prefetch_related("tags")}
    page = [rows[pk] for pk in ids if pk in rows]
    next_cursor = None
    if len(ids) == filters.limit and page:
        next_cursor = _cursor(filters, selectors.sort_key_of(page[-1], filters.sort))
    return {"count": min(count, cap), "count_capped": count > cap,
            "limit": filters.limit, "offset": filters.offset, "next_cursor": next_cursor,
            "items": page}


API_COUNT_CAP = 10_000
# A search's count checks the rows one by one for a common word (inbox.search): the first
# 1,000 matches cost about what the page does, 10,000 ten times more.
API_SEARCH_COUNT_CAP = 1_000


def _cursor(filters: ConversationFilters, values: list[Any]) -> str:
    """Opaque to clients: the sort and the last row's sort key."""
    keys = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return cursor_encode({"s": filters.sort, "k": keys})


def _cursor_values(filters: ConversationFilters) -> list[Any]:
    """The sort key a cursor carries, checked value by value; 422 for anything else."""
    error = _invalid({"cursor": [_("Curseur invalide : reprenez depuis la première page.")]})
    try:
        data = cursor_decode(filters.cursor)
    except InvalidCursor:
        raise error from None
    keys = selectors.SORT_KEYS[filters.sort]
    if (not isinstance(data, dict) or data.get("s") != filters.sort
            or not isinstance(data.get("k"), list) or len(data["k"]) != len(keys)):
        raise error
    values: list[Any] = []
    for (field, _desc), value in zip(keys, data["k"], strict=True):
        if field.endswith("_at"):
            if value is None and field == "next_due_at":
                values.append(None)
                continue
            moment = aware_datetime(value)
            if moment is None:
                raise error
            values.append(moment)
        elif is_bigint(value):
            values.append(value)
        else:
            raise error
    return values


@router.post("/conversations", response={201: ConversationDetailOut},
             summary="Créer un dossier (intégrations)")
def conversation_create(request: AuthedHttpRequest, payload: ConversationIn) -> Respond[Any]:

    user = request.user
    if not permissions.can_work_conversations(user):
        raise Forbidden(_("Vous ne pouvez pas créer de dossier."))
    try:
        account = get_account_for_user(user, payload.account)
    except DomainError:
        raise DomainError("not_found", _("Compte client introuvable."), status=404,
                          fields={"account": [_("Compte client introuvable.")]}) from None
    contact = payload.contact or ContactIn(name="", email="", phone="")
    email = contact.email.strip().lower()
    phone = contact.phone.strip()
    errors: dict[str, list[str]] = {}
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact.email"] = [_("Adresse e-mail invalide.")]
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError as exc:
            errors["contact.phone"] = [str(m) for m in exc.messages]
    received_at = payload.received_at
    if received_at is not None:
        problem = manual.received_at_error(received_at)
        if problem:
            errors["received_at"] = [problem]
    if errors:
        raise _invalid(errors)
    acknowledge = payload.acknowledge and bool(email)
    data: dict[str, Any] = {"api_user": user.pk}
    if received_at is not None:
        # Registered late: no acknowledgement unless asked for explicitly.
        acknowledge = acknowledge and "acknowledge" in payload.model_fields_set
        data["manual"] = manual.entry_data(actor=user, received_at=received_at,
                                           channel=str(payload.channel),
                                           acknowledged=acknowledge)
    incoming = services.Incoming(
        account=account, channel=str(payload.channel), subject=payload.subject,
        body_text=payload.body, contact_name=contact.name.strip(), contact_email=email,
        contact_phone=phone, kind=str(payload.kind), priority=str(payload.priority),
        category=payload.category, motif=payload.motif, sender=email,
        acknowledge=acknowledge, data=data, received_at=received_at,
    )
    conversation, message = services.conversation_open_with_message(incoming, actor=user)
    return Respond(201, _created(conversation, message))


@router.get("/conversations/{conversation_id}", response=ConversationDetailOut,
            summary="Un dossier et ses messages")
def conversation_detail(request: AuthedHttpRequest, conversation_id: int) -> Conversation:
    conversation = selectors.get_conversation_for_user(request.user, conversation_id)
    audit_view(actor=request.user, target=conversation, account=conversation.account)
    return _detail(request.user, conversation.pk)


@router.patch("/conversations/{conversation_id}", response=ConversationDetailOut,
              summary="Modifier un dossier (statut, qualification, attribution)")
def conversation_patch(request: AuthedHttpRequest, conversation_id: int,
                       payload: ConversationPatch) -> Conversation:
    user = request.user
    conversation = selectors.get_conversation_for_user(user, conversation_id, action="work")
    _require_object(request)
    data = payload.model_dump(mode="json", exclude_unset=True)
    with transaction.atomic():
        qualification = {k: data[k] for k in QUALIFICATION if data.get(k) is not None}
        for blankable in ("category", "motif"):
            if blankable in data and data[blankable] is None:
                qualification[blankable] = ""
        tags = data.get("tags")
        if qualification or tags is not None:
            services.conversation_update(actor=user, conversation=conversation,
                                         data=qualification, tags=tags)
        if "assignee" in data:
            assignee = None
            if data["assignee"] is not None:
                assignee = User.objects.filter(pk=data["assignee"]).first()
                if assignee is None:
                    raise _invalid({"assignee": [_("Utilisateur introuvable.")]})
            services.conversation_assign(actor=user, conversation=conversation,
                                         assignee=assignee)
        status = data.get("status")
        if status:
            current = Conversation.objects.values_list("status", flat=True).get(
                pk=conversation.pk)
            if status != current:
                services.conversation_set_status(actor=user, conversation=conversation,
                                                 status=status)
    return _detail(user, conversation.pk)


@router.post("/conversations/{conversation_id}/messages", response={201: MessageOut},
             summary="Répondre au client ou ajouter une note interne")
def conversation_message(request: AuthedHttpRequest, conversation_id: int,
                         payload: MessageIn) -> Respond[Any]:
    user = request.user
    conversation = selectors.get_conversation_for_user(user, conversation_id, action="work")
    status_after = str(payload.status_after) if payload.status_after else None
    if payload.type == "reply":
        message = services.conversation_reply(actor=user, conversation=conversation,
                                              body=payload.body, attachments=None,
                                              status_after=status_after)
    else:
        with transaction.atomic():
            message = services.conversation_add_note(actor=user, conversation=conversation,
                                                     body=payload.body)
            current = Conversation.objects.values_list("status", flat=True).get(
                pk=conversation.pk)
            if status_after and status_after != current:
                services.conversation_set_status(actor=user, conversation=conversation,
                                                 status=status_after)
    return Respond(201, _message(message.pk))


@router.post("/conversations/{conversation_id}/merge", response=ConversationDetailOut,
             summary="Fusionner ce dossier dans un autre")
def conversation_merge(request: AuthedHttpRequest, conversation_id: int,
                       payload: MergeIn) -> Conversation:
    user = request.user
    source = selectors.get_conversation_for_user(user, conversation_id, action="work")
    target = selectors.conversations_visible_to(user).filter(pk=payload.into).first()
    if target is None:
        raise DomainError("not_found", _("Dossier cible introuvable."), status=404,
                          fields={"into": [_("Aucun dossier visible avec cet identifiant.")]})
    merged = services.conversation_merge(actor=user, source=source, target=target,
                                         inform_customer=payload.inform_customer)
    return _detail(user, merged.pk)

"""Reads. `conversations_visible_to` is the single gate in front of every conversation query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.accounts import permissions
from permanence.accounts.models import User
from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to, assignable_staff
from permanence.core import clock, local_cache
from permanence.core.counting import capped_counts
from permanence.core.errors import Forbidden, NotFound

from .models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    AgentPresence,
    Attachment,
    Conversation,
    Direction,
    Message,
    Notification,
    ReadMarker,
    priority_rank,
)
from .permissions import can_work_conversations
from .search import search_conversations


class _AccountIn(Func):
    """`account_id IN (visible accounts)`, written for PostgreSQL as
    `account_id = ANY(ARRAY(SELECT …))`: the subquery runs once (an InitPlan) and its array
    is an index condition, checked on the entries of an index carrying account_id while the
    lists walk it in order. As a plain IN, PostgreSQL makes it a semi-join, checked only
    after fetching each row from the table (thousands per page for an agent). Same rows."""

    output_field = BooleanField()

    def __init__(self, accounts: QuerySet[Any]) -> None:
        super().__init__(F("account_id"), Subquery(accounts.order_by().values("pk")))

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,
               template: str | None = None, arg_joiner: str | None = None,
               **extra_context: Any) -> tuple[str, tuple[Any, ...]]:
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        subquery_sql, subquery_params = compiler.compile(self.source_expressions[1])
        operator = "= ANY(ARRAY%s)" if connection.vendor == "postgresql" else "IN %s"
        return (f"{column_sql} {operator % subquery_sql}",
                (*column_params, *subquery_params))


def conversations_visible_to(user: Actor) -> QuerySet[Conversation]:
    """Staff: conversations of the accounts they may see. Clients: their accounts' ones."""
    if not isinstance(user, User) or not user.is_active:  # a User is always authenticated
        return Conversation.objects.none()
    qs = Conversation.objects.filter(merged_into__isnull=True)
    if permissions.sees_all_accounts(user):
        return qs
    return qs.filter(_AccountIn(accounts_visible_to(user)))




def merged_target_for_user(user: Actor, pk: Any) -> int | None:
    """Where a merged conversation now lives, if the user may see it (for old links)."""

    if not isinstance(user, User) or not user.is_active:  # a User is always authenticated
        return None
    qs = Conversation.objects.filter(pk=pk if str(pk).isdigit() else -1,
                                     merged_into__isnull=False)
    if not permissions.sees_all_accounts(user):
        qs = qs.filter(account__in=accounts_visible_to(user))
    return qs.values_list("merged_into_id", flat=True).first()


def get_conversation_for_user(user: User, pk: Any, action: str = "view") -> Conversation:
    try:
        conversation = conversations_visible_to(user).select_related(
            "account", "contact", "assignee", "team").get(pk=pk)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Dossier introuvable.")) from None
    if action == "work" and not can_work_conversations(user):
        raise Forbidden(_("Vous ne pouvez pas traiter ce dossier."))
    if action == "client" and not user.is_client:
        raise Forbidden()
    return conversation


def get_attachment_for_user(user: User, attachment_id: Any) -> Attachment:
    """An attachment of a conversation the user may see (404 otherwise). The messages of a
    conversation merged into another show on that one's timeline (timeline()), so their
    attachments are reached through it: the folded-in conversation itself is no longer
    visible (conversations_visible_to)."""
    try:
        item = Attachment.objects.select_related("message__conversation").get(
            pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(_("Pièce jointe introuvable.")) from None
    conversation = item.message.conversation
    get_conversation_for_user(user, conversation.merged_into_id or conversation.pk)
    return item


# --- The inbox list ------------------------------------------------------------------------

VIEWS = {
    "mine": gettext_lazy("Mes dossiers"),
    "unassigned": gettext_lazy("Non attribués"),
    "team": gettext_lazy("Mon équipe"),
    "due_soon": gettext_lazy("Échéance proche"),
    "breached": gettext_lazy("En retard"),
    "open": gettext_lazy("Tous les ouverts"),
    "all": gettext_lazy("Tous"),
}
DUE_SOON = 4  # hours (calendar time) before the next due instant


def inbox_list(user: User, *, view: str = "open", account: str = "", channel: str = "",
               status: str = "", kind: str = "", assignee: str = "", q: str = "",
               sort: str = "due") -> QuerySet[Conversation]:
    """The inbox list.

    The steps below always apply in this order (view, field filters, search, read state,
    sort): the same filters, annotations and ordering, hence the same PostgreSQL plans."""

    now = clock.now()
    qs = _in_view(conversations_visible_to(user), user, view, now)
    qs = _with_field_filters(qs, account=account, channel=channel, status=status, kind=kind,
                             assignee=assignee)
    if q.strip():
        qs = search_conversations(qs, q)
    return _sorted(_with_read_state(qs, user), sort)


def _in_view(qs: QuerySet[Conversation], user: User, view: str,
             now: datetime) -> QuerySet[Conversation]:
    """`qs` narrowed to one of VIEWS ("all", or an unknown view: unchanged)."""
    if view == "mine":
        return qs.filter(assignee=user, status__in=OPEN_STATUSES)
    if view == "unassigned":
        return qs.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    if view == "team":
        return qs.filter(Q(team__members=user) | Q(assignee__teams__members=user),
                         status__in=OPEN_STATUSES).distinct()
    if view == "due_soon":
        return qs.filter(status__in=OPEN_STATUSES, next_due_at__gt=now,
                         next_due_at__lte=now + timedelta(hours=DUE_SOON))
    if view == "breached":
        return qs.filter(status__in=OPEN_STATUSES, next_due_at__lte=now)
    if view == "open":
        return qs.filter(status__in=OPEN_STATUSES)
    return qs


def _with_field_filters(qs: QuerySet[Conversation], *, account: str, channel: str,
                        status: str, kind: str,
                        assignee: str) -> QuerySet[Conversation]:
    """The list's filters on one field each, in this order; an empty value filters nothing."""
    qs = _with_id_filter(qs, "account_id", account)
    for field, value in (("channel", channel), ("status", status), ("kind", kind)):
        if value:
            qs = qs.filter(**{field: value})
    return _with_id_filter(qs, "assignee_id", assignee)


def _with_id_filter(qs: QuerySet[Conversation], field: str,
                    value: str) -> QuerySet[Conversation]:
    """`field` equal to the id in `value`; an id that is not a number matches nothing."""
    if not value:
        return qs
    return qs.filter(**{field: int(value)}) if value.isdigit() else qs.none()


def _with_read_state(qs: QuerySet[Conversation], user: User) -> QuerySet[Conversation]:
    """Annotates `is_read`: no marker of this user at or after the last message means unread
    (one subquery, no N+1)."""
    last_read = ReadMarker.objects.filter(conversation=OuterRef("pk"), user=user)
    return qs.annotate(
        is_read=Exists(last_read.filter(read_at__gte=OuterRef("last_message_at"))))


# Each order ends with the id: ties (same instant, same priority) keep one order from a page
# to the next, and between a page's ids and its rows (inbox.views.CappedPaginator).
_SORTS = {
    "due": ["next_due_at", "-last_message_at", "-pk"],
    "recent": ["-last_message_at", "-pk"],
    "oldest": ["created_at", "pk"],
    "priority": ["-priority_rank", "next_due_at", "-pk"],
}
# Every sort as (field, descending): the keyset of the API's cursor (inbox.api). Null due
# dates come last, on both engines.
SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    sort: [(key.lstrip("-"), key.startswith("-")) for key in order]
    for sort, order in _SORTS.items()}


def _sorted(qs: QuerySet[Conversation], sort: str) -> QuerySet[Conversation]:
    """`qs` in the order `sort` names (an unknown sort: "due"), ready for a list page."""
    order = _SORTS.get(sort, _SORTS["due"])
    if sort == "priority":
        # The expression of the conv_priority_visible index: the sort reads it in order.
        qs = qs.annotate(priority_rank=priority_rank())

    # The search text can be large; list pages never show it (cheaper sorts and fetches).
    qs = qs.defer("search_text").select_related("account", "contact", "assignee")
    return qs.order_by(*[F("next_due_at").asc(nulls_last=True) if key == "next_due_at" else key
                         for key in order])


def _key_after(field: str, descending: bool, value: Any) -> Q:
    """Rows strictly after `value` on one key of a sort (null due dates come last)."""
    if field == "next_due_at":
        return Q(next_due_at__gt=value) | Q(next_due_at__isnull=True) if value is not None \
            else Q(pk__in=[])
    return Q(**{f"{field}__{'lt' if descending else 'gt'}": value})


def _key_equal(field: str, value: Any) -> Q:
    return Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})


def after_keyset(qs: QuerySet[Conversation], sort: str,
                 values: list[Any]) -> QuerySet[Conversation]:
    """The rows of `qs` (an `inbox_list` in `sort` order) after the row whose sort key is
    `values` (see `sort_key_of`): keyset pagination, whatever was inserted or removed
    before. The first key also bounds the range (`<=`/`>=`), so that the index walk starts
    at the cursor instead of filtering every row before it."""
    keys = SORT_KEYS.get(sort, SORT_KEYS["due"])
    condition = Q(pk__in=[])
    for i, (field, descending) in enumerate(keys):
        part = _key_after(field, descending, values[i])
        for previous, (previous_field, _desc) in enumerate(keys[:i]):
            part &= _key_equal(previous_field, values[previous])
        condition |= part
    first_field, first_desc = keys[0]
    if first_field == "next_due_at":
        bound = Q()
        if values[0] is None:  # among the undated rows: a range on the second key too
            second_field, second_desc = keys[1]
            bound = Q(next_due_at__isnull=True, **{
                f"{second_field}__{'lte' if second_desc else 'gte'}": values[1]})
    else:
        bound = Q(**{f"{first_field}__{'lte' if first_desc else 'gte'}": values[0]})
    return qs.filter(bound, condition)


def keyset_page_ids(qs: QuerySet[Conversation], sort: str, values: list[Any],
                    limit: int) -> list[int]:
    """The ids of the `limit` rows of `qs` after the row whose sort key is `values`.

    The "due" sort after a dated row reads two ranges of the due-date index: the dated
    rows from that date on, then, only when the page is not full yet, the undated rows
    (they all come last). As one condition (`next_due_at > d OR next_due_at IS NULL`) no
    index range answers it, and every entry before the cursor would be walked."""
    after = after_keyset(qs, sort, values)
    keys = SORT_KEYS.get(sort, SORT_KEYS["due"])
    if keys[0][0] != "next_due_at" or values[0] is None:
        return list(after.values_list("pk", flat=True)[:limit])
    ids = list(after.filter(next_due_at__gte=values[0]).values_list("pk", flat=True)[:limit])
    if len(ids) < limit:
        ids += list(qs.filter(next_due_at__isnull=True).values_list("pk", flat=True)
                    [:limit - len(ids)])
    return ids


def sort_key_of(conversation: Conversation, sort: str) -> list[Any]:
    """The values of `sort`'s keys for one row of an `inbox_list` (the cursor's content)."""
    return [PRIORITY_RANK.get(conversation.priority) if field == "priority_rank"  # type: ignore[call-overload]
            else getattr(conversation, field) for field, _desc in
            SORT_KEYS.get(sort, SORT_KEYS["due"])]


def _folded_messages(conversation: Conversation) -> QuerySet[Message]:
    """The messages of the conversation and of those merged into it, oldest first, with
    their attachments (the merged ones found by a subquery: one query)."""
    folded = Conversation.objects.filter(Q(pk=conversation.pk) | Q(merged_into=conversation.pk))
    return (Message.objects.filter(conversation__in=folded.values("pk"))
            .prefetch_related("attachments").order_by("created_at", "id"))


def timeline(conversation: Conversation) -> QuerySet[Any]:
    """The messages of the conversation and of those merged into it, oldest first."""
    # The conversation joined for each message's reference, without its search text (every
    # message's text again: kilobytes per row that nothing here reads).
    return (_folded_messages(conversation)
            .select_related("author", "contact", "conversation")
            .defer("conversation__search_text"))


def conversation_merged_ids(conversation: Conversation) -> list[int]:
    return list(Conversation.objects.filter(merged_into=conversation).values_list("pk",
                                                                                 flat=True))


def timeline_shown(conversation: Conversation) -> QuerySet[Any]:
    """timeline() as the conversation page shows it: without what the page never reads —
    the mail's HTML (tens of kilobytes for some), its threading headers, the people's
    passwords and settings — fetched and turned into objects for nothing. Of each message's
    conversation, only its reference (`conversation_reference`: the badge of a message
    merged in), rather than a whole Conversation object per message."""
    return (_folded_messages(conversation)
            .select_related("author", "contact")
            .annotate(conversation_reference=F("conversation__reference"))
            .defer("body_html", "references", "in_reply_to", "message_id", "raw",
                   *(f"author__{f}" for f in ("password", "last_login", "phone",
                                              "date_joined")),
                   *(f"contact__{f}" for f in ("last_nps_at", "created_at"))))


def get_conversation_page(user: User, pk: Any) -> Conversation | int:
    """The conversation page's conversation with what the page shows of it (account,
    contact, assignee, linked order) in one query — or, for the link of a conversation
    merged since, the pk of the one it now lives in (if the user may see it)."""
    mine = ReadMarker.objects.filter(conversation=OuterRef("pk"), user=user)
    try:
        # Not joined: the team and the linked order, rarely set (a lazy query when they are);
        # PostgreSQL spends more time planning a seven-table join than running it.
        # The user's read marker comes along (viewer_marker): the view's write needs it.
        return conversations_visible_to(user).select_related(
            "account", "contact", "assignee", "complaint").defer("search_text").annotate(
            viewer_read_at=Subquery(mine.values("read_at")[:1]),
            viewer_view_at=Subquery(mine.values("view_at")[:1])).get(pk=pk)
    except (Conversation.DoesNotExist, ValueError, TypeError):
        merged_into = merged_target_for_user(user, pk)
        if merged_into is None:
            raise NotFound(_("Dossier introuvable.")) from None
        return merged_into


def viewer_marker(conversation: Conversation) -> dict[str, Any] | None:
    """The page user's read marker ({"read_at", "view_at"}; None: they never opened it), as
    `get_conversation_page` read it, for services.conversation_viewed."""
    read_at = getattr(conversation, "viewer_read_at", None)  # never null in a marker
    if read_at is None:
        return None
    return {"read_at": read_at, "view_at": getattr(conversation, "viewer_view_at", None)}


CONTACT_OTHERS = 5


def contact_other_conversations(user: User,
                                conversation: Conversation) -> list[Conversation]:
    """The contact's latest other conversations the user may see (at most CONTACT_OTHERS)."""
    if conversation.contact_id is None:
        return []
    return list(conversations_visible_to(user)
                .filter(contact_id=conversation.contact_id).exclude(pk=conversation.pk)
                .only("pk", "reference", "subject", "status", "last_message_at")
                .order_by("-last_message_at", "-pk")[:CONTACT_OTHERS])


# The assign menus list the same staff on every page: settings-like, cached like the other
# settings (core.local_cache: a change shows at once in the process that made it, within
# LOCAL_CACHE_SECONDS in the others).
local_cache.watch("accounts.User")
_ASSIGNABLE = local_cache.LocalCache("assignable_staff")


def assignable_staff_list() -> list[User]:
    """accounts.selectors.assignable_staff(), as the inbox pages' assign menus show it."""
    return _ASSIGNABLE.get_or_compute(None, lambda: list(assignable_staff()))


def filter_accounts(user: User, selected: str = "") -> list[Any]:
    """Accounts offered in the inbox's account filter: those with conversations (at most
    500, by name), plus the selected one — never a select of every account."""

    visible = accounts_visible_to(user).only("pk", "name")
    has_conversations = Conversation.objects.filter(account=OuterRef("pk"))
    accounts = list(visible.filter(Exists(has_conversations)).order_by("name")[:500])
    if selected.isdigit() and all(a.pk != int(selected) for a in accounts):
        accounts += list(visible.filter(pk=int(selected)))
    return accounts


COUNTS_TTL = 15  # seconds: the view counters may lag a little; the list itself never does


def inbox_counts(user: User) -> dict[str, int]:
    """Counts shown next to each view, each stopped at COUNT_CAP + 1 (one query, cached
    briefly per user)."""

    key = f"inbox-counts:{user.pk}"
    counts: dict[str, int] | None = cache.get(key)
    if counts is None:
        counts = _inbox_counts(user)
        cache.set(key, counts, COUNTS_TTL)
    return counts


def _inbox_counts(user: User) -> dict[str, int]:
    """Each view's rows, counted up to COUNT_CAP + 1 only: every count is an index range walk
    that stops there, instead of counting 100,000 open conversations every COUNTS_TTL."""
    now = clock.now()
    base = conversations_visible_to(user).filter(status__in=OPEN_STATUSES)
    return capped_counts({
        "open": base,
        "mine": base.filter(assignee=user),
        "unassigned": base.filter(assignee__isnull=True),
        "due_soon": base.filter(next_due_at__gt=now,
                                next_due_at__lte=now + timedelta(hours=DUE_SOON)),
        "breached": base.filter(next_due_at__lte=now),
    })


def presence_of(user: User) -> AgentPresence:
    """The agent's presence (unsaved default: available, capacity 20)."""

    return AgentPresence.objects.filter(user=user).first() or AgentPresence(user=user)


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


UNREAD_CAP = 99  # beyond, the menu says "99+"


def inbox_unread_count(user: User) -> int:
    """Open conversations the user may see with a message since they last opened them (the
    rows in bold in the list), counted up to UNREAD_CAP + 1: one query, whose cost stays
    bounded however large the inbox (it stops at the hundredth unread row)."""
    if not isinstance(user, User) or not user.is_active:
        return 0
    return _unread_rows(user).count()


def _unread_rows(user: User) -> QuerySet[Any]:
    """The ids inbox_unread_count counts (at most UNREAD_CAP + 1)."""
    read = ReadMarker.objects.filter(conversation=OuterRef("pk"), user=user,
                                     read_at__gte=OuterRef("last_message_at"))
    unread = conversations_visible_to(user).filter(~Exists(read), status__in=OPEN_STATUSES)
    return unread.order_by().values("pk")[:UNREAD_CAP + 1]


# The menu counts' SQL by (user, role): see _menu_sql.
_MENU_SQL: dict[tuple[int, str], tuple[str, tuple[Any, ...]]] = {}
_MENU_SQL_MAX = 2048


def _menu_sql(user: User) -> tuple[str, tuple[Any, ...]]:
    """The menu counts' statement. Compiling its two querysets costs more than running
    them, on every staff page; the SQL depends only on who the user is and their role (the
    accounts they see are a subquery, read when it runs), so it is compiled once per user
    and role in the process."""
    key = (user.pk, user.role)
    cached = _MENU_SQL.get(key)
    if cached is None:
        unread_sql, unread_params = _unread_rows(user).query.sql_with_params()
        notes = Notification.objects.filter(user_id=user.pk, read_at__isnull=True).values("pk")
        notes_sql, notes_params = notes.query.sql_with_params()
        cached = (f"SELECT (SELECT COUNT(*) FROM ({unread_sql}) unread), "  # noqa: S608 (ORM-built SQL, parameters apart)  # nosec B608
                  f"(SELECT COUNT(*) FROM ({notes_sql}) notes)",
                  (*unread_params, *notes_params))
        if len(_MENU_SQL) >= _MENU_SQL_MAX:
            _MENU_SQL.clear()
        _MENU_SQL[key] = cached
    return cached


def menu_counts(user: User) -> tuple[int, int]:
    """(inbox_unread_count, unread_notification_count) in one query: the staff menu shows
    both on every page, and a round trip costs more than either count."""
    unread, notes, *_rest = menu_row(user)
    return unread, notes


def menu_row(user: User, extra: Sequence[tuple[str, tuple[Any, ...]]] = ()) -> tuple[Any, ...]:
    """menu_counts, then the value of each `extra` scalar subquery (SQL, params) in the same
    statement: what other apps show in the staff menu (the desk's agent state) without a
    round trip of their own. None for them when the user is no active staff member."""
    if not isinstance(user, User) or not user.is_active:
        return (0, unread_notification_count(user), *([None] * len(extra)))
    sql, params = _menu_sql(user)
    for more_sql, more_params in extra:
        sql, params = f"{sql}, ({more_sql})", (*params, *more_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        unread, unread_notes, *rest = cursor.fetchone()
    return (int(unread), int(unread_notes), *rest)


def unread_label(count: int) -> str:
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


def callbacks_due(now: datetime) -> list[int]:
    """The « Rappeler plus tard » events whose time has come and whose reminder was not sent
    yet (the planned time is in the event's data: compared here, in Python, as an instant)."""
    planned = (Message.objects.filter(direction=Direction.SYSTEM, event="callback_planned")
               .exclude(data__has_key="reminded").values_list("pk", "data"))
    due = []
    for pk, data in planned:
        at = _instant(data.get("at"))
        if at is not None and at <= now:
            due.append(pk)
    return due


def _instant(value: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


CALLBACK_EVENTS = ("callback_planned", "callback_done")


def callback_pending_in(timeline: list[Message],
                        conversation: Conversation) -> Message | None:
    """The latest « Rappeler plus tard » of the conversation not followed by a « Rappel
    effectué », if any, read from its timeline() already fetched (oldest first, by
    created_at then id; the events of conversations merged into it are not its own): no
    query."""
    for message in reversed(timeline):
        if (message.conversation_id == conversation.pk
                and message.direction == Direction.SYSTEM
                and message.event in CALLBACK_EVENTS):
            return message if message.event == "callback_planned" else None
    return None


# --- Billing's metering (billing.metering): plain rows in id order, read-only --------------


def replies_for_metering(*, after_id: int = 0, limit: int = 500,
                         ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Messages sent by staff (direction out, with an author) with id > after_id (or among
    `ids`), in id order, with their conversation's account."""
    qs = Message.objects.filter(pk__gt=after_id, direction=Direction.OUT, author__isnull=False)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return [dict(row) for row in qs.order_by("pk").values(
        "id", "channel", "auto_generated", "created_at", "conversation_id",
        "conversation__account_id")[:limit]]

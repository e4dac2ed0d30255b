"""Reads of the quality app: grids, the applicable grid of a call or conversation, who may
see which review (a secretary her own, never a colleague's), the review list and the
averages per agent and per account over a period (reports reads these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import accounts_visible_to
from permanence.core.errors import NotFound
from permanence.desk.models import Call
from permanence.inbox.models import Conversation, Direction, Message
from permanence.inbox.selectors import timeline

from .models import Criterion, Grid, Review
from .permissions import can_be_reviewed, can_review_quality, can_view_quality

# --- Grids -------------------------------------------------------------------------------------


def grid_list() -> QuerySet[Grid]:
    return (Grid.objects.select_related("account")
            .annotate(criteria_count=Count("criteria", distinct=True),
                      reviews_count=Count("reviews", distinct=True))
            .order_by("-is_active", "account__name", "name", "pk"))


def get_grid(pk: Any) -> Grid:
    try:
        return Grid.objects.select_related("account").get(pk=int(pk))
    except (Grid.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Grille introuvable.")) from None


def get_criterion(grid: Grid, pk: Any) -> Criterion:
    try:
        return grid.criteria.get(pk=int(pk))
    except (Criterion.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Critère introuvable.")) from None


def grid_criteria(grid: Grid) -> list[Criterion]:
    return list(grid.criteria.order_by("order", "pk"))


def grid_for_account(account: ClientAccount | None) -> Grid | None:
    """The applicable grid: the account's active grid, else the active global one."""
    grids = Grid.objects.filter(is_active=True).filter(
        Q(account__isnull=True) | Q(account=account) if account is not None
        else Q(account__isnull=True))
    # The account's own first (NULLs last in both databases once sorted on a boolean).
    found = sorted(grids.prefetch_related(
        Prefetch("criteria", queryset=Criterion.objects.order_by("order", "pk"))),
        key=lambda g: g.account_id is None)
    return found[0] if found else None


# --- What may be reviewed ----------------------------------------------------------------------


def reviewable_call(user: User, pk: Any) -> Call:
    """A call of an account the reviewer sees, with an account (404 otherwise)."""
    try:
        return (Call.objects.filter(account__in=accounts_visible_to(user))
                .select_related("account", "agent", "handled_by").get(pk=int(pk)))
    except (Call.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Appel introuvable.")) from None


def reviewable_conversation(user: User, pk: Any) -> Conversation:
    try:
        return (Conversation.objects.filter(account__in=accounts_visible_to(user),
                                            merged_into__isnull=True)
                .select_related("account", "assignee", "contact").get(pk=int(pk)))
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Dossier introuvable.")) from None


def call_agent(call: Call) -> User | None:
    """Whose work a call review is about: the agent who took it, else who recorded it."""
    return call.agent or call.handled_by


def conversation_agents(conversation: Conversation) -> list[User]:
    """Who worked the conversation: its assignee and the authors of its replies."""
    ids = set(Message.objects.filter(conversation=conversation, direction=Direction.OUT,
                                     author__isnull=False)
              .values_list("author_id", flat=True).distinct())
    if conversation.assignee_id:
        ids.add(conversation.assignee_id)
    people = User.objects.filter(pk__in=ids, is_active=True).order_by("full_name", "email")
    return [u for u in people if can_be_reviewed(u)]


def transcript(conversation: Conversation) -> list[Message]:
    """What the contact and the secretaries wrote (no internal notes nor events)."""
    return [m for m in timeline(conversation)
            if m.direction in (Direction.IN, Direction.OUT)]


# --- Reviews -----------------------------------------------------------------------------------


def reviews_visible_to(user: Actor) -> QuerySet[Review]:
    """Reviewers: the reviews of the accounts they see. A secretary: her own only."""
    if not isinstance(user, User) or not can_view_quality(user):
        return Review.objects.none()
    if can_review_quality(user):
        return Review.objects.filter(account__in=accounts_visible_to(user))
    return Review.objects.filter(agent=user)


def get_review_for_user(user: Actor, pk: Any) -> Review:
    """The review if `user` may read it, else 404 (a colleague's review does not exist)."""
    try:
        return (reviews_visible_to(user)
                .select_related("account", "agent", "reviewer", "call", "conversation", "grid")
                .prefetch_related("scores").get(pk=int(pk)))
    except (Review.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Évaluation introuvable.")) from None


@dataclass(frozen=True)
class ReviewFilters:
    agent_id: int | None = None
    account_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None  # exclusive
    mystery: bool | None = None
    unacknowledged: bool = False


def _filtered(qs: QuerySet[Review], f: ReviewFilters) -> QuerySet[Review]:
    if f.agent_id:
        qs = qs.filter(agent_id=f.agent_id)
    if f.account_id:
        qs = qs.filter(account_id=f.account_id)
    if f.start is not None:
        qs = qs.filter(created_at__gte=f.start)
    if f.end is not None:
        qs = qs.filter(created_at__lt=f.end)
    if f.mystery is not None:
        qs = qs.filter(mystery=f.mystery)
    if f.unacknowledged:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs


def review_list(user: Actor, filters: ReviewFilters, *, limit: int = 200) -> list[Review]:
    """The « Qualité » page's rows: one query whatever their number."""
    qs = _filtered(reviews_visible_to(user), filters).select_related(
        "account", "agent", "reviewer", "call", "conversation")
    return list(qs.order_by("-created_at", "-pk")[:limit])


def reviews_of_call(call: Call) -> list[Review]:
    return list(Review.objects.filter(call=call).select_related("reviewer", "agent"))


def reviews_of_conversation(conversation: Conversation) -> list[Review]:
    return list(Review.objects.filter(conversation=conversation)
                .select_related("reviewer", "agent"))


def unacknowledged_count(user: Actor) -> int:
    return reviews_visible_to(user).filter(acknowledged_at__isnull=True).count()


# --- Averages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Average:
    """Mean of the reviews' weighted totals (each review counts once), in %; reviews whose
    criteria were all N/A have no total and are not counted."""

    reviews: int
    mean: Decimal | None
    mystery_reviews: int
    mystery_mean: Decimal | None
    normal_reviews: int
    normal_mean: Decimal | None


def _round(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def averages(user: Actor, *, by: str, start: datetime | None = None,
             end: datetime | None = None, agent_id: int | None = None,
             account_id: int | None = None, mystery: bool | None = None,
             ) -> dict[int, Average]:
    """Averages over [start, end) of the reviews `user` may see (a review counts on the day
    it was made), keyed by agent id (`by="agent"`) or account id (`by="account"`): one
    query."""
    if by not in ("agent", "account"):
        raise ValueError(by)
    qs = _filtered(reviews_visible_to(user).filter(score_pct__isnull=False),
                   ReviewFilters(agent_id=agent_id, account_id=account_id, start=start,
                                 end=end, mystery=mystery))
    rows = qs.order_by().values(f"{by}_id").annotate(
        n=Count("pk"), mean=Avg("score_pct"),
        n_mystery=Count("pk", filter=Q(mystery=True)),
        mean_mystery=Avg("score_pct", filter=Q(mystery=True)),
        n_normal=Count("pk", filter=Q(mystery=False)),
        mean_normal=Avg("score_pct", filter=Q(mystery=False)))
    return {row[f"{by}_id"]: Average(
        reviews=row["n"], mean=_round(row["mean"]), mystery_reviews=row["n_mystery"],
        mystery_mean=_round(row["mean_mystery"]), normal_reviews=row["n_normal"],
        normal_mean=_round(row["mean_normal"])) for row in rows}

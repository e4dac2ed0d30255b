"""Reads of the improvement board: opinions filtered, grouped by page, and the recurring
themes (those the team named, and the words that come back in the comments)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from permanence.core import clock

from .models import Feedback, FeedbackStatus

WORD = re.compile(r"[a-z]{4,}")
# Words that say nothing of a theme (accents folded): French function words and the
# vocabulary every opinion uses.
STOPWORDS = frozenset([
    "avec", "avoir", "cela", "cette", "comme", "dans", "depuis", "donc", "elle", "elles",
    "encore", "etait", "etre", "fait", "faire", "mais", "meme", "moins", "nous", "notre",
    "pour", "plus", "pouvoir", "quand", "quel", "quelle", "sans", "sont", "suis", "tout",
    "tous", "tres", "votre", "vous", "leur", "leurs", "aussi", "alors", "apres", "avant",
    "bien", "bonjour", "merci", "site", "page", "chez", "ceci", "cest", "parce", "peut",
    "sera", "serait", "toujours", "vraiment", "juste", "trop", "rien", "ete",
])


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def feedback_filtered(*, status: str = "", page: str = "", source: str = "",
                      ) -> QuerySet[Feedback]:
    qs = Feedback.objects.select_related("account", "owner")
    if status in FeedbackStatus.values:
        qs = qs.filter(status=status)
    if page:
        qs = qs.filter(page=page[:300])
    if source:
        qs = qs.filter(source=source[:10])
    return qs.order_by("-created_at", "-pk")


def by_page(limit: int = 15) -> list[dict[str, Any]]:
    """Pages with the most opinions: count, average rating, those not yet looked at."""
    return [dict(row) for row in Feedback.objects.values("page").annotate(
        total=Count("pk"), average=Avg("rating"),
        new=Count("pk", filter=Q(status=FeedbackStatus.NEW)))
        .order_by("-total", "page")[:limit]]


def named_themes(limit: int = 10) -> list[dict[str, Any]]:
    return [dict(row) for row in Feedback.objects.exclude(theme="").values("theme")
            .annotate(total=Count("pk")).order_by("-total", "theme")[:limit]]


def recurring_words(*, days: int = 90, limit: int = 12, sample: int = 2000) -> list[tuple[str, int]]:
    """Words found in the most comments of the last `days` (each comment counts a word
    once), at least twice: what comes back."""
    since = clock.now() - timedelta(days=days)
    counts: Counter[str] = Counter()
    for comment in (Feedback.objects.filter(created_at__gte=since).exclude(comment="")
                    .order_by("-created_at").values_list("comment", flat=True)[:sample]):
        counts.update({w for w in WORD.findall(fold(comment)) if w not in STOPWORDS})
    return [(word, n) for word, n in counts.most_common(limit) if n >= 2]

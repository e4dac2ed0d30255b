"""Knowledge base: articles (FAQ and internal procedures), categories, votes.

An article belongs to a client account, or to nobody (`account` NULL: the operator's global
articles). `body` is sanitised HTML (knowledge.html.clean, in the services); `body_text` is
its plain text, derived with it, read by the search and the bot. The full-text columns
(PostgreSQL `search_vector`, SQLite FTS5 table) are not model fields: migration 0002 keeps
them in sync with triggers, whatever writes the rows.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.core import clock


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Interne")


class Language(models.TextChoices):
    FR = "fr", _("Français")
    EN = "en", _("Anglais")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    ARCHIVED = "archived", _("Archivé")


# The article status machine (knowledge.statuses drives it through core.transitions).
ARTICLE_TRANSITIONS: dict[str, frozenset[str]] = {
    ArticleStatus.DRAFT: frozenset({ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}),
    ArticleStatus.PUBLISHED: frozenset({ArticleStatus.DRAFT, ArticleStatus.ARCHIVED}),
    ArticleStatus.ARCHIVED: frozenset({ArticleStatus.DRAFT}),
}


def stale_days() -> int:
    return int(getattr(settings, "KNOWLEDGE_STALE_DAYS", 180))


class Category(models.Model):
    account = models.ForeignKey("accounts.ClientAccount", verbose_name=_("compte client"),
                                null=True, blank=True, on_delete=models.CASCADE,
                                related_name="knowledge_categories")
    name = models.CharField(_("nom"), max_length=120)
    position = models.PositiveIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("catégorie")
        verbose_name_plural = _("catégories")
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="knowledge_category_unique"),
            models.UniqueConstraint(fields=["name"], condition=models.Q(account__isnull=True),
                                    name="knowledge_global_category_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    account = models.ForeignKey("accounts.ClientAccount", verbose_name=_("compte client"),
                                null=True, blank=True, on_delete=models.CASCADE,
                                related_name="knowledge_articles",
                                help_text=_("Vide : article global de l'opérateur."))
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("contenu"), blank=True)
    body_text = models.TextField(_("texte brut"), blank=True, editable=False)
    visibility = models.CharField(_("visibilité"), max_length=8, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    language = models.CharField(_("langue"), max_length=2, choices=Language.choices,
                                default=Language.FR)
    translation_of = models.ForeignKey("self", verbose_name=_("traduction de"), null=True,
                                       blank=True, on_delete=models.SET_NULL,
                                       related_name="translations")
    category = models.ForeignKey(Category, verbose_name=_("catégorie"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="articles")
    status = models.CharField(_("statut"), max_length=10, choices=ArticleStatus.choices,
                              default=ArticleStatus.DRAFT)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsable"),
                              null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="knowledge_articles")
    related = models.ManyToManyField("self", verbose_name=_("articles liés"), blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    published_at = models.DateTimeField(null=True, blank=True)
    last_reviewed_at = models.DateTimeField(_("dernière relecture"), default=clock.now)
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["account", "status", "visibility", "language"],
                         name="knowledge_article_scope"),
            models.Index(fields=["last_reviewed_at"], name="knowledge_article_reviewed"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_stale(self) -> bool:
        return self.last_reviewed_at < clock.now() - timedelta(days=stale_days())

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


class ArticleStatusChange(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class ArticleVote(models.Model):
    """« Cet article vous a-t-il aidé ? »: one vote per article and visitor (`voter`: a hash of
    the session, or of the user when logged in)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["article", "voter"], name="knowledge_vote_once"),
        ]

    def __str__(self) -> str:
        return "oui" if self.helpful else "non"

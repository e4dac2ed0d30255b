"""Live chat: each account's chat settings, the chat sessions of visitors (a chat is an inbox
conversation of channel "chat": its messages live there; a session holds what only the live
chat needs), the bot's answers, and which agents are on the chat console."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount

DEFAULT_CONSENT = _(
    "J'accepte que mes nom, e-mail et messages soient conservés pour traiter ma demande.")


class ChatSettings(models.Model):
    """Whether an account's widget answers, and from which sites it may be embedded."""

    account = models.OneToOneField(ClientAccount, on_delete=models.CASCADE,
                                   related_name="chat_settings")
    enabled = models.BooleanField(_("chat activé"), default=False)
    # One origin a line (scheme://host[:port]); the widget works only on those sites.
    allowed_origins = models.TextField(_("sites autorisés"), blank=True, default="")
    welcome_text = models.CharField(_("message d'accueil"), max_length=300, blank=True,
                                    default="")
    consent_text = models.CharField(_("texte du consentement"), max_length=400, blank=True,
                                    default="")
    capacity_per_agent = models.PositiveSmallIntegerField(_("chats simultanés par secrétaire"),
                                                          default=3)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("réglages du chat")

    def __str__(self) -> str:
        return f"ChatSettings #{self.pk}"

    def origins(self) -> list[str]:
        return [o.strip().rstrip("/").lower() for o in self.allowed_origins.split()
                if o.strip()]


class ChatStatus(models.TextChoices):
    BOT = "bot", _("Avec l'assistant")
    WAITING = "attente", _("En attente d'un conseiller")
    ACTIVE = "en_cours", _("En cours")
    OFFLINE = "hors_ligne", _("Message hors ligne")
    ENDED = "terminee", _("Terminée")


LIVE_STATUSES = (ChatStatus.BOT, ChatStatus.WAITING, ChatStatus.ACTIVE)

CHAT_TRANSITIONS: dict[str, set[str]] = {
    ChatStatus.BOT: {ChatStatus.WAITING, ChatStatus.OFFLINE, ChatStatus.ENDED},
    ChatStatus.WAITING: {ChatStatus.ACTIVE, ChatStatus.OFFLINE, ChatStatus.ENDED},
    # Transfer to the queue puts an active chat back to waiting.
    ChatStatus.ACTIVE: {ChatStatus.WAITING, ChatStatus.ENDED},
    ChatStatus.OFFLINE: {ChatStatus.ENDED},
    ChatStatus.ENDED: set(),
}


class ChatSession(models.Model):
    """One visitor's chat. The visitor holds `token` (in the host page's storage, no cookie);
    only its SHA-256 is stored."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="chat_sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    # Set by the first message: the inbox conversation that carries the transcript.
    conversation = models.OneToOneField("inbox.Conversation", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="chat")
    status = models.CharField(max_length=12, choices=ChatStatus.choices,
                              default=ChatStatus.BOT)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="chats")
    visitor_name = models.CharField(max_length=200)
    visitor_email = models.EmailField()
    consent_text = models.CharField(max_length=400)
    # core.consent.text_version of consent_text: which wording the visitor agreed to.
    consent_version = models.CharField(max_length=12, blank=True, default="")
    consent_at = models.DateTimeField()
    origin = models.CharField(max_length=200)
    page_url = models.CharField(max_length=500, blank=True, default="")
    page_title = models.CharField(max_length=200, blank=True, default="")
    unhelpful = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    waiting_since = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "account", "waiting_since"]),
                   models.Index(fields=["agent", "status"])]

    def __str__(self) -> str:
        return f"ChatSession #{self.pk}"

    @property
    def reference(self) -> str:  # named in transition errors
        return f"chat #{self.pk}"


class ChatStatusChange(models.Model):
    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE,
                                related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=ChatStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ChatStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"ChatStatusChange #{self.pk}"


class BotExchange(models.Model):
    """A visitor's question and the bot's answer; `helped` once the visitor says (None: not
    said). The deflection rate and the unanswered questions are read from here."""

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE,
                                related_name="bot_exchanges")
    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="+")
    question = models.TextField()
    question_message_id = models.BigIntegerField()
    answer_message_id = models.BigIntegerField(null=True, blank=True)
    article_id = models.BigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=300, blank=True, default="")
    confidence = models.FloatField(default=0.0)
    handover = models.BooleanField(default=False)
    helped = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"BotExchange #{self.pk}"


class AgentSeat(models.Model):
    """A secretary on the chat console: online while their console's socket beats
    (`seen_at` refreshed), across every web process."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="chat_seat")
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"AgentSeat #{self.pk}"

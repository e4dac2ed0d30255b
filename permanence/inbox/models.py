"""Conversations (dossiers), their messages, contacts, SLA policies and the inbox's settings."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from permanence.accounts.models import ClientAccount
from permanence.calendars.clocks import DEFAULT_CLOCK, DeadlineClock
from permanence.core.fields import SealableTextField


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBFORM = "formulaire", _("Formulaire de contact")
    PORTAL = "espace_client", _("Espace client")
    PHONE = "telephone", _("Téléphone")
    API = "api", _("API")
    CHAT = "chat", _("Chat")
    SMS = "sms", _("SMS")
    # Registered by hand (manual mode, inbox.manual): a letter, or any other way in.
    POST = "courrier", _("Courrier")
    OTHER = "autre", _("Autre")


class Status(models.TextChoices):
    NEW = "nouveau", _("Nouveau")
    OPEN = "ouvert", _("Ouvert")
    PENDING_CUSTOMER = "attente_client", _("En attente client")
    PENDING_INTERNAL = "attente_interne", _("En attente interne")
    RESOLVED = "resolu", _("Résolu")
    CLOSED = "clos", _("Clos")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL)

# First-contact resolution: no new conversation from the same contact on the same motif within
# this many days (Conversation.followed_up, kept by inbox.services).
FOLLOW_UP_DAYS = 7

# Allowed status changes; conversation_set_status refuses anything else.
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL,
                 Status.RESOLVED, Status.CLOSED},
    Status.OPEN: {Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL, Status.RESOLVED,
                  Status.CLOSED},
    Status.PENDING_CUSTOMER: {Status.OPEN, Status.PENDING_INTERNAL, Status.RESOLVED,
                              Status.CLOSED},
    Status.PENDING_INTERNAL: {Status.OPEN, Status.PENDING_CUSTOMER, Status.RESOLVED,
                              Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: {Status.OPEN},
}


class Priority(models.TextChoices):
    LOW = "basse", _("Basse")
    NORMAL = "normale", _("Normale")
    HIGH = "haute", _("Haute")
    URGENT = "urgente", _("Urgente")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


def priority_rank() -> models.Case:
    """The priority as a number (urgent highest): the priority sort and its index
    (conv_priority_visible) use this one expression, so that the index matches the query."""
    return models.Case(*[models.When(priority=str(p), then=models.Value(r))
                         for p, r in PRIORITY_RANK.items()],
                       output_field=models.IntegerField())


class Category(models.TextChoices):
    TECHNICAL = "technique", _("Technique")
    COMMERCIAL = "commerciale", _("Commerciale")
    ADMINISTRATIVE = "administrative", _("Administrative")


class Motif(models.TextChoices):
    ORDER = "commande", _("Commande")
    PAYMENT = "paiement", _("Paiement")
    INVOICING = "facturation", _("Facturation")
    CANCELLATION = "resiliation", _("Résiliation")
    SERVICE_QUALITY = "qualite_service", _("Qualité de service")
    PORTAL_ACCESS = "acces_espace_client", _("Accès espace client")
    ACTIVATION_DELAY = "delai_mise_en_service", _("Délai de mise en service")
    DELIVERY = "livraison", _("Livraison")
    RETURN = "retour", _("Retour")
    INFORMATION = "information", _("Information")
    QUOTE = "devis", _("Devis")
    OTHER = "autre", _("Autre")


class Kind(models.TextChoices):
    QUESTION = "question", _("Question")
    QUOTE_REQUEST = "demande_devis", _("Demande de devis")
    SUPPORT = "assistance", _("Assistance")
    COMPLAINT = "reclamation", _("Réclamation")
    PHONE_MESSAGE = "message_telephonique", _("Message téléphonique")


class Origin(models.TextChoices):
    """Who asked: one of the account's contacts (a patient, a buyer: the work done on the
    client's behalf, its "Activité" in the espace client), or the client business itself,
    asking the operator (its own requests, "Mes demandes")."""

    CONTACT = "contact", _("Contact du client")
    CLIENT = "client", _("Le client")


class Contact(models.Model):
    """A person who writes or calls a client account (caller, patient, buyer…)."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("nom"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    last_nps_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(fields=["account", "email"], condition=~models.Q(email=""),
                                    name="contact_unique_email_per_account"),
            models.UniqueConstraint(fields=["account", "phone"], condition=~models.Q(phone=""),
                                    name="contact_unique_phone_per_account"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"


class Team(models.Model):
    name = models.CharField(_("nom"), max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    class Meta:
        ordering = ["name"]
        verbose_name = _("équipe")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("nom"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def new_reply_token() -> str:
    return secrets.token_hex(8)


PREVIEW_LENGTH = 120
# The list's preview of a confidential message: its words stay out of every list and search.
CONFIDENTIAL_PREVIEW = "🔒"


def preview_of(text: str) -> str:
    """`text` on one line, cut to PREVIEW_LENGTH characters (an ellipsis when cut)."""
    line = " ".join((text or "").split())
    return line if len(line) <= PREVIEW_LENGTH else line[:PREVIEW_LENGTH - 1].rstrip() + "…"


class ReferenceCounter(models.Model):
    """Per-year counter behind D-2026-000123 references (row-locked when incremented)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"ReferenceCounter #{self.pk}"


class Conversation(models.Model):
    account = models.ForeignKey(ClientAccount, on_delete=models.PROTECT,
                                related_name="conversations")
    reference = models.CharField(_("référence"), max_length=20, unique=True)
    subject = models.CharField(_("objet"), max_length=250)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="conversations")
    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices,
                              default=Status.NEW)
    priority = models.CharField(_("priorité"), max_length=8, choices=Priority.choices,
                                default=Priority.NORMAL)
    category = models.CharField(_("catégorie"), max_length=16, choices=Category.choices,
                                blank=True)
    motif = models.CharField(_("motif"), max_length=24, choices=Motif.choices, blank=True)
    kind = models.CharField(_("nature"), max_length=24, choices=Kind.choices,
                            default=Kind.QUESTION)
    origin = models.CharField(_("origine"), max_length=8, choices=Origin.choices,
                              default=Origin.CONTACT)
    language = models.CharField(_("langue"), max_length=8, default="fr")
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_conversations")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="conversations")
    # The order this conversation is about (staff contacting a buyer, a complaint...).
    order = models.ForeignKey("shop.Order", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="conversations")
    reply_token = models.CharField(max_length=16, unique=True, default=new_reply_token)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged_from")
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_replied_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # SLA: due instants (in business time of the account's calendar), clock pauses while
    # waiting on the customer. `next_due_at` is the earliest pending target, for sorting.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(default=0)
    sla_warned_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # Kept by inbox.services.sla_compute for the reports: business seconds (the policy's clock,
    # time paused waiting on the customer taken out) from opening to the first response and
    # to the resolution, so medians over a million rows need no calendar arithmetic.
    first_response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_response_on_time = models.BooleanField(null=True, blank=True)
    resolution_on_time = models.BooleanField(null=True, blank=True)
    # For first-contact resolution and the reopen rate, kept as they happen (reports read
    # flags, never a subquery per row): the same contact came back on the same motif within
    # FOLLOW_UP_DAYS of this one (inbox.services._follow_ups); times reopened after resolution.
    followed_up = models.BooleanField(default=False)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    # Denormalised text for full-text search (subject, contact, messages).
    search_text = models.TextField(blank=True, default="")
    # The start of the last message, on one line, for the inbox list (set by the services that
    # add messages: the list never reads the messages).
    preview = models.CharField(_("aperçu"), max_length=PREVIEW_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["-last_message_at"]
        verbose_name = _("dossier")
        indexes = [
            models.Index(fields=["account", "status", "-last_message_at"]),
            models.Index(fields=["assignee", "status", "-last_message_at"]),
            models.Index(fields=["status", "next_due_at"]),
            models.Index(fields=["status", "-last_message_at"]),
            models.Index(fields=["account", "next_due_at"], name="conv_account_due"),
            # The espace client's two lists: the account's own requests, its activity.
            models.Index(fields=["account", "origin", "-last_message_at"],
                         name="conv_account_origin"),
            # The inbox lists at 200k+ conversations, in their two orders (due first, recent
            # first): a page's ids are read from the index alone, in order, the account and
            # status filters checked on its entries (see inbox.views.CappedPaginator).
            models.Index(fields=["next_due_at", "-last_message_at", "-id", "account", "status"],
                         condition=models.Q(merged_into__isnull=True),
                         name="conv_due_visible"),
            models.Index(fields=["-last_message_at", "-id", "account", "status"],
                         condition=models.Q(merged_into__isnull=True),
                         name="conv_recent_visible"),
            # The priority sort (inbox.selectors._SORTS["priority"]), see migration 0008.
            models.Index(priority_rank().desc(), models.F("next_due_at").asc(),
                         models.F("id").desc(), models.F("account"), models.F("status"),
                         condition=models.Q(merged_into__isnull=True),
                         name="conv_priority_visible"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class StatusChange(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"StatusChange #{self.pk}"


class Direction(models.TextChoices):
    IN = "in", _("Reçu")
    OUT = "out", _("Envoyé")
    NOTE = "note", _("Note interne")
    SYSTEM = "system", _("Événement")
    # The client business's instruction to the secretaries about one of its contacts'
    # conversations (inbox/instructions.py): never sent to the contact, never an incoming
    # message (no reopening, no deadline restarted).
    INSTRUCTION = "consigne", _("Consigne du client")


class Delivery(models.TextChoices):
    """Where an outgoing reply stands. Only SENT means it reached the contact."""

    NONE = "", _("—")
    PENDING = "pending", _("En file")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    # No channel could carry it (no address for the contact): nothing was sent.
    UNDELIVERABLE = "undeliverable", _("Non distribuable")


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="messages")
    subject = models.CharField(max_length=250, blank=True)
    # Sealed (encrypted) when the writer says so (a medical account's call message): then
    # neither the preview nor the search text holds it (services.Incoming.confidential).
    body_text = SealableTextField(blank=True)
    body_html = models.TextField(blank=True)
    # E-mail threading and de-duplication.
    message_id = models.CharField(max_length=250, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)
    sender = models.CharField(max_length=254, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    raw = models.FileField(upload_to="raw/%Y/%m/", blank=True)
    needs_review = models.BooleanField(default=False)
    auto_generated = models.BooleanField(default=False)
    delivery_status = models.CharField(max_length=16, choices=Delivery.choices, blank=True,
                                       default=Delivery.NONE)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    delivery_error = models.CharField(max_length=500, blank=True)
    event = models.CharField(max_length=40, blank=True)  # for system messages
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def delivered_at(self) -> datetime | None:
        """When a channel's receipt said the reply reached the contact (an SMS operator's
        "delivered", delivery.message_delivery_receipt_delivered); None: not known. Kept in
        `data` (ISO 8601) since only receipts of some channels carry it."""
        value = (self.data or {}).get("delivered_at")
        if not value:
            return None
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            return None


def attachment_path(instance: Attachment, filename: str) -> str:
    # Generated names only: the uploaded name is kept in `filename`, never on disk.
    return f"attachments/{instance.message.created_at:%Y/%m}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.filename


class Mention(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")

    def __str__(self) -> str:
        return f"Mention #{self.pk}"


class ReadMarker(models.Model):
    """When a staff user last opened a conversation (unread = newer message since).

    It also holds the last view not yet copied into the audit log (`view_at` and where it
    came from): opening a conversation costs one write, this row, and the scheduler's
    `inbox.views_audit` job appends the VIEW audit events (services.conversation_viewed)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="read_markers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    read_at = models.DateTimeField()
    view_at = models.DateTimeField(null=True, blank=True)
    view_ip = models.GenericIPAddressField(null=True, blank=True)
    # Defaults in the database too: processes still running the previous release during a
    # deploy insert markers without these columns.
    view_user_agent = models.CharField(max_length=300, blank=True, default="", db_default="")
    view_path = models.CharField(max_length=300, blank=True, default="", db_default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"],
                                               name="read_marker_unique")]
        indexes = [models.Index(fields=["view_at"], condition=models.Q(view_at__isnull=False),
                                name="read_marker_view_pending")]

    def __str__(self) -> str:
        return f"ReadMarker #{self.pk}"


class SlaPolicy(models.Model):
    """Response targets in business hours. account=None is the global default policy."""

    account = models.OneToOneField(ClientAccount, null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="sla_policy")
    name = models.CharField(_("nom"), max_length=100)
    # Warn the assignee and supervisors at this share of the time spent.
    warn_ratio = models.DecimalField(max_digits=3, decimal_places=2, default=0.75)
    # How its "heures ouvrées" count (calendars.clocks); the default policy's also governs
    # the operator's order and quote deadlines.
    clock = models.CharField(_("comptage des délais"), max_length=16,
                             choices=DeadlineClock.choices, default=DEFAULT_CLOCK)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("politique de délais")
        constraints = [models.UniqueConstraint(fields=["account"],
                                               condition=models.Q(account__isnull=True),
                                               name="single_global_sla_policy")]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """One row of a policy: for a priority (and optionally a kind), the targets in business
    hours. first_response_same_day means "before the end of the business day"."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=8, choices=Priority.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices, blank=True)
    first_response_hours = models.DecimalField(max_digits=6, decimal_places=2)
    first_response_same_day = models.BooleanField(default=False)
    next_response_hours = models.DecimalField(max_digits=6, decimal_places=2)
    resolution_hours = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "priority", "kind"],
                                               name="sla_target_unique")]

    def __str__(self) -> str:
        return f"SlaTarget #{self.pk}"


class SlaEvent(models.Model):
    class Kind(models.TextChoices):
        WARNING = "warning", _("Alerte 75 %")
        BREACH = "breach", _("Dépassement")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="sla_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=20)  # first_response / next_response / resolution
    due_at = models.DateTimeField()
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "kind", "target", "due_at"],
                                               name="sla_event_once")]

    def __str__(self) -> str:
        return f"SlaEvent #{self.pk}"


class CannedReply(models.Model):
    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="canned_replies")
    title = models.CharField(_("titre"), max_length=120)
    body = models.TextField(_("texte"), help_text=_(
        "Variables : {contact}, {reference}, {echeance} (la réponse promise au client), "
        "{compte}, {agent}. La signature est ajoutée automatiquement à chaque réponse."))

    class Meta:
        ordering = ["title"]
        verbose_name = _("réponse type")

    def __str__(self) -> str:
        return self.title


class RoutingRule(models.Model):
    """Ordered rule: when all set conditions match, apply the actions. First match wins."""

    class Mode(models.TextChoices):
        MANUAL = "manual", _("Manuel")
        ROUND_ROBIN = "round_robin", _("Tour de rôle")
        LEAST_LOADED = "least_loaded", _("Le moins chargé")

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("nom"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    # Conditions (blank = any)
    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    account_kind = models.CharField(max_length=16, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices, blank=True)
    motif = models.CharField(max_length=24, choices=Motif.choices, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=8, blank=True)
    keywords = models.CharField(_("mots-clés"), max_length=300, blank=True,
                                help_text=_("Séparés par des virgules ; un seul suffit."))
    # Actions
    set_team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    set_priority = models.CharField(max_length=8, choices=Priority.choices, blank=True)
    add_tags = models.CharField(max_length=200, blank=True)
    set_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    assignment_mode = models.CharField(max_length=16, choices=Mode.choices,
                                       default=Mode.MANUAL)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("règle de routage")

    def __str__(self) -> str:
        return self.name


class SurveyExclusion(models.Model):
    """Resolved conversations matching one of these rules get no satisfaction survey. A
    rule's set conditions must all match (blank: any); account blank: every account."""

    name = models.CharField(_("nom"), max_length=120)
    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("compte"))
    kind = models.CharField(_("nature"), max_length=24, choices=Kind.choices, blank=True)
    motif = models.CharField(_("motif"), max_length=24, choices=Motif.choices, blank=True)
    tag = models.CharField(_("étiquette"), max_length=50, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("exclusion de l'enquête de satisfaction")

    def __str__(self) -> str:
        return self.name


class AgentPresence(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="presence")
    available = models.BooleanField(default=True)
    capacity = models.PositiveSmallIntegerField(default=20)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"AgentPresence #{self.pk}"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    conversation = models.ForeignKey(Conversation, null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)  # assigned / mention / sla_warning / sla_breach
    text = models.CharField(max_length=300)
    # Where the notification leads when it is not about a conversation (an order, a quote).
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return f"Notification #{self.pk}"
from .models_complaints import Complaint, SurveyResponse  # noqa: E402,F401

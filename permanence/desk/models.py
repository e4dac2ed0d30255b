"""The télésecrétariat desk: consignes (instructions) per client account, calls and their
events, agent states, call backs (rappels) and the forwarding of messages to the client.

Consignes content (`ConsigneVersion.content`, validated by `desk.consignes.consigne_clean`)
is one JSON document, so that a version is a whole sheet and two versions can be diffed:

    {
      "greeting": "Cabinet du Dr Martin, bonjour…",   # may use {compte}, {horaires}, {secretaire}
      "about": {"address": "", "hours": "", "services": "", "prices": "", "access": "",
                "other": ""},                          # what may be said about the business
      "motifs": [{"code": "rdv", "label": "Prise de rendez-vous",
                  "handling": "message|transfer|appointment|info|urgent",
                  "transfer_to": "+33…", "info": "", "questions": ["Nom", "Date de naissance"],
                  "callback_minutes": 60}],
      "recipients": [{"key": "dr-martin", "name": "Dr Martin", "email": "", "phone": "+33…"}],
      "notify": [{"motif": "*" | "<code>", "urgency": "any|urgent|normal",
                  "when": "always|business|outside", "recipients": ["dr-martin"],
                  "channels": ["email", "sms"]}],
      "escalation": {"delay_minutes": 15, "recipients": ["…"], "channels": ["sms"]},
      "vip": [{"number": "+33…", "name": "", "note": ""}],
      "blocked": ["+33…"],
      "triage": [{"question": "Douleur thoracique ?", "emergency": "oui",
                  "guidance": "Appelez le 15 (SAMU) ou le 112"}],
      "absences": [{"start": "2026-12-20", "end": "2027-01-03", "who": "Dr Martin",
                    "replacement": "Dr Lefèvre, +33…"}],
      "notes": ""
    }
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from permanence.accounts.models import ClientAccount
from permanence.core.fields import SealableJSONField, SealableTextField
from permanence.core.models import StatusHistory


class Handling(models.TextChoices):
    MESSAGE = "message", _("Prendre un message")
    TRANSFER = "transfer", _("Transférer l'appel")
    APPOINTMENT = "appointment", _("Prendre rendez-vous")
    INFO = "info", _("Renseigner")
    URGENT = "urgent", _("Urgence : escalade immédiate")


class ConsigneVersion(models.Model):
    """One version of an account's consignes; the highest number is in force. Never updated:
    every change is a new row (who, when, what changed)."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="consigne_versions")
    number = models.PositiveIntegerField(_("version"))
    # Sealed (encrypted) when marked confidential or for a medical account (consigne_save).
    content = SealableJSONField(_("consignes"), default=dict)
    summary = models.CharField(_("modifications"), max_length=500, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    by_client = models.BooleanField(_("modifié par le client"), default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["account", "-number"]
        verbose_name = _("version des consignes")
        verbose_name_plural = _("versions des consignes")
        constraints = [models.UniqueConstraint(fields=["account", "number"],
                                               name="consigne_version_unique")]

    def __str__(self) -> str:
        # self.account: one query unless the caller loaded it (select_related), as lists do.
        return _("%(account)s — version %(number)s") % {"account": self.account.name,
                                                         "number": self.number}


class ConsigneRead(models.Model):
    """A secretary confirmed having read a version."""

    version = models.ForeignKey(ConsigneVersion, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "user"],
                                               name="consigne_read_unique")]

    def __str__(self) -> str:
        return f"ConsigneRead #{self.pk}"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Entrant")
    OUTBOUND = "outbound", _("Sortant")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Sonne")
    ANSWERED = "answered", _("En communication")
    ON_HOLD = "on_hold", _("En attente")
    WRAPUP = "wrapup", _("Post-appel")
    ENDED = "ended", pgettext_lazy("state of a telephone call", "Terminé")


# Calls in progress: what the desk home lists (desk.selectors.desk_calls) and the partial
# index `call_active` covers — the same tuple, so that PostgreSQL sees the query's condition
# implies the index's.
ACTIVE_CALL_STATES = (CallState.RINGING, CallState.ANSWERED, CallState.ON_HOLD,
                      CallState.WRAPUP)


# Events can arrive late or twice: the processing (desk.calls) moves only forward along this
# table and ignores a move the table does not allow (the call already went past it).
CALL_TRANSITIONS: dict[str, set[str]] = {
    CallState.RINGING: {CallState.ANSWERED, CallState.ENDED},
    CallState.ANSWERED: {CallState.ON_HOLD, CallState.WRAPUP, CallState.ENDED},
    CallState.ON_HOLD: {CallState.ANSWERED, CallState.WRAPUP, CallState.ENDED},
    CallState.WRAPUP: {CallState.ENDED},
    CallState.ENDED: set(),
}


class CallOutcome(models.TextChoices):
    ANSWERED = "answered", _("Décroché")
    ABANDONED = "abandoned", _("Abandonné")
    MISSED = "missed", _("Manqué")
    VOICEMAIL = "voicemail", _("Messagerie")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class Call(models.Model):
    call_id = models.CharField(_("identifiant d'appel"), max_length=120, unique=True)
    parent_call_id = models.CharField(max_length=120, blank=True)
    # Null while the dialled number is unknown (flagged to supervisors, never dropped).
    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="calls")
    direction = models.CharField(_("sens"), max_length=8, choices=CallDirection.choices,
                                 default=CallDirection.INBOUND)
    from_number = models.CharField(_("appelant"), max_length=32, blank=True)  # E.164/anonymous
    caller_name = models.CharField(_("nom de l'appelant"), max_length=120, blank=True)
    to_number = models.CharField(_("numéro appelé"), max_length=32, blank=True)
    forwarded_from = models.CharField(max_length=32, blank=True)
    queue = models.CharField(_("file"), max_length=80, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="calls")
    state = models.CharField(_("état"), max_length=10, choices=CallState.choices,
                             default=CallState.RINGING)
    outcome = models.CharField(_("issue"), max_length=10, choices=CallOutcome.choices,
                               blank=True)
    cause = models.CharField(max_length=20, blank=True)  # completed, busy, no_answer…
    cause_raw = models.CharField(max_length=80, blank=True)
    unknown_number = models.BooleanField(_("numéro appelé inconnu"), default=False)
    manual = models.BooleanField(_("saisi à la main"), default=False)
    offered_at = models.DateTimeField(_("présenté à"))
    answered_at = models.DateTimeField(_("décroché à"), null=True, blank=True)
    hold_started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(_("raccroché à"), null=True, blank=True)
    wrapup_ended_at = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("attente (s)"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("conversation (s)"), null=True, blank=True)
    hold_seconds = models.PositiveIntegerField(_("mise en attente (s)"), default=0)
    wrapup_seconds = models.PositiveIntegerField(_("post-appel (s)"), null=True, blank=True)
    # The provider's recording; listened to through Permanence only (never linked directly).
    recording_url = models.URLField(max_length=500, blank=True)
    recording_consent = models.BooleanField(_("consentement à l'enregistrement"), default=False)
    # What the secretary recorded (the call form): the consignes in force, the motif, answers
    # to its mandatory questions and triage, the message, the urgency.
    consigne_version = models.ForeignKey(ConsigneVersion, null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="calls")
    motif = models.CharField(_("motif"), max_length=40, blank=True)
    # Sealed (encrypted) for medical accounts (desk.record): not found by the call search.
    answers = SealableJSONField(default=dict, blank=True)
    message = SealableTextField(_("message"), blank=True)
    urgency = models.CharField(_("urgence"), max_length=8, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    # The call on the account's timeline: an inbox conversation of channel "téléphone".
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="calls")
    last_event_at = models.DateTimeField(null=True, blank=True)
    # The client marked the message as dealt with (espace client « Appels et messages »).
    handled_at = models.DateTimeField(_("traité le"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-offered_at", "-id"]
        verbose_name = _("appel")
        indexes = [
            models.Index(fields=["account", "-offered_at", "-id"], name="call_account_recent"),
            models.Index(fields=["agent", "-offered_at"], name="call_agent_recent"),
            models.Index(fields=["-offered_at", "-id"], name="call_recent"),
            models.Index(fields=["from_number", "-offered_at"], name="call_caller"),
            # The reports' aggregate over a period (desk.figures.call_figures): on PostgreSQL
            # an index-only scan of the period's entries instead of reading every call's row.
            models.Index(fields=["offered_at"], name="call_figures",
                         include=["account", "direction", "answered_at", "outcome",
                                  "wait_seconds", "ended_at", "talk_seconds", "hold_seconds",
                                  "wrapup_seconds", "agent"]),
            # The calls in progress are a handful among millions: without this index the
            # desk home's « en cours » list walked `call_recent` through every ended call
            # when fewer than a page of calls were in progress (0.8 s at 5,000,000 calls).
            models.Index(fields=["-offered_at", "-id"], name="call_active",
                         condition=models.Q(state__in=ACTIVE_CALL_STATES)),
        ]

    def __str__(self) -> str:
        return self.call_id


class CallStateChange(StatusHistory):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)


class CallEvent(models.Model):
    """A telephony event exactly as received (stored before it is acknowledged), then
    processed; `event_id` makes a duplicate delivery a no-op."""

    source = models.CharField(max_length=16, default="generic")  # generic, twilio, asterisk
    event_id = models.CharField(max_length=160, unique=True)
    call_id = models.CharField(max_length=120, db_index=True)
    event = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["processed_at", "received_at"],
                                name="callevent_pending")]

    def __str__(self) -> str:
        return self.event_id


class AgentStatus(models.TextChoices):
    AVAILABLE = "disponible", _("Disponible")
    ON_CALL = "en_appel", _("En appel")
    WRAPUP = "post_appel", _("Post-appel")
    BREAK = "en_pause", pgettext_lazy("state of a secretary (agent)", "En pause")
    AWAY = "absent", pgettext_lazy("state of a secretary (agent)", "Absent")


class AgentState(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="desk_state")
    status = models.CharField(max_length=12, choices=AgentStatus.choices,
                              default=AgentStatus.AWAY)
    since = models.DateTimeField()
    # Start of the current stretch of calls without a break (seed 001: 10 minutes of break
    # per 2 hours of calls); null when not on the phone.
    stretch_started_at = models.DateTimeField(null=True, blank=True)
    break_proposed_at = models.DateTimeField(null=True, blank=True)
    current_call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    def __str__(self) -> str:
        return f"AgentState #{self.pk}"


class AgentStateChange(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    at = models.DateTimeField()
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["user", "at"], name="agentstate_user_at")]

    def __str__(self) -> str:
        return f"AgentStateChange #{self.pk}"


class CallbackStatus(models.TextChoices):
    TODO = "a_faire", _("À rappeler")
    DONE = "fait", _("Rappelé")
    CANCELLED = "annule", _("Annulé")


class CallbackReason(models.TextChoices):
    MISSED = "missed", _("Appel manqué")
    ABANDONED = "abandoned", _("Appel abandonné")
    VOICEMAIL = "voicemail", _("Message vocal")
    REQUESTED = "requested", _("Rappel demandé")


class Callback(models.Model):
    """A call back owed to a caller (rappel), tracked until done; one per call."""

    account = models.ForeignKey(ClientAccount, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="callbacks")
    call = models.OneToOneField(Call, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="callback")
    number = models.CharField(_("numéro"), max_length=32)
    name = models.CharField(_("nom"), max_length=120, blank=True)
    reason = models.CharField(_("motif"), max_length=10, choices=CallbackReason.choices)
    status = models.CharField(_("statut"), max_length=8, choices=CallbackStatus.choices,
                              default=CallbackStatus.TODO)
    due_at = models.DateTimeField(_("à rappeler avant"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="desk_callbacks")
    attempts = models.PositiveSmallIntegerField(default=0)
    note = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("rappel")
        indexes = [models.Index(fields=["status", "due_at"], name="callback_due"),
                   models.Index(fields=["account", "status", "due_at"],
                                name="callback_account_due")]

    def __str__(self) -> str:
        return f"Callback #{self.pk}"


class ForwardChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class ForwardStatus(models.TextChoices):
    QUEUED = "queued", _("En file")
    SENT = "sent", _("Envoyé")
    DELIVERED = "delivered", _("Délivré")
    FAILED = "failed", _("Échec")
    READ = "read", _("Lu")


def new_forward_token() -> str:
    return secrets.token_urlsafe(24)


class Forward(models.Model):
    """One message taken, sent to one recipient on one channel ("Transmettre"), tracked until
    read: the proof shown to staff and the client. Escalation adds rows with a higher level."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="forwards")
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="forwards")
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="forwards")
    recipient_key = models.CharField(max_length=60, blank=True)
    recipient_name = models.CharField(_("destinataire"), max_length=120)
    channel = models.CharField(_("canal"), max_length=6, choices=ForwardChannel.choices)
    address = models.CharField(_("adresse"), max_length=254)
    status = models.CharField(_("statut"), max_length=10, choices=ForwardStatus.choices,
                              default=ForwardStatus.QUEUED)
    reason = models.CharField(_("raison"), max_length=300, blank=True)
    urgent = models.BooleanField(default=False)
    level = models.PositiveSmallIntegerField(default=0)  # 0 first send, 1+ escalations
    token = models.CharField(max_length=40, unique=True, default=new_forward_token)
    sms_id = models.BigIntegerField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # An urgent message not read by then escalates (desk job); cleared once read/escalated.
    escalate_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["escalate_at"], name="forward_escalate",
                                condition=models.Q(escalate_at__isnull=False)),
                   models.Index(fields=["account", "-created_at"], name="forward_account")]

    def __str__(self) -> str:
        return f"Forward #{self.pk}"


class SetupItemCode(models.TextChoices):
    """Seed 003's set-up of a new client: kick-off, consignes, paramétrage, formation, test,
    lancement — in that order."""

    KICKOFF = "kickoff", _("Appel de lancement planifié")
    CONSIGNES = "consignes", _("Consignes remplies par le client")
    FORWARDING = "forwarding", _("Renvoi d'appels en place (un appel reçu sur le numéro)")
    AGENTS = "agents", _("Télésecrétaires affectés et consignes lues")
    TEST_CALLS = "test_calls", _("Appels tests réalisés et validés par le client")
    GO_LIVE = "go_live", _("Date de mise en service fixée")


class Setup(models.Model):
    """The set-up checklist of a new client account, opened when its order is activated.
    The account goes live when every item is done, or when a supervisor overrides (with a
    reason)."""

    account = models.OneToOneField(ClientAccount, on_delete=models.CASCADE,
                                   related_name="desk_setup")
    order_reference = models.CharField(max_length=30, blank=True)
    opened_at = models.DateTimeField()
    go_live_on = models.DateField(_("mise en service prévue le"), null=True, blank=True)
    live_at = models.DateTimeField(_("en service depuis"), null=True, blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    override_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("mise en place")

    def __str__(self) -> str:
        return f"Setup #{self.pk}"


class SetupItem(models.Model):
    setup = models.ForeignKey(Setup, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(max_length=12, choices=SetupItemCode.choices)
    position = models.PositiveSmallIntegerField(default=0)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(_("échéance"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    # What proves it (the kick-off date, the test call's id, the approval…), shown as is.
    evidence = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["setup", "code"],
                                               name="setup_item_unique")]

    def __str__(self) -> str:
        return f"SetupItem #{self.pk}"
from .models_campaigns import (  # noqa: E402,F401  (the campaigns live in their own module)
    Campaign,
    CampaignAttempt,
    CampaignStatusChange,
    CampaignTarget,
)
from .models_digest import DigestSubscription  # noqa: E402,F401  (its own module too)

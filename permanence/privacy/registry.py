"""The registry of personal data (RGPD art. 30): every model holding data about a person, which
fields, what category, on what legal basis and how long it is kept. Written in code so that a
test fails when a model gains a personal-looking field without being listed here
(privacy/tests/test_registry.py), and so that the retention job, the access and erasure
exports and the registry page all read the same list.

Retention rules are named (RETENTION); their durations are CNIL defaults that administrators
may change (the retention schedules)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from permanence.core.fields import SealableJSONField, SealableTextField

# Who the data is about.
CONTACT = "contact"      # the clients' customers and patients who write or call
CLIENT = "client"        # the client accounts' users and their billing contacts
PROSPECT = "prospect"    # visitors, quote requesters, buyers before they are clients
STAFF = "staff"          # the operator's secretaries, supervisors, billing staff

SUBJECTS = {CONTACT: _("Contacts des clients (patients, clients finaux)"),
            CLIENT: _("Clients (utilisateurs et contacts de facturation)"),
            PROSPECT: _("Prospects et visiteurs"), STAFF: _("Personnel de l'opérateur")}

# Categories (the sensitive ones are said so: a medical practice's messages may reveal health).
IDENTITY = "identite"
CONTACT_DETAILS = "coordonnees"
CONTENT = "contenu"
HEALTH = "sante"
VOICE = "voix"
CONNECTION = "connexion"
FINANCIAL = "financier"

CATEGORIES = {IDENTITY: _("Identité"), CONTACT_DETAILS: _("Coordonnées"),
              CONTENT: _("Contenu des échanges"),
              HEALTH: _("Contenu pouvant révéler des données de santé (comptes médicaux)"),
              VOICE: _("Enregistrement de la voix"), CONNECTION: _("Données de connexion"),
              FINANCIAL: _("Données de facturation et de paiement")}

# Legal bases (art. 6).
CONTRACT = "contrat"
LEGAL_OBLIGATION = "obligation_legale"
LEGITIMATE_INTEREST = "interet_legitime"
CONSENT = "consentement"

BASES = {CONTRACT: _("Exécution du contrat"), LEGAL_OBLIGATION: _("Obligation légale"),
         LEGITIMATE_INTEREST: _("Intérêt légitime"), CONSENT: _("Consentement")}


@dataclass(frozen=True)
class Rule:
    label: object
    days: int | None  # None: kept while the relationship lasts, never purged by age
    start: object     # what the duration counts from


RETENTION: dict[str, Rule] = {
    "prospects": Rule(_("Prospects"), 3 * 365, _("le dernier contact")),
    "ended_accounts": Rule(_("Contacts et échanges des comptes terminés"), 3 * 365,
                           _("la fin du contrat du compte")),
    "recordings": Rule(_("Enregistrements d'appels"), 183, _("l'appel")),
    "chat_transcripts": Rule(_("Conversations de chat"), 365, _("la fin du chat")),
    "audit_log": Rule(_("Journal d'audit et traces de consultation"), 365, _("l'événement")),
    "technical": Rule(_("Journaux techniques (événements des fournisseurs, webhooks)"), 183,
                      _("leur réception")),
    "invoices": Rule(_("Factures et pièces comptables"), 10 * 365,
                     _("la clôture de l'exercice")),
    "staff": Rule(_("Comptes du personnel"), None, _("la fin du contrat de travail")),
    "clients": Rule(_("Comptes clients"), None, _("la fin du contrat")),
}


@dataclass(frozen=True)
class Entry:
    model: str               # "app_label.ModelName"
    fields: tuple[str, ...]  # the personal fields
    subject: str
    category: str
    basis: str
    retention: str
    purpose: object


def _e(model: str, fields: str, subject: str, category: str, basis: str, retention: str,  # noqa: PLR0917 (rows of a table)
       purpose: object) -> Entry:
    return Entry(model, tuple(fields.split()), subject, category, basis, retention, purpose)


RECEPTION = _("Traiter les demandes reçues pour le compte des clients")
CALLS = _("Répondre aux appels et transmettre les messages")
BILLING = _("Facturer et encaisser")
SALES = _("Vendre les offres et répondre aux demandes de devis")
SECURITY = _("Sécurité, preuve et traçabilité des accès")
BOOKING = _("Prendre et rappeler les rendez-vous")
QUALITY = _("Mesurer la qualité du service")

REGISTRY: tuple[Entry, ...] = (
    # Identity and access
    _e("accounts.User", "email full_name phone totp_secret_encrypted", STAFF, IDENTITY,
       CONTRACT, "staff",
       _("Comptes de connexion du personnel et des clients")),
    # A sole practitioner's account is named after him: his name and numbers identify him.
    _e("accounts.ClientAccount", "name legal_name vat_number billing_address billing_email "
       "notes", CLIENT, CONTACT_DETAILS, CONTRACT, "clients", BILLING),
    _e("accounts.ApiToken", "name", STAFF, CONNECTION, CONTRACT, "staff", SECURITY),
    _e("audit.AuditEvent", "ip user_agent", STAFF, CONNECTION, LEGITIMATE_INTEREST,
       "audit_log", SECURITY),
    # The inbox
    _e("inbox.Contact", "name email phone", CONTACT, CONTACT_DETAILS, CONTRACT,
       "ended_accounts", RECEPTION),
    _e("inbox.Conversation", "subject search_text", CONTACT, HEALTH, CONTRACT,
       "ended_accounts", RECEPTION),
    _e("inbox.Message", "subject body_text body_html sender recipients raw data", CONTACT,
       HEALTH, CONTRACT, "ended_accounts", RECEPTION),
    _e("inbox.Attachment", "filename file", CONTACT, HEALTH, CONTRACT, "ended_accounts",
       RECEPTION),
    _e("inbox.ReadMarker", "view_ip view_user_agent", STAFF, CONNECTION, LEGITIMATE_INTEREST,
       "audit_log", SECURITY),
    _e("inbox.Complaint", "facts resolution_details closing_comment", CONTACT, CONTENT,
       CONTRACT, "ended_accounts", RECEPTION),
    _e("inbox.SurveyResponse", "comment", CONTACT, CONTENT, LEGITIMATE_INTEREST,
       "ended_accounts", QUALITY),
    _e("inbox.Notification", "text", STAFF, CONTENT, CONTRACT, "audit_log", RECEPTION),
    _e("channels_email.AutoReplyLog", "address", CONTACT, CONTACT_DETAILS,
       LEGITIMATE_INTEREST, "technical", _("Éviter les boucles de réponses automatiques")),
    # The desk
    _e("desk.Call", "from_number caller_name to_number recording_url answers message",
       CONTACT, HEALTH, CONTRACT, "ended_accounts", CALLS),
    _e("desk.CallEvent", "payload", CONTACT, CONTACT_DETAILS, CONTRACT, "technical", CALLS),
    _e("desk.CallStateChange", "note", CONTACT, CONTENT, CONTRACT, "ended_accounts", CALLS),
    _e("desk.Callback", "number name reason note", CONTACT, CONTACT_DETAILS, CONTRACT,
       "ended_accounts", CALLS),
    _e("desk.Forward", "recipient_name address reason", CLIENT, CONTACT_DETAILS, CONTRACT,
       "ended_accounts", CALLS),
    _e("desk.CampaignTarget", "name phone email notes", PROSPECT, CONTACT_DETAILS,
       LEGITIMATE_INTEREST, "prospects", _("Campagnes d'appels sortants des clients")),
    _e("desk.CampaignAttempt", "note", PROSPECT, CONTENT, LEGITIMATE_INTEREST, "prospects",
       _("Campagnes d'appels sortants des clients")),
    # The agenda
    _e("agenda.Appointment", "contact_name contact_phone contact_email answers notes "
       "consent_text", CONTACT, HEALTH, CONTRACT, "ended_accounts", BOOKING),
    _e("agenda.AppointmentStatusChange", "note", CONTACT, CONTENT, CONTRACT,
       "ended_accounts", BOOKING),
    _e("agenda.Resource", "name caldav_username caldav_password_encrypted", CLIENT,
       CONNECTION, CONTRACT, "clients", BOOKING),
    # Chat and SMS
    _e("livechat.ChatSession", "visitor_name visitor_email page_url page_title consent_text",
       PROSPECT, CONTACT_DETAILS, CONSENT, "chat_transcripts", RECEPTION),
    _e("livechat.BotExchange", "question", PROSPECT, CONTENT, CONSENT, "chat_transcripts",
       RECEPTION),
    _e("livechat.ChatStatusChange", "note", PROSPECT, CONTENT, CONSENT, "chat_transcripts",
       RECEPTION),
    _e("channels_sms.Sms", "from_number to_number body", CONTACT, CONTENT, CONTRACT,
       "ended_accounts", CALLS),
    _e("channels_sms.OptOut", "number", CONTACT, CONTACT_DETAILS, LEGAL_OBLIGATION,
       "clients", _("Respecter les refus de SMS (STOP)")),
    _e("channels_sms.SmsEvent", "payload", CONTACT, CONTACT_DETAILS, CONTRACT, "technical",
       CALLS),
    _e("integrations.WebhookDelivery", "payload", CONTACT, CONTENT, CONTRACT, "technical",
       _("Transmettre les événements aux outils des clients")),
    # Shop, billing, payments
    _e("shop.Quote", "requester_name requester_email requester_phone message needs", PROSPECT,
       CONTACT_DETAILS, LEGITIMATE_INTEREST, "prospects", SALES),
    _e("shop.QuoteStatusChange", "note", PROSPECT, CONTENT, LEGITIMATE_INTEREST,
       "prospects", SALES),
    _e("shop.Order", "billing_name billing_legal_name billing_vat_number billing_address "
       "billing_email billing_phone internal_notes", CLIENT, FINANCIAL, CONTRACT, "invoices",
       SALES),
    # What the buyer accepted (CGV, privacy notice): the proof, kept with the invoices.
    _e("shop.OrderConsent", "purpose version text", CLIENT, CONTENT, CONTRACT, "invoices",
       SALES),
    _e("shop.OrderStatusChange", "note", CLIENT, CONTENT, CONTRACT, "invoices", SALES),
    _e("shop.OrderEvent", "note", CLIENT, CONTENT, CONTRACT, "invoices", SALES),
    _e("billing.SubscriptionStatusChange", "note", CLIENT, FINANCIAL, CONTRACT, "invoices",
       BILLING),
    _e("billing.InvoiceStatusChange", "note", CLIENT, FINANCIAL, LEGAL_OBLIGATION,
       "invoices", BILLING),
    _e("billing.PaymentSchedule", "note", CLIENT, FINANCIAL, CONTRACT, "invoices", BILLING),
    _e("billing.Instalment", "note", CLIENT, FINANCIAL, CONTRACT, "invoices", BILLING),
    _e("recovery.IncidentEvent", "note", CLIENT, FINANCIAL, CONTRACT, "invoices", BILLING),
    _e("payments.PaymentStatusChange", "note", CLIENT, FINANCIAL, CONTRACT, "invoices",
       BILLING),
    _e("billing.Invoice", "buyer", CLIENT, FINANCIAL, LEGAL_OBLIGATION, "invoices", BILLING),
    _e("payments.Payment", "failure_message", CLIENT, FINANCIAL, CONTRACT, "invoices",
       BILLING),
    _e("payments.ProviderEvent", "payload", CLIENT, FINANCIAL, CONTRACT, "technical",
       BILLING),
    # The team: planning, quality reviews (about a secretary's work), the anonymous pulse
    _e("planning.Shift", "note", STAFF, CONTENT, CONTRACT, "staff",
       _("Planifier les équipes")),
    _e("planning.PulseResponse", "comment", STAFF, CONTENT, CONSENT, "staff",
       _("Mesurer la satisfaction des collaborateurs (anonyme)")),
    _e("quality.Review", "coaching agent_reply", STAFF, CONTENT, LEGITIMATE_INTEREST,
       "staff", _("Évaluer et accompagner les secrétaires")),
    _e("quality.Score", "comment", STAFF, CONTENT, LEGITIMATE_INTEREST, "staff",
       _("Évaluer et accompagner les secrétaires")),
    # Knowledge and feedback
    _e("knowledge.ArticleVote", "comment", PROSPECT, CONTENT, LEGITIMATE_INTEREST,
       "prospects", QUALITY),
    _e("feedback.Feedback", "comment notes", PROSPECT, CONTENT, LEGITIMATE_INTEREST,
       "prospects", QUALITY),
    # Data subjects' requests: the proof that a right was exercised and answered
    _e("privacy.SubjectRequest", "requester_description requester_email note refusal_reason",
       CONTACT, CONTENT, LEGAL_OBLIGATION, "audit_log",
       _("Répondre aux demandes d'exercice des droits (RGPD art. 12 à 21)")),
    _e("privacy.SubjectRequestStatusChange", "note", CONTACT, CONTENT, LEGAL_OBLIGATION,
       "audit_log", _("Répondre aux demandes d'exercice des droits (RGPD art. 12 à 21)")),
)

BY_MODEL: dict[str, Entry] = {entry.model: entry for entry in REGISTRY}

# Fields whose names look personal but are not about a person, with the reason.
_SETTING = _("un réglage ou un libellé choisi par l'opérateur, pas une personne")
_PUBLIC = _("un contenu publié par l'opérateur (offres, pages, aide), pas une personne")
_OPERATOR = _("l'identité de l'opérateur, une personne morale publiée sur ses factures")
_TECHNICAL = _("un identifiant ou un code technique, sans donnée sur une personne")
_WORKFLOW = _("la trace d'une étape interne, sans donnée sur une personne")
NOT_PERSONAL: dict[str, object] = {
    "accounts.OperatorIdentity.address": _OPERATOR,
    "accounts.OperatorIdentity.iban": _OPERATOR,
    "accounts.OperatorIdentity.legal_name": _OPERATOR,
    "accounts.OperatorIdentity.support_email": _OPERATOR,
    "accounts.OperatorIdentity.support_phone": _OPERATOR,
    "accounts.OperatorIdentity.vat_number": _OPERATOR,
    "agenda.AppointmentType.name": _SETTING,
    "agenda.AvailabilityException.note": _SETTING,
    "calendars.Announcement.message": _PUBLIC,
    "calendars.BusinessCalendar.name": _SETTING,
    "calendars.Closure.message": _PUBLIC,
    "catalog.Offer.name": _PUBLIC,
    "catalog.Offer.name_en": _PUBLIC,
    "catalog.PublicPage.body": _PUBLIC,
    "catalog.PublicPage.body_en": _PUBLIC,
    "catalog.TermsVersion.body": _PUBLIC,
    "catalog.TermsVersion.body_en": _PUBLIC,
    "core.WorkerHeartbeat.name": _TECHNICAL,
    "desk.Call.cause_raw": _TECHNICAL,
    "desk.Campaign.name": _SETTING,
    "desk.CampaignStatusChange.note": _WORKFLOW,
    "desk.Forward.recipient_key": _TECHNICAL,
    "billing.Invoice.number": _TECHNICAL,
    "channels_sms.Sms.provider_message_id": _TECHNICAL,
    "einvoicing.TransmissionStatusChange.note": _WORKFLOW,
    "feedback.FeedbackStatusChange.note": _WORKFLOW,
    "inbox.CannedReply.body": _SETTING,
    "quality.Grid.name": _SETTING,
    "status.Incident.internal_notes": _WORKFLOW,
    "inbox.Message.message_id": _TECHNICAL,
    "inbox.RoutingRule.name": _SETTING,
    "inbox.SlaPolicy.name": _SETTING,
    "inbox.SurveyExclusion.name": _SETTING,
    "inbox.Tag.name": _SETTING,
    "inbox.Team.name": _SETTING,
    "knowledge.Article.body": _PUBLIC,
    "knowledge.Article.body_text": _PUBLIC,
    "knowledge.ArticleStatusChange.note": _WORKFLOW,
    "knowledge.Category.name": _PUBLIC,
    "payments.Payment.invoice_number": _TECHNICAL,
    "payments.ProviderCall.invoice_number": _TECHNICAL,
}


def sealable_fields(entry: Entry) -> list[str]:
    """The entry's fields that may be stored encrypted (core.fields), as the registry shows."""
    model = apps.get_model(entry.model)
    return [name for name in entry.fields
            if isinstance(model._meta.get_field(name), SealableTextField | SealableJSONField)]

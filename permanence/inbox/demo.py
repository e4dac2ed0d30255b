"""Demo inbox content for `seed_demo` (idempotent: only seeds an empty inbox)."""

from __future__ import annotations

from typing import Any

from permanence.accounts.models import ClientAccount, User

from .models import CannedReply, Channel, Conversation, Origin, RoutingRule
from .services import Incoming, conversation_open, conversation_reply, phone_message_record

# No sign-off in the texts: every reply gets the one signature (inbox.signature) when it is
# written. {echeance} is the answer promised to the customer (inbox.promise).
CANNED = [
    (None, "Demande traitée",
     "Bonjour {contact},\n\nVotre demande {reference} est traitée. Si quelque chose reste "
     "à régler, répondez simplement à ce message : il rejoindra votre dossier.\n\n"
     "Bien cordialement,"),
    (None, "Demande d'informations complémentaires",
     "Bonjour {contact},\n\nPour traiter votre demande {reference}, pourriez-vous nous préciser "
     "votre numéro de commande ou de dossier ?\n\nBien cordialement,"),
    ("cabinet-martin", "Rendez-vous confirmé",
     "Bonjour {contact},\n\nVotre rendez-vous au cabinet du Dr Martin est confirmé. Merci de "
     "prévenir 24 h à l'avance en cas d'empêchement.\n\nBien cordialement,"),
]
# Seeded once, then retired: it repeated the automatic acknowledgement.
RETIRED_CANNED = ["Accusé de prise en charge"]

MESSAGES: list[dict[str, Any]] = [
    {"slug": "cabinet-martin", "channel": "email", "subject": "Demande de rendez-vous",
     "name": "Jean Dupont", "email": "jean.dupont@exemple.fr",
     "body": "Bonjour, je souhaiterais un rendez-vous avec le Dr Martin la semaine prochaine, "
             "de préférence le mardi matin. Merci."},
    {"slug": "cabinet-martin", "channel": "formulaire", "subject": "Renouvellement d'ordonnance",
     "name": "Marie Lefèbre", "email": "marie.lefebre@exemple.fr", "kind": "assistance",
     "body": "Mon traitement se termine vendredi, est-il possible de renouveler l'ordonnance ?"},
    {"slug": "durand-avocats", "channel": "email", "subject": "Devis pour un divorce amiable",
     "name": "Paul Bernard", "email": "paul.bernard@exemple.fr", "kind": "demande_devis",
     "motif": "devis", "category": "commerciale",
     "body": "Bonjour Maître, pourriez-vous m'indiquer vos honoraires pour un divorce par "
             "consentement mutuel ?"},
    {"slug": "bati-renov", "channel": "formulaire", "subject": "Fuite sous l'évier",
     "name": "Sophie Klein", "email": "sophie.klein@exemple.fr", "priority": "urgente",
     "body": "Fuite importante sous l'évier depuis ce matin, pouvez-vous intervenir vite ?"},
    {"slug": "jolies-bougies", "channel": "email", "subject": "Colis jamais reçu",
     "name": "Léa Martin", "email": "lea.martin@exemple.fr", "kind": "reclamation",
     "motif": "livraison", "category": "commerciale",
     "body": "Ma commande n° 10482 passée il y a 12 jours n'est toujours pas arrivée. "
             "Je suis très déçue."},
    {"slug": "jolies-bougies", "channel": "email", "subject": "Retour d'un article",
     "name": "Hugo Petit", "email": "hugo.petit@exemple.fr", "motif": "retour",
     "body": "Bonjour, la bougie reçue ne correspond pas à la couleur commandée. Comment la "
             "retourner ?"},
    {"slug": "permanence", "channel": "formulaire", "subject": "Information sur vos forfaits",
     "name": "Dr Anne Roux", "email": "anne.roux@exemple.fr", "kind": "demande_devis",
     "motif": "devis", "category": "commerciale",
     "body": "Je m'installe en libéral : quel forfait pour environ 300 appels par mois ?"},
]


def seed_inbox() -> int:
    accounts = {a.slug: a for a in ClientAccount.objects.all()}
    CannedReply.objects.filter(title__in=RETIRED_CANNED).delete()
    for slug, title, body in CANNED:
        CannedReply.objects.update_or_create(title=title, defaults={
            "body": body, "account": accounts.get(slug) if slug else None})
    RoutingRule.objects.get_or_create(name="Urgences artisan : priorité haute", defaults={
        "position": 10, "account": accounts.get("bati-renov"), "keywords": "fuite,urgent,dégât",
        "set_priority": "urgente", "add_tags": "urgence",
        "assignment_mode": RoutingRule.Mode.ROUND_ROBIN})
    if Conversation.objects.exists():
        return 0
    agent = User.objects.filter(email="agent@permanence.test").first()
    created = 0
    for spec in MESSAGES:
        account = accounts.get(spec["slug"])
        if account is None:
            continue
        conversation = conversation_open(Incoming(
            account=account, channel=spec["channel"], subject=spec["subject"],
            body_text=spec["body"], contact_name=spec["name"], contact_email=spec["email"],
            kind=spec.get("kind", "question"), priority=spec.get("priority", "normale"),
            motif=spec.get("motif", ""), category=spec.get("category", ""),
            acknowledge=False))
        created += 1
        if agent and spec["subject"] == "Demande de rendez-vous":
            conversation_reply(actor=agent, conversation=conversation,
                               body="Bonjour, le Dr Martin peut vous recevoir mardi à 9 h 30. "
                                    "Cela vous convient-il ?", status_after="attente_client")
    if agent:
        phone_message_record(actor=agent, account=accounts["cabinet-martin"],
                             caller_name="Mme Garcia", caller_phone="06 12 34 56 78",
                             reason="Résultats d'analyse",
                             message="Souhaite que le docteur la rappelle au sujet de ses "
                                     "résultats, avant 18 h.", urgent=True)
        created += 1
    doctor = User.objects.filter(email="cabinet-medical@permanence.test").first()
    if doctor and "cabinet-martin" in accounts:
        # The practice's own request to the operator ("Mes demandes"), apart from the
        # patients' conversations above (its "Activité").
        conversation_open(Incoming(
            account=accounts["cabinet-martin"], channel=Channel.PORTAL,
            subject="Fermeture du cabinet du 24 au 31 décembre",
            body_text="Bonjour, le cabinet sera fermé du 24 au 31 décembre : merci de proposer "
                      "aux patients des rendez-vous à partir du 2 janvier.",
            contact_name=doctor.full_name, contact_email=doctor.email, origin=Origin.CLIENT,
            acknowledge=False, data={"portal_user": doctor.pk}))
        created += 1
    return created

"""Demo consignes for `seed_demo`: a realistic sheet per demo account.

Idempotent: saving content equal to the version in force writes nothing (consigne_save), so
running the seed again creates no version. The first run gives the medical practice a short
history (a first version by the supervisor, then the client's own change) so that the
history, the diff and « qui n'a pas lu » have something to show.
"""

from __future__ import annotations

import copy
from typing import Any

from permanence.accounts.models import ClientAccount, Role, User
from permanence.core import clock

from .consignes import consigne_current, consigne_mark_read, consigne_save

SAMU = "Appelez immédiatement le 15 (SAMU) ou le 112. Ne raccrochez pas avant d'avoir " \
       "donné l'adresse. Escalade immédiate au médecin."


def _medical(year: int) -> dict[str, Any]:
    return {
        "greeting": "Cabinet médical du Dr Martin, bonjour, {secretaire} à votre écoute. "
                    "Le cabinet est ouvert {horaires}.",
        "about": {
            "address": "14 rue des Lilas, 75011 Paris — 2e étage avec ascenseur",
            "hours": "",
            "services": "Médecine générale adulte et enfant, suivi des maladies chroniques, "
                        "vaccinations, certificats de sport, petite chirurgie (sutures).",
            "prices": "Consultation 30 € (secteur 1), visite à domicile 35 € + déplacement. "
                      "Carte Vitale acceptée, tiers payant sur la part obligatoire.",
            "access": "Métro Voltaire (ligne 9). Stationnement payant rue des Lilas.",
            "other": "Pas de téléconsultation le samedi. Venir 10 minutes avant le premier "
                     "rendez-vous avec la carte Vitale et la mutuelle.",
        },
        "motifs": [
            {"code": "rdv", "label": "Prise de rendez-vous", "handling": "appointment",
             "transfer_to": "", "info": "Créneaux d'urgence du jour réservés à 11 h 30 et "
                                        "18 h 30 : les proposer en priorité aux enfants.",
             "questions": ["Nom et prénom du patient", "Date de naissance",
                           "Motif de consultation", "Téléphone"],
             "callback_minutes": 120},
            {"code": "ordonnance", "label": "Renouvellement d'ordonnance", "handling": "message",
             "transfer_to": "", "info": "Jamais de renouvellement sans consultation au-delà "
                                        "de 6 mois.",
             "questions": ["Nom et prénom du patient", "Date de naissance",
                           "Médicament(s) concerné(s)", "Pharmacie habituelle"],
             "callback_minutes": 240},
            {"code": "resultats", "label": "Résultats d'analyses", "handling": "message",
             "transfer_to": "", "info": "Ne jamais lire ni commenter un résultat : le Dr "
                                        "Martin rappelle le patient lui-même.",
             "questions": ["Nom et prénom du patient", "Laboratoire", "Téléphone"],
             "callback_minutes": 480},
            {"code": "urgence", "label": "Urgence médicale", "handling": "urgent",
             "transfer_to": "", "info": "Poser les questions de tri ci-dessous en premier.",
             "questions": ["Nom et prénom du patient", "Téléphone", "Symptômes",
                           "Depuis quand ?"],
             "callback_minutes": 15},
            {"code": "professionnel", "label": "Laboratoire, pharmacie, confrère",
             "handling": "transfer", "transfer_to": "+33145000011",
             "info": "Ligne directe du cabinet ; si pas de réponse, prendre un message.",
             "questions": ["Nom et établissement"], "callback_minutes": None},
        ],
        "recipients": [
            {"key": "dr-martin", "name": "Dr Claire Martin", "role": "Médecin titulaire",
             "email": "dr.martin@cabinet-martin.test", "phone": "+33612345601"},
            {"key": "secretariat", "name": "Nadia (secrétariat du cabinet)", "role": "Accueil",
             "email": "accueil@cabinet-martin.test", "phone": ""},
            {"key": "dr-lefevre", "name": "Dr Paul Lefèvre", "role": "Médecin remplaçant",
             "email": "dr.lefevre@cabinet-martin.test", "phone": "+33612345602"},
        ],
        "notify": [
            {"motif": "*", "urgency": "normal", "when": "business", "recipients": ["secretariat"],
             "channels": ["email"]},
            {"motif": "ordonnance", "urgency": "any", "when": "always",
             "recipients": ["dr-martin"], "channels": ["email"]},
            {"motif": "resultats", "urgency": "any", "when": "always",
             "recipients": ["dr-martin"], "channels": ["email"]},
            {"motif": "*", "urgency": "normal", "when": "outside", "recipients": ["dr-martin"],
             "channels": ["email"]},
            {"motif": "*", "urgency": "urgent", "when": "always", "recipients": ["dr-martin"],
             "channels": ["email", "sms"]},
        ],
        "escalation": {"delay_minutes": 15, "recipients": ["dr-lefevre"],
                       "channels": ["sms", "email"]},
        "vip": [
            {"number": "+33143000099", "name": "Laboratoire Biolab Voltaire",
             "note": "Résultat critique : passer l'appel au Dr Martin sans attendre."},
        ],
        "blocked": ["+33899000000"],
        "triage": [
            {"question": "Douleur thoracique (dans la poitrine) ?", "emergency": "oui",
             "guidance": SAMU},
            {"question": "Difficulté à respirer ?", "emergency": "oui", "guidance": SAMU},
            {"question": "Perte de connaissance, paralysie d'un côté, trouble de la parole ?",
             "emergency": "oui",
             "guidance": "Appelez immédiatement le 15 (SAMU) ou le 112 : suspicion d'AVC. "
                         "Escalade immédiate au médecin."},
            {"question": "Fièvre au-delà de 38 °C chez un nourrisson de moins de 3 mois ?",
             "emergency": "oui",
             "guidance": "Appelez le 15 (SAMU). Prévenir le Dr Martin par SMS."},
        ],
        "absences": [
            {"start": f"{year}-12-21", "end": f"{year + 1}-01-03", "who": "dr-martin",
             "replacement": "dr-lefevre",
             "note": "Congés de fin d'année : le Dr Lefèvre assure les consultations."},
        ],
        "notes": "Secret médical : ne jamais confirmer à un tiers qu'une personne est patiente "
                 "du cabinet. Vouvoyer, rester calme et rassurant. Pour un enfant, demander "
                 "le nom du parent qui appelle.",
    }


def _legal() -> dict[str, Any]:
    return {
        "greeting": "Cabinet Durand & Associés, bonjour, {secretaire} à votre service.",
        "about": {
            "address": "8 boulevard Haussmann, 75009 Paris",
            "hours": "Accueil téléphonique {horaires} ; rendez-vous possibles jusqu'à 20 h.",
            "services": "Droit de la famille (divorce, garde), droit du travail, droit "
                        "immobilier, contentieux commercial.",
            "prices": "Premier rendez-vous de 30 minutes : 90 € HT. Honoraires ensuite sur "
                      "convention, au forfait ou au temps passé (250 € HT / h).",
            "access": "", "other": "Aucun conseil juridique n'est donné par téléphone.",
        },
        "motifs": [
            {"code": "nouveau-client", "label": "Nouveau client — premier rendez-vous",
             "handling": "appointment", "transfer_to": "", "info": "",
             "questions": ["Nom et coordonnées", "Domaine du droit",
                           "Nom de la partie adverse (conflit d'intérêts)",
                           "Échéance ou audience prévue ?"],
             "callback_minutes": 240},
            {"code": "suivi-dossier", "label": "Client — suivi de dossier", "handling": "message",
             "transfer_to": "", "info": "",
             "questions": ["Nom", "Référence du dossier", "Objet de l'appel"],
             "callback_minutes": 480},
            {"code": "juridiction", "label": "Greffe, tribunal, confrère", "handling": "transfer",
             "transfer_to": "+33145000021", "info": "Ligne directe de Me Durand.",
             "questions": ["Juridiction ou cabinet", "Affaire concernée"],
             "callback_minutes": 60},
            {"code": "garde-a-vue", "label": "Garde à vue, urgence pénale", "handling": "urgent",
             "transfer_to": "", "info": "Noter le commissariat et le nom de l'officier de "
                                        "police judiciaire.",
             "questions": ["Nom de la personne retenue", "Commissariat ou gendarmerie",
                           "Nom et téléphone de l'OPJ"],
             "callback_minutes": 15},
            {"code": "honoraires", "label": "Question sur les honoraires", "handling": "info",
             "transfer_to": "", "info": "Donner le tarif du premier rendez-vous ; le reste est "
                                        "fixé par convention.",
             "questions": [], "callback_minutes": None},
        ],
        "recipients": [
            {"key": "me-durand", "name": "Me Jean Durand", "role": "Associé",
             "email": "j.durand@durand-avocats.test", "phone": "+33612345611"},
            {"key": "me-garnier", "name": "Me Sophie Garnier", "role": "Collaboratrice",
             "email": "s.garnier@durand-avocats.test", "phone": "+33612345612"},
            {"key": "assistante", "name": "Élodie (assistante juridique)", "role": "",
             "email": "secretariat@durand-avocats.test", "phone": ""},
        ],
        "notify": [
            {"motif": "*", "urgency": "normal", "when": "always", "recipients": ["assistante"],
             "channels": ["email"]},
            {"motif": "nouveau-client", "urgency": "any", "when": "always",
             "recipients": ["me-durand"], "channels": ["email"]},
            {"motif": "*", "urgency": "urgent", "when": "always",
             "recipients": ["me-durand", "me-garnier"], "channels": ["email", "sms"]},
        ],
        "escalation": {"delay_minutes": 30, "recipients": ["me-garnier"], "channels": ["sms"]},
        "vip": [{"number": "+33612345690", "name": "M. Perrin (SCI Les Tilleuls)",
                 "note": "Client historique : toujours proposer un rappel dans l'heure."}],
        "blocked": [],
        "triage": [
            {"question": "Une personne est-elle en garde à vue ou convoquée sous 24 h ?",
             "emergency": "oui",
             "guidance": "Urgence : prévenir Me Durand par SMS immédiatement et dire à "
                         "l'appelant qu'un avocat le rappelle dans les 15 minutes."},
        ],
        "absences": [],
        "notes": "Confidentialité absolue : ne jamais dire si une personne est cliente du "
                 "cabinet. Ne pas donner les portables des avocats.",
    }


def _builder() -> dict[str, Any]:
    return {
        "greeting": "Bâti-Rénov Lefèvre, bonjour, {secretaire} à votre écoute.",
        "about": {
            "address": "27 rue du Pont-des-Morts, 57000 Metz",
            "hours": "", "access": "",
            "services": "Rénovation intérieure, salles de bain, plomberie, chauffage, "
                        "isolation. Intervention en Moselle (57) et Meurthe-et-Moselle (54).",
            "prices": "Devis gratuit. Déplacement dépannage : 60 € TTC, offert si travaux.",
            "other": "Entreprise RGE : aides MaPrimeRénov' possibles.",
        },
        "motifs": [
            {"code": "devis", "label": "Demande de devis", "handling": "message",
             "transfer_to": "", "info": "Proposer une visite du chantier sous 10 jours.",
             "questions": ["Type de travaux", "Adresse du chantier", "Surface approximative",
                           "Délai souhaité", "Téléphone"],
             "callback_minutes": 1440},
            {"code": "depannage", "label": "Dépannage urgent (fuite, chauffage)",
             "handling": "urgent", "transfer_to": "", "info": "",
             "questions": ["Adresse", "Nature de la panne", "Eau coupée au compteur ?",
                           "Téléphone"],
             "callback_minutes": 30},
            {"code": "chantier", "label": "Suivi de chantier en cours", "handling": "message",
             "transfer_to": "", "info": "",
             "questions": ["Nom du client", "Adresse du chantier", "Objet"],
             "callback_minutes": 240},
            {"code": "fournisseur", "label": "Fournisseur, livraison", "handling": "transfer",
             "transfer_to": "+33387000013", "info": "Dépôt (Karim).",
             "questions": [], "callback_minutes": None},
        ],
        "recipients": [
            {"key": "marc", "name": "Marc Lefèvre", "role": "Gérant",
             "email": "marc@bati-renov.test", "phone": "+33612345621"},
            {"key": "julie", "name": "Julie (assistante)", "role": "Devis et planning",
             "email": "contact@bati-renov.test", "phone": ""},
            {"key": "karim", "name": "Karim Benali", "role": "Chef de chantier",
             "email": "", "phone": "+33612345623"},
        ],
        "notify": [
            {"motif": "*", "urgency": "normal", "when": "always", "recipients": ["julie"],
             "channels": ["email"]},
            {"motif": "chantier", "urgency": "any", "when": "business", "recipients": ["karim"],
             "channels": ["sms"]},
            {"motif": "*", "urgency": "urgent", "when": "business", "recipients": ["karim"],
             "channels": ["sms"]},
            {"motif": "*", "urgency": "urgent", "when": "outside", "recipients": ["marc"],
             "channels": ["sms", "email"]},
        ],
        "escalation": {"delay_minutes": 20, "recipients": ["marc"], "channels": ["sms"]},
        "vip": [], "blocked": [],
        "triage": [
            {"question": "Odeur de gaz ?", "emergency": "oui",
             "guidance": "Faites sortir tout le monde, n'actionnez aucun interrupteur et "
                         "appelez GRDF Urgence sécurité gaz au 0 800 47 33 33 ou le 18."},
            {"question": "Fuite d'eau importante ?", "emergency": "oui",
             "guidance": "Conseiller de couper l'eau au compteur ; escalade au chef de "
                         "chantier."},
        ],
        "absences": [],
        "notes": "Le samedi, seules les urgences (fuite, panne de chauffage) sont transmises.",
    }


def _shop() -> dict[str, Any]:
    return {
        "greeting": "Les Jolies Bougies, bonjour ! {secretaire}, que puis-je pour vous ?",
        "about": {
            "address": "Boutique en ligne uniquement (atelier à Lyon, pas de retrait sur place)",
            "hours": "Service client {horaires}.",
            "services": "Bougies artisanales en cire de soja, coffrets cadeaux, ateliers "
                        "d'entreprise.",
            "prices": "Livraison offerte dès 49 € d'achat, sinon 4,90 € (Colissimo, 48 h).",
            "access": "",
            "other": "Retours acceptés sous 14 jours, produit non utilisé ; étiquette "
                     "prépayée envoyée par e-mail.",
        },
        "motifs": [
            {"code": "suivi-commande", "label": "Où en est ma commande ?", "handling": "info",
             "transfer_to": "", "info": "Demander le n° de commande (5 chiffres) ; au-delà de "
                                        "7 jours ouvrés sans livraison, prendre un message.",
             "questions": ["Numéro de commande", "E-mail utilisé pour la commande"],
             "callback_minutes": None},
            {"code": "retour", "label": "Retour, échange", "handling": "message",
             "transfer_to": "", "info": "",
             "questions": ["Numéro de commande", "Article concerné", "Raison du retour"],
             "callback_minutes": 1440},
            {"code": "reclamation", "label": "Colis abîmé ou perdu", "handling": "message",
             "transfer_to": "", "info": "Demander des photos par e-mail.",
             "questions": ["Numéro de commande", "Description du problème"],
             "callback_minutes": 480},
            {"code": "pro", "label": "Revendeur, entreprise, presse", "handling": "message",
             "transfer_to": "", "info": "",
             "questions": ["Société", "Nom et fonction", "Demande"],
             "callback_minutes": 1440},
        ],
        "recipients": [
            {"key": "camille", "name": "Camille Roche", "role": "Fondatrice",
             "email": "camille@jolies-bougies.test", "phone": "+33612345631"},
            {"key": "service-client", "name": "Service client", "role": "",
             "email": "service-client@jolies-bougies.test", "phone": ""},
        ],
        "notify": [
            {"motif": "*", "urgency": "any", "when": "always", "recipients": ["service-client"],
             "channels": ["email"]},
            {"motif": "pro", "urgency": "any", "when": "always", "recipients": ["camille"],
             "channels": ["email"]},
            {"motif": "*", "urgency": "urgent", "when": "always", "recipients": ["camille"],
             "channels": ["sms"]},
        ],
        "escalation": {"delay_minutes": None, "recipients": [], "channels": []},
        "vip": [], "blocked": [], "triage": [], "absences": [],
        "notes": "Ton chaleureux, tutoiement interdit. Les codes promo ne se donnent pas par "
                 "téléphone.",
    }


def demo_consignes(year: int) -> dict[str, dict[str, Any]]:
    """The demo sheets by account slug (`year`: the medical practice's holidays)."""
    return {"cabinet-martin": _medical(year), "durand-avocats": _legal(),
            "bati-renov": _builder(), "jolies-bougies": _shop()}


def seed_consignes() -> int:
    """Give each demo account its consignes; returns how many versions were written."""
    staff = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    if staff is None:
        return 0
    year = clock.now().year
    written = 0
    for slug, content in demo_consignes(year).items():
        account = ClientAccount.objects.filter(slug=slug).first()
        if account is None:
            continue
        first = consigne_current(account) is None
        client = (User.objects.filter(memberships__account=account, is_active=True)
                  .order_by("pk").first())
        if first and slug == "cabinet-martin" and client is not None:
            # A short history: the supervisor's first sheet, then the client adds its
            # holidays and the pediatric triage question.
            earlier = copy.deepcopy(content)
            earlier["absences"] = []
            earlier["triage"] = earlier["triage"][:3]
            consigne_save(actor=staff, account=account, content=earlier,
                          summary="Mise en place des consignes (réunion de lancement)")
            version = consigne_save(actor=client, account=account, content=content)
            written += 2
        else:
            before = consigne_current(account)
            version = consigne_save(actor=staff, account=account, content=content)
            written += int(before is None or before.pk != version.pk)
        if first and slug == "durand-avocats":
            # One of the two agents has read the law firm's sheet, the other not yet.
            agent = account.assigned_agents.filter(email__startswith="agent2@").first()
            if agent is not None:
                consigne_mark_read(user=agent, version=version)
    return written

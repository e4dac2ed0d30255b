"""Demo catalog and public site: offers, options, one-off services, pages, CGV 2026-11.

`seed_catalog()` is idempotent: offers are refreshed by slug; pages and CGV are created once
(an administrator's edits are kept, and a published CGV version never changes).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from permanence.core import clock

from .models import Offer, OfferKind, PublicPage, TermsVersion, Unit

VAT = Decimal("20.00")

# slug → fields. Prices in cents HT.
OFFERS: list[dict[str, Any]] = [
    # Options first: plans refer to them.
    {"slug": "prise-de-rendez-vous", "kind": OfferKind.OPTION, "position": 100,
     "name": "Prise de rendez-vous", "name_en": "Appointment booking",
     "tagline": "Vos télésecrétaires gèrent votre agenda en ligne",
     "tagline_en": "Your secretaries manage your online diary",
     "monthly_price_cents": 2900,
     "included": "Agenda en ligne partagé\nConfirmation par e-mail\nGestion des annulations",
     "included_en": "Shared online diary\nE-mail confirmation\nCancellations handled"},
    {"slug": "permanence-samedi", "kind": OfferKind.OPTION, "position": 110,
     "name": "Permanence étendue le samedi", "name_en": "Extended Saturday service",
     "tagline": "Vos appels pris le samedi de 9 h à 13 h",
     "tagline_en": "Your calls answered on Saturdays, 9 am to 1 pm",
     "monthly_price_cents": 7900},
    {"slug": "transfert-appel", "kind": OfferKind.OPTION, "position": 120,
     "name": "Transfert d'appel", "name_en": "Call transfer",
     "tagline": "Les appels importants vous sont transférés en direct",
     "tagline_en": "Important calls put straight through to you",
     "monthly_price_cents": 1500},
    {"slug": "sms", "kind": OfferKind.OPTION, "position": 130,
     "name": "Notification SMS", "name_en": "SMS notifications",
     "tagline": "Chaque message transmis aussi par SMS",
     "tagline_en": "Every message also sent by text",
     "unit_price_cents": 12, "unit": Unit.MESSAGE},
    {"slug": "accueil-personnalise", "kind": OfferKind.OPTION, "position": 140,
     "name": "Accueil personnalisé", "name_en": "Personalised greeting",
     "tagline": "Un script d'accueil au nom de votre entreprise",
     "tagline_en": "A greeting script in your company's name",
     "monthly_price_cents": 1900, "one_off_price_cents": 4900},
    {"slug": "reponse-email-chat", "kind": OfferKind.OPTION, "position": 150,
     "name": "Réponse e-mail et chat", "name_en": "E-mail and chat replies",
     "tagline": "Vos e-mails et messages de chat traités par nos équipes",
     "tagline_en": "Your e-mails and chat messages handled by our team",
     "monthly_price_cents": 4900},
    {"slug": "mise-en-place", "kind": OfferKind.ONE_OFF, "position": 200,
     "name": "Mise en place du service", "name_en": "Service set-up",
     "tagline": "Paramétrage, renvoi d'appels et script d'accueil",
     "tagline_en": "Configuration, call forwarding and greeting script",
     "one_off_price_cents": 9900, "requires_information": True,
     "description": "Nous paramétrons votre ligne, votre agenda et vos consignes. La mise en "
                    "service démarre à réception de vos consignes complètes.",
     "description_en": "We configure your line, diary and instructions. Activation starts "
                       "once we have your complete instructions."},
    {"slug": "formation-consignes", "kind": OfferKind.ONE_OFF, "position": 210,
     "name": "Formation des secrétaires à vos consignes",
     "name_en": "Training our secretaries on your instructions",
     "tagline": "Une session dédiée avec votre équipe référente",
     "tagline_en": "A dedicated session with your assigned team",
     "one_off_price_cents": 15000},
    # Plans.
    {"slug": "essentiel", "kind": OfferKind.PACKAGE, "position": 10,
     "name": "Forfait Essentiel", "name_en": "Essential plan",
     "tagline": "Pour ne plus manquer un appel", "tagline_en": "Never miss a call again",
     "description": "100 appels par mois pris en votre nom, messages transmis par e-mail.",
     "description_en": "100 calls a month answered in your name, messages sent by e-mail.",
     "included": "Accueil téléphonique à votre nom\nPrise de messages détaillés\n"
                 "Transmission par e-mail\nEspace client et historique des appels",
     "included_en": "Phone answering in your name\nDetailed messages\nDelivered by e-mail\n"
                    "Client area and call history",
     "monthly_price_cents": 14900, "included_quantity": 100, "included_unit": Unit.CALL,
     "unit_price_cents": 120, "unit": Unit.CALL, "commitment_months": 0, "notice_days": 30,
     "options": ["prise-de-rendez-vous", "permanence-samedi", "transfert-appel", "sms",
                 "accueil-personnalise", "reponse-email-chat", "mise-en-place",
                 "formation-consignes"]},
    {"slug": "confort", "kind": OfferKind.PACKAGE, "position": 20, "is_featured": True,
     "name": "Forfait Confort", "name_en": "Comfort plan",
     "tagline": "Appels et rendez-vous pour les cabinets actifs",
     "tagline_en": "Calls and appointments for busy practices",
     "description": "250 appels par mois, prise de rendez-vous incluse.",
     "description_en": "250 calls a month, appointment booking included.",
     "included": "Tout le forfait Essentiel\nPrise de rendez-vous incluse\n"
                 "Filtrage des urgences selon vos consignes\nRapport mensuel d'activité",
     "included_en": "Everything in Essential\nAppointment booking included\n"
                    "Urgent calls screened to your instructions\nMonthly activity report",
     "monthly_price_cents": 24900, "included_quantity": 250, "included_unit": Unit.CALL,
     "unit_price_cents": 100, "unit": Unit.CALL, "commitment_months": 3, "notice_days": 30,
     "options": ["permanence-samedi", "transfert-appel", "sms", "accueil-personnalise",
                 "reponse-email-chat", "mise-en-place", "formation-consignes"]},
    {"slug": "premium", "kind": OfferKind.PACKAGE, "position": 30,
     "name": "Forfait Premium", "name_en": "Premium plan",
     "tagline": "Une équipe dédiée, tous canaux", "tagline_en": "A dedicated team, every channel",
     "description": "600 appels par mois, équipe référente, e-mails et chat inclus.",
     "description_en": "600 calls a month, an assigned team, e-mail and chat included.",
     "included": "Tout le forfait Confort\nÉquipe de télésecrétaires référente\n"
                 "Réponse aux e-mails et au chat\nAccueil personnalisé\nTransfert d'appel",
     "included_en": "Everything in Comfort\nAssigned secretary team\nE-mail and chat replies\n"
                    "Personalised greeting\nCall transfer",
     "monthly_price_cents": 44900, "included_quantity": 600, "included_unit": Unit.CALL,
     "unit_price_cents": 85, "unit": Unit.CALL, "commitment_months": 12, "notice_days": 60,
     "activation_business_hours": 72,
     "options": ["permanence-samedi", "sms", "mise-en-place", "formation-consignes"]},
    {"slug": "a-l-acte", "kind": OfferKind.PER_ACT, "position": 40,
     "name": "À l'acte", "name_en": "Pay per call",
     "tagline": "Vous ne payez que les appels traités",
     "tagline_en": "Pay only for the calls we handle",
     "description": "Idéal pour une activité saisonnière ou irrégulière.",
     "description_en": "Ideal for seasonal or irregular activity.",
     "included": "Accueil téléphonique à votre nom\nPrise de messages\nSans engagement",
     "included_en": "Phone answering in your name\nMessages taken\nNo commitment",
     "unit_price_cents": 190, "unit": Unit.CALL, "commitment_months": 0, "notice_days": 15,
     "sectors": ["artisan_btp", "ecommerce", "juridique"],
     "options": ["transfert-appel", "sms", "prise-de-rendez-vous", "mise-en-place"]},
    {"slug": "temps-passe", "kind": OfferKind.TIME, "position": 50,
     "name": "Au temps passé", "name_en": "Time spent",
     "tagline": "Pour vos missions administratives ponctuelles",
     "tagline_en": "For occasional administrative work",
     "description": "Saisie, relances, gestion de dossiers : facturé au temps réellement "
                    "consacré, par tranche de 15 minutes.",
     "description_en": "Data entry, follow-ups, file handling: billed on the time actually "
                       "spent, per 15-minute increment.",
     "included": "Secrétaire dédiée à vos missions\nCompte rendu de chaque intervention",
     "included_en": "A secretary for your tasks\nA report of each task",
     "hourly_rate_cents": 3800, "increment_minutes": 15, "commitment_months": 0,
     "notice_days": 15, "sectors": ["juridique", "services"],
     "options": ["mise-en-place", "formation-consignes"]},
    {"slug": "hybride", "kind": OfferKind.HYBRID, "position": 60,
     "name": "Hybride", "name_en": "Hybrid",
     "tagline": "Un petit abonnement, puis à l'acte",
     "tagline_en": "A small subscription, then per call",
     "description": "La mise à disposition du service par abonnement, chaque appel traité "
                    "facturé en plus.",
     "description_en": "The service on a subscription, each call handled billed on top.",
     "included": "Ligne et consignes prêtes en permanence\nPrise de messages\n"
                 "Espace client",
     "included_en": "Line and instructions always ready\nMessages taken\nClient area",
     "monthly_price_cents": 5900, "unit_price_cents": 140, "unit": Unit.CALL,
     "commitment_months": 0, "notice_days": 30, "sectors": ["medical", "ecommerce"],
     "options": ["prise-de-rendez-vous", "transfert-appel", "sms", "mise-en-place"]},
]


PAGES: list[dict[str, str]] = [
    {"slug": "accueil", "title": "Votre secrétariat à distance, à votre nom",
     "title_en": "Your remote secretary, in your name",
     "body": "Nos télésecrétaires répondent à vos appels, e-mails et messages en votre nom, "
             "prennent vos rendez-vous et vous transmettent l'essentiel, aux horaires que "
             "vous choisissez.\n\nForfait, à l'acte, au temps passé ou hybride : souscrivez "
             "en ligne, le service est mis en place sous 48 heures ouvrées.",
     "body_en": "Our secretaries answer your calls, e-mails and messages in your name, book "
                "your appointments and pass on what matters, during the hours you choose.\n\n"
                "Plan, per call, time spent or hybrid: subscribe online, the service is set "
                "up within 48 business hours."},
    {"slug": "offres", "title": "Nos offres", "title_en": "Our plans",
     "body": "Forfait mensuel, à l'acte, au temps passé ou hybride : comparez les formules, "
             "ajoutez les options utiles à votre activité et souscrivez en ligne.",
     "body_en": "Monthly plan, per call, time spent or hybrid: compare, add the options your "
                "business needs and subscribe online."},
    {"slug": "service-client", "title": "Service client", "title_en": "Customer service",
     "body": "Une question sur une offre, une commande, une facture ? Notre service client "
             "vous répond par le canal de votre choix.",
     "body_en": "A question about a plan, an order, an invoice? Our customer service answers "
                "through the channel of your choice."},
    {"slug": "secteur-medical", "title": "Télésecrétariat médical",
     "title_en": "Medical answering service",
     "body": "Des secrétaires formées au vocabulaire médical et au secret professionnel.\n\n"
             "## Ce que nous faisons pour vous\n- Prise de rendez-vous dans votre agenda en "
             "ligne\n- Filtrage des urgences selon votre protocole\n- Messages transmis au "
             "praticien en temps réel",
     "body_en": "Secretaries trained in medical vocabulary and professional secrecy.\n\n"
                "## What we do for you\n- Appointments booked in your online diary\n"
                "- Urgent calls screened to your protocol\n- Messages passed on in real time"},
    {"slug": "secteur-juridique", "title": "Télésecrétariat juridique",
     "title_en": "Legal answering service",
     "body": "Avocats, notaires, commissaires de justice : un accueil discret et rigoureux.\n\n"
             "## Ce que nous faisons pour vous\n- Accueil confidentiel au nom du cabinet\n"
             "- Messages détaillés et qualifiés\n- Filtrage selon vos dossiers prioritaires",
     "body_en": "Lawyers, notaries, bailiffs: discreet and rigorous call answering.\n\n"
                "## What we do for you\n- Confidential answering in your firm's name\n"
                "- Detailed, qualified messages\n- Screening by priority file"},
    {"slug": "secteur-artisan-btp", "title": "Télésecrétariat pour artisans et BTP",
     "title_en": "Answering service for tradespeople",
     "body": "Plus aucun chantier manqué pendant que vous travaillez.\n\n## Ce que nous "
             "faisons pour vous\n- Qualification des demandes de devis\n- Planification des "
             "visites selon vos disponibilités\n- Messages transmis par SMS",
     "body_en": "Never miss a job while you work.\n\n## What we do for you\n- Quote requests "
                "qualified\n- Site visits planned around your availability\n- Messages sent "
                "by text"},
    {"slug": "secteur-ecommerce", "title": "Service client e-commerce",
     "title_en": "E-commerce customer service",
     "body": "Commandes, livraisons, retours, paiements : nos télésecrétaires deviennent le "
             "prolongement de votre équipe, dans le respect de votre marque.\n\n## Ce que "
             "nous faisons pour vous\n- Réponse aux appels, e-mails et chats\n- Suivi des "
             "commandes et des retours\n- Remontée des réclamations",
     "body_en": "Orders, deliveries, returns, payments: our secretaries become part of your "
                "team, true to your brand.\n\n## What we do for you\n- Calls, e-mails and "
                "chats answered\n- Orders and returns followed up\n- Complaints escalated"},
    {"slug": "faq", "title": "Questions fréquentes", "title_en": "Frequently asked questions",
     "body": "## Combien de temps faut-il pour démarrer ?\nVotre commande est validée sous 24 "
             "heures ouvrées après le paiement et le service est mis en place sous 48 heures "
             "ouvrées, à réception de vos consignes.\n\n## Puis-je changer de formule ?\n"
             "Oui, à tout moment depuis votre espace client ; le changement s'applique au "
             "mois suivant.\n\n## Que se passe-t-il si je dépasse mon forfait ?\nLes appels "
             "au-delà du volume inclus sont facturés au prix unitaire indiqué sur la fiche de "
             "l'offre.\n\n## Comment résilier ?\nDepuis votre espace client ou par e-mail, "
             "en respectant le préavis de votre formule.",
     "body_en": "## How long does it take to start?\nYour order is validated within 24 "
                "business hours of payment and the service is set up within 48 business "
                "hours once we have your instructions.\n\n## Can I change plans?\nYes, at any "
                "time from your client area; the change applies from the next month.\n\n"
                "## What if I exceed my plan?\nCalls beyond the included volume are billed at "
                "the unit price shown on the plan.\n\n## How do I cancel?\nFrom your client "
                "area or by e-mail, with your plan's notice period."},
    {"slug": "mentions-legales", "title": "Mentions légales", "title_en": "Legal notice",
     "body": "## Éditeur du site\nPermanence Télésecrétariat SAS, au capital de 10 000 €\n"
             "12 rue de la République, 69002 Lyon\nRCS Lyon 552 081 317 — SIRET "
             "552 081 317 00018\nTVA intracommunautaire : FR03552081317\nDirecteur de la "
             "publication : le président de la société\n\n## Hébergement\nLe site est "
             "hébergé en France par un prestataire spécialisé garantissant la disponibilité "
             "du service et la sauvegarde régulière des données.\n\n## Contact\nsupport@"
             "permanence.test — +33 4 72 00 00 00",
     "body_en": ""},
    {"slug": "confidentialite", "title": "Politique de confidentialité",
     "title_en": "Privacy policy",
     "body": "## Responsable du traitement\nPermanence Télésecrétariat SAS traite vos données "
             "pour exécuter les prestations souscrites, gérer la relation client et respecter "
             "ses obligations légales.\n\n## Données collectées\n- Identité et coordonnées\n"
             "- Informations professionnelles nécessaires à la prestation\n- Historique des "
             "commandes, factures et échanges\n\n## Paiements\nLes paiements sont traités par "
             "un prestataire certifié : nous n'avons jamais accès à vos données bancaires "
             "complètes.\n\n## Durées de conservation\nLes données sont conservées pendant la "
             "relation contractuelle puis archivées pendant les durées légales (10 ans pour "
             "les pièces comptables).\n\n## Vos droits\nAccès, rectification, effacement, "
             "limitation, opposition et portabilité : écrivez à support@permanence.test. "
             "Vous pouvez introduire une réclamation auprès de la CNIL.",
     "body_en": ""},
]


# The demo CGV (French), kept as a text file: long paragraphs, one per line.
CGV_2026_11 = (Path(__file__).with_name("demo_cgv_2026-11.txt")
               .read_text(encoding="utf-8").strip())


@transaction.atomic
def seed_catalog() -> int:
    """Create or refresh the demo catalog; return the number of offers created."""
    created_count = 0
    by_slug: dict[str, Offer] = {}
    for spec in OFFERS:
        fields = {k: v for k, v in spec.items() if k not in ("slug", "options")}
        fields.setdefault("vat_rate", VAT)
        fields.setdefault("is_published", True)
        offer, created = Offer.objects.update_or_create(slug=spec["slug"], defaults=fields)
        created_count += int(created)
        by_slug[offer.slug] = offer
    for spec in OFFERS:
        if spec.get("options"):
            by_slug[spec["slug"]].options.set([by_slug[s] for s in spec["options"]])
    for page in PAGES:
        PublicPage.objects.get_or_create(slug=page["slug"], defaults={
            k: v for k, v in page.items() if k != "slug"})
    TermsVersion.objects.get_or_create(version="2026-11", defaults={
        "body": CGV_2026_11, "published_at": clock.now()})
    return created_count

"""Demo data: operator, staff, four client accounts with logins and calendars. Idempotent."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from stdnum.fr import siret

from permanence.accounts.models import (
    AccountKind,
    AccountStatus,
    ClientAccount,
    ContactChannel,
    Membership,
    MembershipRole,
    OperatorIdentity,
    Role,
    Sector,
    User,
)
from permanence.agenda.demo import seed_agenda
from permanence.calendars.models import BusinessCalendar, HolidayRegion
from permanence.catalog.demo import seed_catalog
from permanence.desk.demo import seed_consignes
from permanence.desk.demo_calls import seed_calls
from permanence.desk.demo_outbound import seed_outbound
from permanence.inbox.demo import seed_inbox
from permanence.knowledge.demo import seed_knowledge
from permanence.livechat.demo import seed_livechat
from permanence.payments.demo import seed_orders  # the shop's, with their payments
from permanence.planning.demo import seed_planning
from permanence.quality.demo import seed_quality
from permanence.shop.demo import seed_quotes
from permanence.status.demo import seed_status

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "permanence-demo")
DOMAIN = "permanence.test"

OFFICE = [["08:30", "12:30"], ["14:00", "18:00"]]

STAFF = [
    ("admin", "Alice Administratrice", Role.ADMIN),
    ("superviseur", "Sophie Superviseure", Role.SUPERVISOR),
    ("agent", "Amandine Agent", Role.AGENT),
    ("agent2", "Bruno Agent", Role.AGENT),
    ("compta", "Claire Comptable", Role.BILLING),
]

# name, slug, sector, kind, siret, client login, e-mail address, phone, weekly, holidays, agents
ACCOUNTS: list[dict[str, Any]] = [
    {
        "name": "Cabinet médical du Dr Martin", "slug": "cabinet-martin",
        "sector": Sector.MEDICAL, "legal_name": "SELARL Docteur Martin",
        "siret": "73282932000074", "login": "cabinet-medical", "email": "accueil@cabinet-martin.test",
        "phone": "+33145000001",
        "weekly": {"mon": [["08:00", "12:30"], ["13:30", "19:00"]],
                   "tue": [["08:00", "12:30"], ["13:30", "19:00"]],
                   "wed": [["08:00", "12:30"], ["13:30", "19:00"]],
                   "thu": [["08:00", "12:30"], ["13:30", "19:00"]],
                   "fri": [["08:00", "12:30"], ["13:30", "19:00"]],
                   "sat": [["08:00", "12:00"]], "sun": []},
        "holidays": HolidayRegion.FRANCE, "agents": ["agent"],
    },
    {
        "name": "Cabinet d'avocats Durand & Associés", "slug": "durand-avocats",
        "sector": Sector.LEGAL, "legal_name": "Durand & Associés SCP",
        "siret": "44306184100047", "login": "avocats", "email": "secretariat@durand-avocats.test",
        "phone": "+33145000002",
        "weekly": {d: [["09:00", "12:30"], ["14:00", "18:30"]] for d in
                   ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []},
        "holidays": HolidayRegion.FRANCE, "agents": ["agent", "agent2"],
    },
    {
        "name": "Bâti-Rénov Lefèvre", "slug": "bati-renov",
        "sector": Sector.TRADES, "legal_name": "Bâti-Rénov Lefèvre SARL",
        "siret": "55208131766522", "login": "artisan", "email": "contact@bati-renov.test",
        "phone": "+33387000003",
        "weekly": {d: [["07:30", "12:00"], ["13:00", "17:30"]] for d in
                   ("mon", "tue", "wed", "thu", "fri")} | {"sat": [], "sun": []},
        # Based in Metz: Alsace-Moselle public holidays (Good Friday, 26 December).
        "holidays": HolidayRegion.ALSACE_MOSELLE, "agents": ["agent2"],
    },
    {
        "name": "Les Jolies Bougies", "slug": "jolies-bougies",
        "sector": Sector.ECOMMERCE, "legal_name": "Les Jolies Bougies SAS",
        "siret": "38012986648245", "login": "boutique", "email": "service-client@jolies-bougies.test",
        "phone": "+33145000004", "weekly": None, "holidays": None, "agents": ["agent"],
    },
]


def _siret_ok(value: str) -> str:

    return value if siret.is_valid(value) else ""


class Command(BaseCommand):
    help = "Create (or refresh) the demo operator, staff and client accounts."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        OperatorIdentity.objects.update_or_create(pk=1, defaults={
            "legal_name": "Permanence Télésecrétariat SAS",
            "siren": "552081317", "siret": "55208131700018",
            "vat_number": "FR03552081317",
            "address": "12 rue de la République\n69002 Lyon",
            "iban": "FR7630006000011234567890189",
            "support_email": f"support@{DOMAIN}", "support_phone": "+33472000000",
            "opening_hours_text": "Du lundi au vendredi, de 8 h 30 à 12 h 30 et de 14 h à 18 h "
                                  "(hors jours fériés).",
        })
        op_calendar, _ = BusinessCalendar.objects.get_or_create(
            name="Opérateur", defaults={"weekly": {d: OFFICE for d in
                                                  ("mon", "tue", "wed", "thu", "fri")}
                                         | {"sat": [], "sun": []}})
        operator, _ = ClientAccount.objects.update_or_create(
            is_operator=True, defaults={
                "name": "Permanence (service client)", "slug": "permanence",
                "sector": Sector.SERVICES, "status": AccountStatus.ACTIVE,
                "legal_name": "Permanence Télésecrétariat SAS", "siret": "55208131700018",
                "calendar": op_calendar,
            })
        users: dict[str, User] = {}
        for login, name, role in STAFF:
            users[login] = self._user(f"{login}@{DOMAIN}", name, role,
                                      superuser=(role == Role.ADMIN))
        for spec in ACCOUNTS:
            calendar = None
            if spec["weekly"]:
                calendar, _ = BusinessCalendar.objects.update_or_create(
                    name=spec["name"], defaults={"weekly": spec["weekly"],
                                                 "holidays": spec["holidays"]})
            account, _ = ClientAccount.objects.update_or_create(slug=spec["slug"], defaults={
                "name": spec["name"], "sector": spec["sector"], "kind": AccountKind.PROFESSIONAL,
                "status": AccountStatus.ACTIVE, "legal_name": spec["legal_name"],
                "siret": _siret_ok(spec["siret"]), "calendar": calendar,
                "billing_email": f"compta@{spec['slug']}.test",
            })
            account.assigned_agents.set([users[a] for a in spec["agents"]])
            for kind, value in ((ContactChannel.Kind.EMAIL, spec["email"]),
                                (ContactChannel.Kind.PHONE, spec["phone"])):
                ContactChannel.objects.update_or_create(value=value, defaults={
                    "account": account, "kind": kind})
            client = self._user(f"{spec['login']}@{DOMAIN}", f"Client {spec['name']}",
                                Role.CLIENT)
            Membership.objects.get_or_create(user=client, account=account,
                                             defaults={"role": MembershipRole.OWNER})
        ContactChannel.objects.update_or_create(value=f"support@{DOMAIN}", defaults={
            "account": operator, "kind": ContactChannel.Kind.EMAIL})
        seed_catalog()
        versions = seed_consignes()
        if versions:
            self.stdout.write(f"{versions} demo consignes versions written.")
        created = seed_inbox()
        if created:
            self.stdout.write(f"{created} demo conversations created.")
        orders = seed_orders()
        if orders:
            self.stdout.write(f"{orders} demo orders created.")
        quotes = seed_quotes()
        if quotes:
            self.stdout.write(f"{quotes} demo quotes created (one at each stage).")
        if seed_outbound():
            self.stdout.write("Demo outbound campaign and set-up checklist created.")
        calls = seed_calls()
        if calls:
            self.stdout.write(f"{calls} demo calls received (one message forwarded, one "
                              "call back owed).")
        appointments = seed_agenda()
        if appointments:
            self.stdout.write(f"Demo agendas created ({appointments} appointments booked).")
        self._say(seed_knowledge(), "{} demo knowledge articles written (FAQ, procedures).")
        self._say(seed_quality(), "{} demo quality reviews (Qualité), one a mystery call.")
        self.stdout.write(f"Live chat demo (widget on a pretend client site): {seed_livechat()}")
        self._say(seed_planning(), "{} demo planning shifts and staff pulse answers written.")
        self._say(seed_status(), "{} demo status rows written (incidents, 90 days of samples).")
        self._print_logins()

    def _say(self, count: int, message: str) -> None:
        """Reports what a seed wrote (nothing on a re-run, when it had nothing to do)."""
        if count:
            self.stdout.write(message.format(count))

    def _user(self, email: str, name: str, role: str, superuser: bool = False) -> User:
        user = User.objects.filter(email=email).first() or User(email=email)
        user.full_name, user.role, user.is_active = name, role, True
        user.is_superuser = user.is_staff = superuser
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user

    def _print_logins(self) -> None:
        w = self.stdout.write
        w(self.style.SUCCESS("Demo data ready. Logins (password for all: "
                             f"{DEMO_PASSWORD}):"))
        for login, _name, role in STAFF:
            w(f"  {role.label:<15} {login}@{DOMAIN}")
        for spec in ACCOUNTS:
            w(f"  {'Client':<15} {spec['login']}@{DOMAIN}  ({spec['name']})")
        host, port = settings.MAILGATEWAY_HOST, settings.MAILGATEWAY_PORT
        w(self.style.SUCCESS(f"Inbound e-mail (gateway: smtp://{host}:{port}, "
                             "MAILGATEWAY_PORT) — an e-mail to one of these addresses opens "
                             "a conversation in that account's inbox:"))
        channels = (ContactChannel.objects.filter(kind=ContactChannel.Kind.EMAIL)
                    .select_related("account").order_by("account__is_operator", "account__name",
                                                        "value"))
        for channel in channels:
            w(f"  {channel.value:<36} {channel.account.name}")
        w("  Try it: .venv/bin/python manage.py send_test_mail <address> (while make demo runs)")

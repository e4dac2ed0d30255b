"""Demo agendas: the medical practice's two doctors (online booking open), the law firm's
partner, the builder's technician; a few appointments over the coming days."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from permanence.accounts.models import ClientAccount, Role, User
from permanence.core import clock
from permanence.core.errors import DomainError

from . import selectors, services
from .forms_public import CONSENT_TEXT
from .models import Origin, Resource

MORNING, AFTERNOON = ["09:00", "12:00"], ["14:00", "18:30"]
WEEK = {d: [MORNING, AFTERNOON] for d in ("mon", "tue", "thu", "fri")}

AGENDAS: dict[str, dict[str, Any]] = {
    "cabinet-martin": {
        "online": True,
        "intro": "Prenez rendez-vous avec le Dr Martin ou le Dr Bernard. En cas d'urgence, "
                 "appelez le 15.",
        "resources": [("Dr Claire Martin", {**WEEK, "wed": [MORNING]}),
                      ("Dr Paul Bernard", {**WEEK, "sat": [["09:00", "12:00"]]})],
        "types": [
            ({"name": "Consultation", "duration_minutes": 20, "online": True,
              "min_notice_minutes": 120, "questions": ["Motif de la consultation"],
              "price_info": "25 € (secteur 1)"}, [0, 1]),
            ({"name": "Première consultation", "duration_minutes": 40,
              "buffer_after_minutes": 10, "questions": ["Médecin traitant actuel"],
              "price_info": "25 € (secteur 1)"}, [0]),
            ({"name": "Vaccination", "duration_minutes": 15, "online": True,
              "questions": ["Vaccin prescrit"]}, [1]),
        ],
    },
    "durand-avocats": {
        "online": False, "intro": "",
        "resources": [("Me Hélène Durand", WEEK)],
        "types": [({"name": "Premier rendez-vous", "duration_minutes": 60,
                    "buffer_after_minutes": 15, "min_notice_minutes": 24 * 60,
                    "questions": ["Nature du litige"], "price_info": "150 € HT"}, [0])],
    },
    "bati-renov": {
        "online": False, "intro": "",
        "resources": [("Technicien — Karim", {d: [["08:00", "12:00"], ["13:30", "17:30"]]
                                              for d in ("mon", "tue", "wed", "thu", "fri")})],
        "types": [({"name": "Visite technique pour devis", "duration_minutes": 60,
                    "buffer_before_minutes": 30, "buffer_after_minutes": 30,
                    "questions": ["Adresse du chantier", "Nature des travaux"]}, [0])],
    },
}

PATIENTS = [("Jeanne Dupont", "+33612345678"), ("Marc Leroy", "+33698765432"),
            ("Sophie Garnier", "+33611223344"), ("Luc Fontaine", "+33655443322"),
            ("Inès Moreau", "+33677889900"), ("Hugo Lambert", "+33633221100")]


def seed_agenda() -> int:
    """Create the demo agendas once (an account that has one is left alone); returns how
    many appointments were booked."""
    staff = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    if staff is None:
        return 0
    booked = 0
    for slug, spec in AGENDAS.items():
        account = ClientAccount.objects.filter(slug=slug).first()
        if account is None or Resource.objects.filter(account=account).exists():
            continue
        resources = [services.resource_create(actor=staff, account_id=account.pk,
                                              data={"name": name, "weekly": weekly})
                     for name, weekly in spec["resources"]]
        kinds = [services.type_create(actor=staff, account_id=account.pk, data=data,
                                      resource_ids=[resources[i].pk for i in which])
                 for data, which in spec["types"]]
        services.settings_update(actor=staff, account_id=account.pk, data={
            "online_booking": spec["online"], "public_intro": spec["intro"]})
        booked += _book_some(staff, kinds[0])
    return booked


def _book_some(staff: User, kind: Any) -> int:
    """Every other free slot of the next working days, for a lived-in agenda."""
    now = clock.now()
    tomorrow = datetime.combine((now + timedelta(days=1)).date(), time(0), tzinfo=now.tzinfo)
    found = selectors.slots(kind, tomorrow, tomorrow + timedelta(days=5))
    booked = 0
    for n, slot in enumerate(found[::3][:len(PATIENTS) * 2]):
        name, phone = PATIENTS[n % len(PATIENTS)]
        try:
            services.appointment_book(
                actor=staff, kind=kind, start=slot.start,
                resource=Resource.objects.get(pk=slot.resource_id),
                booking=services.Booking(
                    contact=services.Contact(name=name, phone=phone),
                    answers={q: "Contrôle annuel" for q in kind.questions},
                    origin=Origin.SECRETARIAT if n % 3 else Origin.ONLINE,
                    consent_text="" if n % 3 else str(CONSENT_TEXT)))
        except DomainError:
            continue
        booked += 1
    return booked

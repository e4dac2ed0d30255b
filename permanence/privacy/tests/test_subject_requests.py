"""Data subjects' requests: the one-month deadline, the state machine, the export ZIP (contact
and whole account), the registry-driven erasure (idempotent, dry run = real run, invoices
untouched), the objection, and who may reach the pages."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from permanence.audit.models import AuditEvent
from permanence.billing.models_invoices import Invoice
from permanence.channels_sms.models import OptOut, Sms
from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.desk.models import Call
from permanence.inbox import services as inbox_services
from permanence.inbox.models import Attachment, Contact, Conversation, Message
from permanence.inbox.surveys.services import survey_wanted
from permanence.privacy import erasure, registry, requests
from permanence.privacy.models import SubjectExport, SubjectRequest
from permanence.privacy.scope import scope_of

PARIS = ZoneInfo("Europe/Paris")
PHONE = "+33612345678"


def _conversation(account: Any, email: str, body: str, filename: str) -> Conversation:
    return inbox_services.conversation_open(inbox_services.Incoming(
        account=account, channel="email", subject=f"Ordonnance {email}", body_text=body,
        contact_email=email, acknowledge=False,
        attachments=[SimpleUploadedFile(filename, b"%PDF-1.4 " + filename.encode())]))


@pytest.fixture
def people(account: Any, other_account: Any) -> dict[str, Any]:
    """Jean (the subject) and Paul (another contact of the same account), with a call and an
    SMS by Jean's number, and an invoice of the account with its PDF."""
    jean_conv = _conversation(account, "jean@exemple.fr", "Mon traitement contre X",
                              "ordonnance-jean.pdf")
    paul_conv = _conversation(account, "paul@exemple.fr", "Le message de Paul",
                              "ordonnance-paul.pdf")
    jean = Contact.objects.get(account=account, email="jean@exemple.fr")
    Contact.objects.filter(pk=jean.pk).update(name="Jean Dupont", phone=PHONE)
    jean.refresh_from_db()
    now = clock.now()
    call = Call.objects.create(call_id="c-jean", account=account, offered_at=now,
                               created_at=now, from_number=PHONE, caller_name="Jean Dupont",
                               message="Rappeler pour les résultats")
    Call.objects.create(call_id="c-other", account=other_account, offered_at=now,
                        created_at=now, from_number=PHONE, caller_name="Homonyme")
    sms = Sms.objects.create(direction="in", account=account, from_number=PHONE,
                             to_number="+33145000001", body="Je serai en retard",
                             encoding="gsm7", status="received", provider="file",
                             created_at=now)
    invoice = Invoice.objects.create(
        number="F2026-00001", account=account, issued_on=date(2026, 5, 31),
        due_on=date(2026, 6, 30), total_ht_cents=10000, total_vat_cents=2000,
        total_ttc_cents=12000, content_hash="0" * 64, created_at=now,
        buyer={"name": "Cabinet Martin", "email": "jean@exemple.fr"})
    invoice.pdf.save("F2026-00001.pdf", ContentFile(b"%PDF-1.4 facture"))
    return {"jean": jean, "jean_conv": jean_conv, "paul_conv": paul_conv, "call": call,
            "sms": sms, "invoice": invoice}


def _request(admin_user: Any, kind: str, **kw: Any) -> SubjectRequest:
    return requests.request_create(actor=admin_user, kind=kind, **kw)


# --- Deadline and transitions ------------------------------------------------------------

def test_the_deadline_is_one_month_the_last_day_of_a_shorter_month() -> None:
    assert requests.one_month_after(datetime(2026, 1, 31, 10, tzinfo=PARIS)).date() == date(
        2026, 2, 28)
    assert requests.one_month_after(datetime(2028, 1, 31, 10, tzinfo=PARIS)).date() == date(
        2028, 2, 29)
    assert requests.one_month_after(datetime(2026, 12, 15, 10, tzinfo=PARIS)).date() == date(
        2027, 1, 15)


def test_creation_sets_the_due_date_and_is_audited(admin_user: Any, people: dict[str, Any]) -> None:
    received = datetime(2026, 1, 31, 9, tzinfo=PARIS)
    r = _request(admin_user, "acces", target="contact", contact=people["jean"],
                 received_at=received)
    assert r.due_at.astimezone(PARIS).date() == date(2026, 2, 28)
    assert r.account_id == people["jean"].account_id
    assert AuditEvent.objects.filter(action="create", target_type="privacy.subjectrequest",
                                     target_id=str(r.pk)).exists()


def test_transitions_follow_the_table(admin_user: Any, people: dict[str, Any]) -> None:
    r = _request(admin_user, "rectification", target="contact", contact=people["jean"])
    r = requests.request_start(request=r, actor=admin_user)
    assert r.status == "en_cours" and r.handled_by == admin_user
    with pytest.raises(DomainError):
        requests.request_refuse(request=r, actor=admin_user, reason="  ")
    r = requests.request_rectify(request=r, actor=admin_user, changes="Nom corrigé")
    assert r.status == "executee" and r.executed_at is not None
    assert r.result == {"changes": "Nom corrigé"}
    with pytest.raises(DomainError) as exc:
        requests.request_refuse(request=r, actor=admin_user, reason="trop tard")
    assert exc.value.status == 409
    assert [(h.from_status, h.to_status) for h in r.history.all()] == [
        ("recue", "en_cours"), ("en_cours", "executee")]
    assert AuditEvent.objects.filter(target_type="privacy.subjectrequest",
                                     target_id=str(r.pk), action="update").count() == 2


# --- Exports ------------------------------------------------------------------------------

def _zip(export: SubjectExport) -> zipfile.ZipFile:
    return zipfile.ZipFile(default_storage.path(export.path))


def test_a_contacts_export_holds_json_csv_and_the_attachment_not_another_contact(
        admin_user: Any, people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    r = _request(admin_user, "acces", target="contact", contact=people["jean"])
    with django_capture_on_commit_callbacks(execute=True):
        export = requests.request_export(request=r, actor=admin_user)
    export.refresh_from_db()
    r.refresh_from_db()
    assert export.status == "prete" and len(export.sha256) == 64 and export.size > 0
    assert r.status == "executee"
    assert AuditEvent.objects.filter(action="export", target_id=str(r.pk)).exists()
    with _zip(export) as zf:
        names = set(zf.namelist())
        contacts = json.loads(zf.read("json/inbox.Contact.json"))
        messages = json.loads(zf.read("json/inbox.Message.json"))
        calls = json.loads(zf.read("json/desk.Call.json"))
        sms = json.loads(zf.read("json/channels_sms.Sms.json"))
        rows = list(csv.DictReader(io.StringIO(zf.read("csv/inbox.Message.csv").decode()),
                                   delimiter=";"))
        files = [n for n in names if n.startswith("fichiers/inbox.Attachment/")]
        attachment = zf.read(files[0]) if files else b""
    assert [c["email"] for c in contacts] == ["jean@exemple.fr"]
    assert [m["body_text"] for m in messages] == ["Mon traitement contre X"]
    assert rows[0]["body_text"] == "Mon traitement contre X" and "created_at" in rows[0]
    assert [c["id"] for c in calls] == [people["call"].pk]
    assert [s["body"] for s in sms] == ["Je serai en retard"]
    assert len(files) == 1 and files[0].endswith("ordonnance-jean.pdf")
    assert attachment == b"%PDF-1.4 ordonnance-jean.pdf"
    everything = b"".join(zf_read_all(export))
    assert b"paul@exemple.fr" not in everything and b"Homonyme" not in everything
    assert "json/billing.Invoice.json" not in names  # a contact's export: not the account's


def zf_read_all(export: SubjectExport) -> list[bytes]:
    with _zip(export) as zf:
        return [zf.read(n) for n in zf.namelist()]


def test_an_account_export_holds_every_row_of_that_account_only(
        admin_user: Any, client_user: Any, outsider_client: Any, people: dict[str, Any],
        account: Any, other_account: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = requests.client_export_request(actor=client_user, account=account)
    export = r.exports.get()
    assert export.status == "prete" and export.account_id == account.pk
    with _zip(export) as zf:
        names = set(zf.namelist())
        contacts = json.loads(zf.read("json/inbox.Contact.json"))
        invoices = json.loads(zf.read("json/billing.Invoice.json"))
        calls = json.loads(zf.read("json/desk.Call.json"))
        manifest = json.loads(zf.read("manifest.json"))
    assert {c["email"] for c in contacts} == {"jean@exemple.fr", "paul@exemple.fr"}
    assert [i["id"] for i in invoices] == [people["invoice"].pk]
    assert [c["caller_name"] for c in calls] == ["Jean Dupont"]  # not the other account's
    assert len([n for n in names if n.startswith("fichiers/inbox.Attachment/")]) == 2
    assert manifest["rows"]["accounts.ClientAccount"] == 1
    # The titulaire downloads it; another account's titulaire gets a 404.
    mine = Client()
    mine.force_login(client_user)
    response = mine.get(f"/espace/confidentialite/donnees/{export.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert b"Exports de vos donn" in mine.get("/espace/confidentialite/donnees/").content
    other = Client()
    other.force_login(outsider_client)
    assert other.get(f"/espace/confidentialite/donnees/{export.pk}/").status_code == 404


def test_an_export_file_is_deleted_once_past_its_keeping_time(
        admin_user: Any, client_user: Any, people: dict[str, Any], account: Any,
        settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.PRIVACY_EXPORT_KEEP_DAYS = 30
    with django_capture_on_commit_callbacks(execute=True):
        old_request = requests.client_export_request(actor=client_user, account=account)
    old = old_request.exports.get()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = requests.request_export(
            request=_request(admin_user, "acces", target="contact", contact=people["jean"]),
            actor=admin_user)
    fresh.refresh_from_db()
    SubjectExport.objects.filter(pk=old.pk).update(
        finished_at=clock.now() - timedelta(days=31))
    old_file = default_storage.path(old.path)
    assert default_storage.exists(old.path) and default_storage.exists(fresh.path)
    assert requests.exports_expire() == 1
    assert requests.exports_expire() == 0  # once
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "expiree" and fresh.status == "prete"
    assert not Path(old_file).exists() and default_storage.exists(fresh.path)
    assert AuditEvent.objects.filter(target_id=str(old.pk), actor_label="retention").exists()
    mine = Client()
    mine.force_login(client_user)
    assert mine.get(f"/espace/confidentialite/donnees/{old.pk}/").status_code == 404


# --- Erasure ------------------------------------------------------------------------------

def _texts(people: dict[str, Any]) -> list[str]:
    jean = Contact.objects.get(pk=people["jean"].pk)
    msg = Message.objects.get(conversation=people["jean_conv"], direction="in")
    call = Call.objects.get(pk=people["call"].pk)
    sms = Sms.objects.get(pk=people["sms"].pk)
    return [jean.name, jean.email, jean.phone, msg.body_text, msg.sender, call.from_number,
            call.caller_name, call.message, sms.from_number, sms.body]


def test_erasure_anonymises_everywhere_keeps_invoices_and_is_idempotent(
        admin_user: Any, people: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    invoice_before = Invoice.objects.values().get(pk=people["invoice"].pk)
    pdf_before = people["invoice"].pdf.read()
    attachment = Attachment.objects.get(message__conversation=people["jean_conv"])
    paul_file = Attachment.objects.get(message__conversation=people["paul_conv"]).file.name
    r = _request(admin_user, "effacement", target="contact", contact=people["jean"])
    preview = requests.erasure_preview(request=r)
    assert preview["inbox.Contact"] == 1 and preview["desk.Call"] == 1
    assert set(_texts(people)) >= {"Jean Dupont", PHONE}  # the dry run wrote nothing
    with django_capture_on_commit_callbacks(execute=True):  # the files go after the commit
        r = requests.request_erase(request=r, actor=admin_user)
    assert r.status == "executee" and r.result["erased"] == preview
    assert "channels_sms.OptOut" in r.result["kept"] and "10 ans" in r.result["notice"]
    texts = _texts(people)
    for secret in ("Jean Dupont", "jean@exemple.fr", PHONE, "Mon traitement",
                   "Rappeler pour", "Je serai en retard"):
        assert not any(secret in t for t in texts), secret
    jean = Contact.objects.get(pk=people["jean"].pk)
    assert jean.name == erasure.ERASED_NAME and jean.email == "" and jean.phone == ""
    body = Message.objects.get(conversation=people["jean_conv"], direction="in").body_text
    assert body == f"[contenu effacé le {clock.now().astimezone(PARIS):%d/%m/%Y}]"
    assert not default_storage.exists(attachment.file.name)
    assert default_storage.exists(paul_file)  # the other contact's file stays
    assert Message.objects.get(conversation=people["paul_conv"]).body_text == "Le message de Paul"
    assert Call.objects.get(call_id="c-other").caller_name == "Homonyme"
    assert Invoice.objects.values().get(pk=people["invoice"].pk) == invoice_before
    people["invoice"].pdf.open("rb")
    assert people["invoice"].pdf.read() == pdf_before
    assert AuditEvent.objects.filter(action="delete", target_id=str(r.pk)).exists()
    # A second run changes nothing.
    again = _request(admin_user, "effacement", target="contact", contact=jean)
    assert requests.erasure_preview(request=again) == {}
    assert erasure.erase(scope_of(again), request_id=again.pk, today=timezone.localdate(),
                         dry_run=False) == {}


def test_every_registered_contact_model_is_in_the_erasure_or_kept_by_law(admin_user: Any,
                                                                       people: Any) -> None:
    r = _request(admin_user, "effacement", target="contact", contact=people["jean"])
    scope = scope_of(r)
    kept = {e.model for e in erasure.kept_entries(scope)}
    for entry in registry.REGISTRY:
        if entry.subject in {registry.CONTACT, registry.PROSPECT}:
            assert erasure.erasable(entry) or entry.model in kept


# --- Objection ----------------------------------------------------------------------------

def test_objection_opts_the_number_out_of_sms_and_surveys(admin_user: Any,
                                                          people: dict[str, Any]) -> None:
    conv = people["jean_conv"]
    assert survey_wanted(conv)
    r = _request(admin_user, "opposition", target="contact", contact=people["jean"])
    r = requests.request_object(request=r, actor=admin_user)
    assert r.status == "executee" and r.result["sms_opt_out"] is True
    assert OptOut.objects.filter(account=conv.account, number=PHONE).exists()
    conv.contact.refresh_from_db()
    assert not survey_wanted(conv)


# --- Pages --------------------------------------------------------------------------------

def test_the_pages_for_administrators_only(client: Client, admin_user: Any, supervisor: Any,
                                           agent: Any, people: dict[str, Any],
                                           django_assert_max_num_queries: Any) -> None:
    r = _request(admin_user, "effacement", target="contact", contact=people["jean"])
    for user in (supervisor, agent):
        client.force_login(user)
        for url in ("/app/confidentialite/demandes/", "/app/confidentialite/demandes/nouvelle/",
                    f"/app/confidentialite/demandes/{r.pk}/"):
            assert client.get(url).status_code == 403, url
        assert client.post(f"/app/confidentialite/demandes/{r.pk}/action/",
                           {"action": "erase"}).status_code == 403
    r.refresh_from_db()
    assert r.status == "recue"
    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        page = client.get("/app/confidentialite/demandes/")
    assert page.status_code == 200 and r.reference.encode() in page.content
    detail = client.get(f"/app/confidentialite/demandes/{r.pk}/")
    assert b"inbox.Contact" in detail.content  # the dry run's counts


def test_a_late_request_is_highlighted(client: Client, admin_user: Any,
                                       people: dict[str, Any]) -> None:
    _request(admin_user, "acces", target="contact", contact=people["jean"],
             received_at=datetime(2020, 1, 2, 9, tzinfo=PARIS))
    client.force_login(admin_user)
    assert b"en retard" in client.get("/app/confidentialite/demandes/").content


def test_bad_input_gives_field_errors_not_500(client: Client, admin_user: Any,
                                              people: dict[str, Any], account: Any) -> None:
    client.force_login(admin_user)
    url = "/app/confidentialite/demandes/nouvelle/"
    response = client.post(url, {"kind": "acces", "target": "contact", "account": account.pk,
                                 "contact_lookup": "inconnu@exemple.fr"})
    assert response.status_code == 422
    assert "contact_lookup" in response.context["form"].errors
    response = client.post(url, {"kind": "nimporte", "target": "personne", "email": "x",
                                 "received_on": "2999-01-01", "account": "999999999999"})
    assert response.status_code == 422
    assert {"kind", "email", "account", "received_on"} <= set(response.context["form"].errors)
    response = client.post(url, {"kind": "effacement", "target": "contact",
                                 "account": account.pk, "contact_lookup": "06 12 34 56 78"})
    assert response.status_code == 302
    r = SubjectRequest.objects.get()
    assert r.contact_id == people["jean"].pk
    action = f"/app/confidentialite/demandes/{r.pk}/action/"
    assert client.post(action, {"action": "refuse", "reason": ""}).status_code == 302
    assert client.post(action, {"action": "bogus"}).status_code == 302
    assert client.post(action, {"action": "export"}).status_code == 302  # wrong kind
    r.refresh_from_db()
    assert r.status == "recue"

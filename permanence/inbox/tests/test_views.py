"""Inbox pages through the Django test client: list views, counts, filters, sort, unread
marker, constant query counts, access control, forms and their errors, attachments."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.inbox import services
from permanence.inbox.models import (
    Attachment,
    CannedReply,
    Channel,
    Conversation,
    Direction,
    Kind,
    Message,
    Priority,
    ReadMarker,
    Status,
)
from permanence.inbox.models_complaints import Complaint, ComplaintStep
from permanence.inbox.services import Incoming
from testkit import files

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=PARIS)  # a Monday
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=PARIS)
REF_RE = re.compile(r"D-\d{4}-\d{6}")


def open_conv(account: Any, at: datetime = T0, **extra: Any) -> Conversation:
    fields: dict[str, Any] = {"account": account, "channel": Channel.EMAIL,
                              "subject": "Demande", "body_text": "Bonjour",
                              "contact_email": "jean.dupont@exemple.fr",
                              "contact_name": "Jean Dupont"}
    fields.update(extra)
    with clock.frozen(at):
        return services.conversation_open(Incoming(**fields))


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str, at: datetime = NOW, **params: Any) -> Any:
    with clock.frozen(at):
        return client.get(url, params)


def post(client: Client, url: str, data: dict[str, Any], at: datetime = NOW) -> Any:
    with clock.frozen(at):
        return client.post(url, data)


def text(response: Any) -> str:
    """The page's HTML with entities decoded (apostrophes are escaped)."""
    return html.unescape(response.content.decode())


def refs(response: Any) -> list[str]:
    """References of the listed rows, in order."""
    body = text(response)
    table = body[body.index("<tbody>"):body.index("</tbody>")] if "<tbody>" in body else ""
    return list(dict.fromkeys(REF_RE.findall(table)))


def row_classes(response: Any, reference: str) -> list[str]:
    for row in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', text(response), re.S):
        if reference in row[1]:
            return row[0].split()
    raise AssertionError(f"{reference} not listed")


@pytest.fixture
def inbox(account: Any, other_account: Any, agent: Any) -> dict[str, Conversation]:
    """At NOW (Monday 15:00): one of the agent's, one urgent unassigned due at 18:00, one
    breached, one closed, one in another account."""
    mine = open_conv(account, subject="Rendez-vous", channel=Channel.WEBFORM,
                     contact_email="marie@exemple.fr")
    services.conversation_assign(actor=agent, conversation=mine, assignee=agent)
    urgent = open_conv(account, T0 + timedelta(hours=1), subject="Fuite d'eau",
                       priority=Priority.URGENT, kind=Kind.SUPPORT)
    late = open_conv(account, datetime(2026, 10, 26, 9, 0, tzinfo=PARIS), subject="Facture")
    closed = open_conv(account, subject="Ancien dossier")
    with clock.frozen(T0):
        services.conversation_set_status(actor=agent, conversation=closed, status=Status.CLOSED)
    foreign = open_conv(other_account, subject="Ailleurs")
    return {"mine": mine, "urgent": urgent, "late": late, "closed": closed,
            "foreign": foreign}


# --- Lists, counts, filters, sort --------------------------------------------------------------


def test_views_and_counts(inbox: dict[str, Conversation], agent: Any) -> None:
    client = login(agent)
    r = {k: v.reference for k, v in inbox.items()}
    response = get(client, "/app/boite/")
    assert response.status_code == 200
    assert response.context["counts"] == {"open": 3, "mine": 1, "unassigned": 2, "due_soon": 1,
                                          "breached": 1}
    body = text(response)
    assert re.search(r'Mes dossiers <span class="count">1</span>', body)
    assert re.search(r'Non attribués <span class="count">2</span>', body)
    # Default view: open conversations, by due date (breached first).
    assert refs(response) == [r["late"], r["urgent"], r["mine"]]
    expected = {"mine": [r["mine"]], "unassigned": [r["late"], r["urgent"]],
                "due_soon": [r["urgent"]], "breached": [r["late"]],
                "open": [r["late"], r["urgent"], r["mine"]],
                "all": [r["late"], r["urgent"], r["mine"], r["closed"]]}
    for view, listed in expected.items():
        assert refs(get(client, "/app/boite/", view=view)) == listed, view
    assert r["foreign"] not in body
    # An unknown view falls back to the open conversations.
    assert refs(get(client, "/app/boite/", view="secret")) == expected["open"]


def test_filters(inbox: dict[str, Conversation], agent: Any, supervisor: Any,
                 other_account: Any, account: Any) -> None:
    client = login(agent)
    r = {k: v.reference for k, v in inbox.items()}
    assert refs(get(client, "/app/boite/", channel="formulaire")) == [r["mine"]]
    assert refs(get(client, "/app/boite/", kind="assistance")) == [r["urgent"]]
    assert refs(get(client, "/app/boite/", view="all", status="clos")) == [r["closed"]]
    assert refs(get(client, "/app/boite/", assignee=str(agent.pk))) == [r["mine"]]
    assert refs(get(client, "/app/boite/", q="fuite")) == [r["urgent"]]
    assert refs(get(client, "/app/boite/", q=r["late"])) == [r["late"]]
    assert refs(get(client, "/app/boite/", account=str(other_account.pk))) == []
    assert refs(get(client, "/app/boite/", account="abc")) == []
    boss = login(supervisor)
    assert refs(get(boss, "/app/boite/", account=str(other_account.pk))) == [r["foreign"]]
    assert len(refs(get(boss, "/app/boite/", account=str(account.pk)))) == 3


def test_sort_orders(inbox: dict[str, Conversation], agent: Any) -> None:
    client = login(agent)
    r = {k: v.reference for k, v in inbox.items()}
    assert refs(get(client, "/app/boite/", sort="recent")) == [r["urgent"], r["mine"],
                                                              r["late"]]
    assert refs(get(client, "/app/boite/", sort="oldest")) == [r["late"], r["mine"],
                                                              r["urgent"]]
    assert refs(get(client, "/app/boite/", sort="priority"))[0] == r["urgent"]
    # Conversations without a due date (paused) come last when sorting by due date.
    with clock.frozen(NOW):
        services.conversation_set_status(actor=agent, conversation=inbox["late"],
                                         status=Status.PENDING_CUSTOMER)
    assert refs(get(client, "/app/boite/"))[-1] == r["late"]
    assert "en pause" in text(get(client, "/app/boite/"))


def test_htmx_request_renders_only_the_results(inbox: dict[str, Conversation],
                                               agent: Any) -> None:
    with clock.frozen(NOW):
        response = login(agent).get("/app/boite/", {"q": "fuite"}, HTTP_HX_REQUEST="true")
    body = text(response)
    assert "<html" not in body and "<table" in body
    assert inbox["urgent"].reference in body


def test_unread_marker(inbox: dict[str, Conversation], agent: Any, supervisor: Any) -> None:
    client = login(agent)
    urgent = inbox["urgent"]
    assert "unread" in row_classes(get(client, "/app/boite/"), urgent.reference)
    assert get(client, f"/app/boite/{urgent.pk}/").status_code == 200
    listing = get(client, "/app/boite/")
    assert "unread" not in row_classes(listing, urgent.reference)
    assert "unread" in row_classes(listing, inbox["late"].reference)
    # Read for this agent only.
    assert "unread" in row_classes(get(login(supervisor), "/app/boite/"), urgent.reference)
    # A new message from the customer makes it unread again.
    with clock.frozen(NOW + timedelta(minutes=5)):
        services.message_add_inbound(urgent, Incoming(account=urgent.account,
                                                      channel=Channel.EMAIL, subject="Re",
                                                      body_text="L'eau monte !"))
    later = NOW + timedelta(minutes=6)
    assert "unread" in row_classes(get(client, "/app/boite/", at=later), urgent.reference)
    get(client, f"/app/boite/{urgent.pk}/fil/", at=later)  # the live-refreshed timeline
    assert "unread" not in row_classes(get(client, "/app/boite/", at=later), urgent.reference)
    assert ReadMarker.objects.filter(user=agent).count() == 1


# --- Constant query counts ------------------------------------------------------------------


def many(account: Any, agent: Any, n: int) -> None:
    for i in range(n):
        c = open_conv(account, T0 + timedelta(minutes=i), subject=f"Demande {i}",
                      contact_email=f"contact{i}@exemple.fr")
        if i % 2:
            Conversation.objects.filter(pk=c.pk).update(assignee=agent)


def count_queries(client: Client, url: str, **params: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx, clock.frozen(NOW):
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


LIST_VIEWS = {"open": (5, 40), "mine": (2, 19), "unassigned": (3, 21), "all": (5, 40)}


def test_list_query_count_does_not_grow(account: Any, agent: Any) -> None:
    client = login(agent)
    many(account, agent, 5)
    count_queries(client, "/app/boite/")  # warm-up (session, caches)

    def measure(index: int) -> dict[str, int]:
        counts = {}
        for view, listed in LIST_VIEWS.items():
            counts[view], response = count_queries(client, "/app/boite/", view=view,
                                                   sort="recent")
            assert len(refs(response)) == listed[index], view
        return counts

    few = measure(0)
    many(account, agent, 35)
    assert measure(1) == few


def test_conversation_page_query_count_does_not_grow(account: Any, agent: Any,
                                                     other_agent: Any, supervisor: Any) -> None:
    client = login(agent)
    target = open_conv(account)
    source = open_conv(account, subject="Doublon")

    def add_messages(n: int) -> None:
        for i in range(n):
            at = T0 + timedelta(minutes=i + 1)
            with clock.frozen(at):
                services.message_add_inbound(target, Incoming(
                    account=account, channel=Channel.EMAIL, subject="Re", body_text=f"m{i}",
                    contact_email=f"autre{i}@exemple.fr",
                    attachments=[(f"piece{i}.pdf", b"%PDF-1.4 test")]))
                services.conversation_reply(actor=agent, conversation=target, body=f"r{i}")
                services.conversation_add_note(actor=supervisor, conversation=target,
                                               body=f"note {i}")
                services.message_add_inbound(source, Incoming(
                    account=account, channel=Channel.EMAIL, subject="Re", body_text=f"s{i}"))

    add_messages(2)
    services.conversation_merge(actor=agent, source=source, target=target,
                                inform_customer=False)
    url = f"/app/boite/{target.pk}/"
    count_queries(client, url)
    few, response = count_queries(client, url)
    assert text(response).count('class="msg msg-') == 2 * 4 + 2
    add_messages(15)
    lots, response = count_queries(client, url)
    assert text(response).count('class="msg msg-') == 17 * 4 + 2
    assert "piece14.pdf" in text(response)
    assert lots == few
    # The timeline fragment too.
    few_fragment, _ = count_queries(client, f"/app/boite/{target.pk}/fil/")
    add_messages(3)
    assert count_queries(client, f"/app/boite/{target.pk}/fil/")[0] == few_fragment


# --- Access control ------------------------------------------------------------------------------


def test_agent_of_another_account_gets_404(inbox: dict[str, Conversation], account: Any,
                                           other_agent: Any) -> None:
    c = inbox["urgent"]
    message = c.messages.get(direction=Direction.IN)
    Complaint.objects.create(conversation=c, received_at=c.created_at)
    attachment = services.conversation_reply(
        actor=c.account.assigned_agents.first(), conversation=c, body="Voir pièce jointe",
        attachments=[("devis.pdf", b"%PDF-1.4")]).attachments.get()
    client = login(other_agent)
    base = f"/app/boite/{c.pk}/"
    assert get(client, base).status_code == 404
    assert get(client, base + "fil/").status_code == 404
    assert get(client, f"/app/boite/piece-jointe/{attachment.pk}/").status_code == 404
    for url, data in [("repondre/", {"body": "Intrus"}), ("note/", {"body": "Intrus"}),
                      ("statut/", {"status": "clos"}), ("attribuer/", {"assignee": ""}),
                      ("qualifier/", {"subject": "x", "priority": "basse", "kind": "question"}),
                      ("fusionner/", {"target": inbox["mine"].reference}),
                      ("reclamation/analyse/", {"facts": "x", "urgency": "basse",
                                                "impact": "faible"})]:
        assert post(client, base + url, data).status_code == 404, url
    assert post(client, f"/app/boite/message/{message.pk}/scinder/", {}).status_code == 404
    assert post(client, "/app/boite/groupe/", {"action": "close",
                                              "ids": str(c.pk)}).status_code == 404
    c.refresh_from_db()
    assert c.status == Status.OPEN and c.messages.filter(direction=Direction.OUT).count() == 1
    assert not c.messages.filter(direction=Direction.NOTE).exists()


def test_billing_reads_but_cannot_work(inbox: dict[str, Conversation], billing: Any,
                                       client_user: Any) -> None:
    c = inbox["urgent"]
    client = login(billing)
    page = get(client, f"/app/boite/{c.pk}/")
    assert page.status_code == 200
    assert "Envoyer la réponse" not in text(page)
    assert post(client, f"/app/boite/{c.pk}/repondre/", {"body": "Bonjour"}).status_code == 403
    assert post(client, f"/app/boite/{c.pk}/note/", {"body": "Note"}).status_code == 403
    assert not c.messages.exclude(direction=Direction.IN).exclude(
        direction=Direction.SYSTEM).exists()
    assert get(login(client_user), "/app/boite/").status_code == 403
    assert get(login(client_user), f"/app/boite/{c.pk}/").status_code == 403
    assert Client().get("/app/boite/").status_code == 302


# --- Forms on the conversation page -------------------------------------------------------------


def test_reply_form(inbox: dict[str, Conversation], agent: Any,
                    django_capture_on_commit_callbacks: Any) -> None:
    c = inbox["urgent"]
    client = login(agent)
    url = f"/app/boite/{c.pk}/repondre/"
    empty = post(client, url, {"body": ""})
    assert empty.status_code == 422
    assert '<p class="error" role="alert">Ce champ est obligatoire.</p>' in (
        text(empty))
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.7 plan", content_type="application/pdf")
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=True):
        ok = client.post(url, {"body": "Un plombier arrive.", "status_after": "attente_client",
                               "attachments": [upload]})
    assert ok.status_code == 302 and ok["Location"] == f"/app/boite/{c.pk}/"
    c.refresh_from_db()
    # Sent (the worker ran after commit): only then the first response counts.
    assert (c.status, c.assignee, c.first_response_at) == (Status.PENDING_CUSTOMER, agent, NOW)
    [reply] = c.messages.filter(direction=Direction.OUT)
    assert reply.body_text.startswith("Un plombier arrive.\n\n— ")
    assert [a.filename for a in reply.attachments.all()] == ["plan.pdf"]
    page = text(get(client, f"/app/boite/{c.pk}/"))
    assert "Réponse envoyée." not in page  # what happened: queued, then sent
    assert "Réponse mise en file d&#x27;envoi vers" in page or (
        "Réponse mise en file d'envoi vers" in page)
    # A closed conversation: 409 and the reason on the page.
    with clock.frozen(NOW):
        services.conversation_set_status(actor=agent, conversation=c, status=Status.CLOSED)
    closed = post(client, url, {"body": "Encore une chose"})
    assert closed.status_code == 409
    assert "Ce dossier est clos : rouvrez-le pour répondre." in text(closed)


def test_note_status_assign_qualify_forms(inbox: dict[str, Conversation], agent: Any,
                                          other_agent: Any) -> None:
    c = inbox["urgent"]
    client = login(agent)
    base = f"/app/boite/{c.pk}/"
    assert post(client, base + "note/", {"body": ""}).status_code == 422
    assert post(client, base + "note/", {"body": "Rappeler"}).status_code == 302
    assert c.messages.filter(direction=Direction.NOTE, body_text="Rappeler").exists()
    assert post(client, base + "statut/", {"status": "ouvert"}).status_code == 302
    c.refresh_from_db()
    assert c.status == Status.OPEN
    bad = post(client, base + "statut/", {"status": "nouveau"})  # ouvert → nouveau: refused
    assert bad.status_code == 409
    assert "Passage de « Ouvert » à « Nouveau » impossible." in text(bad)
    foreign = post(client, base + "attribuer/", {"assignee": str(other_agent.pk)})
    assert foreign.status_code == 422
    assert "Cette personne ne travaille pas pour ce compte." in text(foreign)
    assert post(client, base + "attribuer/", {"assignee": "999999"}).status_code == 404
    assert post(client, base + "attribuer/", {"assignee": str(agent.pk)}).status_code == 302
    c.refresh_from_db()
    assert c.assignee == agent
    invalid = post(client, base + "qualifier/", {"subject": "Fuite", "priority": "extreme",
                                                 "kind": "question"})
    assert invalid.status_code == 422
    assert "Sélectionnez un choix valide" in text(invalid)
    ok = post(client, base + "qualifier/", {"subject": "Fuite d'eau (cuisine)",
                                            "priority": "haute", "kind": "assistance",
                                            "motif": "information", "tags": "plomberie, Urgent"})
    assert ok.status_code == 302
    c.refresh_from_db()
    assert (c.subject, c.priority, c.motif) == ("Fuite d'eau (cuisine)", "haute", "information")
    assert sorted(c.tags.values_list("name", flat=True)) == ["plomberie", "urgent"]


def test_merge_and_split_forms(inbox: dict[str, Conversation], agent: Any,
                               other_agent: Any) -> None:
    client = login(agent)
    source, target = inbox["urgent"], inbox["mine"]
    unknown = post(client, f"/app/boite/{source.pk}/fusionner/", {"target": "D-2026-999999"})
    assert unknown.status_code == 422
    assert "Aucun dossier visible avec cette référence." in text(unknown)
    invisible = post(client, f"/app/boite/{source.pk}/fusionner/",
                     {"target": inbox["foreign"].reference})
    assert invisible.status_code == 422
    itself = post(client, f"/app/boite/{source.pk}/fusionner/", {"target": source.reference})
    assert itself.status_code == 422
    assert "Choisissez un autre dossier." in text(itself)
    ok = post(client, f"/app/boite/{source.pk}/fusionner/",
              {"target": target.reference.lower()})
    assert ok.status_code == 302 and ok["Location"] == f"/app/boite/{target.pk}/"
    # An old link to the merged source leads to its target (for those who may see it).
    old_link = get(client, f"/app/boite/{source.pk}/")
    assert old_link.status_code == 302 and old_link["Location"] == f"/app/boite/{target.pk}/"
    assert get(login(other_agent), f"/app/boite/{source.pk}/").status_code == 404
    assert source.reference not in text(get(client, "/app/boite/"))
    html = get(client, f"/app/boite/{target.pk}/").content.decode()
    page = text(get(client, f"/app/boite/{target.pk}/"))
    assert f"dossier {source.reference} fusionné ici" in page
    # The source's messages carry its reference on the target's timeline.
    assert f'<span class="badge">{source.reference}</span>' in html
    # Split: a second inbound message goes to a new conversation.
    with clock.frozen(NOW):
        second = services.message_add_inbound(target, Incoming(
            account=target.account, channel=Channel.EMAIL, subject="Autre sujet",
            body_text="Et ma facture ?"))
    response = post(client, f"/app/boite/message/{second.pk}/scinder/", {})
    new = Conversation.objects.get(messages=second)
    assert new.pk != target.pk
    assert response["Location"] == f"/app/boite/{new.pk}/"


def test_a_reply_with_a_refused_file_is_a_field_error_and_sends_nothing(
        inbox: dict[str, Conversation], agent: Any) -> None:
    c = inbox["urgent"]
    client = login(agent)
    bomb = SimpleUploadedFile("tarifs.zip", files.zip_bomb(5), content_type="application/zip")
    response = client.post(f"/app/boite/{c.pk}/repondre/", {"body": "Voici nos tarifs.",
                                                            "attachments": [bomb]})
    assert response.status_code == 422
    assert ("L'archive « tarifs.zip » est refusée : une fois décompressée, elle serait "
            "excessive") in text(response)
    assert not c.messages.filter(direction=Direction.OUT).exists()
    assert not Attachment.objects.exists()


def test_a_refused_file_reaching_the_service_is_a_4xx_with_the_field_named(
        inbox: dict[str, Conversation], agent: Any) -> None:
    # The service checks again (the gateway, the chat and the API reach it without a form).
    with pytest.raises(DomainError) as caught:
        services.conversation_reply(actor=agent, conversation=inbox["urgent"], body="Voici.",
                                    attachments=[("plan.pdf", files.HTML_PAGE)])
    assert (caught.value.code, caught.value.status) == ("mismatch", 415)
    assert list(caught.value.fields) == ["attachments"]
    assert not inbox["urgent"].messages.filter(direction=Direction.OUT).exists()


def test_canned_replies_are_shown_as_text_never_as_html(
        inbox: dict[str, Conversation], agent: Any) -> None:
    c = inbox["urgent"]
    CannedReply.objects.create(
        account=c.account, title='<img src=x onerror="alert(1)">Horaires',
        body='Bonjour {contact}, <script>alert(2)</script><b onmouseover="alert(3)">ici</b>')
    page = get(login(agent), f"/app/boite/{c.pk}/").content.decode()
    assert "<script>alert(2)</script>" not in page
    assert 'onerror="alert(1)"' not in page and '<b onmouseover' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Horaires" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # in data-canned, as text


def test_attachment_download_is_never_inline(account: Any, agent: Any) -> None:
    # An inert page is kept (a script would be refused: core.uploads), but never rendered.
    c = open_conv(account, attachments=[("page.html", b"<html><b>Bonjour</b></html>"),
                                        ("scan.pdf", b"%PDF-1.4 scan")])
    html_file = Attachment.objects.get(filename="page.html")
    assert html_file.content_type == "application/octet-stream"
    client = login(agent)
    response = get(client, f"/app/boite/piece-jointe/{html_file.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="page.html"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"<html><b>Bonjour</b></html>"
    pdf = get(client, f"/app/boite/piece-jointe/{Attachment.objects.get(filename='scan.pdf').pk}/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert get(client, "/app/boite/piece-jointe/999999/").status_code == 404
    assert c.messages.get(direction=Direction.IN).attachments.count() == 2


# --- Complaint steps and phone messages -------------------------------------------------------


def test_complaint_step_forms(account: Any, agent: Any) -> None:
    c = open_conv(account, kind=Kind.COMPLAINT, subject="Colis cassé")
    client = login(agent)
    base = f"/app/boite/{c.pk}/reclamation/"
    page = text(get(client, f"/app/boite/{c.pk}/"))
    assert "Valider l'analyse" in page and 'name="facts"' in page
    # Out of order: nothing changes, the reason is shown.
    response = post(client, base + "cloture/", {"customer_satisfied": "1"})
    assert response.status_code == 302
    assert Complaint.objects.get(conversation=c).step == ComplaintStep.RECEPTION
    assert "Cette étape n'est pas disponible" in text(get(client, f"/app/boite/{c.pk}/"))
    # Invalid input.
    post(client, base + "analyse/", {"facts": "", "urgency": "haute", "impact": "fort"})
    assert Complaint.objects.get(conversation=c).step == ComplaintStep.RECEPTION
    assert "Faits vérifiés : Ce champ est obligatoire." in text(get(
        client, f"/app/boite/{c.pk}/"))
    assert post(client, base + "inconnue/", {}).status_code == 404
    # The three steps.
    post(client, base + "analyse/", {"facts": "Carton écrasé", "urgency": "haute",
                                     "impact": "fort"})
    assert "Valider le traitement" in text(get(client, f"/app/boite/{c.pk}/"))
    post(client, base + "traitement/", {"resolution": "geste_commercial",
                                        "details": "Remboursement du port",
                                        "promised_date": "2026-11-20",
                                        "notify_customer": "on"})
    post(client, base + "cloture/", {"customer_satisfied": "0", "comment": "Déçu"})
    complaint = Complaint.objects.get(conversation=c)
    assert complaint.closed_at == NOW and complaint.closed_by == agent
    assert complaint.customer_satisfied is False
    assert complaint.promised_date == date(2026, 11, 20)
    reply = c.messages.get(direction=Direction.OUT)
    assert "vendredi 20 novembre 2026" in reply.body_text
    page = text(get(client, f"/app/boite/{c.pk}/"))
    assert "client satisfait : non" in page
    assert 'name="facts"' not in page
    c.refresh_from_db()
    assert c.status == Status.CLOSED
    # A plain conversation has no complaint steps.
    plain = open_conv(account)
    assert post(client, f"/app/boite/{plain.pk}/reclamation/analyse/", {}).status_code == 404


def test_phone_message_form(account: Any, other_account: Any, agent: Any) -> None:
    client = login(agent)
    page = get(client, "/app/boite/appel/", account=str(account.pk))
    assert page.status_code == 200
    body = text(page)
    assert "Cabinet Martin" in body and "Durand Avocats" not in body
    data = {"account": str(account.pk), "caller_name": "Mme Leroy",
            "caller_phone": "01 23", "reason": "Rendez-vous", "message": "Rappeler",
            "urgent": "on"}
    bad_phone = post(client, "/app/boite/appel/", data)
    assert bad_phone.status_code == 422
    assert "Numéro de téléphone invalide" in text(bad_phone)
    missing = post(client, "/app/boite/appel/", {**data, "caller_phone": "", "message": ""})
    assert missing.status_code == 422
    assert "Ce champ est obligatoire." in text(missing)
    elsewhere = post(client, "/app/boite/appel/", {**data, "caller_phone": "0612345678",
                                                   "account": str(other_account.pk)})
    assert elsewhere.status_code == 422
    assert "Compte client introuvable." in text(elsewhere)
    assert not Conversation.objects.exists()
    ok = post(client, "/app/boite/appel/", {**data, "caller_phone": "06 12 34 56 78"})
    c = Conversation.objects.get()
    assert ok["Location"] == f"/app/boite/{c.pk}/"
    assert (c.kind, c.priority, c.channel, c.contact.phone) == (
        Kind.PHONE_MESSAGE, Priority.URGENT, Channel.PHONE, "+33612345678")
    assert c.subject == "Rendez-vous"
    assert Message.objects.get(conversation=c, direction=Direction.IN).author == agent


def test_bulk_form(inbox: dict[str, Conversation], agent: Any) -> None:
    client = login(agent)
    ids = f"{inbox['urgent'].pk},{inbox['late'].pk}"
    response = post(client, "/app/boite/groupe/", {"action": "tag", "ids": ids,
                                                   "tag": "relance", "next": "/app/boite/"})
    assert response.status_code == 302
    assert sorted(Conversation.objects.filter(tags__name="relance").values_list(
        "pk", flat=True)) == sorted([inbox["urgent"].pk, inbox["late"].pk])
    post(client, "/app/boite/groupe/", {"action": "assign", "ids": ids,
                                        "assignee": str(agent.pk)})
    assert set(Conversation.objects.filter(pk__in=[inbox["urgent"].pk, inbox["late"].pk])
               .values_list("assignee", flat=True)) == {agent.pk}
    post(client, "/app/boite/groupe/", {"action": "close", "ids": ids})
    assert Conversation.objects.filter(status=Status.CLOSED).count() == 3
    bad = post(client, "/app/boite/groupe/", {"action": "close", "ids": "1,x"})
    assert bad.status_code == 302
    assert "Sélection invalide." in text(get(client, "/app/boite/"))

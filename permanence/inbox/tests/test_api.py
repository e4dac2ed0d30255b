"""The conversations API (/api/v1/conversations…): permissions per role, filters, pagination,
constant query counts, writes through the inbox services, JSON errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.accounts.models import ClientAccount
from permanence.inbox import services
from permanence.inbox.models import Contact, Conversation, Message, Tag

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations"
ALL_ROLES = ["admin_user", "supervisor", "agent", "other_agent", "billing", "client_user",
             "outsider_client"]
WORKERS = {"admin_user", "supervisor", "agent"}  # may write on `account`
HIDDEN = {"other_agent", "outsider_client"}  # cannot see `account` at all


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return client.generic(method, url, raw, content_type="application/json")


def ids(response: Any) -> set[int]:
    return {item["id"] for item in response.json()["items"]}


def assert_json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "errors"}
    return body


def open_conversation(account: ClientAccount, subject: str = "Demande de rappel", *,
                      body: str = "Merci de me rappeler.", email: str = "jean@exemple.fr",
                      **extra: Any) -> Conversation:
    return services.conversation_open(services.Incoming(
        account=account, channel=extra.pop("channel", "email"), subject=subject,
        body_text=body, contact_name=extra.pop("contact_name", "Jean Dupont"),
        contact_email=email, acknowledge=False, **extra))


@pytest.fixture
def conv(account: Any) -> Conversation:
    return open_conversation(account)


@pytest.fixture
def other_conv(other_account: Any) -> Conversation:
    return open_conversation(other_account, "Question tarifaire", email="zoe@exemple.fr")


# --- Authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("GET", ""), ("POST", ""), ("GET", "/{pk}"), ("PATCH", "/{pk}"),
    ("POST", "/{pk}/messages"), ("POST", "/{pk}/merge"),
])
def test_anonymous_is_401_json(conv: Conversation, method: str, path: str) -> None:
    body = assert_json_error(send(Client(), method, URL + path.format(pk=conv.pk), {}), 401)
    assert body["code"] == "unauthorized"


# --- Listing: who sees what --------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sees"), [
    ("admin_user", {"conv", "other_conv"}),
    ("supervisor", {"conv", "other_conv"}),
    ("billing", {"conv", "other_conv"}),
    ("agent", {"conv"}),
    ("other_agent", {"other_conv"}),
    ("client_user", {"conv"}),
    ("outsider_client", {"other_conv"}),
])
def test_list_shows_only_visible_conversations(request: Any, api_client_for: Any,
                                               conv: Conversation, other_conv: Conversation,
                                               role: str, sees: set[str]) -> None:
    response = api_client_for(request.getfixturevalue(role)).get(URL)
    assert response.status_code == 200, response.content
    assert ids(response) == {request.getfixturevalue(name).pk for name in sees}
    assert response.json()["count"] == len(sees)


def test_list_item_shape(api_client_for: Any, agent: Any, account: Any,
                         conv: Conversation) -> None:
    services.conversation_update(actor=agent, conversation=conv, data={"category": "technique"},
                                 tags=["Urgent", "rappel"])
    [item] = api_client_for(agent).get(URL).json()["items"]
    assert {"id", "reference", "account", "subject", "channel", "status", "priority", "kind",
            "category", "motif", "tags", "assignee", "contact", "first_response_due_at",
            "next_response_due_at", "resolution_due_at", "created_at",
            "updated_at"} <= set(item)
    assert "messages" not in item
    contact = Contact.objects.get(email="jean@exemple.fr")
    assert item["contact"] == {"id": contact.pk, "name": "Jean Dupont",
                               "email": "jean@exemple.fr", "phone": ""}
    assert (item["account"], item["reference"], item["subject"]) == (
        account.pk, conv.reference, "Demande de rappel")
    assert (item["channel"], item["status"], item["priority"], item["kind"]) == (
        "email", "nouveau", "normale", "question")
    assert (item["category"], item["motif"]) == ("technique", "")
    assert item["tags"] == ["rappel", "urgent"]
    assert item["assignee"] is None
    assert item["first_response_due_at"] and item["resolution_due_at"]


def test_merged_conversations_are_not_listed(api_client_for: Any, agent: Any, account: Any,
                                             conv: Conversation) -> None:
    target = open_conversation(account, "Autre demande")
    services.conversation_merge(actor=agent, source=conv, target=target, inform_customer=False)
    assert ids(api_client_for(agent).get(URL)) == {target.pk}


# --- Filters -------------------------------------------------------------------------------------


@pytest.fixture
def inbox(account: Any, other_account: Any, agent: Any, supervisor: Any) -> dict[str, Any]:
    made = {
        "email": open_conversation(account, "Facture impayée", body="Ma facture de mars."),
        "phone": open_conversation(account, "Appel du cabinet", channel="telephone",
                                   kind="message_telephonique", email="",
                                   contact_phone="+33612345678"),
        "quote": open_conversation(account, "Devis cuisine", channel="formulaire",
                                   kind="demande_devis", email="marie@exemple.fr"),
        "other": open_conversation(other_account, "Facture d'avril", email="zoe@exemple.fr"),
    }
    services.conversation_set_status(actor=agent, conversation=made["quote"], status="resolu")
    services.conversation_assign(actor=supervisor, conversation=made["email"], assignee=agent)
    return made


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"email", "phone", "quote", "other"}),
    ("status=nouveau", {"email", "phone", "other"}),
    ("status=resolu", {"quote"}),
    ("channel=telephone", {"phone"}),
    ("channel=formulaire&status=resolu", {"quote"}),
    ("kind=demande_devis", {"quote"}),
    ("kind=question", {"email", "other"}),
    ("account={account}", {"email", "phone", "quote"}),
    ("account={other_account}", {"other"}),
    ("account=999999", set()),
    ("assignee={agent}", {"email"}),
    ("assignee=999999", set()),
    ("account={account}&status=nouveau&channel=email", {"email"}),
    ("q=facture", {"email", "other"}),
    ("q=cuisine", {"quote"}),
    ("q=facture&account={other_account}", {"other"}),
    ("q=marie@exemple.fr", {"quote"}),
    ("q=introuvable", set()),
])
def test_list_filters(api_client_for: Any, admin_user: Any, account: Any, other_account: Any,
                      agent: Any, inbox: dict[str, Any], query: str, expected: set[str]) -> None:
    query = query.format(account=account.pk, other_account=other_account.pk, agent=agent.pk)
    response = api_client_for(admin_user).get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    assert ids(response) == {inbox[name].pk for name in expected}
    assert response.json()["count"] == len(expected)


def test_filters_never_widen_what_a_user_sees(api_client_for: Any, agent: Any,
                                              client_user: Any, other_account: Any,
                                              inbox: dict[str, Any]) -> None:
    for user in (agent, client_user):
        client = api_client_for(user)
        assert ids(client.get(f"{URL}?account={other_account.pk}")) == set()
        assert ids(client.get(f"{URL}?q=avril")) == set()
        assert inbox["other"].pk not in ids(client.get(f"{URL}?status=nouveau"))


@pytest.mark.parametrize("query", ["status=ouverte", "channel=fax", "kind=autre", "sort=x",
                                   "limit=0", "limit=201", "offset=-1", "limit=abc",
                                   "account=abc", "assignee=moi"])
def test_invalid_filters_are_422(api_client_for: Any, agent: Any, query: str) -> None:
    body = assert_json_error(api_client_for(agent).get(f"{URL}?{query}"), 422)
    assert body["errors"]


@pytest.mark.parametrize("sort", ["recent", "due", "oldest", "priority"])
def test_every_sort_order_works(api_client_for: Any, agent: Any, inbox: dict[str, Any],
                                sort: str) -> None:
    response = api_client_for(agent).get(f"{URL}?sort={sort}")
    assert response.status_code == 200
    assert response.json()["count"] == 3


# --- Pagination and query counts ---------------------------------------------------------------


def _many(account: Any, agent: Any, n: int) -> list[Conversation]:
    made = [open_conversation(account, f"Demande {i:02d}", email=f"c{i}@exemple.fr")
            for i in range(n)]
    urgent, vip = Tag.objects.create(name="urgent"), Tag.objects.create(name="vip")
    for i, conversation in enumerate(made):
        conversation.tags.add(urgent, *([vip] if i % 2 else []))
    Conversation.objects.filter(pk__in=[c.pk for c in made[::2]]).update(assignee=agent)
    return made


def test_pagination(api_client_for: Any, agent: Any, account: Any) -> None:
    _many(account, agent, 12)
    client = api_client_for(agent)
    first = client.get(f"{URL}?limit=5&sort=oldest").json()
    assert (first["count"], first["limit"], first["offset"]) == (12, 5, 0)
    assert [c["subject"] for c in first["items"]] == [f"Demande {i:02d}" for i in range(5)]
    last = client.get(f"{URL}?limit=5&offset=10&sort=oldest").json()
    assert [c["subject"] for c in last["items"]] == ["Demande 10", "Demande 11"]
    beyond = client.get(f"{URL}?offset=50").json()
    assert beyond["items"] == [] and beyond["count"] == 12
    default = client.get(URL).json()
    assert default["limit"] == 50 and len(default["items"]) == 12
    # Pages never overlap nor skip anything, whatever the ties in the sort key.
    seen = [c["id"] for off in range(0, 12, 5)
            for c in client.get(f"{URL}?limit=5&offset={off}&sort=due").json()["items"]]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 12


def test_list_query_count_does_not_depend_on_page_size(api_client_for: Any, agent: Any,
                                                       account: Any) -> None:
    _many(account, agent, 55)
    client = api_client_for(agent)
    client.get(f"{URL}?limit=1")  # the token's last_used_at gets its (throttled) write
    counts = {}
    for limit in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{URL}?limit={limit}&q=demande")
        assert response.status_code == 200
        items = response.json()["items"]
        assert len(items) == limit
        assert all(item["contact"] and item["tags"] for item in items)
        assert any(item["assignee"] == agent.pk for item in items)
        counts[limit] = len(ctx.captured_queries)
    assert counts[5] == counts[50], counts
    assert counts[50] <= 10, counts


# --- One conversation ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_detail_per_role(request: Any, api_client_for: Any, conv: Conversation,
                         role: str) -> None:
    response = api_client_for(request.getfixturevalue(role)).get(f"{URL}/{conv.pk}")
    if role in HIDDEN:
        assert assert_json_error(response, 404)["code"] == "not_found"
    else:
        assert response.status_code == 200, response.content
        assert response.json()["reference"] == conv.reference


def test_unknown_or_malformed_id(api_client_for: Any, agent: Any) -> None:
    client = api_client_for(agent)
    assert_json_error(client.get(f"{URL}/999999"), 404)
    response = client.get(f"{URL}/abc")
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


@pytest.fixture
def busy(conv: Conversation, agent: Any) -> Conversation:
    """`conv` with a reply (with an attachment), a note, a status change and an assignment."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.conversation_reply(
        actor=agent, conversation=conv, body="Nous vous rappelons demain.",
        attachments=[SimpleUploadedFile("devis.pdf", b"%PDF-1.4 test", "application/pdf")])
    services.conversation_add_note(actor=agent, conversation=conv, body="Client pressé.")
    services.conversation_set_status(actor=agent, conversation=conv, status="attente_client")
    return conv


def test_detail_messages_for_staff(api_client_for: Any, agent: Any, busy: Conversation) -> None:
    body = api_client_for(agent).get(f"{URL}/{busy.pk}").json()
    assert [m["direction"] for m in body["messages"]] == ["in", "out", "note"]
    assert Message.objects.filter(conversation=busy, direction="system").exists()
    incoming, reply, note = body["messages"]
    assert set(incoming) >= {"id", "direction", "channel", "author", "body_text", "created_at",
                             "delivery_status", "attachments"}
    assert incoming["body_text"] == "Merci de me rappeler."
    assert incoming["author"] is None and incoming["channel"] == "email"
    assert reply["author"] == agent.pk
    assert reply["delivery_status"] in {"pending", "sent"}
    [attachment] = reply["attachments"]
    assert set(attachment) == {"id", "filename", "size", "content_type"}
    assert (attachment["filename"], attachment["size"], attachment["content_type"]) == (
        "devis.pdf", 13, "application/pdf")
    assert note["body_text"] == "Client pressé."
    assert body["status"] == "attente_client"
    assert body["assignee"] == agent.pk


def test_detail_for_a_client_has_no_notes(api_client_for: Any, client_user: Any,
                                          busy: Conversation) -> None:
    body = api_client_for(client_user).get(f"{URL}/{busy.pk}").json()
    assert [m["direction"] for m in body["messages"]] == ["in", "out"]
    assert "Client pressé." not in json.dumps(body)


def test_detail_is_audited(api_client_for: Any, supervisor: Any, conv: Conversation) -> None:
    from django.core.cache import cache

    from permanence.audit.models import AuditEvent

    cache.clear()  # views are de-duplicated through the cache
    api_client_for(supervisor).get(f"{URL}/{conv.pk}")
    assert AuditEvent.objects.filter(action="view", actor=supervisor,
                                     target_id=str(conv.pk)).exists()


def test_detail_of_a_merge_target_shows_both_timelines(api_client_for: Any, agent: Any,
                                                       account: Any,
                                                       conv: Conversation) -> None:
    target = open_conversation(account, "Même sujet", body="Je relance.")
    services.conversation_merge(actor=agent, source=conv, target=target, inform_customer=False)
    body = api_client_for(agent).get(f"{URL}/{target.pk}").json()
    texts = [m["body_text"] for m in body["messages"]]
    assert "Merci de me rappeler." in texts and "Je relance." in texts
    assert {m["conversation"] for m in body["messages"]} == {conv.pk, target.pk}
    assert_json_error(api_client_for(agent).get(f"{URL}/{conv.pk}"), 404)


# --- Creating (integrations) -------------------------------------------------------------------


def _create_body(target: Any, **extra: Any) -> dict[str, Any]:
    return {"account": target.pk, "subject": "Formulaire du site", "body": "Bonjour, ...",
            "contact": {"name": "Léa Martin", "email": "Lea@Exemple.fr",
                        "phone": "06 12 34 56 78"}} | extra


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_per_role(request: Any, api_client_for: Any, account: Any, role: str) -> None:
    response = send(api_client_for(request.getfixturevalue(role)), "POST", URL,
                    _create_body(account))
    if role in WORKERS:
        assert response.status_code == 201, response.content
    else:
        expected = 404 if role == "other_agent" else 403
        assert_json_error(response, expected)
        assert not Conversation.objects.exists()


def test_create(api_client_for: Any, agent: Any, account: Any,
                django_capture_on_commit_callbacks: Any) -> None:
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_client_for(agent), "POST", URL, _create_body(
            account, priority="haute", kind="demande_devis", category="commerciale",
            motif="devis"))
    assert response.status_code == 201, response.content
    body = response.json()
    conversation = Conversation.objects.get(pk=body["id"])
    assert body["reference"] == conversation.reference
    assert (body["channel"], body["status"], body["priority"], body["kind"]) == (
        "api", "nouveau", "haute", "demande_devis")
    assert (body["category"], body["motif"]) == ("commerciale", "devis")
    assert body["contact"]["email"] == "lea@exemple.fr"
    assert body["contact"]["phone"] == "+33612345678"
    assert body["contact"]["name"] == "Léa Martin"
    [message] = body["messages"]
    assert (message["direction"], message["channel"], message["body_text"]) == (
        "in", "api", "Bonjour, ...")
    assert body["first_response_due_at"] is not None
    # The acknowledgement went to the contact after commit.
    assert any("lea@exemple.fr" in ", ".join(m.to) for m in mail.outbox)


def test_the_201_of_a_create_is_what_reading_the_conversation_back_gives(
        api_client_for: Any, agent: Any, account: Any) -> None:
    """The create answers from what it wrote (no re-read): byte for byte the detail a GET
    returns, tags set by routing and the first message included."""
    from permanence.inbox.models import RoutingRule

    RoutingRule.objects.create(position=1, name="Devis", keywords="Bonjour", add_tags="devis")
    client = api_client_for(agent)
    created = send(client, "POST", URL, _create_body(account))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["tags"] == ["devis"]
    read = send(client, "GET", f"{URL}/{body['id']}")
    assert read.status_code == 200
    assert body == read.json()


def test_create_minimal_without_contact(api_client_for: Any, supervisor: Any,
                                        account: Any) -> None:
    response = send(api_client_for(supervisor), "POST", URL,
                    {"account": account.pk, "subject": "Note", "body": "Texte"})
    assert response.status_code == 201, response.content
    assert response.json()["contact"] is None
    assert response.json()["channel"] == "api"


@pytest.mark.parametrize("account_id", [999999, "other"])
def test_create_on_an_unknown_or_invisible_account_is_404(api_client_for: Any, agent: Any,
                                                          other_account: Any,
                                                          account_id: Any) -> None:
    pk = other_account.pk if account_id == "other" else account_id
    response = send(api_client_for(agent), "POST", URL,
                    {"account": pk, "subject": "x", "body": "y"})
    body = assert_json_error(response, 404)
    assert "account" in body["errors"]
    assert not Conversation.objects.exists()




@pytest.mark.parametrize(("extra", "field"), [
    ({"channel": "pigeon"}, "channel"),
    ({"kind": "inconnu"}, "kind"),
    ({"priority": "critique"}, "priority"),
    ({"category": "x"}, "category"),
    ({"subject": ""}, "subject"),
    pytest.param({"body": ""}, "body"),
    ({"account": "abc"}, "account"),
    ({"contact": {"email": "pas-une-adresse"}}, "contact.email"),
    ({"contact": {"phone": "12"}}, "contact.phone"),
])
def test_create_with_invalid_fields_is_422(api_client_for: Any, agent: Any, account: Any,
                                           extra: dict[str, Any], field: str) -> None:
    body = assert_json_error(send(api_client_for(agent), "POST", URL,
                                  _create_body(account, **extra)), 422)
    assert field in body["errors"], body
    assert not Conversation.objects.exists()


# --- Updating ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patch_per_role(request: Any, api_client_for: Any, conv: Conversation,
                        role: str) -> None:
    response = send(api_client_for(request.getfixturevalue(role)), "PATCH",
                    f"{URL}/{conv.pk}", {"status": "ouvert", "priority": "haute"})
    conv.refresh_from_db()
    if role in WORKERS:
        assert response.status_code == 200, response.content
        assert (conv.status, conv.priority) == ("ouvert", "haute")
    else:
        assert_json_error(response, 404 if role in HIDDEN else 403)
        assert (conv.status, conv.priority) == ("nouveau", "normale")


def test_patch_qualification_tags_and_status(api_client_for: Any, agent: Any,
                                             conv: Conversation) -> None:
    response = send(api_client_for(agent), "PATCH", f"{URL}/{conv.pk}", {
        "status": "attente_interne", "priority": "urgente", "category": "administrative",
        "motif": "facturation", "kind": "reclamation", "subject": "Facture contestée",
        "tags": ["Litige", "facture", "litige"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["priority"], body["category"], body["motif"], body["kind"],
            body["subject"]) == ("attente_interne", "urgente", "administrative", "facturation",
                                 "reclamation", "Facture contestée")
    assert body["tags"] == ["facture", "litige"]
    assert "messages" in body
    # Clearing category and tags; untouched fields stay.
    body = send(api_client_for(agent), "PATCH", f"{URL}/{conv.pk}",
                {"category": "", "tags": []}).json()
    assert (body["category"], body["tags"], body["motif"]) == ("", [], "facturation")


def test_patch_assignee(api_client_for: Any, supervisor: Any, agent: Any,
                        conv: Conversation) -> None:
    client = api_client_for(supervisor)
    response = send(client, "PATCH", f"{URL}/{conv.pk}", {"assignee": agent.pk})
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == agent.pk
    response = send(client, "PATCH", f"{URL}/{conv.pk}", {"assignee": None})
    assert response.json()["assignee"] is None
    conv.refresh_from_db()
    assert conv.assignee_id is None


@pytest.mark.parametrize("who", ["other_agent", "client_user", "unknown"])
def test_patch_assignee_who_cannot_work_on_it_is_422(request: Any, api_client_for: Any,
                                                     supervisor: Any, conv: Conversation,
                                                     who: str) -> None:
    pk = 999999 if who == "unknown" else request.getfixturevalue(who).pk
    body = assert_json_error(send(api_client_for(supervisor), "PATCH", f"{URL}/{conv.pk}",
                                  {"assignee": pk}), 422)
    assert "assignee" in body["errors"]
    conv.refresh_from_db()
    assert conv.assignee_id is None


def test_invalid_transition_is_409_and_changes_nothing(api_client_for: Any, agent: Any,
                                                       conv: Conversation) -> None:
    services.conversation_set_status(actor=agent, conversation=conv, status="clos")
    response = send(api_client_for(agent), "PATCH", f"{URL}/{conv.pk}",
                    {"priority": "urgente", "status": "resolu", "tags": ["x"]})
    body = assert_json_error(response, 409)
    assert body["code"] == "bad_transition"
    conv.refresh_from_db()
    assert (conv.status, conv.priority) == ("clos", "normale")
    assert not conv.tags.exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"status": "ouverte"}, "status"),
    ({"priority": "max"}, "priority"),
    ({"motif": "inconnu"}, "motif"),
    ({"kind": 3}, "kind"),
    ({"subject": ""}, "subject"),
    ({"tags": "urgent"}, "tags"),
    ({"assignee": "moi"}, "assignee"),
])
def test_patch_with_invalid_values_is_422(api_client_for: Any, agent: Any, conv: Conversation,
                                          payload: dict[str, Any], field: str) -> None:
    body = assert_json_error(send(api_client_for(agent), "PATCH", f"{URL}/{conv.pk}",
                                  payload), 422)
    assert field in body["errors"], body


def test_patch_with_nothing_changes_nothing(api_client_for: Any, agent: Any,
                                            conv: Conversation) -> None:
    before = Conversation.objects.values().get(pk=conv.pk)
    response = send(api_client_for(agent), "PATCH", f"{URL}/{conv.pk}", {"status": "nouveau"})
    assert response.status_code == 200
    assert Conversation.objects.values().get(pk=conv.pk) == before


# --- Messages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_messages_per_role(request: Any, api_client_for: Any, conv: Conversation,
                           role: str) -> None:
    for kind in ("reply", "note"):
        response = send(api_client_for(request.getfixturevalue(role)), "POST",
                        f"{URL}/{conv.pk}/messages", {"type": kind, "body": "Bonjour"})
        if role in WORKERS:
            assert response.status_code == 201, response.content
        else:
            assert_json_error(response, 404 if role in HIDDEN else 403)
    expected = 3 if role in WORKERS else 1
    assert conv.messages.exclude(direction="system").count() == expected


def test_reply(api_client_for: Any, agent: Any, conv: Conversation,
               django_capture_on_commit_callbacks: Any) -> None:
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = send(api_client_for(agent), "POST", f"{URL}/{conv.pk}/messages",
                        {"type": "reply", "body": "Nous vous rappelons à 14 h.",
                         "status_after": "attente_client"})
    assert response.status_code == 201, response.content
    body = response.json()
    # Signed once, where every reply is written (inbox.signature).
    assert (body["direction"], body["author"], body["body_text"], body["conversation"]) == (
        "out", agent.pk, "Nous vous rappelons à 14 h.\n\n— agent\nCabinet Martin", conv.pk)
    assert body["attachments"] == []
    conv.refresh_from_db()
    assert conv.status == "attente_client"
    assert conv.first_response_at is not None
    assert any("jean@exemple.fr" in ", ".join(m.to) for m in mail.outbox)


def test_note_with_status_after(api_client_for: Any, agent: Any, conv: Conversation) -> None:
    response = send(api_client_for(agent), "POST", f"{URL}/{conv.pk}/messages",
                    {"type": "note", "body": "À voir avec le cabinet.",
                     "status_after": "attente_interne"})
    assert response.status_code == 201, response.content
    assert response.json()["direction"] == "note"
    conv.refresh_from_db()
    assert conv.status == "attente_interne"


def test_reply_on_a_closed_conversation_is_409(api_client_for: Any, agent: Any,
                                               conv: Conversation) -> None:
    services.conversation_set_status(actor=agent, conversation=conv, status="clos")
    body = assert_json_error(send(api_client_for(agent), "POST", f"{URL}/{conv.pk}/messages",
                                  {"type": "reply", "body": "Bonjour"}), 409)
    assert body["code"] == "closed"
    assert not conv.messages.filter(direction="out").exists()


def test_note_with_a_bad_transition_is_409_and_atomic(api_client_for: Any, agent: Any,
                                                      conv: Conversation) -> None:
    services.conversation_set_status(actor=agent, conversation=conv, status="clos")
    assert_json_error(send(api_client_for(agent), "POST", f"{URL}/{conv.pk}/messages",
                           {"type": "note", "body": "x", "status_after": "resolu"}), 409)
    assert not conv.messages.filter(direction="note").exists()


@pytest.mark.parametrize(("payload", "field"), [
    ({"type": "sms", "body": "x"}, "type"),
    pytest.param({"type": "reply", "body": ""}, "body"),
    pytest.param({"type": "reply"}, "body"),
    ({"body": "x"}, "type"),
    ({"type": "reply", "body": "x", "status_after": "fini"}, "status_after"),
])
def test_message_with_invalid_fields_is_422(api_client_for: Any, agent: Any,
                                            conv: Conversation, payload: dict[str, Any],
                                            field: str) -> None:
    body = assert_json_error(send(api_client_for(agent), "POST", f"{URL}/{conv.pk}/messages",
                                  payload), 422)
    assert field in body["errors"], body


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_body_is_422(api_client_for: Any, agent: Any, conv: Conversation,
                           text: str) -> None:
    for kind in ("note", "reply"):
        body = assert_json_error(send(api_client_for(agent), "POST",
                                      f"{URL}/{conv.pk}/messages", {"type": kind, "body": text}),
                                 422)
        assert body["errors"]
    assert conv.messages.count() == 1


# --- Merging -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_merge_per_role(request: Any, api_client_for: Any, account: Any, conv: Conversation,
                        role: str) -> None:
    target = open_conversation(account, "Relance")
    response = send(api_client_for(request.getfixturevalue(role)), "POST",
                    f"{URL}/{conv.pk}/merge", {"into": target.pk, "inform_customer": False})
    conv.refresh_from_db()
    if role in WORKERS:
        assert response.status_code == 200, response.content
        assert response.json()["id"] == target.pk
        assert conv.merged_into_id == target.pk
    else:
        assert_json_error(response, 404 if role in HIDDEN else 403)
        assert conv.merged_into_id is None


def test_merge_informs_the_customer(api_client_for: Any, agent: Any, account: Any,
                                    conv: Conversation) -> None:
    target = open_conversation(account, "Relance")
    body = send(api_client_for(agent), "POST", f"{URL}/{conv.pk}/merge",
                {"into": target.pk}).json()
    outgoing = [m for m in body["messages"] if m["direction"] == "out"]
    assert len(outgoing) == 1 and conv.reference in outgoing[0]["body_text"]
    conv.refresh_from_db()
    assert conv.status == "clos"


def test_merge_errors(api_client_for: Any, admin_user: Any, agent: Any, account: Any,
                      conv: Conversation, other_conv: Conversation) -> None:
    admin, mine = api_client_for(admin_user), api_client_for(agent)
    # Into itself, or across accounts: 422.
    assert "target" in assert_json_error(
        send(admin, "POST", f"{URL}/{conv.pk}/merge", {"into": conv.pk}), 422)["errors"]
    assert_json_error(send(admin, "POST", f"{URL}/{conv.pk}/merge", {"into": other_conv.pk}),
                      422)
    # Into a conversation the agent cannot see (or that does not exist): 404 on "into".
    for into in (other_conv.pk, 999999):
        body = assert_json_error(send(mine, "POST", f"{URL}/{conv.pk}/merge", {"into": into}),
                                 404)
        assert "into" in body["errors"]
    assert "into" in assert_json_error(send(mine, "POST", f"{URL}/{conv.pk}/merge", {}),
                                       422)["errors"]
    conv.refresh_from_db()
    assert conv.merged_into_id is None and conv.status == "nouveau"


# --- Malformed requests ------------------------------------------------------------------------

WRITES = [("POST", ""), ("PATCH", "/{pk}"), ("POST", "/{pk}/messages"), ("POST", "/{pk}/merge")]


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize("raw", ["{pas du json", "[1, 2", "\x00\xff", "{'a': 1}", '{"a": 1,}',
                                 "[]", "null", '"texte"', "42", ""])
def test_malformed_bodies_are_json_4xx(api_client_for: Any, admin_user: Any,
                                       conv: Conversation, method: str, path: str,
                                       raw: str) -> None:
    before = (Conversation.objects.count(), Message.objects.count())
    response = send(api_client_for(admin_user), method, URL + path.format(pk=conv.pk), raw)
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json")
    assert "message" in response.json()
    assert (Conversation.objects.count(), Message.objects.count()) == before


def test_openapi_lists_the_conversation_endpoints() -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    expected = {
        "/api/v1/conversations": {"get", "post"},
        "/api/v1/conversations/{conversation_id}": {"get", "patch"},
        "/api/v1/conversations/{conversation_id}/messages": {"post"},
        "/api/v1/conversations/{conversation_id}/merge": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))

"""Paramètres → Webhooks: administrators only; create (with the SSRF guard), see the secret
and the delivery log, delete, redeliver."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from permanence.integrations import services
from permanence.integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

from .conftest import Receiver

pytestmark = pytest.mark.django_db

PASSWORD = "Un-mot-de-passe-solide-42"
NON_ADMINS = ["supervisor", "agent", "billing", "client_user"]


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def endpoint(admin_user: Any) -> WebhookEndpoint:
    return services.webhook_endpoint_create(actor=admin_user, url="https://93.184.215.14/hook",
                                            events=list(WebhookEvent.values))


@pytest.fixture
def delivery(endpoint: WebhookEndpoint) -> WebhookDelivery:
    from permanence.core import clock

    return WebhookDelivery.objects.create(
        endpoint=endpoint, event="conversation.created", payload={"event": "x"},
        status="failed", attempts=8, last_status_code=500, last_error="HTTP 500",
        created_at=clock.now())


def routes(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> list[tuple[str, str]]:
    return [
        ("GET", reverse("integrations:webhooks")),
        ("POST", reverse("integrations:webhooks")),
        ("GET", reverse("integrations:webhook_detail", args=[endpoint.pk])),
        ("POST", reverse("integrations:webhook_delete", args=[endpoint.pk])),
        ("POST", reverse("integrations:delivery_redeliver", args=[delivery.pk])),
    ]


def test_pages_are_for_administrators_only(request: Any, endpoint: WebhookEndpoint,
                                           delivery: WebhookDelivery) -> None:
    for method, url in routes(endpoint, delivery):
        response = Client().generic(method, url)
        assert response.status_code == 302 and "/connexion/" in response["Location"], url
        for role in NON_ADMINS:
            client = login(request.getfixturevalue(role))
            data = {"url": "https://93.184.215.14/", "events": ["sla.breached"]}
            response = client.post(url, data) if method == "POST" else client.get(url)
            assert response.status_code == 403, (role, url)
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_list_and_detail_show_the_secret_and_the_log(admin_user: Any, account: Any,
                                                     endpoint: WebhookEndpoint,
                                                     delivery: WebhookDelivery) -> None:
    client = login(admin_user)
    page = client.get(reverse("integrations:webhooks"))
    assert page.status_code == 200
    assert "https://93.184.215.14/hook" in page.content.decode()
    assert "Cabinet Martin" in page.content.decode()  # the account choice
    detail = client.get(reverse("integrations:webhook_detail", args=[endpoint.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert endpoint.secret in html
    assert str(delivery.event_id) in html and "HTTP 500" in html
    assert client.get(reverse("integrations:webhook_detail", args=[999999])).status_code == 404


def test_create_from_the_page(admin_user: Any, account: Any, receiver: Receiver) -> None:
    client = login(admin_user)
    response = client.post(reverse("integrations:webhooks"), {
        "url": receiver.url(), "events": ["conversation.created", "message.created"],
        "account": account.pk, "description": "CRM du cabinet", "allow_private": "on"})
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:webhook_detail", args=[endpoint.pk])
    assert (endpoint.account, endpoint.allow_private, endpoint.created_by) == (
        account, True, admin_user)
    assert endpoint.events == ["conversation.created", "message.created"]


@pytest.mark.parametrize(("data", "error"), [
    ({"url": "http://localhost:8000/hook", "events": ["sla.breached"]}, "privée"),
    ({"url": "http://169.254.169.254/", "events": ["sla.breached"]}, "privée"),
    ({"url": "ftp://exemple.fr/", "events": ["sla.breached"]}, "http"),
    ({"url": "https://93.184.215.14/", "events": []}, "obligatoire"),
    ({"url": "https://93.184.215.14/", "events": ["inconnu"]}, "inconnu"),
])
def test_create_refused_from_the_page(admin_user: Any, data: dict[str, Any],
                                      error: str) -> None:
    response = login(admin_user).post(reverse("integrations:webhooks"), data)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_delete(admin_user: Any, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    response = login(admin_user).post(reverse("integrations:webhook_delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    assert login(admin_user).get(
        reverse("integrations:webhook_delete", args=[endpoint.pk])).status_code == 405


def test_redeliver(admin_user: Any, endpoint: WebhookEndpoint, delivery: WebhookDelivery,
                   django_capture_on_commit_callbacks: Any, monkeypatch: Any) -> None:
    from permanence.integrations import http_client as net

    monkeypatch.setattr(net, "post", lambda *a, **k: net.HttpResult(204, "", 3, ""))
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(
            reverse("integrations:delivery_redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    copy = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert (copy.event_id, copy.status, copy.attempts) == (delivery.event_id, "sent", 1)

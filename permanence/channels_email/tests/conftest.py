"""Real SMTP/LMTP sessions: the gateway runs in a background thread on a free port, and an
aiosmtpd "sink" stands in for the outgoing mail server when a test needs one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from .mailtools import ADDRESS, GATEWAY_MAX_BYTES, OTHER_ADDRESS


@pytest.fixture
def mail_account(account: Any) -> Any:
    from permanence.accounts.models import ContactChannel

    ContactChannel.objects.create(account=account, kind="email", value=ADDRESS)
    return account


@pytest.fixture
def other_mail_account(other_account: Any) -> Any:
    from permanence.accounts.models import ContactChannel

    ContactChannel.objects.create(account=other_account, kind="email", value=OTHER_ADDRESS)
    return other_account


@pytest.fixture(autouse=True)
def _gateway_threads_close_their_connections(monkeypatch: Any) -> None:
    """The gateway keeps database connections between messages (CONN_MAX_AGE). In tests
    its pooled threads must not hold any, or the test database could not be dropped."""
    from django.db import connections

    for alias in connections:
        monkeypatch.setitem(connections[alias].settings_dict, "CONN_MAX_AGE", 0)


def _start(controller: Any) -> Any:
    controller.start()
    return controller


@pytest.fixture
def gateway() -> Iterator[Any]:
    from permanence.channels_email.gateway import GatewayController

    controller = _start(GatewayController(host="127.0.0.1", port=0,
                                          max_bytes=GATEWAY_MAX_BYTES))
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def lmtp_gateway() -> Iterator[Any]:
    from permanence.channels_email.gateway import GatewayController

    controller = _start(GatewayController(host="127.0.0.1", port=0, lmtp=True,
                                          max_bytes=GATEWAY_MAX_BYTES))
    try:
        yield controller
    finally:
        controller.stop()


class Collector:
    """aiosmtpd handler keeping what it receives (the stand-in for a real relay)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              bytes(envelope.original_content)))
        return "250 OK"


class _FreePortController(Controller):
    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)
        if self.port == 0 and sockets:
            self.port = sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[Collector]:
    """Outgoing mail really goes over SMTP to a local server that collects it."""
    collector = Collector()
    controller = _FreePortController(collector, hostname="127.0.0.1", port=0,
                                     server_hostname="sink.test")
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield collector
    finally:
        controller.stop()

"""Several gateway processes can share one port (SO_REUSEPORT) to use every core."""

from __future__ import annotations

import smtplib

import pytest

from permanence.channels_email.gateway import GatewayController


@pytest.mark.django_db(transaction=True)
def test_two_gateways_share_a_port_and_both_answer() -> None:
    first = GatewayController(host="127.0.0.1", port=0, reuse_port=True)
    first.start()
    try:
        second = GatewayController(host="127.0.0.1", port=first.port, reuse_port=True)
        second.start()  # would fail with "address already in use" without SO_REUSEPORT
        try:
            for _ in range(4):
                with smtplib.SMTP("127.0.0.1", first.port, timeout=5) as smtp:
                    code, _msg = smtp.noop()
                    assert code == 250
        finally:
            second.stop()
    finally:
        first.stop()


@pytest.mark.django_db(transaction=True)
def test_without_reuse_port_a_second_gateway_cannot_bind() -> None:
    first = GatewayController(host="127.0.0.1", port=0)
    first.start()
    try:
        second = GatewayController(host="127.0.0.1", port=first.port)
        with pytest.raises(OSError):
            second.start()
    finally:
        first.stop()

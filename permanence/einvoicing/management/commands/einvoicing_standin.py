"""manage.py einvoicing_standin: the local stand-in of a plateforme agréée (AFNOR XP Z12-013
flow API), for the demo's test mode — a dev tool: the stand-in itself is
testkit/einvoicing_standin.py, imported only when this command runs.

    manage.py einvoicing_standin --port 12112
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

# Dev tool, test mode only: the stand-in lives in testkit/, outside the production package;
# this module is imported only when the command runs (.importlinter's testkit contract).
from testkit.einvoicing_standin import PlatformStandIn, make_standin_server


class Command(BaseCommand):
    help = "Run the local e-invoicing platform stand-in (AFNOR XP Z12-013 flows, CDV statuses)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.EINVOICING_STANDIN_PORT)
        parser.add_argument("--token", default=settings.EINVOICING_PLATFORM_TOKEN)

    def handle(self, *args: Any, host: str, port: int, token: str, **options: Any) -> None:
        server = make_standin_server(PlatformStandIn(token=token), host, port)
        self.stdout.write(f"E-invoicing platform stand-in (test mode) on http://{host}:{port}/")
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

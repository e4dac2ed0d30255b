"""manage.py stripe_standin: the local Stripe stand-in (test mode of the demo), a dev tool: the
stand-in itself is testkit/stripe_standin.py, imported only when this command runs.

    manage.py stripe_standin --port 12111 \\
        --webhook-url http://127.0.0.1:8000/api/v1/payments/stripe/webhook --secret whsec_…
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the local Stripe stand-in (API subset, hosted page, signed webhooks)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.STRIPE_STANDIN_PORT)
        parser.add_argument("--webhook-url",
                            default=f"{settings.SITE_URL}/api/v1/payments/stripe/webhook")
        parser.add_argument("--secret", default=settings.STRIPE_WEBHOOK_SECRET)

    def handle(self, *args: Any, host: str, port: int, webhook_url: str, secret: str,
               **options: Any) -> None:
        # dev tool: test mode only. The stand-in lives in testkit/, outside the production
        # package; runstack starts this command only in payments test mode (make demo).
        from testkit.stripe_standin import StandIn, make_standin_server

        app = StandIn(secret=secret, webhook_url=webhook_url)
        server = make_standin_server(app, host, port)
        self.stdout.write(f"Stripe stand-in (test mode) on http://{host}:{port}/ → webhooks to "
                          f"{webhook_url}")
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

"""The desk's API: telephony events in, calls out (the routes are added by desk.api_calls)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["desk"])

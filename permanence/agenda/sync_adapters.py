"""The contract a calendar provider's adapter fulfils, so that Google Calendar and Microsoft
Graph can join CalDAV (caldav_sync.py, the one implemented and tested here, against
Radicale). They need OAuth credentials we cannot exercise on this machine, so only the
interface and the mapping of each provider's incremental sync onto it live here.

One sync run, whatever the provider (see caldav_sync.resource_sync):

1. `changes(token)` lists what changed since `token` ("" = everything): events created or
   modified (their id, version tag and iCalendar or JSON body) and ids deleted, plus the
   next token. A provider that refuses the token raises `TokenExpired`: the run starts over
   with `changes("")` and replaces every busy time it holds (a full resync).
2. `put(event_id, body, version)` writes one of our appointments there, conditionally:
   `version=None` creates it only if absent, otherwise only if it is still at `version`
   (`VersionConflict` when somebody changed it meanwhile; the rule of caldav_sync applies:
   ours wins, re-read and write again). Returns the new version tag.
3. `delete(event_id, version)` removes one of ours (cancelled here), conditionally too.

Provider mapping:

- CalDAV (RFC 4791 / 6578): token = the sync-collection REPORT's sync-token (a 403/409
  `valid-sync-token` precondition → TokenExpired); version = ETag (`If-None-Match: *`,
  `If-Match`; 412 → VersionConflict).
- Google Calendar API v3: `events.list(syncToken=…, showDeleted=true)` pages until
  `nextSyncToken`; **410 Gone → TokenExpired** (full resync); cancelled events come back
  with `status: "cancelled"` (deletions); version = the event's `etag` (`If-Match` on
  `events.update` / `events.delete`, 412 → VersionConflict); our event id = a base32hex form
  of the appointment's UID (Google restricts ids to a-v0-9).
- Microsoft Graph: `GET /me/calendars/{id}/calendarView/delta?startDateTime=…&endDateTime=…`
  pages by `@odata.nextLink` until `@odata.deltaLink` (the token); deleted items come as
  `@removed`; **410 (syncStateNotFound / resyncRequired) → TokenExpired**; version =
  `@odata.etag` / `changeKey` (`If-Match` on PATCH / DELETE, 412 → VersionConflict); our
  event is found by `iCalUId` or by an open extension holding the appointment's UID.

Credentials (an OAuth refresh token) would be stored like the CalDAV password: encrypted
(agenda.crypto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class TokenExpired(Exception):
    """The provider no longer knows the sync token: list everything again."""


class VersionConflict(Exception):
    """The event changed there since we last read it (412 on a conditional write)."""


@dataclass
class Changes:
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (version, body)
    deleted: set[str] = field(default_factory=set)
    next_token: str = ""


class CalendarAdapter(Protocol):
    def changes(self, token: str) -> Changes: ...

    def put(self, event_id: str, body: str, version: str | None) -> str: ...

    def delete(self, event_id: str, version: str) -> None: ...

"""Issue 10: a call's recording is heard through Permanence only — after the access check,
fetched server-side, never by exposing the provider's URL — and every listening is audited."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.urls import reverse

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.desk.models import Call

# The views fetch outside any transaction (a provider call never holds one open).
pytestmark = pytest.mark.django_db(transaction=True)
AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt "


class _Provider(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/rec/ok.wav":
            self.send_response(200)
            self.send_header("Content-Type", "audio/x-wav")
            self.send_header("Content-Length", str(len(AUDIO)))
            self.end_headers()
            self.wfile.write(AUDIO)
        elif self.path == "/rec/moved.wav":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider(settings: Any) -> Any:
    server = HTTPServer(("127.0.0.1", 0), _Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.RECORDINGS_ALLOW_PRIVATE = True  # the stand-in listens on loopback
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def make_call(account: Any, url: str) -> Call:
    now = clock.now()
    return Call.objects.create(call_id=f"c-{url[-12:]}", account=account, offered_at=now,
                               created_at=now, from_number="+33612345678",
                               recording_url=url, recording_consent=True)


def test_staff_and_client_listen_through_permanence(account: Any, agent: Any, client_user: Any,
                                                    provider: str, client: Any) -> None:
    call = make_call(account, f"{provider}/rec/ok.wav")
    for user, name in ((agent, "desk:call_recording"), (client_user, "portal:call_recording")):
        client.force_login(user)
        response = client.get(reverse(name, args=[call.pk]))
        assert response.status_code == 200
        assert response.content == AUDIO and response["Content-Type"] == "audio/x-wav"
        assert response["Cache-Control"] == "private, no-store"
        assert provider not in response.content.decode("latin-1")
    heard = AuditEvent.objects.filter(action="view", target_id=str(call.pk))
    assert set(heard.values_list("actor_id", flat=True)) == {agent.pk, client_user.pk}


def test_others_get_404_and_nothing_is_fetched(account: Any, other_agent: Any, billing: Any,
                                               outsider_client: Any, provider: str,
                                               client: Any) -> None:
    call = make_call(account, f"{provider}/rec/ok.wav")
    client.force_login(other_agent)
    assert client.get(reverse("desk:call_recording", args=[call.pk])).status_code == 404
    client.force_login(outsider_client)
    assert client.get(reverse("portal:call_recording", args=[call.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="view", target_id=str(call.pk)).exists()


def test_redirects_private_hosts_and_missing_files_are_refused(
        account: Any, agent: Any, provider: str, client: Any, settings: Any) -> None:
    client.force_login(agent)
    moved = make_call(account, f"{provider}/rec/moved.wav")
    assert client.get(reverse("desk:call_recording", args=[moved.pk])).status_code == 502
    gone = make_call(account, f"{provider}/rec/gone.wav")
    response = client.get(reverse("desk:call_recording", args=[gone.pk]))
    assert response.status_code == 502 and "pas disponible" in response.content.decode()
    settings.RECORDINGS_ALLOW_PRIVATE = False
    ok = make_call(account, f"{provider}/rec/ok.wav")
    response = client.get(reverse("desk:call_recording", args=[ok.pk]))
    assert response.status_code == 502 and "privée" in response.content.decode()
    assert not AuditEvent.objects.filter(action="view").exists()


def test_the_pages_play_it_through_permanence_and_never_show_the_providers_url(
        account: Any, agent: Any, client_user: Any, billing: Any, client: Any) -> None:
    """Call screen and espace client: an audio player on Permanence's URL (the provider's
    address appears nowhere); staff who may not read calls get no player."""
    secret_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE42"
    call = make_call(account, secret_url)
    Call.objects.filter(pk=call.pk).update(recording_consent=False, outcome="voicemail")
    for user, page, src in (
            (agent, reverse("desk:call", args=[call.pk]),
             reverse("desk:call_recording", args=[call.pk])),
            (client_user, reverse("portal:call_detail", args=[call.pk]),
             reverse("portal:call_recording", args=[call.pk]))):
        client.force_login(user)
        html = client.get(page).content.decode()
        assert f'<audio controls preload="none" src="{src}"' in html
        assert "Message vocal" in html
        assert "api.twilio.com" not in html and "RE42" not in html
    client.force_login(billing)
    assert client.get(reverse("desk:call", args=[call.pk])).status_code in (403, 404)


def test_the_secretary_notes_the_callers_consent(account: Any, agent: Any,
                                                 client: Any) -> None:
    call = make_call(account, "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE7")
    Call.objects.filter(pk=call.pk).update(recording_consent=False)
    client.force_login(agent)
    page = client.get(reverse("desk:call", args=[call.pk])).content.decode()
    assert "Consentement de l'appelant à l'enregistrement non noté" in page
    assert 'name="recording_consent"' in page
    response = client.post(reverse("desk:call_save", args=[call.pk]), {
        "message": "Rappeler pour le devis", "urgency": "normal", "recording_consent": "on"})
    assert response.status_code == 302, response.content.decode()[:500]
    call.refresh_from_db()
    assert call.recording_consent is True
    saved = AuditEvent.objects.filter(action="update", target_id=str(call.pk)).latest("pk")
    assert saved.changes["recording_consent"] == [False, True]
    page = client.get(reverse("desk:call", args=[call.pk])).content.decode()
    assert "L'appelant a été informé de l'enregistrement et l'a accepté." in page

"""Issue 9: after a merge, the attachments of the folded-in conversation show on the target's
timeline, and the agent and the administrator download them (they answered 404: the
download checked the folded-in conversation, which is no longer visible)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from permanence.inbox import selectors, services
from permanence.inbox.models import Attachment

pytestmark = pytest.mark.django_db


def incoming(account: Any, subject: str, files: list[Any] | None = None) -> Any:
    return services.Incoming(account=account, channel="email", subject=subject,
                             body_text="Bonjour", contact_email="jean@exemple.fr",
                             acknowledge=False, attachments=files or [])


@pytest.fixture
def merged(account: Any, agent: Any) -> tuple[Any, Any, Attachment]:
    target = services.conversation_open(incoming(account, "Rendez-vous"))
    source = services.conversation_open(incoming(
        account, "Ordonnance", [SimpleUploadedFile("ordonnance.pdf", b"%PDF-1.4 ordonnance")]))
    attachment = Attachment.objects.get(message__conversation=source)
    services.conversation_merge(actor=agent, source=source, target=target,
                                inform_customer=False)
    return source, target, attachment


def download(user: Any, attachment: Attachment) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(reverse("inbox:attachment", args=[attachment.pk]))


@pytest.mark.parametrize("who", ["agent", "admin_user", "supervisor"])
def test_staff_download_an_attachment_of_the_folded_in_conversation(
        request: Any, who: str, merged: Any) -> None:
    _source, _target, attachment = merged
    response = download(request.getfixturevalue(who), attachment)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 ordonnance"
    assert "ordonnance.pdf" in response["Content-Disposition"]


def test_the_attachment_shows_on_the_target_page_with_a_working_link(
        agent: Any, merged: Any) -> None:
    _source, target, attachment = merged
    client = Client()
    client.force_login(agent)
    page = client.get(reverse("inbox:detail", args=[target.pk])).content.decode()
    link = reverse("inbox:attachment", args=[attachment.pk])
    assert link in page
    assert client.get(link).status_code == 200


def test_an_agent_of_another_account_still_gets_a_404(other_agent: Any, other_account: Any,
                                                       merged: Any) -> None:
    _source, _target, attachment = merged
    assert download(other_agent, attachment).status_code == 404


def test_the_selector_refuses_unknown_and_out_of_range_ids(agent: Any, account: Any) -> None:
    from permanence.core.errors import NotFound

    for bad in (0, 2**63, "x"):
        with pytest.raises(NotFound):
            selectors.get_attachment_for_user(agent, bad)

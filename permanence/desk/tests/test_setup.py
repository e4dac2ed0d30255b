"""Issue 10, new client set-up: an activated order opens the checklist; three steps are proved
by the data (client's consignes, a call on the account's number, every assigned secretary
has read the consignes in force), three are ticked by people; going live needs them all or a
supervisor's override with a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from permanence.accounts.models import ClientAccount
from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.desk import setup
from permanence.desk.models import (
    Call,
    ConsigneRead,
    ConsigneVersion,
    Setup,
    SetupItemCode,
)
from permanence.shop.models import OrderStatus
from permanence.shop.order_checks import order_mark_checked
from permanence.shop.orders import order_transition
from testkit.shop import make_order

pytestmark = pytest.mark.django_db


def activate(account: ClientAccount, supervisor: Any) -> Any:
    order = make_order(account)
    order_transition(order=order, to=OrderStatus.PAID)
    order_mark_checked(order=order, actor=supervisor)
    order_transition(order=order, to=OrderStatus.VALIDATED, actor=supervisor)
    return order_transition(order=order, to=OrderStatus.ACTIVATED, actor=supervisor)


def done_codes(account: ClientAccount) -> set[str]:
    found = setup.setup_for(account)
    assert found is not None
    return {i.code for i in setup.setup_view(found).items if i.done}


def test_activation_opens_the_checklist_once(account: ClientAccount, supervisor: Any) -> None:
    order = activate(account, supervisor)
    found = Setup.objects.get(account=account)
    assert found.order_reference == order.reference
    view = setup.setup_view(found)
    assert [i.code for i in view.items] == list(SetupItemCode.values)
    assert view.done == 0 and not view.complete
    # The staff steps belong to whoever activated; the due dates follow the activation.
    kickoff = next(i for i in view.items if i.code == SetupItemCode.KICKOFF)
    assert kickoff.owner == supervisor
    assert kickoff.due_on == (found.opened_at + timedelta(days=2)).date()
    setup.setup_open(account=account)  # idempotent
    assert Setup.objects.filter(account=account).count() == 1


def test_steps_proved_by_the_data(account: ClientAccount, supervisor: Any, agent: Any,
                                  client_user: Any) -> None:
    activate(account, supervisor)
    assert done_codes(account) == set()
    now = clock.now()
    # Staff writing the consignes does not count: the client's own version does.
    staff_version = ConsigneVersion.objects.create(account=account, number=1, author=agent,
                                                   content={}, created_at=now)
    assert SetupItemCode.CONSIGNES not in done_codes(account)
    version = ConsigneVersion.objects.create(account=account, number=2, author=client_user,
                                             by_client=True, content={}, created_at=now)
    assert SetupItemCode.CONSIGNES in done_codes(account)
    # A call on the account's number proves the forwarding.
    Call.objects.create(call_id="c1", account=account, to_number="+33388000000",
                        offered_at=now, created_at=now)
    assert SetupItemCode.FORWARDING in done_codes(account)
    # Read an older version only: not done; the version in force: done.
    ConsigneRead.objects.create(version=staff_version, user=agent, read_at=now)
    assert SetupItemCode.AGENTS not in done_codes(account)
    ConsigneRead.objects.create(version=version, user=agent, read_at=now)
    assert SetupItemCode.AGENTS in done_codes(account)


def test_automatic_steps_cannot_be_ticked(account: ClientAccount, supervisor: Any) -> None:
    activate(account, supervisor)
    with pytest.raises(DomainError) as err:
        setup.setup_item_tick(actor=supervisor, account=account, code=SetupItemCode.FORWARDING)
    assert "code" in err.value.fields


def test_client_approves_test_calls_but_not_staff_steps(account: ClientAccount, supervisor: Any,
                                                        client_user: Any, client: Any) -> None:
    activate(account, supervisor)
    client.force_login(client_user)
    response = client.get(reverse("portal:setup"))
    assert response.status_code == 200
    assert "Mise en place de votre service" in response.content.decode()
    response = client.post(reverse("portal:setup_tick"), {"code": SetupItemCode.KICKOFF,
                                                          "evidence": "mardi"})
    assert response.status_code == 403
    response = client.post(reverse("portal:setup_tick"), {"code": SetupItemCode.TEST_CALLS})
    assert response.status_code == 302
    assert SetupItemCode.TEST_CALLS in done_codes(account)
    assert AuditEvent.objects.filter(actor=client_user).exists()
    # The home page shows where the set-up stands.
    assert "prochaine" in client.get(reverse("portal:home")).content.decode()


def test_go_live_needs_every_step_or_a_supervisor_with_a_reason(
        account: ClientAccount, supervisor: Any, agent: Any) -> None:
    activate(account, supervisor)
    with pytest.raises(DomainError) as err:
        setup.setup_go_live(actor=agent, account=account)
    assert err.value.code == "setup_incomplete" and err.value.status == 409
    with pytest.raises(DomainError) as err:
        setup.setup_go_live(actor=supervisor, account=account, override_reason="  ")
    assert "override_reason" in err.value.fields
    live = setup.setup_go_live(actor=supervisor, account=account,
                               override_reason="Client pressé, appels tests demain")
    assert live.live_at is not None and live.override_by == supervisor
    event = AuditEvent.objects.filter(actor=supervisor).order_by("-pk").first()
    assert event is not None and SetupItemCode.TEST_CALLS in event.changes["missing"]


def test_go_live_when_complete(account: ClientAccount, supervisor: Any, agent: Any,
                               client_user: Any) -> None:
    activate(account, supervisor)
    now = clock.now()
    version = ConsigneVersion.objects.create(account=account, number=1, author=client_user,
                                             by_client=True, content={}, created_at=now)
    Call.objects.create(call_id="c1", account=account, to_number="+33388000000",
                        offered_at=now, created_at=now)
    ConsigneRead.objects.create(version=version, user=agent, read_at=now)
    setup.setup_item_tick(actor=agent, account=account, code=SetupItemCode.KICKOFF,
                          evidence="lundi 10 h")
    setup.setup_item_tick(actor=client_user, account=account, code=SetupItemCode.TEST_CALLS)
    with pytest.raises(DomainError) as err:
        setup.setup_item_tick(actor=agent, account=account, code=SetupItemCode.GO_LIVE,
                              evidence="demain")
    assert "evidence" in err.value.fields
    setup.setup_item_tick(actor=agent, account=account, code=SetupItemCode.GO_LIVE,
                          evidence="2026-12-14")
    found = Setup.objects.get(account=account)
    assert str(found.go_live_on) == "2026-12-14"
    assert setup.setup_view(found).complete
    live = setup.setup_go_live(actor=agent, account=account)  # no override needed
    assert live.live_at is not None and live.override_reason == ""


def test_client_of_another_account_cannot_tick(account: ClientAccount, other_account: Any,
                                               supervisor: Any, outsider_client: Any) -> None:
    activate(account, supervisor)
    with pytest.raises(Forbidden):
        setup.setup_item_tick(actor=outsider_client, account=account,
                              code=SetupItemCode.TEST_CALLS)


def test_staff_pages_and_isolation(account: ClientAccount, other_account: Any, supervisor: Any,
                                   agent: Any, client: Any) -> None:
    activate(account, supervisor)
    activate(other_account, supervisor)
    client.force_login(agent)
    page = client.get(reverse("desk:setup_list")).content.decode()
    assert account.name in page and other_account.name not in page
    assert client.get(reverse("desk:setup_detail", args=[account.pk])).status_code == 200
    assert client.get(reverse("desk:setup_detail", args=[other_account.pk])).status_code == 404
    response = client.post(reverse("desk:setup_tick", args=[account.pk]),
                           {"code": SetupItemCode.KICKOFF, "evidence": "mardi 8, 10 h"})
    assert response.status_code == 302
    # An agent cannot force the go-live: the page says why, nothing changes.
    response = client.post(reverse("desk:setup_live", args=[account.pk]),
                           {"override_reason": "vite"})
    assert response.status_code == 409
    assert Setup.objects.get(account=account).live_at is None


def test_list_queries_do_not_grow_with_the_number_of_setups(supervisor: Any, client: Any) -> None:
    def accounts(n: int, start: int) -> None:
        for i in range(start, start + n):
            acc = ClientAccount.objects.create(name=f"Compte {i}", slug=f"compte-{i}")
            activate(acc, supervisor)

    client.force_login(supervisor)
    accounts(2, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("desk:setup_list")).status_code == 200
    accounts(4, 10)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("desk:setup_list")).content.decode()
    assert "Compte 13" in page
    assert len(many) == len(few)

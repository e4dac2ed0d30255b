"""The staff pulse: anonymous for real (no user, no time on an answer), once a month, results
only from 3 answers, the « taux de satisfaction des collaborateurs » worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import models
from django.urls import reverse

from permanence.core import clock
from permanence.core.errors import DomainError
from permanence.planning import selectors, services
from permanence.planning.models import PulseParticipation, PulseResponse

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _now() -> Any:
    with clock.frozen(NOW):
        yield


def answer(user: Any, wellbeing: int, comment: str = "") -> None:
    services.pulse_answer(user=user, wellbeing=wellbeing, workload=3, support=4,
                          comment=comment)


def test_the_response_table_has_no_link_to_anybody() -> None:
    fields = PulseResponse._meta.get_fields()
    assert not [f for f in fields if f.is_relation]
    assert not [f for f in fields if isinstance(f, models.DateTimeField)]
    assert isinstance(PulseResponse._meta.pk, models.UUIDField)  # no insertion order either
    assert {f.name for f in fields} == {"id", "month", "wellbeing", "workload", "support",
                                        "comment"}


def test_answering_twice_the_same_month_is_refused(agent: Any) -> None:
    answer(agent, 4, "Ça va.")
    with pytest.raises(DomainError) as error:
        answer(agent, 1)
    assert error.value.status == 409
    assert PulseResponse.objects.count() == 1
    assert list(PulseParticipation.objects.values_list("user_id", "month")) == [
        (agent.pk, date(2026, 3, 1))]
    with clock.frozen(datetime(2026, 4, 1, 8, tzinfo=UTC)):  # a new month: again
        answer(agent, 5)
    assert PulseResponse.objects.count() == 2


def test_only_secretaries_answer_and_scores_are_checked(supervisor: Any, agent: Any) -> None:
    with pytest.raises(DomainError) as error:
        answer(supervisor, 4)
    assert error.value.status == 403
    for bad in (0, 6, True, "5", 10**30):
        with pytest.raises(DomainError):
            services.pulse_answer(user=agent, wellbeing=bad, workload=3, support=3)
    assert not PulseResponse.objects.exists() and not PulseParticipation.objects.exists()


def test_results_hidden_under_three_answers_then_the_rate_by_hand(make_user: Any) -> None:
    people = [make_user(f"s{i}@test.fr", "agent") for i in range(3)]
    answer(people[0], 5, "Bonne équipe.")
    answer(people[1], 2, "Trop d'appels le lundi.")
    [march] = selectors.pulse_results(today=NOW.date())
    assert (march.responses, march.shown, march.satisfaction_rate, march.comments) == (
        2, False, None, [])
    answer(people[2], 4)
    [march] = selectors.pulse_results(today=NOW.date())
    # Wellbeing 5, 2, 4: two answers of 4–5 out of three → 66.7 %; its average 11 / 3.
    assert march.shown and march.satisfaction_rate == 66.7
    assert march.averages == {"wellbeing": 3.67, "workload": 3.0, "support": 4.0}
    assert march.comments == ["Bonne équipe.", "Trop d'appels le lundi."]  # alphabetical


def test_the_pulse_page(client: Any, agent: Any) -> None:
    client.force_login(agent)
    assert "Répondre au baromètre" in client.get(reverse("dashboard")).content.decode()
    page = client.get(reverse("planning:pulse"))
    assert page.status_code == 200 and "Je me sens bien dans mon travail" in page.content.decode()
    bad = client.post(reverse("planning:pulse"), {"wellbeing": "99999999999999999999999",
                                                  "workload": "abc", "support": ""})
    assert bad.status_code == 422 and not PulseResponse.objects.exists()
    done = client.post(reverse("planning:pulse"), {"wellbeing": "4", "workload": "3",
                                                   "support": "5", "comment": "Merci"})
    assert done.status_code == 302
    again = client.post(reverse("planning:pulse"), {"wellbeing": "1", "workload": "1",
                                                    "support": "1"})
    assert again.status_code == 409 and PulseResponse.objects.count() == 1
    assert "Répondre au baromètre" not in client.get(reverse("dashboard")).content.decode()


def test_results_only_on_the_supervisors_satisfaction_tab(client: Any, supervisor: Any,
                                                         agent: Any, make_user: Any) -> None:
    for i, (score, comment) in enumerate([(5, "Secret A"), (4, "Secret B"), (1, "Secret C")]):
        answer(make_user(f"p{i}@test.fr", "agent"), score, comment)
    client.force_login(supervisor)
    page = client.get(reverse("reports_satisfaction")).content.decode()
    assert "Taux de satisfaction des collaborateurs" in page and "66,7 %" in page
    assert "Secret A" in page
    client.force_login(agent)  # a secretary sees the tab, not her colleagues' answers
    page = client.get(reverse("reports_satisfaction")).content.decode()
    assert "Secret A" not in page and "Baromètre de l'équipe" not in page
    page = client.get(reverse("planning:pulse")).content.decode()
    assert "Secret" not in page

"""Quality reviews: the weighted total worked out by hand (N/A left out), the grid chosen
(the account's, else the global one), the criteria snapshot, acknowledgement by the reviewed
agent only, isolation (a colleague's review does not exist), averages by hand, the pages,
constant queries on the list, and bad input answered with field errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden
from permanence.desk.models import Call
from permanence.inbox.models import Conversation, Direction, Message
from permanence.quality import selectors, services
from permanence.quality.models import Grid, Review, Score
from permanence.quality.services import ScoreInput, weighted_score

pytestmark = pytest.mark.django_db


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_grid(actor: Any, account: Any = None, weights: tuple[int, ...] = (2, 3, 1),
              name: str = "Grille") -> Grid:
    grid = services.grid_create(actor=actor, name=name, account=account)
    for n, w in enumerate(weights):
        services.criterion_save(actor=actor, grid=grid, label=f"Critère {n + 1}", weight=w,
                                order=n)
    return grid


def make_call(account: Any, agent: Any, n: int = 1, recording: str = "") -> Call:
    now = clock.now()
    return Call.objects.create(call_id=f"q-{account.pk}-{n}", account=account, agent=agent,
                               from_number="+33612345678", state="ended", outcome="answered",
                               offered_at=now, answered_at=now, created_at=now,
                               message="Rappeler Mme Petit", recording_url=recording)


def scores_for(grid: Grid, values: list[int | None]) -> dict[int, ScoreInput]:
    criteria = selectors.grid_criteria(grid)
    return {c.pk: ScoreInput(value=v, comment="") for c, v in zip(criteria, values, strict=True)}


def review(supervisor: Any, call: Call, values: list[int | None], **kw: Any) -> Review:
    grid = selectors.grid_for_account(call.account)
    assert grid is not None
    return services.review_create(actor=supervisor, call=call, scores=scores_for(grid, values),
                                  **kw)


# --- The weighted total ------------------------------------------------------------------------


def test_weighted_score_by_hand_with_not_applicable_criteria() -> None:
    # weights 2, 3, 1 scored 4, 2, N/A: (2×4 + 3×2) ÷ (4 × (2 + 3)) = 14 ÷ 20 = 70 %.
    assert weighted_score([(2, 4), (3, 2), (1, None)]) == Decimal("70.00")
    # 2, 3, 1 scored 3, 3, 0: (6 + 9 + 0) ÷ 24 = 62.5 %.
    assert weighted_score([(2, 3), (3, 3), (1, 0)]) == Decimal("62.50")
    # 1, 1, 1 scored 1, 1, 0: 2 ÷ 12 = 16.666… → 16.67 (half up).
    assert weighted_score([(1, 1), (1, 1), (1, 0)]) == Decimal("16.67")
    assert weighted_score([(2, None), (3, None)]) is None  # all N/A: no total
    assert weighted_score([(5, 4)]) == Decimal("100.00")


def test_a_review_stores_the_total_and_a_snapshot_of_each_criterion(
        supervisor: Any, agent: Any, account: Any) -> None:
    grid = make_grid(supervisor, weights=(2, 3, 1))
    call = make_call(account, agent)
    made = review(supervisor, call, [4, 2, None], coaching="Reformuler la demande.")
    assert made.score_pct == Decimal("70.00")
    assert (made.agent, made.reviewer, made.account, made.grid) == (agent, supervisor,
                                                                    account, grid)
    assert [(s.label, s.weight, s.value) for s in made.scores.all()] == [
        ("Critère 1", 2, 4), ("Critère 2", 3, 2), ("Critère 3", 1, None)]
    assert AuditEvent.objects.filter(target_type="quality.review", action="create",
                                     target_id=str(made.pk)).exists()
    # The grid is edited afterwards: the review still reads as scored.
    first = selectors.grid_criteria(grid)[0]
    services.criterion_save(actor=supervisor, grid=grid, criterion=first, label="Accueil",
                            weight=10, order=0)
    services.criterion_delete(actor=supervisor, criterion=selectors.grid_criteria(grid)[2])
    made.refresh_from_db()
    assert made.score_pct == Decimal("70.00")
    assert [(s.label, s.weight) for s in made.scores.all()] == [
        ("Critère 1", 2), ("Critère 2", 3), ("Critère 3", 1)]


def test_the_account_grid_wins_over_the_global_one(supervisor: Any, agent: Any,
                                                   account: Any, other_account: Any,
                                                   other_agent: Any) -> None:
    global_grid = make_grid(supervisor, weights=(1,), name="Globale")
    own = make_grid(supervisor, account=account, weights=(1, 1), name="Cabinet")
    assert selectors.grid_for_account(account) == own
    assert selectors.grid_for_account(other_account) == global_grid
    assert review(supervisor, make_call(account, agent), [4, 0]).grid == own
    assert review(supervisor, make_call(other_account, other_agent, 2), [2]).grid == global_grid
    # Deactivated, the account's grid gives way to the global one.
    services.grid_update(actor=supervisor, grid=own, name="Cabinet", is_active=False)
    assert selectors.grid_for_account(account) == global_grid
    # A new active global grid retires the previous one (one active per scope).
    newer = make_grid(supervisor, weights=(1,), name="Globale 2")
    global_grid.refresh_from_db()
    assert not global_grid.is_active and selectors.grid_for_account(account) == newer


def test_scores_out_of_range_or_missing_are_field_errors(supervisor: Any, agent: Any,
                                                         account: Any) -> None:
    grid = make_grid(supervisor, weights=(1, 1))
    call = make_call(account, agent)
    first, second = selectors.grid_criteria(grid)
    with pytest.raises(DomainError) as bad:
        services.review_create(actor=supervisor, call=call, scores={
            first.pk: ScoreInput(value=5), second.pk: ScoreInput(value=-1)})
    assert set(bad.value.fields) == {f"score_{first.pk}", f"score_{second.pk}"}
    with pytest.raises(DomainError) as missing:
        services.review_create(actor=supervisor, call=call, scores={
            first.pk: ScoreInput(value=3)})
    assert f"score_{second.pk}" in missing.value.fields
    assert not Review.objects.exists()


def test_only_reviewers_review_and_nobody_reviews_their_own_work(
        supervisor: Any, agent: Any, other_agent: Any, account: Any) -> None:
    make_grid(supervisor, weights=(1,))
    call = make_call(account, agent)
    with pytest.raises(Forbidden):
        review(other_agent, call, [4])
    own = make_call(account, supervisor, 2)
    with pytest.raises(DomainError) as err:
        review(supervisor, own, [4])
    assert "agent" in err.value.fields
    assert not Review.objects.exists()


def test_a_conversation_is_reviewed_for_one_who_worked_it(supervisor: Any, agent: Any,
                                                          other_agent: Any,
                                                          account: Any) -> None:
    grid = make_grid(supervisor, weights=(1,))
    now = clock.now()
    conversation = Conversation.objects.create(
        account=account, reference="Q-1", subject="Rendez-vous", channel="email",
        status="ouvert", created_at=now, updated_at=now, last_message_at=now)
    Message.objects.create(conversation=conversation, direction=Direction.IN, channel="email",
                           body_text="Bonjour, un rendez-vous ?", created_at=now)
    Message.objects.create(conversation=conversation, direction=Direction.OUT, channel="email",
                           author=agent, body_text="Mardi 10 h ?", created_at=now)
    Message.objects.create(conversation=conversation, direction=Direction.NOTE, channel="email",
                           author=other_agent, body_text="note interne", created_at=now)
    assert selectors.conversation_agents(conversation) == [agent]
    assert [m.body_text for m in selectors.transcript(conversation)] == [
        "Bonjour, un rendez-vous ?", "Mardi 10 h ?"]
    with pytest.raises(DomainError):
        services.review_create(actor=supervisor, conversation=conversation,
                               scores=scores_for(grid, [3]), agent=other_agent)
    made = services.review_create(actor=supervisor, conversation=conversation,
                                  scores=scores_for(grid, [3]), agent=agent)
    assert made.agent == agent and made.score_pct == Decimal("75.00")


# --- Acknowledgement and isolation -------------------------------------------------------------


def test_only_the_reviewed_agent_acknowledges_once(supervisor: Any, agent: Any,
                                                   other_agent: Any, account: Any) -> None:
    make_grid(supervisor, weights=(1,))
    made = review(supervisor, make_call(account, agent), [3])
    for someone in (supervisor, other_agent):
        with pytest.raises(Forbidden):
            services.review_acknowledge(actor=someone, review=made)
    done = services.review_acknowledge(actor=agent, review=made, reply="Bien noté.")
    assert done.acknowledged_at is not None and done.agent_reply == "Bien noté."
    assert AuditEvent.objects.filter(target_type="quality.review", action="update").exists()
    with pytest.raises(DomainError) as twice:
        services.review_acknowledge(actor=agent, review=made)
    assert twice.value.status == 409


def test_an_agent_neither_sees_nor_acknowledges_a_colleague_review(
        supervisor: Any, agent: Any, other_agent: Any, account: Any) -> None:
    make_grid(supervisor, weights=(1,))
    made = review(supervisor, make_call(account, agent), [3])
    colleague = logged(other_agent)
    assert colleague.get(f"/app/qualite/{made.pk}/").status_code == 404
    assert colleague.post(f"/app/qualite/{made.pk}/lu/").status_code == 404
    listed = colleague.get("/app/qualite/")
    assert listed.status_code == 200 and f'data-review-id="{made.pk}"' not in listed.text
    made.refresh_from_db()
    assert made.acknowledged_at is None
    # The agent herself reads it and acknowledges it from the page.
    own = logged(agent)
    page = own.get(f"/app/qualite/{made.pk}/")
    assert page.status_code == 200 and "J'ai pris connaissance" in page.text
    assert own.get("/app/qualite/").text.count("data-review-id=") == 1
    answer = own.post(f"/app/qualite/{made.pk}/lu/", {"reply": "Merci"})
    assert answer.status_code == 302
    made.refresh_from_db()
    assert made.acknowledged_at is not None and made.agent_reply == "Merci"
    # The supervisor sees it read, and cannot acknowledge for her.
    boss = logged(supervisor)
    assert "Lue par la télésecrétaire" in boss.get(f"/app/qualite/{made.pk}/").text
    assert boss.post(f"/app/qualite/{made.pk}/lu/").status_code == 403


def test_agents_and_billing_cannot_score(agent: Any, billing: Any, supervisor: Any,
                                         account: Any) -> None:
    make_grid(supervisor, weights=(1,))
    call = make_call(account, agent)
    for user in (agent, billing):
        assert logged(user).get(f"/app/qualite/evaluer/appel/{call.pk}/").status_code == 403
    assert logged(billing).get("/app/qualite/").status_code == 403


# --- Averages ----------------------------------------------------------------------------------


def test_averages_per_agent_and_account_by_hand(supervisor: Any, agent: Any,
                                                other_agent: Any, account: Any,
                                                other_account: Any) -> None:
    make_grid(supervisor, weights=(1, 1))
    # agent: 100 % and 50 % (normal), 25 % (mystery); other_agent: 75 % on the other account;
    # an all-N/A review has no total and is not counted.
    review(supervisor, make_call(account, agent, 1), [4, 4])
    review(supervisor, make_call(account, agent, 2), [2, 2])
    review(supervisor, make_call(account, agent, 3), [1, 1], mystery=True)
    review(supervisor, make_call(account, agent, 4), [None, None])
    review(supervisor, make_call(other_account, other_agent, 5), [3, 3])
    old = review(supervisor, make_call(account, agent, 6), [0, 0])
    Review.objects.filter(pk=old.pk).update(created_at=clock.now() - timedelta(days=40))
    start, end = clock.now() - timedelta(days=7), clock.now() + timedelta(days=1)

    by_agent = selectors.averages(supervisor, by="agent", start=start, end=end)
    mine = by_agent[agent.pk]
    assert (mine.reviews, mine.mean) == (3, Decimal("58.33"))  # (100 + 50 + 25) ÷ 3
    assert (mine.normal_reviews, mine.normal_mean) == (2, Decimal("75.00"))
    assert (mine.mystery_reviews, mine.mystery_mean) == (1, Decimal("25.00"))
    assert by_agent[other_agent.pk].mean == Decimal("75.00")

    by_account = selectors.averages(supervisor, by="account", start=start, end=end)
    assert by_account[account.pk].mean == Decimal("58.33")
    assert by_account[other_account.pk].mean == Decimal("75.00")
    assert selectors.averages(supervisor, by="agent", start=start, end=end,
                              mystery=False)[agent.pk].mean == Decimal("75.00")
    # Without a period, the old review (0 %) counts: (100 + 50 + 25 + 0) ÷ 4.
    assert selectors.averages(supervisor, by="agent")[agent.pk].mean == Decimal("43.75")
    # A secretary's averages are her own only.
    assert set(selectors.averages(agent, by="agent")) == {agent.pk}


def test_the_team_report_shows_the_quality_average(supervisor: Any, agent: Any,
                                                   account: Any) -> None:
    make_grid(supervisor, weights=(1, 1))
    review(supervisor, make_call(account, agent, 1), [4, 4])
    review(supervisor, make_call(account, agent, 2), [2, 2], mystery=True)
    page = logged(supervisor).get("/app/rapports/equipe/")
    assert page.status_code == 200
    assert "Qualité (moyenne des évaluations)" in page.text
    assert "75,0 %" in page.text and "2 évaluations" in page.text


# --- Pages -------------------------------------------------------------------------------------


def test_a_supervisor_scores_a_call_from_the_page(supervisor: Any, agent: Any,
                                                  account: Any) -> None:
    grid = make_grid(supervisor, weights=(2, 3, 1))
    call = make_call(account, agent, recording="https://pbx.example.com/r.wav")
    boss = logged(supervisor)
    assert f"/app/qualite/evaluer/appel/{call.pk}/" in boss.get(f"/app/poste/appels/{call.pk}/").text
    assert "/app/qualite/evaluer/" not in logged(agent).get(f"/app/poste/appels/{call.pk}/").text
    page = boss.get(f"/app/qualite/evaluer/appel/{call.pk}/")
    assert page.status_code == 200
    # Heard through Permanence, never at the provider's URL.
    assert f"/app/poste/appels/{call.pk}/enregistrement/" in page.text
    assert "pbx.example.com" not in page.text
    c1, c2, c3 = selectors.grid_criteria(grid)
    sent = boss.post(f"/app/qualite/evaluer/appel/{call.pk}/", {
        f"score_{c1.pk}": "4", f"score_{c2.pk}": "2", f"score_{c3.pk}": "na",
        f"comment_{c2.pk}": "Numéro non vérifié", "coaching": "Relire le numéro.",
        "mystery": "on"})
    made = Review.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/app/qualite/{made.pk}/"
    assert made.score_pct == Decimal("70.00") and made.mystery
    assert Score.objects.get(criterion=c2).comment == "Numéro non vérifié"
    shown = boss.get(f"/app/qualite/{made.pk}/").text
    assert "Appel mystère" in shown and "70,0 %" in shown
    listed = boss.get("/app/qualite/").text
    assert "Appel mystère" in listed and 'data-unacknowledged="1"' in listed


@pytest.mark.parametrize("bad", [
    {"first": "5"}, {"first": "-1"}, {"first": "99999999999999999999999"},
    {"first": "abc"}, {"first": ""}, {"comment": "x" * 1001}, {"coaching": "x" * 4001},
])
def test_bad_scoring_input_gets_field_errors_never_a_500(supervisor: Any, agent: Any,
                                                         account: Any,
                                                         bad: dict[str, str]) -> None:
    grid = make_grid(supervisor, weights=(1, 1))
    c1, c2 = selectors.grid_criteria(grid)
    call = make_call(account, agent)
    data = {f"score_{c1.pk}": bad.get("first", "3"), f"score_{c2.pk}": "2",
            f"comment_{c1.pk}": bad.get("comment", ""), "coaching": bad.get("coaching", "")}
    answer = logged(supervisor).post(f"/app/qualite/evaluer/appel/{call.pk}/", data)
    assert answer.status_code == 422
    assert 'class="error"' in answer.text
    assert not Review.objects.exists()


@pytest.mark.parametrize("data", [
    {"label": "Empathie", "weight": "99999999999999999999999", "order": "1"},
    {"label": "Empathie", "weight": "0", "order": "1"},
    {"label": "Empathie", "weight": "101", "order": "1"},
    {"label": "", "weight": "1", "order": "1"},
    {"label": "Empathie", "weight": "1", "order": "-3"},
])
def test_bad_criterion_input_gets_field_errors(supervisor: Any, data: dict[str, str]) -> None:
    grid = make_grid(supervisor, weights=())
    answer = logged(supervisor).post(f"/app/qualite/grilles/{grid.pk}/criteres/", data)
    assert answer.status_code == 422 and 'class="error"' in answer.text
    assert not grid.criteria.exists()


def test_bad_filters_and_acknowledgement_are_field_errors(supervisor: Any, agent: Any,
                                                          account: Any) -> None:
    boss = logged(supervisor)
    for query in ("agent=99999999999999999999999", "compte=abc", "du=2026-13-45",
                  "du=2026-02-01&au=2026-01-01", "mystere=peut-etre"):
        assert boss.get(f"/app/qualite/?{query}").status_code == 422, query
    make_grid(supervisor, weights=(1,))
    made = review(supervisor, make_call(account, agent), [3])
    answer = logged(agent).post(f"/app/qualite/{made.pk}/lu/", {"reply": "x" * 2001})
    assert answer.status_code == 422
    made.refresh_from_db()
    assert made.acknowledged_at is None


def test_grids_are_managed_by_supervisors(supervisor: Any, agent: Any, account: Any) -> None:
    boss = logged(supervisor)
    created = boss.post("/app/qualite/grilles/", {"name": "Cabinet", "account": account.pk})
    grid = Grid.objects.get()
    assert created.status_code == 302 and grid.account == account
    assert boss.post(f"/app/qualite/grilles/{grid.pk}/criteres/", {
        "label": "Accueil", "description": "", "weight": "2", "order": "1"}).status_code == 302
    criterion = grid.criteria.get()
    assert boss.post(f"/app/qualite/grilles/{grid.pk}/criteres/{criterion.pk}/", {
        "label": "Accueil conforme", "weight": "3", "order": "1"}).status_code == 302
    criterion.refresh_from_db()
    assert (criterion.label, criterion.weight) == ("Accueil conforme", 3)
    assert boss.post(f"/app/qualite/grilles/{grid.pk}/", {"name": "Cabinet"}).status_code == 302
    grid.refresh_from_db()
    assert not grid.is_active
    assert logged(agent).get("/app/qualite/grilles/").status_code == 403


def test_the_list_page_makes_the_same_queries_for_1_or_8_reviews(
        supervisor: Any, agent: Any, other_agent: Any, account: Any, other_account: Any,
        django_assert_num_queries: Any) -> None:
    make_grid(supervisor, weights=(1,))
    review(supervisor, make_call(account, agent, 0), [3])
    boss = logged(supervisor)
    boss.get("/app/qualite/")  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert boss.get("/app/qualite/").status_code == 200
        return len(ctx.captured_queries)

    baseline = count()
    for n in range(1, 8):
        review(supervisor, make_call(account if n % 2 else other_account,
                                     agent if n % 2 else other_agent, n), [n % 5],
               mystery=n == 3)
    with django_assert_num_queries(baseline):
        assert boss.get("/app/qualite/?du=2020-01-01&au=2099-12-31").status_code == 200


def test_a_conversation_is_scored_beside_its_transcript(supervisor: Any, agent: Any,
                                                        account: Any) -> None:
    grid = make_grid(supervisor, weights=(1, 1))
    now = clock.now()
    conversation = Conversation.objects.create(
        account=account, reference="Q-2", subject="Annulation", channel="email",
        status="ouvert", created_at=now, updated_at=now, last_message_at=now, assignee=agent)
    Message.objects.create(conversation=conversation, direction=Direction.IN, channel="email",
                           body_text="J'annule mon rendez-vous.", created_at=now)
    Message.objects.create(conversation=conversation, direction=Direction.NOTE,
                           channel="email", author=supervisor, body_text="Note secrète",
                           created_at=now)
    boss = logged(supervisor)
    assert (f"/app/qualite/evaluer/dossier/{conversation.pk}/"
            in boss.get(f"/app/boite/{conversation.pk}/").text)
    page = boss.get(f"/app/qualite/evaluer/dossier/{conversation.pk}/")
    assert "J&#x27;annule mon rendez-vous." in page.text and "Note secrète" not in page.text
    c1, c2 = selectors.grid_criteria(grid)
    sent = boss.post(f"/app/qualite/evaluer/dossier/{conversation.pk}/", {
        "agent": str(agent.pk), f"score_{c1.pk}": "4", f"score_{c2.pk}": "1"})
    made = Review.objects.get()
    assert sent.status_code == 302 and made.conversation == conversation
    assert made.agent == agent and made.score_pct == Decimal("62.50")  # 5 ÷ 8
    # Someone who did not work it cannot be chosen (field error, nothing written).
    wrong = boss.post(f"/app/qualite/evaluer/dossier/{conversation.pk}/", {
        "agent": str(supervisor.pk), f"score_{c1.pk}": "4", f"score_{c2.pk}": "1"})
    assert wrong.status_code == 422 and Review.objects.count() == 1

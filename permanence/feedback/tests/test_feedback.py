"""« Votre avis »: anyone leaves a rating and a comment from a page (JSON for the dialog, a
page without JavaScript), the account only when it is the client's own; bad input gets field
errors; the board groups by page, shows what comes back, and only supervisors work it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from permanence.feedback import selectors
from permanence.feedback.models import Feedback

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def logged(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_visitor_leaves_an_opinion_from_a_page_and_the_button_is_everywhere() -> None:
    client = Client()
    for page in ("/offres/", "/panier/", "/contact/"):
        html = client.get(page).content.decode()
        assert "Votre avis" in html and 'name="rating"' in html, page
    sent = client.post("/avis/", {"rating": "2", "comment": "Tarifs difficiles à comparer",
                                  "page": "/offres/?x=1#top", "source": "site"}, **JSON)
    assert sent.status_code == 201 and sent.json()["ok"] is True
    item = Feedback.objects.get()
    assert (item.page, item.rating, item.account, item.status) == ("/offres/?x=1", 2, None,
                                                                   "nouveau")


def test_without_javascript_the_form_page_sends_back_to_the_page(settings: Any) -> None:
    client = Client()
    form = client.get("/avis/?page=/offres/")
    assert form.status_code == 200 and 'value="/offres/"' in form.content.decode()
    sent = client.post("/avis/", {"rating": "5", "page": "/offres/"})
    assert sent.status_code == 302 and sent["Location"] == "/offres/"
    away = client.post("/avis/", {"rating": "5", "page": "https://evil.example/x"})
    assert away["Location"] == "/"  # never a redirect elsewhere
    assert Feedback.objects.filter(page="/").count() == 1


@pytest.mark.parametrize("data", [
    {"rating": "0", "page": "/"}, {"rating": "6", "page": "/"}, {"rating": "abc", "page": "/"},
    {"rating": "99999999999999999999999", "page": "/"}, {"page": "/"},
    {"rating": "3", "page": "/", "comment": "x" * 2001},
    {"rating": "3", "page": "/", "account": "99999999999999999999999"},
])
def test_bad_input_gets_field_errors_never_a_500(data: dict[str, str]) -> None:
    answer = Client().post("/avis/", data, **JSON)
    assert answer.status_code == 422 and answer.json()["errors"]
    assert not Feedback.objects.exists()


def test_the_account_is_kept_only_when_it_is_the_clients_own(
        account: Any, other_account: Any, client_user: Any) -> None:
    client = logged(client_user)
    assert "Votre avis" in client.get("/espace/").content.decode()
    client.post("/avis/", {"rating": "4", "page": "/espace/", "source": "espace",
                           "account": account.pk}, **JSON)
    client.post("/avis/", {"rating": "4", "page": "/espace/", "source": "espace",
                           "account": other_account.pk}, **JSON)
    mine, other = Feedback.objects.order_by("pk")
    assert (mine.account, mine.user, mine.source) == (account, client_user, "espace")
    assert other.account is None


def test_the_rate_limit_answers_429(settings: Any) -> None:
    settings.FEEDBACK_RATE_LIMIT = 2
    client = Client()
    codes = [client.post("/avis/", {"rating": "3", "page": "/"}, **JSON).status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]


def test_the_board_groups_by_page_shows_recurring_words_and_only_supervisors_act(
        supervisor: Any, agent: Any, client_user: Any,
        django_assert_max_num_queries: Any) -> None:
    client = Client()
    for n, (page, comment) in enumerate([
            ("/offres/", "Le paiement par virement est compliqué"),
            ("/offres/", "Virement : délai trop long"),
            ("/commande/", "Le virement n'apparaît pas"), ("/offres/", "")]):
        client.post("/avis/", {"rating": str(1 + n % 5), "page": page,
                               "comment": comment}, **JSON)
    assert ("virement", 3) in selectors.recurring_words()
    board = logged(supervisor)
    with django_assert_max_num_queries(12):
        html = board.get("/app/avis/").content.decode()
    assert "/offres/" in html and "virement" in html and "3 avis" in html
    assert logged(agent).get("/app/avis/").status_code == 403
    assert logged(client_user).get("/app/avis/").status_code in (302, 403)
    item = Feedback.objects.filter(page="/commande/").get()
    done = board.post(f"/app/avis/{item.pk}/", {"status": "en_cours", "owner": supervisor.pk,
                                                 "theme": "Virement", "notes": "Voir la banque"})
    assert done.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.owner, item.theme) == ("en_cours", supervisor, "Virement")
    assert item.history.get().to_status == "en_cours"
    assert board.post(f"/app/avis/{item.pk}/", {"status": "nope"}).status_code == 422

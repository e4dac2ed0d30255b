"""French first, English available: the language choice and the English catalogue.

The UI's source strings are French. French is the default whatever the browser asks for;
English comes from the user's profile (User.language) or, for visitors, from the language
switch in the public footer (POST /i18n/setlang/, cookie).
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

LOCALE_DIR = Path(settings.BASE_DIR) / "permanence" / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"


@pytest.fixture(autouse=True)
def _back_to_french_after_each_test() -> Any:
    """A request from an English user activates English in this thread and Django leaves it
    active after the response: reset it, or later tests (order labels, e-mails) run in English."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


def english_visitor() -> Client:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/connexion/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


# --- Choosing the language -------------------------------------------------------------------

@pytest.mark.django_db
def test_french_by_default_even_when_the_browser_asks_for_english() -> None:
    response = Client().get("/connexion/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Connexion" in html
    assert "Se connecter" in html
    assert "Sign in" not in html
    assert '<html lang="fr">' in html
    assert response["Content-Language"] == "fr"


@pytest.mark.django_db
def test_visitor_switches_to_english_with_the_footer_switch() -> None:
    client = english_visitor()

    login = client.get("/connexion/").content.decode()
    assert '<html lang="en">' in login
    assert "Sign in" in login
    assert "Forgot your password?" in login
    assert "Connexion" not in login
    assert "Mot de passe oublié" not in login
    # The footer now offers the way back to French.
    assert 'name="language" value="fr"' in login

    home = client.get("/").content.decode()
    assert "Go to my client area" in home
    assert "Accéder à mon espace client" not in home

    # And back to French.
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "Connexion" in client.get("/connexion/").content.decode()


@pytest.mark.django_db
def test_english_visitor_cookie_with_unknown_language_falls_back_to_french() -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    assert "Connexion" in client.get("/connexion/").content.decode()


@pytest.mark.django_db
def test_staff_user_with_english_profile_sees_the_back_office_in_english(
        make_user: Any, account: Any) -> None:
    user = make_user("english@test.fr", "supervisor", language="en")
    client = Client()
    client.force_login(user)

    dashboard = client.get("/app/").content.decode()
    assert '<html lang="en">' in dashboard
    for text in ("Inbox", "Client accounts", "Dashboard", "Settings", "Sign out"):
        assert text in dashboard, text
    for text in ("Boîte de réception", "Comptes clients", "Tableau de bord", "Se déconnecter"):
        assert text not in dashboard, text

    inbox = client.get("/app/boite/").content.decode()
    assert "Complaints register" in inbox
    assert "No conversations in this view." in inbox or "Conversation" in inbox

    # The profile language wins over a French cookie.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert "Client accounts" in client.get("/app/").content.decode()


@pytest.mark.django_db
def test_french_staff_user_keeps_the_french_back_office(agent: Any, account: Any) -> None:
    client = Client()
    client.force_login(agent)
    html = client.get("/app/").content.decode()
    assert "Boîte de réception" in html
    assert "Comptes clients" in html
    assert "Inbox" not in html


@pytest.mark.django_db
def test_english_user_gets_english_flash_messages_and_conversation_page(
        make_user: Any, account: Any) -> None:
    from permanence.inbox.services import Incoming, conversation_open

    user = make_user("english-agent@test.fr", "agent", language="en")
    account.assigned_agents.add(user)
    conversation = conversation_open(Incoming(account=account, channel="formulaire",
                                              subject="Question", body_text="Bonjour",
                                              contact_email="a@exemple.fr", acknowledge=False))
    client = Client()
    client.force_login(user)
    page = client.get(f"/app/boite/{conversation.pk}/").content.decode()
    assert "Internal note" in page
    assert "Note interne" not in page
    assert conversation.reference in page  # references stay as they are

    response = client.post(f"/app/boite/{conversation.pk}/note/", {"body": "Vu."}, follow=True)
    assert "Note added." in response.content.decode()


@pytest.mark.django_db
def test_client_with_english_profile_sees_the_client_area_in_english(client_user: Any,
                                                                      account: Any) -> None:
    client_user.language = "en"
    client_user.save(update_fields=["language"])
    client = Client()
    client.force_login(client_user)
    html = client.get("/espace/").content.decode()
    assert "Client area" in html
    assert "My requests" in html
    assert "Espace client" not in html


# --- The catalogue ---------------------------------------------------------------------------

def _unquote(line: str) -> str:
    return str(ast.literal_eval(line))


def parse_po(path: Path) -> list[dict[str, Any]]:
    """The .po entries: msgctxt, msgid, msgid_plural, msgstr (a list: one per plural form),
    and flags. A few lines of Python rather than a dependency (polib is not installed)."""
    entries: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    key: tuple[str, int] | str | None = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if "msgid" in current:
                entries.append(current)
            current, key = {}, None
            continue
        current.setdefault("flags", set())
        current.setdefault("msgstr", [])
        if line.startswith("#,"):
            current["flags"].update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$',
                               line):
            name, index, text = match[1], match[2], _unquote(match[3])
            if name.startswith("msgstr"):
                position = int(index or 0)
                current["msgstr"].extend([""] * (position + 1 - len(current["msgstr"])))
                current["msgstr"][position] = text
                key = ("msgstr", position)
            else:
                current[name] = text
                key = name
        else:
            assert line.startswith('"'), f"unexpected line in {path.name}: {raw!r}"
            if isinstance(key, tuple):
                current["msgstr"][key[1]] += _unquote(line)
            elif key is not None:
                current[key] += _unquote(line)
    return entries


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    entries = parse_po(PO_FILE)
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "Language: en" in header["msgstr"][0]
    assert len(messages) > 500  # the whole UI, not a sample
    untranslated = [e["msgid"] for e in messages if not all(s.strip() for s in e["msgstr"])]
    assert untranslated == []
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert fuzzy == []
    plurals = [e for e in messages if "msgid_plural" in e]
    assert plurals and all(len(e["msgstr"]) == 2 for e in plurals)
    # Placeholders survive translation.
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for e in messages:
        sources = [e["msgid"], e.get("msgid_plural", e["msgid"])]
        for source, translated in zip(sources, e["msgstr"], strict=False):
            assert sorted(placeholder.findall(source)) == sorted(
                placeholder.findall(translated)), e["msgid"]


def _mo_catalog(path: Path) -> dict[Any, str]:
    with path.open("rb") as fp:
        return dict(gettext.GNUTranslations(fp)._catalog)  # type: ignore[attr-defined]


def _po_catalog(path: Path) -> dict[Any, str]:
    """What msgfmt would put in the .mo, computed from the .po (no fuzzy entries here)."""
    catalog: dict[Any, str] = {}
    for e in parse_po(path):
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            for index, text in enumerate(e["msgstr"]):
                catalog[(msgid, index)] = text
        else:
            catalog[msgid] = e["msgstr"][0]
    return catalog


def test_compiled_catalogue_is_up_to_date_with_the_po() -> None:
    assert MO_FILE.exists(), "run: cd permanence && ../manage.py compilemessages -l en"
    compiled = _mo_catalog(MO_FILE)
    msgfmt = shutil.which("msgfmt")
    if msgfmt:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "django.mo"
            subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO_FILE)],  # noqa: S603
                           check=True, capture_output=True)
            expected = _mo_catalog(fresh)
    else:  # no GNU gettext here: compare with the .po itself
        expected = _po_catalog(PO_FILE)
        expected[""] = compiled.get("", "")
    assert compiled == expected, (
        "django.mo is stale: run `cd permanence && ../manage.py compilemessages -l en`")
    # A few known entries, through Django's own machinery.
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("Boîte de réception") == "Inbox"
        assert translation.gettext("Comptes clients") == "Client accounts"
        assert translation.gettext("Note interne") == "Internal note"
        assert translation.pgettext("done by someone", "par") == "by"
        assert translation.ngettext("%(counter)s nouvelle réponse",
                                    "%(counter)s nouvelles réponses", 2) % {
            "counter": 2} == "2 new replies"


def _entry_keys(entries: list[dict[str, Any]]) -> set[tuple[str | None, str, str | None]]:
    return {(e.get("msgctxt"), e["msgid"], e.get("msgid_plural")) for e in entries if e["msgid"]}


def test_catalogue_has_every_source_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed catalogue matches the source: `makemessages` run on a scratch copy of the
    code adds no string and drops none. Same command as the real one (run from permanence/,
    default options), but on a copy, so the working tree is never touched.

    If this fails: cd permanence && ../manage.py makemessages -l en --no-obsolete, translate the
    new entries, then ../manage.py compilemessages -l en."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext (xgettext, msgmerge) is not installed")
    from django.core.management import call_command
    from django.test import override_settings

    source = Path(settings.BASE_DIR) / "permanence"
    copy = tmp_path.resolve() / "permanence"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(
        "locale", "__pycache__", "*.pyc", "*.mo", "*.po", "*.pot", "node_modules", "static"))
    scratch_po = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    scratch_po.parent.mkdir(parents=True)
    shutil.copyfile(PO_FILE, scratch_po)

    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[str(copy / "locale")]):
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)

    regenerated = parse_po(scratch_po)
    committed = _entry_keys(parse_po(PO_FILE))
    found = _entry_keys(regenerated)
    missing = sorted(found - committed, key=str)
    assert missing == [], f"{len(missing)} source string(s) missing from django.po: {missing[:20]}"
    obsolete = sorted(committed - found, key=str)
    assert obsolete == [], f"{len(obsolete)} entry(ies) no longer in the source: {obsolete[:20]}"
    untranslated = [e["msgid"] for e in regenerated[1:]
                    if "fuzzy" in e["flags"] or not all(s.strip() for s in e["msgstr"])]
    assert untranslated == []

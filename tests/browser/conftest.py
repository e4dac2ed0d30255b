"""Playwright fixtures for the browser journeys (Debian's Chromium, headless, sync API).

- Every test under tests/browser is marked `browser` (`make test-fast` deselects them).
- No Chromium (or no Playwright): the tests SKIP with the reason on a developer's machine, but
  FAIL when the CI environment variable is set, so CI can never go green without running them.
- One browser per session; `new_page()` gives a fresh context + page (own cookies, so one
  logged-in user per page); on failure every page of the test is screenshotted to
  test-results/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

BROWSER_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BROWSER_DIR.parent.parent / "test-results"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Generous enough for a loaded CI machine, short enough to fail fast on a real bug.
TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: the marker must be there before `-m "not browser"` deselects.
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: browser journeys must run, not be skipped)",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM
    resolved = path if os.path.isabs(path) else shutil.which(path)
    if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
        _unavailable(f"Chromium not found at {path!r} (install Debian's `chromium` "
                     "or set CHROMIUM_PATH)")
    return str(resolved)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    """One Chromium per module. Playwright's sync API runs an event loop in the test thread,
    and Django's ORM refuses to run inside one unless told it is safe: it is told so only
    while the loop runs, so that elsewhere a synchronous ORM call from async code (a
    consumer) fails its test."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - dev dependency missing
        _unavailable(f"Playwright is not installed ({exc})")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield from _launched(chromium_path, sync_playwright)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _launched(chromium_path: str, sync_playwright: Any) -> Iterator[Any]:
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                     args=LAUNCH_ARGS)
    except Exception as exc:
        pw.stop()
        _unavailable(f"Chromium at {chromium_path!r} could not be launched: {exc}")
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


@pytest.fixture
def new_page(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[
        Callable[..., Any]]:
    """new_page(**context_options) → a Page in a brand-new browser context.

    Relative URLs (page.goto("/connexion/")) resolve against the live server.
    """
    contexts: list[Any] = []
    pages: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("base_url", live_server.url)
        options.setdefault("locale", "fr-FR")
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield make

    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        for i, page in enumerate(pages):
            try:
                page.screenshot(path=str(RESULTS_DIR / f"{stem}-{i}.png"), full_page=True)
            except Exception:  # noqa: S112 - best effort, the test already failed
                continue
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture
def password(request: pytest.FixtureRequest) -> str:
    """The root conftest's PASSWORD (the one `make_user` sets), without importing "conftest"
    by name (several conftest.py files share that module name)."""
    root_conftest = request.config.pluginmanager.get_plugin(
        str(request.config.rootpath / "conftest.py"))
    return str(root_conftest.PASSWORD)


@pytest.fixture
def login(password: str) -> Callable[..., None]:
    """login(page, email) through the real login form; waits until it has left /connexion/."""

    def do(page: Any, email: str, pwd: str | None = None) -> None:
        page.goto("/connexion/")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label(re.compile(r"^Mot de passe\b")).fill(password if pwd is None else pwd)
        page.get_by_role("button", name="Se connecter").click()
        if pwd is None:
            page.wait_for_url(lambda url: "/connexion/" not in url)

    return do


@pytest.fixture(scope="session")
def page_checked() -> Callable[[Any], None]:
    """page_checked(page): nothing scrolls sideways, and axe-core finds no serious or
    critical violation (the journeys call it on each screen they reach)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page: Any) -> None:
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
        violations = [f"{v['id']}: {[n['target'] for n in v['nodes'][:3]]}"
                      for v in axe.run(page).response["violations"]
                      if v["impact"] in ("serious", "critical")]
        assert not violations, (page.url, violations)

    return check

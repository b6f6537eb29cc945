"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every page a test visits is checked with axe-core (`assert_accessible`), and every request the
browser makes is recorded so that tests can assert nothing leaves the live server.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, Response
from pytest_django.live_server_helper import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEFAULT_TIMEOUT_MS = 10_000
BLOCKING_IMPACTS = {"serious", "critical"}

OFFICER_BXL = "officer.bxl@demo.intersection.test"
OFFICER_ATH = "officer.ath@demo.intersection.test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Chromium, skip browser tests on a developer machine; in CI, fail loudly."""
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{CHROMIUM} is missing: .ci/run installs it (apt-get).")
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} missing: 'apt-get install chromium' lifts this (CI fails instead)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# --- Accessibility ----------------------------------------------------------------------------
_axe: Axe | None = None


def _get_axe() -> Axe:
    global _axe
    if _axe is None:
        _axe = Axe()
    return _axe


def assert_accessible(page: Page) -> None:
    """Run axe-core on the current page; fail on any serious or critical violation."""
    violations = _get_axe().run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = []
        for violation in blocking:
            nodes = violation.get("nodes") or [{}]
            target = nodes[0].get("target")
            html = (nodes[0].get("html") or "")[:200]
            lines.append(
                f"- [{violation['impact']}] {violation['id']}: {violation.get('help', '')}"
                f" — first node {target} {html} ({len(violation.get('nodes') or [])} node(s))"
            )
        pytest.fail(
            f"axe-core found {len(blocking)} serious/critical violation(s) on {page.url}:\n"
            + "\n".join(lines),
            pytrace=False,
        )


# --- Browser ----------------------------------------------------------------------------------
@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Let Django's ORM run in the test thread while Playwright's sync API is alive.

    Between calls, Playwright marks its event loop as running in the test thread, and Django
    then refuses ORM calls (SynchronousOnlyOperation). The variable is set for this package's
    tests only and removed afterwards: it must not leak into other tests (nor into the
    subprocesses they start, e.g. `manage.py check --deploy` warns about it).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def chromium_browser(_allow_orm_beside_playwright: None) -> Iterator[Browser]:
    """One Chromium for the browser tests; stopped once they are done, so that the event loop
    Playwright leaves marked as running in the test thread does not outlive them."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def demo(transactional_db: None) -> None:
    """The demo network and accounts (password settings.DEMO_PASSWORD)."""
    from intersection.network.demo import load_demo

    load_demo()


@dataclass
class Browsing:
    """A fresh French-speaking browser context on the live server, recording its requests."""

    browser: Browser
    base_url: str
    requests: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def new_page(self) -> Page:
        context = self.browser.new_context(base_url=self.base_url, locale="fr-BE")
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on("request", lambda request: self.requests.append(request.url))
        self.contexts.append(context)
        return context.new_page()

    def external_requests(self) -> list[str]:
        """Requests that did not go to the live server (inline data: and blob: URLs aside)."""
        server = urlsplit(self.base_url).netloc
        external = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in {"data", "blob", "about"}:
                continue
            if parts.scheme not in {"http", "https", "ws", "wss"} or parts.netloc != server:
                external.append(url)
        return external

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(chromium_browser: Browser, live_server: LiveServer, demo: None) -> Iterator[Browsing]:
    browsing = Browsing(chromium_browser, live_server.url)
    try:
        yield browsing
    finally:
        browsing.close()
    # Every flow, not only the dedicated test: nothing may be fetched from another host.
    external = browsing.external_requests()
    assert external == [], f"requests outside {live_server.url}: {external}"


@pytest.fixture
def page(browsing: Browsing) -> Page:
    return browsing.new_page()


# --- Helpers used by the tests ----------------------------------------------------------------
def visit(page: Page, path: str, status: int = 200) -> Response:
    """Open a path, check the status and the page's accessibility; return the response."""
    response = page.goto(path)
    assert response is not None, f"no response for {path}"
    assert response.status == status, f"{path}: expected {status}, got {response.status}"
    assert_accessible(page)
    return response


def log_in(page: Page, email: str, password: str | None = None) -> None:
    """Sign in through the login form; axe on the form and on the page reached after it."""
    visit(page, "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password or settings.DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    path = urlsplit(page.url).path
    assert path == "/", f"login as {email} did not reach the home page (at {page.url})"
    assert page.locator("form[action='/accounts/logout/']").count() == 1
    assert_accessible(page)


def html_lang(page: Page) -> str:
    return page.get_attribute("html", "lang") or ""


def open_menu_if_collapsed(page: Page) -> None:
    """On a narrow screen the header's links are behind the "Menu" button: open it."""
    toggle = page.locator("button.nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def switch_language(page: Page, code: str) -> None:
    """Press a language's button in the header's switcher; the page reloads in it."""
    open_menu_if_collapsed(page)
    with page.expect_navigation():
        page.click(f"form.language-switch button[value='{code}']")
    page.wait_for_selector(f"html[lang='{code}']")


def pressed_language(page: Page) -> str:
    return page.get_attribute("form.language-switch button[aria-pressed='true']", "value") or ""

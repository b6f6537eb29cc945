"""Every page, for every role, on a phone (390 px) and a desktop (1280 px): it answers as it
should, passes axe-core, scrolls no sideways, keeps its header on one line, keeps its title
clear of the header, and no table is cut off. Plus the components themselves: the menu that
collapses, tables that stack, the style guide in each language. Screenshots of the main pages
are written to SCREENSHOT_DIR (default var/screenshots; `make screenshots` refreshes
docs/screenshots)."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import Page

from intersection.accounts.models import User
from intersection.mediawatch.models import (
    Article,
    ArticleVersion,
    PauseReason,
    SavedSearch,
    Source,
    SourceKind,
)
from intersection.mediawatch.pipeline.stemming import index_terms
from intersection.network.models import Agreement, RegisterEntry

from .conftest import Browsing, assert_accessible, log_in, visit

pytestmark = pytest.mark.browser

PHONE, DESKTOP = 390, 1280
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", settings.BASE_DIR / "var" / "screenshots"))

# Measured in the browser: what a user would see as broken.
SIDEWAYS = "() => document.documentElement.scrollWidth > window.innerWidth + 1"
HEADER_BAR_HEIGHT = "() => document.querySelector('.header-bar').getBoundingClientRect().height"
TITLE_GAP = """() => {
  const header = document.querySelector('.site-header').getBoundingClientRect();
  const title = document.querySelector('main h1').getBoundingClientRect();
  return title.top - header.bottom;
}"""
CUT_TABLES = """() => [...document.querySelectorAll('.table-wrap')]
  .filter(wrap => wrap.scrollWidth > wrap.clientWidth + 1)
  .map(wrap => (wrap.querySelector('caption') || wrap).textContent.trim().slice(0, 60))"""
NAV_LINKS_TOP = """() => [...document.querySelectorAll('.nav-list a')]
  .map(a => Math.round(a.getBoundingClientRect().top))"""


@dataclass(frozen=True)
class Archive:
    article: Article
    agreement: Agreement
    register_network: str
    saved_search: int  # officer.bxl's


@pytest.fixture
def archive(demo: None) -> Archive:
    """A few stories and sources in every state, on top of the demo network."""
    now = timezone.now()
    working = Source.objects.create(
        name="Le Quotidien", kind=SourceKind.FEED, url="https://q.example/rss",
        language_hint="fr", country="BE", last_success_at=now, items_seen=12,
    )  # fmt: skip
    Source.objects.create(
        name="Hainaut Matin", kind=SourceKind.FEED, url="https://h.example/rss",
        consecutive_failures=3, failing_since=now - timedelta(hours=5), last_error_at=now,
        last_error_kind="http_status", last_error="HTTP 500",
    )  # fmt: skip
    Source.objects.create(
        name="Police fédérale", kind=SourceKind.WEB_PAGE, url="https://p.example/news",
        active=False, pause_reason=PauseReason.NOT_ENABLED,
    )  # fmt: skip
    text = (
        "Les policiers de quartier de Bruxelles-Nord reprennent leurs tournées à pied. "
        "Ils tiendront une permanence chaque semaine au commissariat de Schaerbeek."
    )
    article = None
    for number in range(3):
        title = f"Les agents de quartier reprennent leurs tournées ({number + 1})"
        article = Article.objects.create(
            canonical_url=f"q.example/agents-{number}", url=f"https://q.example/agents-{number}",
            title=title, normalised_title=title.lower(), text=text, language="fr",
            source=working, published_at=datetime(2026, 11, 20 - number, 9, tzinfo=UTC),
            search_terms=index_terms(f"{title} {text}", "fr"),
        )  # fmt: skip
        ArticleVersion.objects.create(
            article=article, source=working, guid=f"q{number}", url=article.url, title=title
        )
    assert article is not None
    officer = User.objects.get(email="officer.bxl@demo.intersection.test")
    saved = SavedSearch.objects.create(user=officer, name="Quartier", query_string="q=police")
    return Archive(
        article=article,
        agreement=Agreement.objects.exclude(signed_on=None).first(),  # type: ignore[arg-type]
        register_network=RegisterEntry.objects.first().network.slug,  # type: ignore[union-attr]
        saved_search=saved.pk,
    )


def _pages(role: str, archive: Archive) -> list[tuple[str, int]]:
    """(path, expected status) of every page this role can reach, and of its refusals."""
    public = [
        ("/", 200), ("/organisations/", 200), ("/organisations/zone-bruxelles-nord/", 200),
        ("/organisations/?kind=spaceship", 400), ("/accessibility/", 200), ("/api/docs", 200),
        ("/no-such-page/", 404), ("/organisations/?q=a%00b", 400),
    ]  # fmt: skip
    if role == "anonymous":
        return [
            *public, ("/accounts/login/", 200), ("/accounts/password-reset/", 200),
            ("/accounts/password-reset/sent/", 200), ("/accounts/reset/MQ/expired-link/", 200),
        ]  # fmt: skip
    member = [
        *public,
        ("/agreements/", 200), (f"/agreements/{archive.agreement.pk}/", 200), ("/board/", 200),
        ("/accounts/security/", 200), ("/audit/", 403), ("/styleguide/", 403),
        ("/operations/", 403),
    ]  # fmt: skip
    media_watch = [
        ("/media-watch/", 200), ("/media-watch/?q=policier", 200),
        ("/media-watch/?since=2026-13-45", 400), ("/media-watch/sources/", 200),
        (f"/media-watch/articles/{archive.article.pk}/?q=policier", 200),
        (f"/media-watch/articles/{archive.article.pk}/", 200),
    ]  # fmt: skip
    if role in ("officer.ath", "reviewer"):
        return [*member, ("/media-watch/", 403)]
    if role == "officer.bxl":
        return [*member, *media_watch, (f"/media-watch/saved/{archive.saved_search}/delete/", 200)]
    staff = [
        *[(path, status) for path, status in member if status != 403],
        *media_watch,
        ("/styleguide/", 200),
        ("/operations/", 200),
        (f"/organisations/{archive.register_network}/register/", 200),
    ]
    return [*staff, ("/audit/", 200 if role == "admin" else 403)]


ROLES = ["anonymous", "officer.ath", "officer.bxl", "reviewer", "curator", "admin"]


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_looks_right_for_every_role(
    browsing: Browsing, archive: Archive, role: str, width: int
) -> None:
    page = browsing.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    if role != "anonymous":
        log_in(page, f"{role}@demo.intersection.test")
    problems = []
    for path, status in _pages(role, archive):
        visit(page, path, status=status)  # status and axe-core
        if page.evaluate(SIDEWAYS):
            problems.append(f"{path}: the page scrolls sideways")
        if cut := page.evaluate(CUT_TABLES):
            problems.append(f"{path}: table cut off: {cut}")
        height = page.evaluate(HEADER_BAR_HEIGHT)
        if height > 72:
            problems.append(f"{path}: the header is {height:.0f} px high (two lines?)")
        if (gap := page.evaluate(TITLE_GAP)) < 16:
            problems.append(f"{path}: the title is glued to the header ({gap:.0f} px)")
        if width == DESKTOP and len(set(page.evaluate(NAV_LINKS_TOP))) > 1:
            problems.append(f"{path}: the navigation wraps")
    assert problems == [], "\n".join(problems)


MAIN_PAGES = {
    "home": ("officer.bxl", "/"),
    "directory": ("anonymous", "/organisations/"),
    "agreement": ("officer.bxl", "agreement"),
    "mediawatch": ("officer.bxl", "/media-watch/?q=policier"),
    "sources": ("curator", "/media-watch/sources/"),
    "refused": ("officer.ath", "/media-watch/"),
    "styleguide": ("curator", "/styleguide/"),
}


@pytest.fixture(scope="module")
def screenshot_dir() -> Iterator[Path]:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    yield SCREENSHOT_DIR


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_main_pages_are_screenshotted(
    browsing: Browsing, archive: Archive, screenshot_dir: Path, width: int
) -> None:
    pages: dict[str, Page] = {}
    for name, (role, path) in MAIN_PAGES.items():
        if role not in pages:
            pages[role] = browsing.new_page()
            pages[role].set_viewport_size({"width": width, "height": 900})
            if role != "anonymous":
                log_in(pages[role], f"{role}@demo.intersection.test")
        page = pages[role]
        target = f"/agreements/{archive.agreement.pk}/" if path == "agreement" else path
        visit(page, target, status=403 if name == "refused" else 200)
        shot = screenshot_dir / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=width == DESKTOP)
        assert shot.stat().st_size > 10_000, f"{shot} looks empty"


def test_the_menu_collapses_on_a_phone_and_opens_with_its_button(page: Page) -> None:
    page.set_viewport_size({"width": PHONE, "height": 844})
    log_in(page, "curator@demo.intersection.test")
    toggle = page.locator("button.nav-toggle")
    link = page.locator(".nav-list a[href='/media-watch/']")
    assert toggle.is_visible() and not link.is_visible()
    assert page.evaluate(HEADER_BAR_HEIGHT) <= 72  # a slim bar, not a third of the screen
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert link.is_visible()
    assert page.locator(".menu-panel a[href='/accounts/security/']").is_visible()
    assert_accessible(page)
    toggle.click()
    assert not link.is_visible()
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    assert not toggle.is_visible() and link.is_visible()


def test_the_account_menu_opens_and_closes_on_a_desktop(page: Page) -> None:
    log_in(page, "admin@demo.intersection.test")
    audit = page.locator(".menu-panel a[href='/audit/']")
    assert not audit.is_visible()
    page.click(".account-menu summary")
    assert audit.is_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    assert not audit.is_visible()


def test_tables_become_labelled_rows_on_a_phone(page: Page) -> None:
    log_in(page, "officer.bxl@demo.intersection.test")
    page.set_viewport_size({"width": PHONE, "height": 844})
    visit(page, "/agreements/")
    cell = page.locator("main table tbody tr").first.locator("td").nth(2)
    assert (
        cell.get_attribute("data-label") == page.locator("main table thead th").nth(2).inner_text()
    )
    assert cell.evaluate("td => getComputedStyle(td).display") == "grid"
    assert page.locator("main table").get_attribute("role") == "table"
    page.set_viewport_size({"width": DESKTOP, "height": 800})
    assert cell.evaluate("td => getComputedStyle(td).display") == "table-cell"


def test_the_style_guide_shows_every_component_in_each_language(page: Page) -> None:
    log_in(page, "curator@demo.intersection.test")
    visit(page, "/styleguide/")
    sections = page.locator("main section[lang]")
    assert [sections.nth(i).get_attribute("lang") for i in range(sections.count())] == [
        "fr", "nl", "en",
    ]  # fmt: skip
    for component in (".breadcrumbs", "button", ".badge-success", ".alert-warning", ".card",
                      "table.table-stack", "dl.facts", ".error-summary", ".empty-state",
                      ".pagination"):  # fmt: skip
        assert sections.nth(0).locator(component).count() >= 1, component
        assert sections.nth(2).locator(component).count() >= 1, component
    # Each language's section speaks its language: the sample form's errors too.
    english_error = sections.nth(2).locator(".error-summary").inner_text()
    dutch_error = sections.nth(1).locator(".error-summary").inner_text()
    assert "Enter a valid email address" in english_error
    assert english_error != dutch_error


INTER_LOADED = """() => [...document.fonts].some(
  face => face.family.replace(/"/g, '') === 'Inter' && face.status === 'loaded')"""


def test_the_font_is_served_by_the_platform(browsing: Browsing) -> None:
    page = browsing.new_page()
    visit(page, "/")
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    assert page.evaluate(INTER_LOADED), "Inter was not loaded: the page falls back to system fonts"
    assert any(url.endswith("/static/fonts/Inter-roman.var.woff2") for url in browsing.requests)


def test_a_refusal_names_its_reason_in_the_readers_language(page: Page) -> None:
    log_in(page, "officer.ath@demo.intersection.test")
    visit(page, "/audit/", status=403)
    with translation.override("fr"):
        reason = translation.gettext("The audit log is open to platform administrators only.")
    assert reason in page.locator(".error-page .alert").inner_text()


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_the_too_many_requests_page_is_styled_and_accessible(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    for _ in range(6):  # the sixth request from one address in an hour is refused
        visit(page, "/accounts/password-reset/")
        page.fill("input[name=email]", "someone@example.org")
        with page.expect_navigation() as navigation:
            page.click("main form button[type=submit]")
    assert navigation.value is not None and navigation.value.status == 429
    assert_accessible(page)
    assert page.locator(".error-page h1").is_visible()
    assert not page.evaluate(SIDEWAYS)
    assert page.evaluate(TITLE_GAP) >= 16

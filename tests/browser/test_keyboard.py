"""Keyboard use: the skip link comes first and leads to the main content."""

import pytest
from playwright.sync_api import Page

from .conftest import OFFICER_BXL, log_in, visit

pytestmark = pytest.mark.browser

ACTIVE_HREF = "() => document.activeElement && document.activeElement.getAttribute('href')"
ACTIVE_ID = "() => document.activeElement && document.activeElement.id"


def _assert_skip_link_first(page: Page) -> None:
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE_HREF) == "#main"
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    # Visible once focused (not left off-screen or hidden).
    assert page.locator("a.skip-link").is_visible()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
    assert page.evaluate(ACTIVE_ID) == "main"


@pytest.mark.parametrize("path", ["/", "/organisations/", "/accessibility/"])
def test_skip_link_is_first_focusable(page: Page, path: str) -> None:
    visit(page, path)
    _assert_skip_link_first(page)


def test_skip_link_first_when_signed_in(page: Page) -> None:
    log_in(page, OFFICER_BXL)
    visit(page, "/agreements/")
    _assert_skip_link_first(page)


FIRST_TABBABLE = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]';
  const first = [...document.querySelectorAll(selector)].find(
    el => el.tabIndex >= 0 && !el.disabled
  );
  return first && first.getAttribute('href');
}"""


def test_login_form_autofocus_keeps_skip_link_first(page: Page) -> None:
    """The login page focuses the email field on load; the skip link still opens the order."""
    visit(page, "/accounts/login/")
    assert page.evaluate("() => document.activeElement.name") == "username"
    assert page.evaluate(FIRST_TABBABLE) == "#main"

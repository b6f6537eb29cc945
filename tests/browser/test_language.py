"""The language switcher in the header, and the signed-in user's remembered choice."""

import pytest
from playwright.sync_api import Page

from .conftest import (
    OFFICER_BXL,
    Browsing,
    assert_accessible,
    html_lang,
    log_in,
    pressed_language,
    switch_language,
    visit,
)

pytestmark = pytest.mark.browser


def test_switch_to_dutch_and_back(page: Page) -> None:
    visit(page, "/")
    assert html_lang(page) == "fr"
    assert pressed_language(page) == "fr"

    switch_language(page, "nl")
    assert page.url.endswith("/")
    assert html_lang(page) == "nl"
    assert pressed_language(page) == "nl"
    assert_accessible(page)

    # The choice sticks for the next pages of the visit.
    visit(page, "/organisations/")
    assert html_lang(page) == "nl"

    switch_language(page, "fr")
    assert page.url.endswith("/organisations/")
    assert html_lang(page) == "fr"
    assert_accessible(page)


def test_signed_in_choice_is_remembered(browsing: Browsing) -> None:
    first = browsing.new_page()
    log_in(first, OFFICER_BXL)
    assert html_lang(first) == "fr"
    switch_language(first, "nl")
    assert_accessible(first)

    # Another browser, without the language cookie: Accept-Language says French, the saved
    # preference says Dutch once signed in.
    second = browsing.new_page()
    assert second.context.cookies() == []
    visit(second, "/")
    assert html_lang(second) == "fr"
    log_in(second, OFFICER_BXL)
    assert html_lang(second) == "nl"

"""The API reference is a page like the others: accessible, in the reader's language."""

import pytest
from playwright.sync_api import Page

from .conftest import html_lang, visit

pytestmark = pytest.mark.browser


def test_api_reference_is_accessible(page: Page) -> None:
    visit(page, "/api/docs")
    assert html_lang(page) == "fr"
    assert page.locator("h2 code", has_text="GET /api/organisations").count() >= 1

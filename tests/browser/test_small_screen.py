"""A phone-sized screen: pages stay usable and accessible, nothing scrolls sideways."""

import pytest
from playwright.sync_api import Page

from .conftest import OFFICER_BXL, log_in, visit

pytestmark = pytest.mark.browser

PAGE_IS_WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth > window.innerWidth + 1"


@pytest.mark.parametrize("path", ["/organisations/", "/agreements/", "/board/", "/"])
def test_pages_fit_a_phone_screen(page: Page, path: str) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, OFFICER_BXL)
    visit(page, path)
    assert not page.evaluate(PAGE_IS_WIDER_THAN_SCREEN), f"{path} scrolls sideways on a phone"


def test_a_table_is_a_keyboard_stop_only_when_it_scrolls(page: Page) -> None:
    """Between a phone (tables stack) and a desktop, a wide table scrolls in its region."""
    from intersection.network.models import RegisterEntry

    log_in(page, "admin@demo.intersection.test")
    network = RegisterEntry.objects.first().network.slug  # type: ignore[union-attr]
    visit(page, f"/organisations/{network}/register/")
    region = page.locator(".table-wrap").first
    assert region.get_attribute("tabindex") is None
    page.set_viewport_size({"width": 800, "height": 740})
    page.wait_for_function(
        "() => document.querySelector('.table-wrap').getAttribute('tabindex') === '0'"
    )
    assert region.get_attribute("role") == "region"
    assert region.get_attribute("aria-label")

"""A member browses the directory and an agreement; media watch is opened by agreements only."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page

from intersection.network.models import Resource

from .conftest import OFFICER_ATH, OFFICER_BXL, assert_accessible, log_in, visit

pytestmark = pytest.mark.browser


def _fr(message: str) -> str:
    """The French rendering of a message (the English source while catalogs are not compiled)."""
    with translation.override("fr"):
        return translation.gettext(message)


def _fr_label(resource: Resource) -> str:
    with translation.override("fr"):
        return str(resource.label)


def test_member_sees_directory_and_agreement(page: Page) -> None:
    log_in(page, OFFICER_BXL)

    visit(page, "/organisations/")
    zone = page.locator("main table a[href='/organisations/zone-bruxelles-nord/']")
    assert zone.count() == 1
    assert zone.inner_text().strip() == "Zone de police Bruxelles-Nord"

    visit(page, "/agreements/")
    row = page.locator("main table tbody tr", has_text="QC-BXL-2016")
    assert row.count() == 1
    with page.expect_navigation():
        row.get_by_role("link").click()
    assert re.search(r"/agreements/\d+/$", page.url), page.url
    assert_accessible(page)

    main = page.locator("main")
    assert "Protocole d'entente entre le Réseau québécois et la zone Bruxelles-Nord" in (
        page.locator("h1").inner_text()
    )
    assert "QC-BXL-2016" in main.locator("dl.facts").inner_text()
    parties = sorted(
        main.locator("a[href^='/organisations/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    )
    assert parties == ["/organisations/reseau-quebecois/", "/organisations/zone-bruxelles-nord/"]
    resources = main.locator("table tbody").inner_text()
    assert _fr_label(Resource.MEDIA_WATCH) in resources
    assert _fr_label(Resource.NEWSLETTERS) in resources


def test_media_watch_refused_without_agreement(page: Page) -> None:
    log_in(page, OFFICER_ATH)
    # The navigation does not offer what the member may not open.
    assert page.locator("header a[href='/media-watch/']").count() == 0

    visit(page, "/media-watch/", status=403)
    assert page.locator("h1").inner_text().strip() == _fr("Access refused")
    text = page.locator("main").inner_text()
    with translation.override("fr"):
        reason = translation.gettext(
            "Your organisation has no partnership agreement in force that unlocks “%(resource)s”."
        ) % {"resource": Resource.MEDIA_WATCH.label}
    assert reason in text
    assert page.locator("main a[href='/']").count() == 1


def test_media_watch_open_through_agreement(page: Page) -> None:
    log_in(page, OFFICER_BXL)
    link = page.locator("header nav a[href='/media-watch/']")
    assert link.count() == 1
    with page.expect_navigation() as navigation:
        link.click()
    assert navigation.value.status == 200
    assert page.url.endswith("/media-watch/")
    assert_accessible(page)
    # Opened directly too.
    visit(page, "/media-watch/", status=200)

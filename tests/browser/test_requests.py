"""Nothing leaves the platform: every request a page makes goes to the site itself."""

import pytest

from .conftest import OFFICER_ATH, OFFICER_BXL, Browsing, log_in, switch_language, visit

pytestmark = pytest.mark.browser


def test_no_external_requests(browsing: Browsing) -> None:
    anonymous = browsing.new_page()
    visit(anonymous, "/")
    visit(anonymous, "/accessibility/")
    visit(anonymous, "/organisations/")
    visit(anonymous, "/organisations/zone-bruxelles-nord/")
    visit(anonymous, "/no-such-page/", status=404)
    switch_language(anonymous, "nl")

    member = browsing.new_page()
    log_in(member, OFFICER_BXL)
    visit(member, "/agreements/")
    with member.expect_navigation():
        member.locator("main table tbody tr", has_text="QC-BXL-2016").get_by_role("link").click()
    visit(member, "/media-watch/")
    visit(member, "/accounts/security/")

    refused = browsing.new_page()
    log_in(refused, OFFICER_ATH)
    visit(refused, "/media-watch/", status=403)

    # The recording works: the pages' own stylesheet and script were requested.
    assert any(url.endswith("/static/css/site.css") for url in browsing.requests)
    assert any(url.endswith("/static/js/htmx.min.js") for url in browsing.requests)
    assert browsing.external_requests() == []

"""URL canonicalisation: the same article behind different links is one URL."""

import pytest

from intersection.mediawatch.pipeline.urls import canonical_url, comparable_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://WWW.LeSoir.be/article/42#comments", "https://lesoir.be/article/42"),
        ("https://m.lesoir.be/article/42/", "https://lesoir.be/article/42"),
        ("https://lesoir.be:443/article/42", "https://lesoir.be/article/42"),
        ("http://lesoir.be:8080/a", "http://lesoir.be:8080/a"),
        (
            "https://lesoir.be/a?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y&xtor=RSS-1",
            "https://lesoir.be/a?id=7",
        ),
        ("https://lesoir.be/a?b=2&a=1&at_medium=x", "https://lesoir.be/a?a=1&b=2"),
        ("https://lesoir.be", "https://lesoir.be/"),
        ("https://www.be/x", "https://www.be/x"),  # a real domain named www, kept
    ],
)
def test_it_canonicalises_urls(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_it_compares_http_and_https_copies_as_one() -> None:
    assert comparable_url("http://www.rtbf.be/info/1") == comparable_url("https://rtbf.be/info/1/")

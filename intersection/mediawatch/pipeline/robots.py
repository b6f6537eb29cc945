"""robots.txt for article pages: asked once per origin and run, through the safe fetcher.

What an origin's robots.txt said is a `RobotsAnswer`, which a `RobotsStore` may keep for
other runs and workers (the Django side shares it through PostgreSQL); without a store, each
`RobotsRules` (one per poll) asks the site itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from .fetch import Fetcher, FetchError, FetchErrorKind


class RobotsOutcome(StrEnum):
    RULES = "rules"  # a robots.txt was read: its rules apply
    MISSING = "missing"  # none (404 and other client errors): everything is allowed
    FORBIDDEN = "forbidden"  # 401 or 403: the site refuses us, nothing is allowed
    UNREADABLE = "unreadable"  # server error, timeout, refused…: allowed, worth asking again


@dataclass(frozen=True)
class RobotsAnswer:
    outcome: RobotsOutcome
    text: str = ""


class RobotsStore(Protocol):
    """Keeps answers per origin; calls `ask` when it has none (or an expired one)."""

    def answer(self, origin: str, ask: Callable[[], RobotsAnswer]) -> RobotsAnswer: ...


def ask_robots(fetcher: Fetcher, origin: str) -> RobotsAnswer:
    """Fetch and classify the origin's robots.txt."""
    try:
        fetched = fetcher.fetch(f"{origin}/robots.txt", accept="text/plain")
    except FetchError as error:
        if error.status in (401, 403):
            return RobotsAnswer(RobotsOutcome.FORBIDDEN)
        if error.kind == FetchErrorKind.HTTP_STATUS and error.status and error.status < 500:
            return RobotsAnswer(RobotsOutcome.MISSING)
        return RobotsAnswer(RobotsOutcome.UNREADABLE)
    # NUL characters mean nothing to the parser, and a database text column refuses them.
    text = fetched.body.decode("utf-8", "replace").replace("\x00", "")
    return RobotsAnswer(RobotsOutcome.RULES, text)


def parser_for(answer: RobotsAnswer) -> RobotFileParser | None:
    """The rules to apply; None when everything is allowed."""
    if answer.outcome == RobotsOutcome.FORBIDDEN:
        parser = RobotFileParser()
        parser.parse(["User-agent: *", "Disallow: /"])
        return parser
    if answer.outcome == RobotsOutcome.RULES:
        parser = RobotFileParser()
        parser.parse(answer.text.splitlines())
        return parser
    return None


class RobotsRules:
    def __init__(self, fetcher: Fetcher, user_agent: str, store: RobotsStore | None = None) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.store = store
        self.parsers: dict[str, RobotFileParser | None] = {}

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.parsers:
            self.parsers[origin] = parser_for(self._answer(origin))
        parser = self.parsers[origin]
        return True if parser is None else parser.can_fetch(self.user_agent, url)

    def _answer(self, origin: str) -> RobotsAnswer:
        def ask() -> RobotsAnswer:
            return ask_robots(self.fetcher, origin)

        return ask() if self.store is None else self.store.answer(origin, ask)

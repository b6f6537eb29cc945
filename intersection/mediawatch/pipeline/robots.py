"""robots.txt for article pages: asked once per host and run, through the safe fetcher."""

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from .fetch import Fetcher, FetchError


class RobotsRules:
    def __init__(self, fetcher: Fetcher, user_agent: str) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.parsers: dict[str, RobotFileParser | None] = {}

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.parsers:
            self.parsers[origin] = self._load(origin)
        parser = self.parsers[origin]
        return True if parser is None else parser.can_fetch(self.user_agent, url)

    def _load(self, origin: str) -> RobotFileParser | None:
        """The site's rules; None (everything allowed) when it has none we can read."""
        try:
            fetched = self.fetcher.fetch(f"{origin}/robots.txt", accept="text/plain")
        except FetchError as error:
            if error.status in (401, 403):
                parser = RobotFileParser()
                parser.parse(["User-agent: *", "Disallow: /"])
                return parser
            return None
        parser = RobotFileParser()
        parser.parse(fetched.body.decode("utf-8", "replace").splitlines())
        return parser

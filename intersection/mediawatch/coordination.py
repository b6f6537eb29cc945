"""Politeness shared by every worker: the spacing between requests to one host, and what
each site's robots.txt said.

On PostgreSQL the workers may run on several machines, so they share both through the
database (no other service): a request reserves its host's next slot in one statement
(`HostSlot`), and an origin's robots.txt is fetched once per `MEDIAWATCH_ROBOTS_CACHE_SECONDS`
by whichever worker needs it first (`RobotsTxt`). Every moment is the database's clock, so
machines whose clocks disagree still space their requests. On SQLite (one machine), each
worker keeps both itself, as the pipeline does without help.
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models.functions import Now

from .models import HostSlot, RobotsTxt
from .pipeline.fetch import HostSpacing, LocalSpacing
from .pipeline.robots import RobotsAnswer, RobotsOutcome, RobotsStore

UNREADABLE_SECONDS = 3600  # a robots.txt that could not be read is asked again within an hour
ROBOTS_LOCK = 0x6D77_7274  # "mwrt": first key of the per-origin advisory lock (second: origin)
ORIGIN_MAX = RobotsTxt._meta.get_field("origin").max_length or 0

# The reserved slot is the later of now and the host's next free moment; the host's next
# free moment moves one spacing after it. The answer is how long after now it ends.
RESERVE = """
    INSERT INTO mediawatch_hostslot AS slot (host, next_at)
    VALUES (%(host)s, statement_timestamp() + make_interval(secs => %(spacing)s))
    ON CONFLICT (host) DO UPDATE
        SET next_at = GREATEST(statement_timestamp(), slot.next_at)
            + make_interval(secs => %(spacing)s)
    RETURNING EXTRACT(EPOCH FROM slot.next_at - statement_timestamp())
"""
REMEMBER = """
    INSERT INTO mediawatch_robotstxt (origin, outcome, text, fetched_at, expires_at)
    VALUES (%(origin)s, %(outcome)s, %(text)s, statement_timestamp(),
            statement_timestamp() + make_interval(secs => %(keep)s))
    ON CONFLICT (origin) DO UPDATE SET outcome = EXCLUDED.outcome, text = EXCLUDED.text,
        fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at
"""


def is_shared() -> bool:
    """Workers may be on several machines: politeness goes through the database."""
    return connection.vendor == "postgresql"


def host_spacing() -> HostSpacing:
    seconds = settings.MEDIAWATCH_HOST_SPACING_SECONDS
    unspaced = frozenset(settings.MEDIAWATCH_UNSPACED_HOSTS)
    if is_shared():
        return SharedSpacing(seconds, unspaced=unspaced)
    return LocalSpacing(seconds, unspaced=unspaced)


def robots_store() -> RobotsStore | None:
    """Where robots.txt answers are kept across polls and workers; None: each poll asks."""
    return SharedRobots(settings.MEDIAWATCH_ROBOTS_CACHE_SECONDS) if is_shared() else None


class SharedSpacing:
    """At least `seconds` between two requests to one host from all workers together.

    Each request reserves a slot and sleeps until it. A worker that dies after reserving
    costs its host one slot: the host's next free moment is at most one spacing after it.
    Call it outside a transaction (as the poller does), or the host's row stays locked to
    the other workers until the transaction ends."""

    def __init__(self, seconds: float, *, unspaced: frozenset[str] = frozenset()) -> None:
        self.seconds = seconds
        self.unspaced = unspaced

    def wait(self, host: str) -> None:
        if not self.seconds or host in self.unspaced:
            return
        with connection.cursor() as cursor:
            cursor.execute(RESERVE, {"host": host, "spacing": self.seconds})
            (ends_in,) = cursor.fetchone()
        delay = float(ends_in) - self.seconds
        if delay > 0:
            time.sleep(delay)


class SharedRobots:
    """robots.txt answers kept `seconds` in the database; one worker asks, the others wait
    for its answer (an advisory lock per origin, released if the worker dies)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def answer(self, origin: str, ask: Callable[[], RobotsAnswer]) -> RobotsAnswer:
        if len(origin) > ORIGIN_MAX:
            return ask()
        found = _fresh(origin)
        if found is not None:
            return found
        with _origin_lock(origin):
            found = _fresh(origin)  # asked by another worker while this one waited
            if found is not None:
                return found
            answer = ask()
            keep = self.seconds
            if answer.outcome == RobotsOutcome.UNREADABLE:
                keep = min(keep, UNREADABLE_SECONDS)
            with connection.cursor() as cursor:
                cursor.execute(
                    REMEMBER,
                    {
                        "origin": origin,
                        "outcome": str(answer.outcome),
                        "text": answer.text,
                        "keep": keep,
                    },
                )
            return answer


def _fresh(origin: str) -> RobotsAnswer | None:
    row = (
        RobotsTxt.objects.filter(origin=origin, expires_at__gt=Now())
        .values_list("outcome", "text")
        .first()
    )
    return None if row is None else RobotsAnswer(RobotsOutcome(row[0]), row[1])


@contextlib.contextmanager
def _origin_lock(origin: str) -> Iterator[None]:
    """A session lock, not a transaction's: the fetch runs outside any transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [ROBOTS_LOCK, origin])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [ROBOTS_LOCK, origin])


def forget_stale() -> None:
    """Rows of hosts not asked for a day, and expired answers (bounded by the hosts polled,
    cleared by the every-minute dispatch)."""
    if not is_shared():
        return
    HostSlot.objects.filter(next_at__lt=Now() - timedelta(days=1)).delete()
    RobotsTxt.objects.filter(expires_at__lt=Now()).delete()

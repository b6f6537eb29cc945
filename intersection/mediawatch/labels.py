"""The media watch's codes in words, in the reader's language: why two outlets' articles
are one story, what went wrong with a source and what to do about it, why a source is not
polled. Technical details (the code, the error text) stay on the page for curators."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import PauseReason, Source

MATCH_REASONS = {
    "same-url": gettext_lazy("Same address"),
    "same-title": gettext_lazy("Same title"),
    "near-copy": gettext_lazy("Nearly the same text"),
    "overlap": gettext_lazy("Much of the same text"),
}

# Each kind of failure: (what happened, what to do).
FAILURES = {
    "bad_url": (
        gettext_lazy("The address is not a web address that can be fetched."),
        gettext_lazy("Correct the source's address (it must start with http:// or https://)."),
    ),
    "refused_address": (
        gettext_lazy("The address leads to a private or internal network, which is refused."),
        gettext_lazy("Use the outlet's public address."),
    ),
    "connection": (
        gettext_lazy("The outlet's server could not be reached."),
        gettext_lazy("Nothing to do if it is brief; if it lasts, check the address."),
    ),
    "timeout": (
        gettext_lazy("The outlet's server answered too slowly."),
        gettext_lazy("Nothing to do if it is brief; the next attempts are spaced out."),
    ),
    "too_large": (
        gettext_lazy("The outlet sent more data than the media watch accepts."),
        gettext_lazy("Check that the address is a feed and not a large file."),
    ),
    "too_many_redirects": (
        gettext_lazy("The address sends us from page to page without end."),
        gettext_lazy("Open the address in a browser and save the address it ends on."),
    ),
    "rate_limited": (
        gettext_lazy("The outlet asked us to come back later."),
        gettext_lazy("Nothing to do: the media watch waits as long as the outlet asks."),
    ),
    "http_status": (
        gettext_lazy("The outlet answered with an error (page missing or refused)."),
        gettext_lazy("Open the address in a browser: the feed may have moved."),
    ),
    "bad_encoding": (
        gettext_lazy("The outlet sent data that cannot be read."),
        gettext_lazy("Try again later; if it lasts, tell the outlet."),
    ),
    "not_a_feed": (
        gettext_lazy("The address answers with a page that is not a news feed."),
        gettext_lazy("Find the outlet's RSS or Atom address, or choose the “web page” kind."),
    ),
    "internal_error": (
        gettext_lazy("The media watch failed while reading this source: a fault on our side."),
        gettext_lazy("Nothing to change in the source; tell the technical staff if it lasts."),
    ),
    "interrupted": (
        gettext_lazy("This poll was interrupted: its worker stopped or lost the database."),
        gettext_lazy("Nothing to do: the source was polled again and nothing was lost."),
    ),
}
UNKNOWN_FAILURE = (
    gettext_lazy("The last attempt failed."),
    gettext_lazy("Check the address; the network staff can read the technical detail."),
)


def match_reason(code: str) -> str:
    return str(MATCH_REASONS.get(code, code))


def failure(code: str) -> tuple[str, str]:
    what, todo = FAILURES.get(code, UNKNOWN_FAILURE)
    return str(what), str(todo)


@dataclass(frozen=True)
class Health:
    """A source's state for people: a badge (label and variant), a sentence, advice."""

    label: str
    variant: str  # a badge variant: success, warning, danger, neutral, info
    text: str
    advice: str = ""
    since: datetime | None = None


def health(source: Source) -> Health:
    if not source.active:
        reason = source.pause_reason or PauseReason.BY_CURATOR
        if reason == PauseReason.FAILURES:
            what, todo = failure(source.last_error_kind)
            return Health(
                _("Paused after repeated failures"),
                "danger",
                _("Not polled after %(count)s failures in a row. Last error: %(what)s")
                % {"count": source.consecutive_failures, "what": what},
                _("%(todo)s Then turn it back on in the back office.") % {"todo": todo},
                source.failing_since,
            )
        if reason == PauseReason.NOT_ENABLED:
            return Health(
                _("Not enabled yet"),
                "neutral",
                _("Registered but not polled: a curator turns it on once its terms are checked."),
            )
        return Health(
            _("Paused by a curator"), "neutral", _("Not polled until a curator resumes it.")
        )
    if source.consecutive_failures:
        what, todo = failure(source.last_error_kind)
        return Health(_("Failing"), "warning", what, todo, source.failing_since)
    if source.last_success_at is None:
        return Health(_("Waiting for its first poll"), "info", _("Polled within the next minutes."))
    return Health(_("Working"), "success", _("Polled as planned."))

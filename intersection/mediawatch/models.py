from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from intersection.network.models import Country, Organisation

from .pipeline.urls import web_link


class SourceKind(models.TextChoices):
    FEED = "feed", _("Feed (RSS, Atom or JSON Feed)")
    NEWS_SITEMAP = "news_sitemap", _("News sitemap")
    WEB_PAGE = "web_page", _("Web page with article links")
    SEARCH_FEED = "search_feed", _("Search feed (URL template and query)")


class PauseReason(models.TextChoices):
    """Why an inactive source is not polled, shown to curators in words."""

    NOT_ENABLED = "not_enabled", _("Not enabled yet")
    BY_CURATOR = "by_curator", _("Paused by a curator")
    FAILURES = "failures", _("Paused after repeated failures")


class Source(models.Model):
    """A place news is collected from, with its visible health."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    url = models.URLField(
        _("URL"), max_length=1000, help_text=_("For a search feed: a template with {query}.")
    )
    query = models.CharField(_("search query"), max_length=200, blank=True)
    language_hint = models.CharField(_("language hint"), max_length=8, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="news_sources",
    )
    poll_minutes = models.PositiveIntegerField(_("polling interval (minutes)"), default=60)
    active = models.BooleanField(_("active"), default=True)
    # Health, updated by every fetch.
    next_poll_at = models.DateTimeField(_("next poll"), null=True, blank=True, db_index=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error_at = models.DateTimeField(_("last error"), null=True, blank=True)
    last_error_kind = models.CharField(_("last error kind"), max_length=40, blank=True)
    last_error = models.TextField(_("last error message"), blank=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    pause_reason = models.CharField(
        _("why it is not polled"), max_length=20, choices=PauseReason.choices, blank=True
    )
    disabled_reason = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("For curators: why the source is paused, or anything worth knowing."),
    )
    etag = models.CharField(_("ETag (conditional requests)"), max_length=300, blank=True)
    last_modified = models.CharField(
        _("Last-Modified (conditional requests)"), max_length=100, blank=True
    )
    body_sha256 = models.CharField(_("fingerprint of the last feed"), max_length=64, blank=True)
    items_seen = models.PositiveIntegerField(_("items seen"), default=0)
    duplicates_seen = models.PositiveIntegerField(_("duplicates seen"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("news source")
        verbose_name_plural = _("news sources")

    def __str__(self) -> str:
        return self.name

    @property
    def fetch_url(self) -> str:
        if self.kind == SourceKind.SEARCH_FEED:
            from urllib.parse import quote_plus

            return self.url.replace("{query}", quote_plus(self.query))
        return self.url

    @property
    def duplicate_share(self) -> float:
        return self.duplicates_seen / self.items_seen if self.items_seen else 0.0


def now_whole_second() -> datetime:
    return timezone.now().replace(microsecond=0)


class Article(models.Model):
    """A story, stored once; every outlet that carried it is an ArticleVersion."""

    canonical_url = models.CharField(_("canonical URL"), max_length=1000, unique=True)
    url = models.URLField(_("URL"), max_length=1000)
    title = models.CharField(pgettext_lazy("news article", "title"), max_length=500)
    normalised_title = models.CharField(max_length=500, db_index=True)
    summary = models.TextField(_("summary"), blank=True)
    text = models.TextField(_("text"), blank=True)
    author = models.CharField(_("author"), max_length=300, blank=True)
    image_url = models.URLField(_("image"), max_length=1000, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True, db_index=True)
    language_confidence = models.FloatField(_("language confidence"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, db_index=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True, db_index=True)
    # What the archive sorts and filters by: published, else first seen, in whole seconds
    # (the SQLite full-text index is keyed by it, see search.py).
    listed_at = models.DateTimeField(_("listed"), default=now_whole_second)
    # Stems of title and text (pipeline/stemming.py), indexed by FTS5 or PostgreSQL.
    search_terms = models.TextField(blank=True)
    flags = models.CharField(max_length=200, blank=True)
    source = models.ForeignKey(
        Source, verbose_name=_("first source"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-listed_at", "-id"]
        indexes = [
            models.Index(fields=["-listed_at", "-id"], name="article_listing"),
            models.Index(fields=["language", "-listed_at", "-id"], name="article_language_listing"),
        ]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self) -> str:
        return self.title

    @property
    def link(self) -> str:
        """The article's address for links and exports: http(s) only, else ""."""
        return web_link(self.url)


class ArticleBand(models.Model):
    """One band of an article's text signature: equal bands find near-duplicate candidates
    through an index, whatever the number of stored articles."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bands")
    key = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "key"], name="band_once")]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.key}"


class ArticleVersion(models.Model):
    """One outlet's copy of a story: where and when it appeared, under which title."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="versions")
    guid = models.CharField(max_length=500)
    url = models.URLField(_("URL"), max_length=1000)
    title = models.CharField(pgettext_lazy("news article", "title"), max_length=500)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    seen_at = models.DateTimeField(_("seen"), auto_now_add=True)
    similarity = models.FloatField(_("similarity"), default=1.0)
    match_reason = models.CharField(_("matched by"), max_length=40, blank=True)

    class Meta:
        ordering = ["published_at", "seen_at"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        constraints = [
            models.UniqueConstraint(fields=["source", "guid"], name="version_once_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.title}"

    @property
    def link(self) -> str:
        """This outlet's address of the story for links and exports: http(s) only, else ""."""
        return web_link(self.url)


class FetchRun(models.Model):
    """One fetch of one source: what came back, for the sources page and troubleshooting."""

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, related_name="runs", verbose_name=_("news source")
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20)  # ok, not_modified, unchanged, error
    error_kind = models.CharField(_("error kind"), max_length=40, blank=True)
    items = models.PositiveIntegerField(_("items"), default=0)
    new_articles = models.PositiveIntegerField(_("new articles"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("fetch run")
        verbose_name_plural = _("fetch runs")
        indexes = [models.Index(fields=["source", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ok", "not_modified", "unchanged", "error"]),
                name="fetch_run_status_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


def new_feed_key() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class SavedSearch(models.Model):
    """A search a member keeps, with a private Atom feed address for feed readers."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = models.CharField(_("name"), max_length=100)
    query_string = models.CharField(_("search"), max_length=1000)
    feed_key = models.CharField(max_length=64, unique=True, default=new_feed_key)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When its owner last opened it from the list: "N new since your last visit".
    last_viewed_at = models.DateTimeField(_("last viewed"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")

    def __str__(self) -> str:
        return self.name


class HostSlot(models.Model):
    """Politeness shared by every worker (PostgreSQL): the earliest moment of the next request
    to a host. Each request moves it one spacing ahead in one statement (coordination.py)."""

    host = models.CharField(max_length=255, primary_key=True)
    next_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.host} {self.next_at:%H:%M:%S}"


class RobotsTxt(models.Model):
    """An origin's robots.txt as last read, shared by every worker (PostgreSQL) until
    `expires_at`: its rules, or that it has none, refused us or could not be read."""

    origin = models.CharField(max_length=300, primary_key=True)  # scheme://host[:port]
    outcome = models.CharField(max_length=20)  # pipeline.robots.RobotsOutcome
    text = models.TextField(blank=True)
    fetched_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.origin} {self.outcome}"

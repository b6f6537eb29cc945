from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One sensitive action: who did what, when, to which object, before and after."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("who (as recorded)"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    # Repeated refusals are one row per person (or address), resource and hour: how many.
    count = models.PositiveIntegerField(_("occurrences"), default=1)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"


class ScheduledRun(models.Model):
    """One slot of one periodic job; the unique constraint makes enqueueing idempotent."""

    job = models.CharField(_("job"), max_length=100)
    slot = models.CharField(_("period"), max_length=32)
    enqueued_at = models.DateTimeField(_("enqueued"), auto_now_add=True)
    task_result_id = models.CharField(_("task"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="scheduled_run_once")]
        ordering = ["-enqueued_at"]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot}"


class ThrottleCounter(models.Model):
    """How often something was done for one key (an address, an account) in its current
    window; see core.throttle. In the database, so a limit holds across web servers."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    count = models.PositiveIntegerField(_("count"), default=0)
    resets_at = models.DateTimeField(_("resets at"), db_index=True)

    class Meta:
        verbose_name = _("rate limit counter")
        verbose_name_plural = _("rate limit counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"

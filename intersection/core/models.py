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


class TaskWorker(models.Model):
    """A task worker that is alive: it writes `last_seen` every few seconds (the database's
    clock, so workers on machines whose clocks disagree are judged alike). A worker whose
    heartbeat is older than settings.TASK_WORKER_LOST_SECONDS is lost; see core.workers."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    hostname = models.CharField(_("machine"), max_length=255)
    pid = models.PositiveIntegerField(_("process"))
    started_at = models.DateTimeField(_("started"))
    last_seen = models.DateTimeField(_("last heartbeat"), db_index=True)
    task_id = models.CharField(_("current task"), max_length=64, blank=True)
    tasks_done = models.PositiveIntegerField(_("tasks done"), default=0)

    class Meta:
        verbose_name = _("task worker")
        verbose_name_plural = _("task workers")
        ordering = ["hostname", "started_at"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}, {self.pid})"


class TaskRecoveryReason(models.TextChoices):
    WORKER_LOST = "worker_lost", _("worker lost")
    CONNECTION_LOST = "connection_lost", _("database connection lost")
    WORKER_STOPPED = "worker_stopped", _("worker stopped before the end")


class TaskRecovery(models.Model):
    """A task that did not end normally: marked failed with a reason and, when it is safe to
    repeat (settings.TASKS_SAFE_TO_REPEAT), enqueued again as `requeued_id`."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    task_id = models.CharField(_("task"), max_length=64)
    task_path = models.CharField(_("job"), max_length=255)
    worker_id = models.CharField(_("worker"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=32, choices=TaskRecoveryReason.choices)
    requeued_id = models.CharField(_("enqueued again as"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("recovered task")
        verbose_name_plural = _("recovered tasks")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_path} {self.task_id}: {self.reason}"

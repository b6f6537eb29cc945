"""Rate limits kept in the database, so they hold across web servers and workers.

`hit(key=…, limit=…, period=…)` counts one more use of `key` (say
`"password-reset:address:203.0.113.7"`). A window opens with the first use and lasts
`period`; the use is allowed while the window holds at most `limit` of them.
`too_many_requests(request, verdict)` is the matching 429 page.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .models import ThrottleCounter


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the window closes, at least 1


def _locked_counter(key: str, now: datetime, period: timedelta) -> ThrottleCounter:
    """The key's counter, locked until the end of the transaction; created if missing."""
    counter = ThrottleCounter.objects.select_for_update().filter(key=key).first()
    if counter is not None:
        return counter
    try:
        with transaction.atomic():
            counter = ThrottleCounter.objects.create(key=key, count=0, resets_at=now + period)
    except IntegrityError:  # another server created it meanwhile
        return ThrottleCounter.objects.select_for_update().get(key=key)
    # A new key is rare enough (once per address and window) to tidy up closed windows.
    ThrottleCounter.objects.filter(resets_at__lte=now).delete()
    return counter


def hit(*, key: str, limit: int, period: timedelta, now: datetime | None = None) -> Verdict:
    """Count one use of `key` and say whether it is within `limit` uses per `period`."""
    now = now or timezone.now()
    with transaction.atomic():
        counter = _locked_counter(key, now, period)
        if counter.resets_at <= now:
            counter.count, counter.resets_at = 0, now + period
        counter.count += 1
        counter.save(update_fields=["count", "resets_at"])
    retry_after = max(1, math.ceil((counter.resets_at - now).total_seconds()))
    return Verdict(allowed=counter.count <= limit, retry_after=retry_after)


def too_many_requests(request: HttpRequest, verdict: Verdict) -> HttpResponse:
    """The 429 page in the reader's language, saying when to try again, with Retry-After."""
    minutes = math.ceil(verdict.retry_after / 60)
    response = render(request, "429.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response

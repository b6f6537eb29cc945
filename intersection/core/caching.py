"""Short-lived caching of public results that are the same for every visitor."""

import hashlib
from datetime import date

from django.http import HttpRequest
from django.utils.translation import get_language


def public_results_key(prefix: str, request: HttpRequest, day: date) -> str:
    """One cache entry per language, day and query string (parameter order ignored)."""
    query = sorted(request.GET.lists())
    digest = hashlib.sha256(repr(query).encode()).hexdigest()[:32]
    return f"{prefix}:{get_language()}:{day.isoformat()}:{digest}"

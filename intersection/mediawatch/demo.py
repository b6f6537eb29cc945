"""Demo sources: the outlets shipped in demo_sources/, served by the platform itself."""

import json
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from .models import PauseReason, Source, SourceKind
from .views import DEMO_SOURCES, demo_base_url


def load_demo_sources() -> list[Source]:
    """Register (or update) one source per demo outlet. Idempotent."""
    manifest = json.loads((DEMO_SOURCES / "manifest.json").read_text(encoding="utf-8"))
    sources = []
    for outlet in manifest["outlets"]:
        source, _created = Source.objects.update_or_create(
            url=f"{demo_base_url()}/{outlet['slug']}/{outlet['feed']}",
            defaults={
                "name": outlet["name"],
                "kind": SourceKind.FEED,
                "language_hint": outlet.get("language", ""),
                "country": outlet.get("country", ""),
                "poll_minutes": 60,
                "active": True,
                "pause_reason": "",
                # First poll once the web server (which serves these files) is up.
                "next_poll_at": timezone.now() + timedelta(seconds=20),
            },
        )
        sources.append(source)
    return sources


REAL_SOURCES = Path(__file__).resolve().parent / "data" / "real_sources.json"


def load_real_sources() -> int:
    """Register the documented real public sources, inactive: a curator enables them.
    Sources already present keep their settings (active or not). Returns how many were new."""
    added = 0
    for entry in json.loads(REAL_SOURCES.read_text(encoding="utf-8")):
        _source, created = Source.objects.get_or_create(
            url=entry["url"],
            query=entry["query"],
            defaults={
                "name": entry["name"],
                "kind": entry["kind"],
                "language_hint": entry["language"],
                "country": entry["country"],
                "active": False,
                "pause_reason": PauseReason.NOT_ENABLED,
            },
        )
        added += created
    return added

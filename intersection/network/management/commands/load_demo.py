from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intersection.network.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo network, agreements and accounts (idempotent). Refused in production."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is not loaded in production (PRODUCTION=1).")
        accounts = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo accounts:"))
        width = max(len(a.email) for a in accounts)
        for account in accounts:
            self.stdout.write(f"  {account.email.ljust(width)}  {account.description}")
        self.stdout.write(f"  password for all: {settings.DEMO_PASSWORD}")

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django.test import Client

from intersection.accounts.models import Role, User
from intersection.network.models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    Country,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    ResourceGrant,
)
from tests.processes import harness_template, product  # noqa: E402, F401 - fixtures

PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def _fast_hashing_and_fresh_cache(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def make_org(slug: str, kind: str = OrganisationKind.POLICE_ZONE, **fields: object) -> Organisation:
    fields.setdefault("name_fr", f"Zone {slug}")
    fields.setdefault("country", Country.BE)
    return Organisation.objects.create(slug=slug, kind=kind, **fields)


def make_user(
    email: str, role: str = Role.MEMBER, org: Organisation | None = None, **fields: object
) -> User:
    user = User.objects.create_user(email, PASSWORD, role=role, **fields)
    if org is not None:
        person = Person.objects.create(first_name="P", last_name=email, email=email, user=user)
        Membership.objects.create(person=person, organisation=org, starts_on=date(2020, 1, 1))
    return user


def make_agreement(
    reference: str,
    parties: list[Organisation],
    grants: dict[str, list[Organisation]],
    grant_start: date | None = None,
    **fields: object,
) -> Agreement:
    fields.setdefault("kind", AgreementKind.PARTNERSHIP)
    fields.setdefault("title_fr", f"Protocole {reference}")
    agreement = Agreement.objects.create(reference=reference, **fields)
    for org in parties:
        AgreementParty.objects.create(agreement=agreement, organisation=org)
    for resource, beneficiaries in grants.items():
        grant = ResourceGrant.objects.create(
            agreement=agreement, resource=resource, starts_on=grant_start
        )
        grant.beneficiaries.set(beneficiaries)
    return agreement


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[dict[str, object]] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)  # addresses the server refuses (550)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(  # noqa: N802
        self, server: object, session: object, envelope: Any, address: str, options: object
    ) -> str:
        if address in self.box.rejected:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.box.messages.append(
            {
                "to": list(envelope.rcpt_tos),  # type: ignore[attr-defined]
                "data": envelope.content.decode("utf-8", "replace"),  # type: ignore[attr-defined]
            }
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_smtp(settings: Any, port: int) -> None:
    """Send mail over SMTP to 127.0.0.1:port (a test server, or nothing to test failures)."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "use_tls": False, "timeout": 5},
        }
    }


@pytest.fixture
def smtp_server(settings: pytest.FixtureRequest) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; Django's SMTP backend sends to it."""
    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(_Handler(box), hostname=box.host, port=box.port)
    controller.start()
    use_smtp(settings, box.port)
    try:
        yield box
    finally:
        controller.stop()

"""The access policy, as a table: roles × organisations × agreement states × resources."""

import itertools
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from intersection.accounts.models import Role
from intersection.core.models import AuditEvent
from intersection.network import policy
from intersection.network.models import Membership, Resource
from intersection.network.policy import Capability

from .conftest import login, make_agreement, make_org, make_user

TODAY = date(2026, 11, 30)
D = timedelta(days=1)

# Agreement states, as the dates that produce them, and whether the agreement is in force.
STATES: dict[str, tuple[dict[str, object], bool]] = {
    "draft": ({"signed_on": None, "starts_on": None}, False),
    "signed_not_started": ({"signed_on": TODAY - D, "starts_on": TODAY + D}, False),
    "active": ({"signed_on": date(2020, 1, 1), "starts_on": date(2020, 1, 1)}, True),
    "expiring": (
        {"signed_on": date(2020, 1, 1), "starts_on": date(2020, 1, 1), "ends_on": TODAY + 10 * D},
        True,
    ),
    "ends_today": (
        {"signed_on": date(2020, 1, 1), "starts_on": date(2020, 1, 1), "ends_on": TODAY},
        True,
    ),
    "expired_yesterday": (
        {"signed_on": date(2020, 1, 1), "starts_on": date(2020, 1, 1), "ends_on": TODAY - D},
        False,
    ),
    "terminated": (
        {"signed_on": date(2020, 1, 1), "starts_on": date(2020, 1, 1), "terminated_on": TODAY},
        False,
    ),
    "five_years_elapsed": (
        {"signed_on": date(2017, 10, 20), "starts_on": date(2017, 10, 20), "duration_years": 5},
        False,
    ),
    "renewed_tacitly": (
        {
            "signed_on": date(2016, 10, 14),
            "starts_on": date(2016, 11, 1),
            "duration_years": 5,
            "renewal": "tacit",
        },
        True,
    ),
    "notice_given_for_later": (
        {
            "signed_on": date(2016, 10, 14),
            "starts_on": date(2016, 11, 1),
            "duration_years": 5,
            "renewal": "tacit",
            "terminated_on": TODAY + 30 * D,
        },
        True,
    ),
}
# Where the person works, relative to the agreement.
ORGS = ["beneficiary", "party_not_beneficiary", "outsider", "no_organisation"]
ROLES = [None, Role.MEMBER, Role.REVIEWER, Role.STAFF, Role.ADMIN]
GRANTED = Resource.MEDIA_WATCH


def expected(role: str | None, org: str, state: str, resource: Resource) -> bool:
    if role is None:
        return False
    if role in (Role.ADMIN, Role.STAFF):
        return True
    return org == "beneficiary" and STATES[state][1] and resource == GRANTED


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(STATES))
def test_it_answers_every_cell_of_the_table(state: str) -> None:
    network = make_org("network", kind="association")
    beneficiary = make_org("beneficiary")
    party = make_org("party")
    outsider = make_org("outsider")
    make_agreement(
        "A-1",
        parties=[network, beneficiary, party],
        grants={GRANTED: [beneficiary]},
        **STATES[state][0],
    )
    org_of = {
        "beneficiary": beneficiary,
        "party_not_beneficiary": party,
        "outsider": outsider,
        "no_organisation": None,
    }
    cells = 0
    for role, org in itertools.product(ROLES, ORGS):
        if role is None:
            user = AnonymousUser()
        else:
            user = make_user(f"{role}-{org}@example.org", role=role, org=org_of[org])
        for resource in Resource:
            answer = policy.allows(user, resource, on=TODAY)
            assert answer == expected(role, org, state, resource), (role, org, state, resource)
            cells += 1
    assert cells == len(ROLES) * len(ORGS) * len(Resource)


@pytest.mark.django_db
def test_it_opens_a_resource_only_from_its_own_start_date() -> None:
    zone = make_org("zone")
    make_agreement(
        "A-2",
        parties=[make_org("net", kind="association"), zone],
        grants={Resource.SAFE_EXCHANGE: [zone], Resource.NEWSLETTERS: [zone]},
        grant_start=TODAY + D,
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
    )
    user = make_user("officer@example.org", org=zone)
    assert not policy.allows(user, Resource.SAFE_EXCHANGE, on=TODAY)
    assert policy.allows(user, Resource.SAFE_EXCHANGE, on=TODAY + D)


@pytest.mark.django_db
def test_it_ends_access_the_day_after_the_agreement_ends_without_editing_users() -> None:
    zone = make_org("zone")
    make_agreement(
        "A-3",
        parties=[make_org("net", kind="association"), zone],
        grants={Resource.MEDIA_WATCH: [zone]},
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
        ends_on=TODAY,
    )
    user = make_user("officer@example.org", org=zone)
    assert policy.allows(user, Resource.MEDIA_WATCH, on=TODAY)
    user = type(user).objects.get(pk=user.pk)  # a new request: no cached answer
    assert not policy.allows(user, Resource.MEDIA_WATCH, on=TODAY + D)


@pytest.mark.django_db
def test_it_ignores_a_membership_that_has_ended() -> None:
    zone = make_org("zone")
    make_agreement(
        "A-4",
        parties=[make_org("net", kind="association"), zone],
        grants={Resource.MEDIA_WATCH: [zone]},
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
    )
    user = make_user("former@example.org", org=zone)
    user.person.memberships.update(ends_on=TODAY - D)
    assert not policy.allows(user, Resource.MEDIA_WATCH, on=TODAY)


@pytest.mark.django_db
def test_it_refuses_everything_to_a_deactivated_account() -> None:
    user = make_user("gone@example.org", role=Role.ADMIN, is_active=False)
    assert not policy.allows(user, Resource.MEDIA_WATCH)
    assert not policy.allows(user, Capability.VIEW_AUDIT)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "capability", "allowed"),
    [
        (None, Capability.VIEW_DIRECTORY, True),
        (None, Capability.VIEW_PEOPLE, False),
        (None, Capability.VIEW_AGREEMENTS, False),
        (Role.MEMBER, Capability.VIEW_PEOPLE, True),
        (Role.MEMBER, Capability.VIEW_CONTACT_DETAILS, False),
        (Role.MEMBER, Capability.VIEW_AUDIT, False),
        (Role.MEMBER, Capability.VIEW_DRAFT_AGREEMENTS, False),
        (Role.STAFF, Capability.VIEW_DRAFT_AGREEMENTS, True),
        (Role.MEMBER, Capability.REVIEW, False),
        (Role.REVIEWER, Capability.REVIEW, True),
        (Role.STAFF, Capability.VIEW_CONTACT_DETAILS, True),
        (Role.STAFF, Capability.VIEW_REGISTER, True),
        (Role.STAFF, Capability.VIEW_AUDIT, False),
        (Role.ADMIN, Capability.VIEW_AUDIT, True),
    ],
)
def test_it_grants_capabilities_by_role(
    role: str | None, capability: Capability, allowed: bool
) -> None:
    user = AnonymousUser() if role is None else make_user("someone@example.org", role=role)
    assert policy.allows(user, capability) is allowed


@pytest.mark.django_db
def test_it_refuses_the_media_watch_with_403_and_logs_it(client: Client) -> None:
    zone = make_org("zone-ath")
    user = make_user("officer@example.org", org=zone)
    response = login(client, user).get("/media-watch/", headers={"accept-language": "en"})
    assert response.status_code == 403
    assert "no partnership agreement in force" in response.content.decode()
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == user
    assert "media_watch" in event.object_repr


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/media-watch/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_it_hides_the_member_register_from_anonymous_visitors(client: Client) -> None:
    make_org("network", kind="association")
    assert client.get("/organisations/network/register/").status_code == 404


@pytest.mark.django_db
def test_it_opens_the_register_to_a_current_board_member(client: Client) -> None:
    from intersection.network.models import GoverningBody, Mandate, MandateRole

    network = make_org("network", kind="association")
    secretary = make_user("secretary@example.org", org=network)
    member = make_user("member@example.org", org=network)
    Mandate.objects.create(
        network=network,
        body=GoverningBody.BOARD,
        person=secretary.person,
        role=MandateRole.SECRETARY,
        starts_on=date(2024, 1, 1),
    )
    assert login(client, secretary).get("/organisations/network/register/").status_code == 200
    assert login(Client(), member).get("/organisations/network/register/").status_code == 403


@pytest.mark.django_db
def test_it_ignores_a_beneficiary_that_is_not_a_party() -> None:
    zone, party = make_org("zone"), make_org("party")
    make_agreement(
        "A-5",
        parties=[make_org("net", kind="association"), party],
        grants={Resource.MEDIA_WATCH: [zone]},
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
    )
    # Works for both the listed beneficiary and a party, but only the party signed.
    user = make_user("double@example.org", org=zone)
    Membership.objects.create(person=user.person, organisation=party)
    assert not policy.allows(user, Resource.MEDIA_WATCH, on=TODAY)

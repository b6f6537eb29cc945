"""JSON API of the network module: organisations, people (as allowed), agreements."""

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language, gettext_noop
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from intersection.accounts.api_auth import TOKEN_OR_SESSION, TOKEN_SESSION_OR_ANONYMOUS
from intersection.core.api_pagination import Pagination
from intersection.core.caching import public_results_key
from intersection.core.i18n import localized

from . import policy, selectors
from .models import Agreement, Country, Membership, Organisation, OrganisationKind, Person
from .policy import Capability
from .status import AgreementStatus

router = Router(tags=["network"])
ORGANISATION_PARAMETER = Query(
    None, description=gettext_noop("Slug of an organisation: its current members only.")
)
STATUS_PARAMETER = Query(None, description=gettext_noop("Only agreements in this status."))


class OrganisationOut(Schema):
    slug: str
    kind: str
    name: str
    names: dict[str, str]
    country: str
    region: str
    languages: list[str]
    website: str
    parent: str | None
    active_from: date | None
    active_until: date | None

    @staticmethod
    def resolve_name(obj: Organisation) -> str:
        return localized(obj, "name").text

    @staticmethod
    def resolve_names(obj: Organisation) -> dict[str, str]:
        return {"fr": obj.name_fr, "nl": obj.name_nl, "en": obj.name_en}

    @staticmethod
    def resolve_languages(obj: Organisation) -> list[str]:
        return obj.language_list()

    @staticmethod
    def resolve_parent(obj: Organisation) -> str | None:
        return obj.parent.slug if obj.parent_id and obj.parent else None


class MembershipOut(Schema):
    organisation: str
    title: str
    representative: bool
    starts_on: date | None
    ends_on: date | None


class PersonOut(Schema):
    id: int
    first_name: str
    last_name: str
    email: str | None
    memberships: list[MembershipOut]

    @staticmethod
    def resolve_email(obj: Person, context: dict[str, Any]) -> str | None:
        if policy.allows(context["request"].user, Capability.VIEW_CONTACT_DETAILS):
            return obj.email or None
        return None

    @staticmethod
    def resolve_memberships(obj: Person) -> list[dict[str, Any]]:
        return [
            {
                "organisation": m.organisation.slug,
                "title": m.title,
                "representative": m.is_representative,
                "starts_on": m.starts_on,
                "ends_on": m.ends_on,
            }
            for m in obj.current_memberships  # type: ignore[attr-defined]
        ]


class GrantOut(Schema):
    resource: str
    starts_on: date | None
    beneficiaries: list[str]


class AgreementOut(Schema):
    id: int
    reference: str
    title: str
    kind: str
    status: AgreementStatus
    signed_on: date | None
    starts_on: date | None
    ends_on: date | None
    renewal: str
    parties: list[str]
    unlocks: list[GrantOut]


class ErrorOut(Schema):
    detail: str


def _agreement_out(agreement: Agreement, day: date) -> AgreementOut:
    return AgreementOut(
        id=agreement.pk,
        reference=agreement.reference,
        title=localized(agreement, "title").text,
        kind=agreement.kind,
        status=agreement.status_on(day),
        signed_on=agreement.signed_on,
        starts_on=agreement.starts_on,
        ends_on=agreement.end_as_of(day),
        renewal=agreement.renewal,
        parties=[link.organisation.slug for link in agreement.party_links.all()],
        unlocks=[
            GrantOut(
                resource=grant.resource,
                starts_on=grant.starts_on or agreement.starts_on,
                beneficiaries=[org.slug for org in grant.beneficiaries.all()],
            )
            for grant in agreement.grants.all()
        ],
    )


class DirectoryFilters(Schema):
    q: str = Field("", max_length=100, description=gettext_noop("Text in a name or region."))
    kind: OrganisationKind | None = Field(None, description=gettext_noop("Kind of organisation."))
    country: Country | None = Field(None, description=gettext_noop("Country code, e.g. BE or CA."))
    parent: str | None = Field(
        None, max_length=80, description=gettext_noop("Slug of the parent network.")
    )
    language: str = Field("", max_length=8, description=gettext_noop("Working language, e.g. nl."))


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    count: int


@router.get(
    "/organisations",
    response={200: OrganisationPage, 404: ErrorOut},
    auth=TOKEN_SESSION_OR_ANONYMOUS,
    summary=gettext_noop("Directory of organisations"),
    description=gettext_noop("Public: every organisation of the network, with filters, in pages."),
)
def list_organisations(
    request: HttpRequest,
    filters: Query[DirectoryFilters],
    page: Query[Pagination.Input],
) -> HttpResponse:
    # Public and the same for everyone: the JSON page is cached briefly, like the directory.
    policy.require(request, Capability.VIEW_DIRECTORY)
    day = policy.today()
    key = public_results_key("api-organisations", request, day)
    body = cache.get(key)
    if body is None:
        parent = get_object_or_404(Organisation, slug=filters.parent) if filters.parent else None
        organisations = selectors.organisation_directory(
            day=day,
            query=filters.q,
            kind=filters.kind or "",
            country=filters.country or "",
            parent=parent,
            language=filters.language,
            reader_language=get_language() or "fr",
        )
        items = organisations[page.offset : page.offset + page.limit]
        body = json.dumps(
            {
                "items": [OrganisationOut.from_orm(o).model_dump(mode="json") for o in items],
                "count": organisations.count(),
            }
        )
        if settings.DIRECTORY_CACHE_SECONDS:
            cache.set(key, body, settings.DIRECTORY_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


@router.get(
    "/organisations/{slug}",
    response={200: OrganisationOut, 404: ErrorOut},
    auth=TOKEN_SESSION_OR_ANONYMOUS,
    summary=gettext_noop("One organisation"),
    description=gettext_noop(
        "Public: an organisation by its slug, with its names in every language."
    ),
)
def get_organisation(request: HttpRequest, slug: str) -> Organisation:
    policy.require(request, Capability.VIEW_DIRECTORY)
    return get_object_or_404(Organisation.objects.select_related("parent"), slug=slug)


@router.get(
    "/people",
    response={200: list[PersonOut], 403: ErrorOut, 404: ErrorOut},
    auth=TOKEN_OR_SESSION,
    summary=gettext_noop("People and their current memberships"),
    description=gettext_noop("Signed-in members only; email addresses for network staff only."),
)
@paginate(Pagination)
def list_people(
    request: HttpRequest,
    organisation: str | None = ORGANISATION_PARAMETER,
) -> object:
    policy.require(request, Capability.VIEW_PEOPLE)
    people = Person.objects.only("first_name", "last_name", "email").order_by(
        "last_name", "first_name", "pk"
    )
    if organisation:
        org = get_object_or_404(Organisation, slug=organisation)
        current_members = Membership.objects.filter(
            selectors.current(policy.today()), organisation=org
        ).values("person_id")
        people = people.filter(pk__in=current_members)
    return people.prefetch_related(selectors.current_memberships_prefetch(policy.today()))


@router.get(
    "/agreements",
    response={200: list[AgreementOut], 403: ErrorOut},
    auth=TOKEN_OR_SESSION,
    summary=gettext_noop("Partnership agreements with their derived status"),
    description=gettext_noop("Signed-in members only; drafts for network staff only."),
)
@paginate(Pagination)
def list_agreements(
    request: HttpRequest,
    status: AgreementStatus | None = STATUS_PARAMETER,
) -> object:
    policy.require(request, Capability.VIEW_AGREEMENTS)
    day = policy.today()
    rows = selectors.agreements_with_status(
        day=day,
        status=status or "",
        include_drafts=policy.allows(request.user, Capability.VIEW_DRAFT_AGREEMENTS),
    )
    return [_agreement_out(agreement, day) for agreement, _status in rows]


@router.get(
    "/agreements/{agreement_id}",
    response={200: AgreementOut, 403: ErrorOut, 404: ErrorOut},
    auth=TOKEN_OR_SESSION,
    summary=gettext_noop("One partnership agreement"),
    description=gettext_noop("Its status, current end, parties and the resources it unlocks."),
)
def get_agreement(request: HttpRequest, agreement_id: int) -> AgreementOut:
    policy.require(request, Capability.VIEW_AGREEMENTS)
    agreement = selectors.agreement_detail(agreement_id)
    if agreement is None:
        raise Http404
    if agreement.signed_on is None:
        policy.require(request, Capability.VIEW_DRAFT_AGREEMENTS, agreement, hide=True)
    return _agreement_out(agreement, policy.today())

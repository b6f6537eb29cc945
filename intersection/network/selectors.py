"""Reads of the network module. Views, API and exports use these; none of them writes."""

from collections.abc import Iterable
from datetime import date

from django.db.models import Case, Count, Prefetch, Q, QuerySet, Value, When

from intersection.core.collation import collated, displayed

from .models import (
    Agreement,
    AgreementParty,
    GoverningBody,
    Mandate,
    MandateRole,
    Membership,
    Organisation,
    RegisterEntry,
    ResourceGrant,
)
from .status import AgreementStatus


def current(day: date, start: str = "starts_on", end: str = "ends_on") -> Q:
    return (Q(**{f"{start}__isnull": True}) | Q(**{f"{start}__lte": day})) & (
        Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": day})
    )


def organisation_directory(
    *,
    day: date,
    query: str = "",
    kind: str = "",
    country: str = "",
    parent: Organisation | None = None,
    language: str = "",
    reader_language: str = "fr",
) -> QuerySet[Organisation]:
    """Organisations matching the filters, sorted by the name the reader sees (their
    language, else the fallback) with their language's collation."""
    organisations = Organisation.objects.select_related("parent")
    if query:
        organisations = organisations.filter(
            Q(name_fr__icontains=query)
            | Q(name_nl__icontains=query)
            | Q(name_en__icontains=query)
            | Q(region__icontains=query)
            | Q(slug__icontains=query)
        )
    if kind:
        organisations = organisations.filter(kind=kind)
    if country:
        organisations = organisations.filter(country=country)
    if parent is not None:
        organisations = organisations.filter(parent=parent)
    if language:
        organisations = organisations.filter(languages__icontains=language)
    return by_displayed_name(organisations, reader_language)


def by_displayed_name(
    organisations: QuerySet[Organisation], reader_language: str
) -> QuerySet[Organisation]:
    name = collated(displayed("name", reader_language), reader_language)
    return organisations.order_by(name, "slug")


def current_member_counts(organisations: Iterable[Organisation], day: date) -> dict[int, int]:
    """Current members per organisation, for one page of organisations, in one query."""
    ids = [organisation.pk for organisation in organisations]
    rows = (
        Membership.objects.filter(current(day), organisation_id__in=ids)
        .values("organisation_id")
        .annotate(people=Count("id"))
        .values_list("organisation_id", "people")
    )
    return dict(rows)


def parent_networks(reader_language: str = "fr") -> QuerySet[Organisation]:
    parents = Organisation.objects.filter(parent__isnull=False).values("parent")
    networks = Organisation.objects.filter(pk__in=parents)
    return by_displayed_name(networks, reader_language)


def organisation_members(organisation: Organisation, day: date) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .filter(current(day))
        .select_related("person")
        .order_by("-is_representative", "person__last_name", "person__first_name")
    )


def agreements(*, organisation: Organisation | None = None) -> QuerySet[Agreement]:
    qs = Agreement.objects.prefetch_related(
        Prefetch(
            "party_links",
            queryset=AgreementParty.objects.select_related("organisation"),
        ),
        Prefetch(
            "grants",
            queryset=ResourceGrant.objects.prefetch_related("beneficiaries"),
        ),
    )
    if organisation is not None:
        qs = qs.filter(party_links__organisation=organisation)
    return qs.order_by("-signed_on", "reference")


def agreements_with_status(
    *,
    day: date,
    status: str = "",
    organisation: Organisation | None = None,
    include_drafts: bool = False,
) -> list[tuple[Agreement, AgreementStatus]]:
    """Agreements with their status on `day`; drafts (not yet signed) only when asked."""
    rows = []
    queryset = agreements(organisation=organisation)
    if not include_drafts:
        queryset = queryset.filter(signed_on__isnull=False)
    for agreement in queryset:
        agreement.current_end = agreement.end_as_of(day)  # type: ignore[attr-defined]
        rows.append((agreement, agreement.status_on(day)))
    if status:
        rows = [row for row in rows if row[1] == status]
    return rows


def agreement_detail(pk: int) -> Agreement | None:
    return (
        agreements()
        .prefetch_related("signatories__organisation", "signatories__person")
        .filter(pk=pk)
        .first()
    )


def mandates(
    *, day: date, network: Organisation | None = None, organisation: Organisation | None = None
) -> QuerySet[Mandate]:
    rank = Case(
        *[When(role=role, then=Value(i)) for i, role in enumerate(MandateRole.values)],
        default=Value(99),
    )
    qs = (
        Mandate.objects.filter(current(day))
        .select_related("person", "network", "representing")
        .annotate(rank=rank)
    )
    if network is not None:
        qs = qs.filter(network=network)
    if organisation is not None:
        qs = qs.filter(Q(network=organisation) | Q(representing=organisation))
    return qs.order_by("network__name_fr", "body", "rank", "person__last_name")


def board_networks(day: date) -> list[tuple[Organisation, dict[str, list[Mandate]]]]:
    """Each network with its current mandates grouped by governing body."""
    grouped: dict[int, tuple[Organisation, dict[str, list[Mandate]]]] = {}
    for mandate in mandates(day=day):
        network, bodies = grouped.setdefault(mandate.network_id, (mandate.network, {}))
        bodies.setdefault(mandate.body, []).append(mandate)
    order = {GoverningBody.BOARD.value: 0, GoverningBody.GENERAL_ASSEMBLY.value: 1}
    return [
        (network, dict(sorted(bodies.items(), key=lambda item: order.get(item[0], 9))))
        for network, bodies in grouped.values()
    ]


def register_entries(network: Organisation) -> QuerySet[RegisterEntry]:
    return RegisterEntry.objects.filter(network=network).order_by("number")


def current_memberships_prefetch(day: date) -> Prefetch:
    """Each person's current memberships, with organisation, into `current_memberships`."""
    return Prefetch(
        "memberships",
        queryset=Membership.objects.filter(current(day))
        .select_related("organisation")
        .only(
            "person_id",
            "title",
            "is_representative",
            "starts_on",
            "ends_on",
            "organisation__slug",
        ),
        to_attr="current_memberships",
    )

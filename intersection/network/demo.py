"""Demo data: the Belgian and Québec networks, three zones, agreements and one account per role.

Idempotent: every object is looked up by a natural key and updated, never duplicated.
All people are fictional.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction

from intersection.accounts.models import Role, User

from .models import (
    Agreement,
    AgreementKind,
    AgreementParty,
    Country,
    GoverningBody,
    Mandate,
    MandateRole,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    RegisterEntry,
    RenewalRule,
    Resource,
    ResourceGrant,
    Signatory,
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    description: str


DEMO_ACCOUNTS = [
    DemoAccount("admin@demo.intersection.test", Role.ADMIN, "platform administrator"),
    DemoAccount("curator@demo.intersection.test", Role.STAFF, "network staff (curator)"),
    DemoAccount(
        "officer.bxl@demo.intersection.test",
        Role.MEMBER,
        "member, Bruxelles-Nord zone (media watch and newsletters unlocked)",
    ),
    DemoAccount(
        "officer.ath@demo.intersection.test",
        Role.MEMBER,
        "member, Ath zone (no agreement in force: media watch refused)",
    ),
    DemoAccount("reviewer@demo.intersection.test", Role.REVIEWER, "reviewer, Québec network"),
]


def _org(slug: str, **fields: object) -> Organisation:
    org, _ = Organisation.objects.update_or_create(slug=slug, defaults=fields)
    return org


def _person(first: str, last: str, email: str = "", user: User | None = None) -> Person:
    person, _ = Person.objects.update_or_create(
        first_name=first, last_name=last, defaults={"email": email, "user": user}
    )
    return person


def _member(person: Person, org: Organisation, title: str, since: date, rep: bool = False) -> None:
    Membership.objects.update_or_create(
        person=person,
        organisation=org,
        defaults={"title": title, "starts_on": since, "is_representative": rep},
    )


def _user(account: DemoAccount, full_name: str) -> User:
    user = User.objects.filter(email=account.email).first()
    if user is None:
        user = User.objects.create_user(
            account.email, settings.DEMO_PASSWORD, role=account.role, full_name=full_name
        )
    return user


def _agreement(
    reference: str,
    parties: list[Organisation],
    grants: dict[str, tuple[date | None, list[Organisation]]],
    signatories: list[tuple[Organisation, str, str]],
    **fields: object,
) -> Agreement:
    agreement, _ = Agreement.objects.update_or_create(reference=reference, defaults=fields)
    for org in parties:
        AgreementParty.objects.get_or_create(agreement=agreement, organisation=org)
    for resource, (starts_on, beneficiaries) in grants.items():
        grant, _ = ResourceGrant.objects.update_or_create(
            agreement=agreement, resource=resource, defaults={"starts_on": starts_on}
        )
        grant.beneficiaries.set(beneficiaries)
    for org, name, title in signatories:
        Signatory.objects.update_or_create(
            agreement=agreement, name=name, defaults={"organisation": org, "title": title}
        )
    return agreement


@transaction.atomic
def load_demo() -> list[DemoAccount]:
    be = _org(
        "reseau-belge",
        kind=OrganisationKind.ASSOCIATION,
        name_fr="Réseau belge de la police de proximité",
        name_nl="Belgisch netwerk voor gemeenschapsgerichte politiezorg",
        name_en="Belgian community-policing network",
        country=Country.BE,
        region="Bruxelles-Capitale",
        languages="fr,nl",
        legal_form="ASBL",
        enterprise_number="0712.345.678",
        seat="Rue Royale 1, 1000 Bruxelles",
        active_from=date(2012, 5, 1),
    )
    qc = _org(
        "reseau-quebecois",
        kind=OrganisationKind.ASSOCIATION,
        name_fr="Réseau québécois de la police communautaire",
        name_en="Québec community-policing network",
        country=Country.CA,
        region="Québec",
        languages="fr,en",
        legal_form="OBNL",
        seat="Québec (Québec)",
        active_from=date(1993, 6, 1),
    )
    training = _org(
        "reseau-formation",
        kind=OrganisationKind.TRAINING_NETWORK,
        name_fr="Réseau francophone de formation policière",
        name_en="Francophone police-training network",
        country=Country.OTHER,
        languages="fr",
        active_from=date(2008, 1, 1),
    )
    zones = {
        slug: _org(
            slug,
            kind=OrganisationKind.POLICE_ZONE,
            parent=be,
            country=Country.BE,
            active_from=date(2001, 1, 1),
            **names,
        )
        for slug, names in {
            "zone-bruxelles-nord": {
                "name_fr": "Zone de police Bruxelles-Nord",
                "name_nl": "Politiezone Brussel-Noord",
                "region": "Bruxelles-Capitale",
                "languages": "fr,nl",
                "legal_form": "Zone de police",
                "enterprise_number": "0264.123.987",
                "seat": "Rue Royale 202, 1210 Saint-Josse-ten-Noode",
            },
            "zone-montgomery": {
                "name_fr": "Zone de police Montgomery",
                "name_nl": "Politiezone Montgomery",
                "region": "Bruxelles-Capitale",
                "languages": "fr,nl",
                "legal_form": "Zone de police",
                "enterprise_number": "0264.456.321",
                "seat": "Rue des Deux Tours 3, 1040 Etterbeek",
            },
            "zone-ath": {
                "name_fr": "Zone de police d'Ath",
                "region": "Hainaut",
                "languages": "fr",
                "legal_form": "Zone de police",
                "enterprise_number": "0264.789.654",
                "seat": "Rue de Pintamont 1, 7800 Ath",
            },
        }.items()
    }
    bxl, mont, ath = zones["zone-bruxelles-nord"], zones["zone-montgomery"], zones["zone-ath"]
    qc_assoc = _org(
        "association-police-communautaire-laval",
        kind=OrganisationKind.ASSOCIATION,
        parent=qc,
        country=Country.CA,
        region="Laval",
        languages="fr",
        name_fr="Association de police communautaire de Laval",
    )

    users = {a.email: a for a in DEMO_ACCOUNTS}
    admin = _user(users["admin@demo.intersection.test"], "Alex Admin")
    curator = _user(users["curator@demo.intersection.test"], "Camille Veilleur")
    officer_bxl = _user(users["officer.bxl@demo.intersection.test"], "Inès Lambert")
    officer_ath = _user(users["officer.ath@demo.intersection.test"], "Thomas Delcourt")
    reviewer = _user(users["reviewer@demo.intersection.test"], "Julie Tremblay")

    # People (fictional): the chiefs of the three zones sit on the board of the Belgian network.
    chief_bxl = _person("Marc", "Vandenbroeck", "chef.bxl@demo.intersection.test")
    chief_mont = _person("Nathalie", "Dierickx", "chef.montgomery@demo.intersection.test")
    chief_ath = _person("Philippe", "Lemaire", "chef.ath@demo.intersection.test")
    president_qc = _person("Sylvie", "Gagnon", "presidence@demo-qc.intersection.test")
    director_training = _person("Karim", "Benali", "direction@demo-formation.intersection.test")
    _person("Camille", "Veilleur", curator.email, curator)
    _person("Alex", "Admin", admin.email, admin)
    p_bxl = _person("Inès", "Lambert", officer_bxl.email, officer_bxl)
    p_ath = _person("Thomas", "Delcourt", officer_ath.email, officer_ath)
    p_rev = _person("Julie", "Tremblay", reviewer.email, reviewer)

    _member(chief_bxl, bxl, "Chef de corps", date(2018, 3, 1), rep=True)
    _member(chief_mont, mont, "Cheffe de corps", date(2020, 9, 1), rep=True)
    _member(chief_ath, ath, "Chef de corps", date(2016, 1, 1), rep=True)
    _member(president_qc, qc, "Présidente", date(2019, 6, 1), rep=True)
    _member(director_training, training, "Directeur", date(2015, 2, 1), rep=True)
    _member(p_bxl, bxl, "Inspectrice de quartier", date(2021, 4, 1))
    _member(p_ath, ath, "Agent de quartier", date(2022, 10, 1))
    _member(p_rev, qc, "Conseillère en prévention", date(2017, 1, 15))

    board_start = date(2024, 6, 15)
    for person, role, org in [
        (chief_bxl, MandateRole.PRESIDENT, bxl),
        (chief_mont, MandateRole.VICE_PRESIDENT, mont),
        (chief_ath, MandateRole.TREASURER, ath),
    ]:
        Mandate.objects.update_or_create(
            network=be,
            body=GoverningBody.BOARD,
            person=person,
            defaults={
                "role": role,
                "representing": org,
                "starts_on": board_start,
                "ends_on": date(2027, 1, 15),
            },
        )
    Mandate.objects.update_or_create(
        network=be,
        body=GoverningBody.GENERAL_ASSEMBLY,
        person=p_bxl,
        defaults={
            "role": MandateRole.MEMBER,
            "representing": bxl,
            "starts_on": date(2024, 6, 15),
            "ends_on": None,
        },
    )
    Mandate.objects.update_or_create(
        network=qc,
        body=GoverningBody.BOARD,
        person=president_qc,
        defaults={
            "role": MandateRole.PRESIDENT,
            "starts_on": date(2023, 6, 1),
            "ends_on": date(2027, 5, 31),
        },
    )

    for number, org in enumerate([bxl, mont, ath], start=1):
        RegisterEntry.objects.update_or_create(
            network=be,
            number=number,
            defaults={
                "organisation": org,
                "name": org.name_fr,
                "legal_form": org.legal_form,
                "enterprise_number": org.enterprise_number,
                "address": org.seat,
                "admitted_on": date(2012, 5, 1) if number < 3 else date(2015, 9, 12),
            },
        )

    _agreement(
        "QC-BXL-2016",
        parties=[qc, bxl],
        grants={
            Resource.NEWSLETTERS: (None, [bxl]),
            Resource.MEDIA_WATCH: (date(2017, 1, 1), [bxl]),
        },
        signatories=[
            (qc, "Sylvie Gagnon", "Présidente"),
            (bxl, "Marc Vandenbroeck", "Chef de corps"),
        ],
        title_fr="Protocole d'entente entre le Réseau québécois et la zone Bruxelles-Nord",
        title_nl="Samenwerkingsprotocol tussen het Québecse netwerk en de zone Brussel-Noord",
        title_en="Memorandum between the Québec network and the Bruxelles-Nord zone",
        kind=AgreementKind.MEMORANDUM,
        signed_on=date(2016, 10, 14),
        starts_on=date(2016, 11, 1),
        duration_years=5,
        renewal=RenewalRule.TACIT,
    )
    _agreement(
        "FORM-2017",
        parties=[training, be],
        grants={Resource.PRACTICES_MEMBER: (None, [training, be])},
        signatories=[
            (training, "Karim Benali", "Directeur"),
            (be, "Marc Vandenbroeck", "Président"),
        ],
        title_fr="Protocole de collaboration avec le réseau francophone de formation policière",
        title_en="Collaboration protocol with the francophone police-training network",
        kind=AgreementKind.COLLABORATION,
        signed_on=date(2017, 10, 20),
        starts_on=date(2017, 10, 20),
        duration_years=5,
        renewal=RenewalRule.NONE,
    )
    _agreement(
        "BE-MONT-2025",
        parties=[be, mont],
        grants={
            Resource.PRACTICES_MEMBER: (None, [mont]),
            Resource.NEWSLETTERS: (None, [mont]),
            Resource.SAFE_EXCHANGE: (date(2026, 1, 1), [mont]),
        },
        signatories=[
            (be, "Marc Vandenbroeck", "Président"),
            (mont, "Nathalie Dierickx", "Cheffe de corps"),
        ],
        title_fr="Convention de partenariat avec la zone Montgomery",
        title_nl="Partnerschapsovereenkomst met de zone Montgomery",
        title_en="Partnership agreement with the Montgomery zone",
        kind=AgreementKind.PARTNERSHIP,
        signed_on=date(2025, 3, 3),
        starts_on=date(2025, 3, 3),
        ends_on=date(2028, 3, 2),
        renewal=RenewalRule.AMENDMENT,
    )
    _agreement(
        "QC-LAVAL-2024",
        parties=[qc, qc_assoc],
        grants={Resource.PRACTICES_MEMBER: (None, [qc_assoc])},
        signatories=[(qc, "Sylvie Gagnon", "Présidente")],
        title_fr="Entente de services avec l'Association de police communautaire de Laval",
        kind=AgreementKind.SERVICE,
        signed_on=date(2024, 1, 10),
        starts_on=date(2024, 1, 15),
        ends_on=date(2027, 1, 14),
        renewal=RenewalRule.AMENDMENT,
    )
    return DEMO_ACCOUNTS

from datetime import date

from django.conf import settings
from django.core.validators import FileExtensionValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from intersection.core.i18n import Translated

from .status import AgreementDates, AgreementStatus, agreement_status, is_in_force, term_end
from .validators import (
    AGREEMENT_PDF_MAX_BYTES,
    LOGO_MAX_BYTES,
    MB,
    MaxFileSizeValidator,
    validate_logo,
    validate_pdf,
)


class Resource(models.TextChoices):
    """What the network's agreements can unlock. Asked about through network.policy only."""

    MEDIA_WATCH = "media_watch", _("Media watch")
    NEWSLETTERS = "newsletters", _("Newsletters")
    PRACTICES_MEMBER = "practices_member", _("Practice library (member level)")
    SAFE_EXCHANGE = "safe_exchange", _("Safe-exchange services")


class OrganisationKind(models.TextChoices):
    POLICE_ZONE = "police_zone", _("Police zone")
    ASSOCIATION = "association", _("Association")
    TRAINING_NETWORK = "training_network", _("Training network")
    PUBLIC_BODY = "public_body", _("Public body")
    OTHER = "other", _("Other")


class Country(models.TextChoices):
    BE = "BE", _("Belgium")
    CA = "CA", _("Canada")
    FR = "FR", _("France")
    LU = "LU", _("Luxembourg")
    CH = "CH", _("Switzerland")
    OTHER = "ZZ", _("Other country")


def logo_path(instance: "Organisation", filename: str) -> str:
    return f"logos/{instance.slug}/{filename}"


class Organisation(models.Model):
    slug = models.SlugField(_("short identifier"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    name_fr = models.CharField(_("name (French)"), max_length=200, blank=True)
    name_nl = models.CharField(_("name (Dutch)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    region = models.CharField(_("region"), max_length=100, blank=True)
    languages = models.CharField(
        _("working languages"), max_length=32, blank=True, help_text=_("e.g. fr,nl")
    )
    website = models.URLField(_("website"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent network"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    logo = models.FileField(
        _("logo"),
        upload_to=logo_path,
        blank=True,
        help_text=format_lazy(
            _("A PNG, JPEG or WebP image of at most {limit} MB; it is stored re-encoded."),
            limit=LOGO_MAX_BYTES // MB,
        ),
        validators=[
            MaxFileSizeValidator(LOGO_MAX_BYTES),
            FileExtensionValidator(["png", "jpg", "jpeg", "webp"]),
            validate_logo,
        ],
    )
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_until = models.DateField(_("active until"), null=True, blank=True)
    # Legal identity, for the member register of the ASBL.
    legal_form = models.CharField(_("legal form"), max_length=64, blank=True)
    enterprise_number = models.CharField(_("enterprise number"), max_length=32, blank=True)
    seat = models.CharField(_("registered seat"), max_length=255, blank=True)

    name = Translated("name")

    class Meta:
        ordering = ["name_fr", "slug"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [
            models.Index(fields=["kind", "country"]),
            models.Index(fields=["name_fr", "slug"], name="organisation_directory_order"),
        ]

    def __str__(self) -> str:
        return str(self.name) or self.slug

    def language_list(self) -> list[str]:
        return [lang.strip() for lang in self.languages.split(",") if lang.strip()]

    def is_active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day <= self.active_until
        )


class Person(models.Model):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    organisations = models.ManyToManyField(
        Organisation, through="Membership", related_name="people"
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Membership(models.Model):
    """A person belongs to an organisation, with a title, for a period."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    title = models.CharField(_("title"), max_length=150, blank=True)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    is_representative = models.BooleanField(_("representative"), default=False)

    class Meta:
        ordering = ["organisation", "person"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="membership_dates_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.organisation}"


class GoverningBody(models.TextChoices):
    BOARD = "board", _("Board (organe d'administration)")
    GENERAL_ASSEMBLY = "general_assembly", _("General assembly")


class MandateRole(models.TextChoices):
    PRESIDENT = "president", _("President")
    VICE_PRESIDENT = "vice_president", _("Vice-president")
    TREASURER = "treasurer", _("Treasurer")
    SECRETARY = "secretary", _("Secretary")
    DIRECTOR = "director", _("Director")
    MEMBER = "member", _("Member")


class Mandate(models.Model):
    """A seat in a governing body of a network (ASBL/OBNL)."""

    network = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="mandates", verbose_name=_("network")
    )
    body = models.CharField(_("body"), max_length=32, choices=GoverningBody.choices)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="mandates", verbose_name=_("person")
    )
    representing = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("representing"),
    )
    role = models.CharField(_("role"), max_length=32, choices=MandateRole.choices)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"), null=True, blank=True)

    class Meta:
        ordering = ["body", "role", "person__last_name"]
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")

    def __str__(self) -> str:
        return f"{self.get_role_display()} — {self.person}"


class RegisterEntry(models.Model):
    """A line of the legal member register of an ASBL (Code des sociétés et des associations)."""

    network = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="register_entries",
        verbose_name=_("network"),
    )
    number = models.PositiveIntegerField(_("number"))
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("person")
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    legal_form = models.CharField(_("legal form"), max_length=64, blank=True)
    enterprise_number = models.CharField(_("enterprise number"), max_length=32, blank=True)
    address = models.CharField(_("domicile or registered seat"), max_length=255)
    admitted_on = models.DateField(_("admission"))
    resigned_on = models.DateField(_("resignation"), null=True, blank=True)
    excluded_on = models.DateField(_("exclusion"), null=True, blank=True)

    class Meta:
        ordering = ["network", "number"]
        verbose_name = _("member register entry")
        verbose_name_plural = _("member register")
        constraints = [
            models.UniqueConstraint(fields=["network", "number"], name="register_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    @property
    def is_legal_person(self) -> bool:
        return bool(self.organisation_id or self.enterprise_number)


class AgreementKind(models.TextChoices):
    PARTNERSHIP = "partnership", _("Partnership agreement")
    COLLABORATION = "collaboration", _("Collaboration protocol")
    MEMORANDUM = "memorandum", _("Memorandum of understanding")
    SERVICE = "service", _("Service agreement")


class RenewalRule(models.TextChoices):
    NONE = "none", _("Ends at term")
    TACIT = "tacit", _("Renewed tacitly for the same duration")
    AMENDMENT = "amendment", _("Renewed by a signed amendment")


class Agreement(models.Model):
    """A partnership agreement (protocole d'entente) between two or more parties."""

    reference = models.CharField(_("reference"), max_length=50, unique=True)
    title_fr = models.CharField(_("title (French)"), max_length=255, blank=True)
    title_nl = models.CharField(_("title (Dutch)"), max_length=255, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=AgreementKind.choices)
    parties = models.ManyToManyField(
        Organisation, through="AgreementParty", related_name="agreements"
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    starts_on = models.DateField(_("start"), null=True, blank=True)
    ends_on = models.DateField(
        _("end"), null=True, blank=True, help_text=_("Leave empty to use the duration.")
    )
    duration_years = models.PositiveSmallIntegerField(
        _("duration in years"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    renewal = models.CharField(
        _("renewal rule"), max_length=16, choices=RenewalRule.choices, default=RenewalRule.NONE
    )
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)
    signed_pdf = models.FileField(
        _("signed copy (PDF)"),
        upload_to="agreements/",
        blank=True,
        help_text=format_lazy(
            _("A PDF document of at most {limit} MB."), limit=AGREEMENT_PDF_MAX_BYTES // MB
        ),
        validators=[
            MaxFileSizeValidator(AGREEMENT_PDF_MAX_BYTES),
            FileExtensionValidator(["pdf"]),
            validate_pdf,
        ],
    )
    notes = models.TextField(_("notes"), blank=True)

    title = Translated("title")

    class Meta:
        ordering = ["-signed_on", "reference"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self) -> str:
        return str(self.title) or self.reference

    def end_as_of(self, day: date) -> date | None:
        """The last day in force of the term running on `day` (tacit renewals rolled)."""
        return term_end(
            starts_on=self.starts_on,
            ends_on=self.ends_on,
            duration_years=self.duration_years,
            tacit_renewal=self.renewal == RenewalRule.TACIT,
            terminated_on=self.terminated_on,
            on=day,
        )

    def dates_as_of(self, day: date) -> AgreementDates:
        return AgreementDates(
            self.signed_on, self.starts_on, self.end_as_of(day), self.terminated_on
        )

    def status_on(self, day: date) -> AgreementStatus:
        return agreement_status(self.dates_as_of(day), day, settings.AGREEMENT_EXPIRY_WARNING_DAYS)

    def is_in_force_on(self, day: date) -> bool:
        return is_in_force(self.dates_as_of(day), day)


class AgreementParty(models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="party_links", verbose_name=_("agreement")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreement_links",
        verbose_name=_("organisation"),
    )

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            models.UniqueConstraint(fields=["agreement", "organisation"], name="party_once")
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class Signatory(models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="signatories", verbose_name=_("agreement")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("person")
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")

    def __str__(self) -> str:
        return self.name


class ResourceGrant(models.Model):
    """A resource an agreement unlocks, from a given day, for the people of some parties."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="grants", verbose_name=_("agreement")
    )
    resource = models.CharField(_("resource"), max_length=32, choices=Resource.choices)
    starts_on = models.DateField(
        _("unlocked from"), null=True, blank=True, help_text=_("Empty: from the agreement start.")
    )
    beneficiaries = models.ManyToManyField(
        Organisation,
        verbose_name=_("for the people of"),
        related_name="resource_grants",
    )

    class Meta:
        ordering = ["agreement", "resource"]
        verbose_name = _("unlocked resource")
        verbose_name_plural = _("unlocked resources")
        constraints = [models.UniqueConstraint(fields=["agreement", "resource"], name="grant_once")]

    def __str__(self) -> str:
        return str(self.get_resource_display())


class Reminder(models.Model):
    """One reminder email to one recipient about one object and due date: sent at most once."""

    kind = models.CharField(_("kind"), max_length=32)
    object_id = models.PositiveBigIntegerField(_("object"))
    due_on = models.DateField(_("due on"))
    recipient = models.EmailField(_("recipient"))
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "due_on", "recipient"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.due_on} {self.recipient}"

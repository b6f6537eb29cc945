"""The access policy: the one place that answers "may this person do or use this?".

Every view, API endpoint, feed and export asks `allows` (or `require`). Access unlocked by
agreements is computed from today's date each time, so when an agreement ends, access ends
the same day without anyone editing users.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from intersection.accounts.models import Role
from intersection.core import audit

from .models import Agreement, GoverningBody, Mandate, Membership, Resource, ResourceGrant

logger = logging.getLogger("intersection.access")


class Capability(StrEnum):
    """What a role allows, independent of agreements."""

    VIEW_DIRECTORY = "directory.view"
    VIEW_PEOPLE = "people.view"
    VIEW_CONTACT_DETAILS = "people.contact"
    VIEW_AGREEMENTS = "agreements.view"
    VIEW_DRAFT_AGREEMENTS = "agreements.view_drafts"
    DOWNLOAD_AGREEMENT = "agreements.download"
    VIEW_BOARD = "board.view"
    VIEW_REGISTER = "register.view"
    VIEW_AUDIT = "audit.view"
    VIEW_STYLEGUIDE = "styleguide.view"
    VIEW_OPERATIONS = "operations.view"
    REVIEW = "practices.review"


Permission = Resource | Capability

STAFF_ROLES = {Role.ADMIN, Role.STAFF}
SIGNED_IN_CAPABILITIES = {
    Capability.VIEW_PEOPLE,
    Capability.VIEW_AGREEMENTS,
    Capability.VIEW_BOARD,
}
PUBLIC_CAPABILITIES = {Capability.VIEW_DIRECTORY}


def today() -> date:
    return timezone.localdate()


def _role(user: Any) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return str(user.role)


def organisation_ids(user: Any, on: date | None = None) -> set[int]:
    """Organisations the user belongs to on that day (through their person record)."""
    if _role(user) is None:
        return set()
    day = on or today()
    cache = user.__dict__.setdefault("_policy_orgs", {})
    if day not in cache:
        cache[day] = set(
            Membership.objects.filter(person__user=user)
            .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=day))
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
            .values_list("organisation_id", flat=True)
        )
    return set(cache[day])


def granting_agreements(user: Any, on: date | None = None) -> dict[Resource, list[Agreement]]:
    """For each resource unlocked to this user through agreements on that day, the
    agreements in force that unlock it (staff and administrators have every resource by
    role: none is listed for them)."""
    if _role(user) is None:
        return {}
    day = on or today()
    cache = user.__dict__.setdefault("_policy_grants", {})
    if day in cache:
        return {resource: list(found) for resource, found in cache[day].items()}
    orgs = organisation_ids(user, day)
    grants = (
        ResourceGrant.objects.filter(beneficiaries__in=orgs)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=day))
        .select_related("agreement")
        .prefetch_related("beneficiaries", "agreement__party_links")
        .distinct()
        .order_by("agreement__reference", "pk")
    )
    granted: dict[Resource, list[Agreement]] = {}
    for grant in grants:
        parties = {link.organisation_id for link in grant.agreement.party_links.all()}
        beneficiaries = {org.pk for org in grant.beneficiaries.all()}
        # Only the people of a beneficiary that is itself a party, under an agreement in force.
        if orgs & beneficiaries & parties and grant.agreement.is_in_force_on(day):
            found = granted.setdefault(Resource(grant.resource), [])
            if grant.agreement not in found:
                found.append(grant.agreement)
    cache[day] = granted
    return {resource: list(found) for resource, found in granted.items()}


def unlocked_resources(user: Any, on: date | None = None) -> set[Resource]:
    """Resources this user may use on that day: by role, or through an agreement in force."""
    role = _role(user)
    if role is None:
        return set()
    if role in STAFF_ROLES:
        return set(Resource)
    return set(granting_agreements(user, on))


def _current_board_member(user: Any, network_id: int | None, day: date) -> bool:
    mandates = Mandate.objects.filter(person__user=user, body=GoverningBody.BOARD).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day
    )
    if network_id is not None:
        mandates = mandates.filter(network_id=network_id)
    return mandates.exists()


def allows(user: Any, permission: Permission, obj: Any = None, on: date | None = None) -> bool:
    """May `user` use `permission` (on `obj`, when given) on day `on` (default: today)?"""
    role = _role(user)
    day = on or today()
    if isinstance(permission, Resource):
        return permission in unlocked_resources(user, day)
    if permission in PUBLIC_CAPABILITIES:
        return True
    if role is None:
        return False
    if role == Role.ADMIN:
        return True
    if permission == Capability.VIEW_AUDIT:
        return False
    if role == Role.STAFF:
        return True
    if permission in SIGNED_IN_CAPABILITIES:
        return True
    if permission == Capability.REVIEW:
        return role == Role.REVIEWER
    if permission == Capability.DOWNLOAD_AGREEMENT:
        return isinstance(obj, Agreement) and bool(
            organisation_ids(user, day)
            & set(obj.party_links.values_list("organisation_id", flat=True))
        )
    if permission == Capability.VIEW_REGISTER:
        return _current_board_member(user, getattr(obj, "pk", None), day)
    return False


def refusal_reason(permission: Permission) -> str:
    """Why this permission is refused, in words a member understands (the 403 page, the API)."""
    if isinstance(permission, Resource):
        return _(
            "Your organisation has no partnership agreement in force that unlocks “%(resource)s”."
        ) % {"resource": permission.label}
    reasons = {
        Capability.VIEW_AUDIT: _("The audit log is open to platform administrators only."),
        Capability.VIEW_STYLEGUIDE: _(
            "The style guide is open to network staff and platform administrators only."
        ),
        Capability.VIEW_OPERATIONS: _(
            "The operations page is open to network staff and platform administrators only."
        ),
        Capability.VIEW_REGISTER: _(
            "The member register of a network is open to its current board members and to "
            "network staff."
        ),
        Capability.DOWNLOAD_AGREEMENT: _(
            "The signed copy of an agreement is open to the people of its parties and to "
            "network staff."
        ),
        Capability.VIEW_CONTACT_DETAILS: _("Contact details are open to network staff only."),
        Capability.REVIEW: _("Reviewing practices is open to reviewers and network staff."),
    }
    return str(reasons.get(permission, _("Your account does not give access to this page.")))


def _deny(request: HttpRequest, permission: Permission, obj: Any, hide: bool) -> None:
    user = request.user
    logger.info(
        "access denied: user=%s permission=%s path=%s",
        getattr(user, "pk", None),
        permission,
        request.path,
    )
    audit.record_refusal(
        request=request, permission=str(permission), obj=obj if hasattr(obj, "_meta") else None
    )
    if hide:
        raise Http404
    request.denied_permission = permission  # type: ignore[attr-defined]
    raise PermissionDenied(refusal_reason(permission))


def require(
    request: HttpRequest, permission: Permission, obj: Any = None, hide: bool = False
) -> None:
    """Raise 403 (or 404 when `hide`: existence must not leak) and log, unless allowed."""
    if not allows(request.user, permission, obj):
        _deny(request, permission, obj, hide)


def requires(
    permission: Permission,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """View decorator: anonymous visitors are sent to log in; others get 403 when denied."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if allows(request.user, permission):
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            _deny(request, permission, None, hide=False)
            raise AssertionError("unreachable")

        return wrapped

    return decorator


def visible_resources(user: Any) -> list[Resource]:
    return [resource for resource in Resource if allows(user, resource)]


# Django admin permissions, by role -------------------------------------------------------------
STAFF_ADMIN_APPS = {"network", "mediawatch", "newsletters", "practices", "safeexchange"}


class RoleBackend:
    """Authentication backend that only answers permission questions, from the user's role."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        return None

    def get_user(self, user_id: int) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        role = _role(user_obj)
        if role == Role.ADMIN:
            return True
        if role == Role.STAFF:
            return perm.split(".", 1)[0] in STAFF_ADMIN_APPS
        return False

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        role = _role(user_obj)
        return role == Role.ADMIN or (role == Role.STAFF and app_label in STAFF_ADMIN_APPS)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> Iterable[str]:
        return set()

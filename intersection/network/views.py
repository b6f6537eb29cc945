import logging

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from intersection.core import audit
from intersection.core.caching import public_results_key

from . import policy, selectors
from .exports import register_csv_rows
from .forms import AgreementFilterForm, DirectoryFilterForm
from .models import Agreement, Organisation
from .policy import Capability

PAGE_SIZE = 25
logger = logging.getLogger(__name__)


def _directory_results(request: HttpRequest) -> tuple[str, bool]:
    """The filters, table and pagination of the directory as HTML, and whether input was valid."""
    day = policy.today()
    form = DirectoryFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():  # the error with the form, no misleading list
        html = render_to_string("network/directory_results.html", {"form": form}, request)
        return html, False
    filters = form.cleaned_data if form.is_bound else {}
    organisations = selectors.organisation_directory(
        day=day,
        query=filters.get("q", ""),
        kind=filters.get("kind", ""),
        country=filters.get("country", ""),
        parent=filters.get("parent"),
        language=filters.get("language", ""),
        reader_language=get_language() or "fr",
    )
    page = Paginator(organisations, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.current_member_counts(page.object_list, day)
    rows = [(organisation, counts.get(organisation.pk, 0)) for organisation in page]
    html = render_to_string(
        "network/directory_results.html",
        {"form": form, "page": page, "rows": rows, "filtered": any(filters.values())},
        request,
    )
    return html, True


def directory(request: HttpRequest) -> HttpResponse:
    """Public directory. Its results are the same for every visitor, so they are cached
    briefly per language, day and query (settings.DIRECTORY_CACHE_SECONDS)."""
    policy.require(request, Capability.VIEW_DIRECTORY)
    key = public_results_key("directory", request, policy.today())
    html = cache.get(key)
    valid = True
    if html is None:
        html, valid = _directory_results(request)
        if valid and settings.DIRECTORY_CACHE_SECONDS:
            cache.set(key, html, settings.DIRECTORY_CACHE_SECONDS)
    return render(
        request,
        "network/directory.html",
        {"results": mark_safe(html)},  # noqa: S308 - our own rendered template
        status=200 if valid else 400,
    )


def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    policy.require(request, Capability.VIEW_DIRECTORY)
    organisation = get_object_or_404(Organisation.objects.select_related("parent"), slug=slug)
    day = policy.today()
    user = request.user
    context = {
        "organisation": organisation,
        "children": selectors.by_displayed_name(
            organisation.children.all(), get_language() or "fr"
        ),
        "members": selectors.organisation_members(organisation, day)
        if policy.allows(user, Capability.VIEW_PEOPLE)
        else None,
        "show_contact": policy.allows(user, Capability.VIEW_CONTACT_DETAILS),
        "may_view_register": policy.allows(user, Capability.VIEW_REGISTER, organisation)
        and organisation.register_entries.exists(),
        "agreements": selectors.agreements_with_status(
            day=day,
            organisation=organisation,
            include_drafts=policy.allows(user, Capability.VIEW_DRAFT_AGREEMENTS),
        )
        if policy.allows(user, Capability.VIEW_AGREEMENTS)
        else None,
        "mandates": selectors.mandates(day=day, organisation=organisation)
        if policy.allows(user, Capability.VIEW_BOARD)
        else None,
    }
    return render(request, "network/organisation_detail.html", context)


@policy.requires(Capability.VIEW_AGREEMENTS)
def agreement_list(request: HttpRequest) -> HttpResponse:
    form = AgreementFilterForm(request.GET or None)
    valid = form.is_valid() or not form.is_bound
    rows = (
        selectors.agreements_with_status(
            day=policy.today(),
            status=form.cleaned_data["status"] if form.is_bound else "",
            include_drafts=policy.allows(request.user, Capability.VIEW_DRAFT_AGREEMENTS),
        )
        if valid
        else None
    )
    return render(
        request,
        "network/agreement_list.html",
        {"form": form, "rows": rows},
        status=200 if valid else 400,
    )


def _visible_agreement(request: HttpRequest, pk: int) -> Agreement:
    """The agreement, if this person may see it; else 404, the same answer as for an id that
    does not exist: a draft's existence is shown to staff only. Its page and its signed copy
    both ask here, so they follow one rule."""
    agreement = selectors.agreement_detail(pk)
    if agreement is None:
        raise Http404
    if agreement.signed_on is None:
        policy.require(request, Capability.VIEW_DRAFT_AGREEMENTS, agreement, hide=True)
    return agreement


@policy.requires(Capability.VIEW_AGREEMENTS)
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _visible_agreement(request, pk)
    day = policy.today()
    return render(
        request,
        "network/agreement_detail.html",
        {
            "agreement": agreement,
            "status": agreement.status_on(day),
            "end": agreement.end_as_of(day),
            "may_download": policy.allows(request.user, Capability.DOWNLOAD_AGREEMENT, agreement),
        },
    )


@policy.requires(Capability.VIEW_AGREEMENTS)
def agreement_pdf(request: HttpRequest, pk: int) -> FileResponse:
    agreement = _visible_agreement(request, pk)
    policy.require(request, Capability.DOWNLOAD_AGREEMENT, agreement)
    if not agreement.signed_pdf:
        raise Http404
    try:
        stream = agreement.signed_pdf.open("rb")
    except FileNotFoundError:
        logger.error("signed copy of agreement %s missing: %s", agreement.pk, agreement.signed_pdf)
        raise Http404 from None
    audit.record(action="agreement.download", obj=agreement, request=request)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"{agreement.reference}.pdf",
        content_type="application/pdf",
    )


@policy.requires(Capability.VIEW_BOARD)
def board(request: HttpRequest) -> HttpResponse:
    day = policy.today()
    networks = selectors.board_networks(day)
    registers = {
        network.pk
        for network, _bodies in networks
        if policy.allows(request.user, Capability.VIEW_REGISTER, network)
    }
    return render(
        request,
        "network/board.html",
        {"networks": networks, "registers": registers, "today": day},
    )


def _network_for_register(request: HttpRequest, slug: str) -> Organisation:
    if not request.user.is_authenticated:
        raise Http404
    network = get_object_or_404(Organisation, slug=slug)
    policy.require(request, Capability.VIEW_REGISTER, network)
    return network


def register(request: HttpRequest, slug: str) -> HttpResponse:
    network = _network_for_register(request, slug)
    return render(
        request,
        "network/register.html",
        {"network": network, "entries": selectors.register_entries(network)},
    )


def register_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    network = _network_for_register(request, slug)
    audit.record(action="register.export", obj=network, request=request)
    response = StreamingHttpResponse(
        register_csv_rows(selectors.register_entries(network)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="register-{network.slug}.csv"'
    return response

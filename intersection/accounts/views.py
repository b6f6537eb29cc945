from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from intersection.core import throttle
from intersection.core.http import client_address

from . import services, tasks
from .forms import ApiTokenForm, LogoutEverywhereForm
from .models import ApiToken, User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    """Sessions and API tokens of the signed-in user."""
    user = _user(request)
    form = ApiTokenForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        _token, new_secret = services.token_create(
            user=user, name=form.cleaned_data["name"], request=request
        )
        form = ApiTokenForm()
    tokens = list(ApiToken.objects.filter(user=user))
    active_tokens = sum(1 for token in tokens if token.is_active)
    return render(
        request,
        "accounts/security.html",
        {
            "form": form,
            "tokens": tokens,
            "new_secret": new_secret,
            "active_tokens": active_tokens,
            "logout_form": LogoutEverywhereForm(active_tokens=active_tokens),
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=_user(request))
    services.token_revoke(token=token, actor=_user(request), request=request)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:security")


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = LogoutEverywhereForm(request.POST)
    revoke = form.is_valid() and form.cleaned_data["revoke_tokens"]
    revoked = services.user_logout_everywhere(user=user, revoke_tokens=revoke, request=request)
    kept = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
    logout(request)
    if revoked:
        message = ngettext(
            "You are signed out on every device, and your API token is revoked.",
            "You are signed out on every device, and your %(count)d API tokens are revoked.",
            revoked,
        ) % {"count": revoked}
    elif kept:
        message = ngettext(
            "You are signed out on every device. Your API token still works: revoke it on "
            "the security page if it may have leaked.",
            "You are signed out on every device. Your %(count)d API tokens still work: revoke "
            "them on the security page if they may have leaked.",
            kept,
        ) % {"count": kept}
    else:
        message = _("You are signed out on every device.")
    messages.success(request, message)
    return redirect("accounts:login")


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Ask for a link to choose a new password. The same work and the same answer whether or
    not an account uses the address: the email is looked up and sent by a task. Limited per
    client address here, and per account in the task."""
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verdict = services.password_reset_throttle(address=client_address(request))
        if not verdict.allowed:
            return throttle.too_many_requests(request, verdict)
        tasks.send_password_reset.enqueue(email=form.cleaned_data["email"], language=get_language())
        return redirect("accounts:password_reset_done")
    return render(
        request,
        "accounts/password_reset_form.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, plus the signed-in user's saved preference."""
    response = django_set_language(request)
    if request.user.is_authenticated and isinstance(response, HttpResponseRedirect):
        services.user_set_language(user=_user(request), language=request.POST.get("language", ""))
    if not isinstance(response, HttpResponseRedirect):
        return redirect(reverse("core:home"))
    return response

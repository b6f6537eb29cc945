from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from . import services
from .forms import ApiTokenForm
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
    tokens = ApiToken.objects.filter(user=user)
    return render(
        request,
        "accounts/security.html",
        {"form": form, "tokens": tokens, "new_secret": new_secret},
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
    services.user_logout_everywhere(user=_user(request), request=request)
    logout(request)
    messages.success(request, _("You are signed out on every device."))
    return redirect("accounts:login")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, plus the signed-in user's saved preference."""
    response = django_set_language(request)
    if request.user.is_authenticated and isinstance(response, HttpResponseRedirect):
        services.user_set_language(user=_user(request), language=request.POST.get("language", ""))
    if not isinstance(response, HttpResponseRedirect):
        return redirect(reverse("core:home"))
    return response

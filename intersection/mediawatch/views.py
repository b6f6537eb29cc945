from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from intersection.network.models import Resource
from intersection.network.policy import requires


@requires(Resource.MEDIA_WATCH)
def index(request: HttpRequest) -> HttpResponse:
    """Entry of the media watch, unlocked by agreements. Collection comes with its own issue."""
    return render(request, "mediawatch/index.html")

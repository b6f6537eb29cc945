from django.urls import path

from . import views

app_name = "mediawatch"

urlpatterns = [
    path("", views.index, name="index"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("sources/", views.sources, name="sources"),
]

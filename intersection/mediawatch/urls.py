from django.urls import path

from . import views

app_name = "mediawatch"

urlpatterns = [path("", views.index, name="index")]

from django.urls import path

from . import views

app_name = "mediawatch"

urlpatterns = [
    path("", views.index, name="index"),
    path("articles/<int:pk>/", views.article, name="article"),
    path("sources/", views.sources, name="sources"),
    path("saved/", views.save_search, name="save_search"),
    path("saved/<int:pk>/", views.open_saved_search, name="open_saved_search"),
    path("saved/<int:pk>/delete/", views.delete_saved_search, name="delete_saved_search"),
    path("saved/<int:pk>/new-address/", views.rotate_feed_key, name="rotate_feed_key"),
    path("saved/<str:key>.atom", views.saved_search_feed, name="saved_search_feed"),
    path("export.<str:fmt>", views.export, name="export"),
]

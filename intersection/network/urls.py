from django.urls import path

from . import views

app_name = "network"

urlpatterns = [
    path("organisations/", views.directory, name="directory"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="organisation"),
    path("organisations/<slug:slug>/register/", views.register, name="register"),
    path("organisations/<slug:slug>/register.csv", views.register_csv, name="register_csv"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("agreements/<int:pk>/signed.pdf", views.agreement_pdf, name="agreement_pdf"),
    path("board/", views.board, name="board"),
]

"""Account pages under /accounts/ (the log-in and log-out pages are in portal/urls.py)."""

from django.urls import path

from units import views

app_name = "accounts"

urlpatterns = [
    path("lockouts/", views.LockoutListView.as_view(), name="lockout_list"),
    path("lockouts/unlock/", views.UnlockView.as_view(), name="lockout_unlock"),
    path("tokens/", views.TokenListView.as_view(), name="token_list"),
    path("tokens/<int:user_id>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
]
